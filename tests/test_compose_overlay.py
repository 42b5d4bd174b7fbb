"""Compose overlay files (docker-compose.override.yml, docker-compose.prod.yml) merged over the
base file of their folder, by the Compose Specification's merge rules (advisor.loaders.compose_merge)."""

from __future__ import annotations

import os

from advisor.engine import make_settings, run
from advisor.loaders import detect_kind
from advisor.loaders.compose_merge import merge_service
from advisor.loaders.infra_yaml import load
from advisor.loaders.yaml_nodes import compose
from advisor.reporters import notices

BASE = """\
# Base file, used in production as: docker compose -f docker-compose.yml -f docker-compose.prod.yml up -d
services:
  db:
    image: postgres:16.2
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    secrets: [db_password]
  web:
    image: ghcr.io/acme/web:1.9.0
    environment:
      DATABASE_URL: postgresql://app@db:5432/app?sslmode=disable
secrets:
  db_password:
    file: ./secrets/db_password.txt
"""
OVERRIDE = """\
# Local overrides, merged automatically by `docker compose up` on developer laptops
services:
  db:
    command: ["postgres", "-c", "log_statement=all", "-c", "statement_timeout=2s", "-c", "idle_session_timeout=60s"]
    ports:
      - "5432:5432"
  web:
    environment:
      DATABASE_URL: postgresql://app@db:5432/app
    ports:
      - "3000:3000"
"""
PROD = """\
services:
  db:
    command: ["postgres", "-c", "max_connections=300", "-c", "shared_buffers=2GB", "-c", "work_mem=64MB", "-c", "ssl=off"]
    mem_limit: 8g
  web:
    deploy:
      replicas: 4
"""


def _write(folder, **files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_", "-").replace("-yml", ".yml").replace("-yaml", ".yaml")).write_text(text)
    return folder


def _s08(tmp_path):
    folder = tmp_path / "s08"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(BASE)
    (folder / "docker-compose.override.yml").write_text(OVERRIDE)
    (folder / "docker-compose.prod.yml").write_text(PROD)
    (folder / ".env.local").write_text("DATABASE_URL=postgresql://app:app@localhost:5432/app\n")
    return folder


def _run(*paths, **options):
    return run(make_settings({"paths": [str(p) for p in paths], **options}, use_config=False))


def _col(path, line, text):
    return open(path).read().split("\n")[line - 1].index(text) + 1


def test_s08_overlays_are_read_merged_over_the_base_file(tmp_path):
    """The audit's s08: the override's server-wide idle_session_timeout is PG011's warning at its
    own line; the prod overlay's ssl=off, max_connections and mem_limit are read over the base's
    image (MEM001); the base's db alone is no second server (compose up always merges the override)."""
    folder = _s08(tmp_path)
    report = _run(folder)
    override, prod, base = (str(folder / n) for n in ("docker-compose.override.yml", "docker-compose.prod.yml",
                                                      "docker-compose.yml"))
    pg011 = [f for f in report.findings if f.code == "PG011"]
    assert [(f.severity.name.lower(), f.span.file, f.span.line, f.span.col) for f in pg011] == [
        ("warning", override, 4, _col(override, 4, "idle_session_timeout=60s") + len("idle_session_timeout="))]
    mem = [f for f in report.findings if f.code == "MEM001"]
    assert [(f.severity.name.lower(), f.span.file) for f in mem] == [("info", prod)]
    assert "memory limit 8 GB" in mem[0].message and "max_connections 300" in mem[0].message
    servers = sorted((d.path, d.meta.get("merged_over", {}).get("automatic")) for d in report.docs
                     if d.kind == "postgresql")
    assert servers == [(override, True), (prod, False)]  # not the base's db on its own as well
    [dev] = [d for d in report.docs if d.kind == "postgresql" and d.path == override]
    [production] = [d for d in report.docs if d.kind == "postgresql" and d.path == prod]
    assert production.meta["merged_over"]["text"] == (
        "merged over docker-compose.yml's service db, as `docker compose -f docker-compose.yml -f "
        "docker-compose.prod.yml` does")
    # each value's span is in the file that wrote it: the image in the base, the flags in the overlay
    assert dev.meta["image"] == "postgres:16.2" and dev.meta["anchor"]["file"] == base
    assert dev.meta["anchor"]["line"] == 4 and dev.meta["pg_version"] == 16
    assert production.get("ssl").span.file == prod and production.value("ssl") is False
    assert production.host.memory_bytes().value == 8 * 1024**3 and production.host.memory_bytes().span.file == prod
    assert production.get("idle_session_timeout") is None  # the override is not part of `-f ... -f prod`
    assert dev.get("max_connections") is None
    # the override's web reaches the merged db, and the path says why it is that server
    [path] = [p for p in report.paths if any(h.doc is dev for h in p.hops)]
    assert "merged over docker-compose.yml's service db, as `docker compose up` does with " \
           "docker-compose.override.yml beside it" in path.evidence
    assert not notices(report)


def test_the_base_file_alone_reads_as_before(tmp_path):
    folder = _s08(tmp_path)
    report = _run(folder / "docker-compose.yml")
    [db] = [d for d in report.docs if d.kind == "postgresql"]
    assert db.path == str(folder / "docker-compose.yml") and "merged_over" not in db.meta
    assert db.settings == [] or all(s.span.file == db.path for s in db.settings)
    assert not [f for f in report.findings if f.code in ("PG011", "MEM001")]


def test_a_prod_overlay_without_an_override(tmp_path):
    """`docker compose -f compose.yaml -f compose.prod.yaml` runs the merge. A base db that sets
    nothing of its own is taken for the same server (as beside any PostgreSQL configuration of its
    folder): the base's web reaches the merged db; one that sets flags of its own stays (plain
    `docker compose up` runs it) and is not merged away."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "compose.yaml").write_text(BASE)
    (folder / "compose.prod.yaml").write_text(PROD)
    report = _run(folder)
    [prod] = [d for d in report.docs if d.kind == "postgresql"]
    assert prod.path == str(folder / "compose.prod.yaml")
    text = "merged over compose.yaml's service db, as `docker compose -f compose.yaml -f compose.prod.yaml` does"
    assert prod.meta["merged_over"]["text"] == text
    [path] = report.paths
    assert [h.doc.path for h in path.hops] == [str(folder / "compose.yaml"), prod.path] and text in path.evidence

    (folder / "compose.yaml").write_text(BASE.replace("    image: postgres:16.2\n",
                                                      "    image: postgres:16.2\n    command: postgres -c port=5433\n"))
    report = _run(folder)
    servers = sorted((os.path.basename(d.path), "merged_over" in d.meta, d.value("port"))
                     for d in report.docs if d.kind == "postgresql")
    assert servers == [("compose.prod.yaml", True, None), ("compose.yaml", False, 5433)]  # prod's command replaces


def _merged(tmp_path, base: str, over: str):
    b = compose(base)[0].get("services", "s")
    o = compose(over)[0].get("services", "s")
    return merge_service(b, o, "base.yml", "over.yml")


def test_environment_merges_by_name_in_either_form(tmp_path):
    """Compose: for environment, the variable name decides which value is used; a `- K=v` list
    and a `K: v` mapping are the same thing (merges apply to the expanded form)."""
    s = _merged(tmp_path, "services:\n  s:\n    environment:\n      - FOO=original\n      - BAR=original\n",
                "services:\n  s:\n    environment:\n      BAR: local\n      BAZ: local\n")
    env = {k: (v.value, v.span("ignored").file, v.line, v.col) for k, _, v in s.get("environment").items()}
    assert env == {"FOO": ("original", "base.yml", 4, 13), "BAR": ("local", "over.yml", 4, 12),
                   "BAZ": ("local", "over.yml", 5, 12)}


def test_command_is_replaced_and_ports_are_appended(tmp_path):
    s = _merged(tmp_path, "services:\n  s:\n    image: postgres:16\n    command: postgres -c a=1 -c b=2\n"
                          "    ports: ['5432:5432']\n    mem_limit: 1g\n",
                "services:\n  s:\n    command: [postgres, -c, c=3]\n    ports: ['127.0.0.1:6432:5432', '5432:5432']\n"
                "    mem_limit: 2g\n")
    assert [i.value for i in s.get("command").seq()] == ["postgres", "-c", "c=3"]
    assert [(p.value, p.file) for p in s.get("ports").seq()] == [("5432:5432", "base.yml"),
                                                               ("127.0.0.1:6432:5432", "over.yml")]
    assert (s.text("mem_limit"), s.get("mem_limit").file) == ("2g", "over.yml")
    assert (s.text("image"), s.get("image").file) == ("postgres:16", "base.yml")


def test_volumes_merge_by_target_and_reset_and_override_tags(tmp_path):
    s = _merged(tmp_path, "services:\n  s:\n    volumes: ['./original:/foo', './original:/bar']\n"
                          "    ports: ['8080:80']\n    environment: {FOO: BAR, KEEP: 1}\n    dns: [1.1.1.1]\n",
                "services:\n  s:\n    volumes: ['./local:/bar', './local:/baz']\n    ports: !override ['8443:443']\n"
                "    environment: {FOO: !reset null}\n    dns: [8.8.8.8]\n")
    assert [v.value for v in s.get("volumes").seq()] == ["./original:/foo", "./local:/bar", "./local:/baz"]
    assert [p.value for p in s.get("ports").seq()] == ["8443:443"]
    assert [k for k, _, _ in s.get("environment").items()] == ["KEEP"]
    assert [d.value for d in s.get("dns").seq()] == ["1.1.1.1", "8.8.8.8"]


def test_deploy_limits_merge_as_mappings(tmp_path):
    s = _merged(tmp_path, "services:\n  s:\n    deploy:\n      replicas: 2\n      resources:\n        limits:\n"
                          "          cpus: '1'\n",
                "services:\n  s:\n    deploy:\n      resources:\n        limits:\n          memory: 4g\n")
    assert s.text("deploy") is None and s.get("deploy", "replicas").value == "2"
    assert (s.get("deploy", "resources", "limits", "memory").value, s.get("deploy", "resources", "limits",
                                                                         "memory").file) == ("4g", "over.yml")
    assert s.get("deploy", "resources", "limits", "cpus").value == "1"


def test_a_merged_environment_configures_pgbouncer_with_spans_in_each_file(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(
        "services:\n  pgbouncer:\n    image: edoburu/pgbouncer:1.22.1\n    environment:\n"
        "      - DATABASE_URL=postgres://app@db:5432/app\n      - POOL_MODE=session\n")
    (folder / "docker-compose.override.yml").write_text(
        "services:\n  pgbouncer:\n    environment:\n      POOL_MODE: transaction\n      MAX_CLIENT_CONN: '500'\n")
    docs = load(str(folder / "docker-compose.override.yml"), {})
    [pgb] = [d for d in docs if d.kind == "pgbouncer"]
    mode = pgb.get("pool_mode")
    assert (mode.raw, mode.span.file, mode.span.line) == ("transaction", str(folder / "docker-compose.override.yml"), 4)
    assert pgb.get("max_client_conn").raw == "500"
    # the DATABASE_URL kept from the base file: its [databases] entry points at the base file's line 5
    assert [(s.name, s.span.file, s.span.line) for s in pgb.settings if s.span.file.endswith("docker-compose.yml")
            and s.span.line == 5][:1] == [("app", str(folder / "docker-compose.yml"), 5)]
    assert pgb.meta["merged_over"]["automatic"] is True


def test_an_overlay_service_that_names_no_base_service_is_a_notice(tmp_path):
    folder = tmp_path / "n"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(BASE)
    prod = folder / "docker-compose.prod.yml"
    prod.write_text("services:\n  database:\n    command: postgres -c ssl=off\n    mem_limit: 8g\n")
    assert detect_kind(str(prod), prod.read_text()) == "kubernetes"
    report = _run(folder)
    [(span, message)] = notices(report)
    assert (span.file, span.line) == (str(prod), 2)
    assert "service database has no image and no build" in message
    assert "docker-compose.yml beside it has no service database to merge it over" in message
    assert "its image and settings are unknown" in message


def test_an_overlay_alone_in_its_folder_is_a_notice(tmp_path):
    folder = tmp_path / "alone"
    folder.mkdir()
    (folder / "docker-compose.prod.yml").write_text(PROD)
    report = _run(folder)
    messages = [m for _, m in notices(report)]
    assert any("service db has no image and no build, and no compose.yaml or docker-compose.yml beside it" in m
               for m in messages)
    assert not [d for d in report.docs if d.kind == "postgresql"]


def test_a_standalone_dev_file_with_its_own_image_is_not_merged(tmp_path):
    """s10's docker-compose.dev.yml: its own db with an image is a project of its own, not an overlay."""
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(BASE)
    (folder / "docker-compose.dev.yml").write_text(
        "services:\n  db:\n    image: postgres:15\n    command: postgres -c ssl=off\n")
    docs = load(str(folder / "docker-compose.dev.yml"), {})
    [db] = [d for d in docs if d.kind == "postgresql"]
    assert "merged_over" not in db.meta and db.meta["image"] == "postgres:15" and db.meta["pg_version"] == 15
