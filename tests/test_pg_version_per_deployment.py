"""Which PostgreSQL, per deployment: each file is checked with the major of its nearest evidence
(given > declared in the topology > the file itself > a compose file that mounts it > the files
beside it > the default), and the output says which major for which files and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.engine import UsageError, make_settings, run
from advisor.reporters import render
from advisor.schemas import validate
from conftest import CORPUS, require_corpus

# db_user_namespace was removed in PostgreSQL 17: fine for 16, an error for 18
CONF = "port = 5432\ndb_user_namespace = off\nwork_mem = 4MB\n"


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def check(folder: Path, config: Path | None = None, **cli):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        settings = make_settings({"paths": ["."], **cli}, config_path=str(config) if config else None,
                                 use_config=config is not None)
        return run(settings)
    finally:
        os.chdir(cwd)


def doc_of(report, suffix: str):
    [doc] = [d for d in report.docs if d.path.endswith(suffix) and "pg_version" in d.meta]
    return doc


def removed_errors(report) -> list[str]:
    return sorted(f.span.file for f in report.findings if f.code == "PG001" and "db_user_namespace" in f.message)


def test_two_deployments_in_one_tree_each_get_their_own_major(tmp_path):
    write(tmp_path, {"old/docker-compose.yml": "services:\n  db:\n    image: postgres:16.4\n",
                     "old/postgresql.conf": CONF,
                     "new/docker-compose.yml": "services:\n  db:\n    image: postgres:18-alpine\n",
                     "new/postgresql.conf": CONF})
    report = check(tmp_path, select=["PG001"])
    old, new = doc_of(report, "old/postgresql.conf"), doc_of(report, "new/postgresql.conf")
    assert (old.meta["pg_version"], new.meta["pg_version"]) == (16, 18)
    assert old.meta["pg_version_source"] == new.meta["pg_version_source"] == "neighbourhood"
    assert "image postgres:16.4 in ./old/docker-compose.yml:3, beside it" == old.meta["pg_version_reason"]
    assert "postgres:18-alpine in ./new/docker-compose.yml" in new.meta["pg_version_reason"]
    # the parameter removed in 17 is an error only in the deployment on 18
    assert removed_errors(report) == ["./new/postgresql.conf"]
    [finding] = [f for f in report.findings if "db_user_namespace" in f.message]
    assert str(finding.severity) == "error"
    assert ("removed in PostgreSQL 17, and this file is checked as PostgreSQL 18 (image postgres:18-alpine in "
            "./new/docker-compose.yml:3, beside it)") in finding.message
    assert "version: 16 on its postgres hop in pgpath.yaml" in finding.fix and "--pg-version 16" in finding.fix
    # the summary: one line per major, with its count and reason
    text = render(report, "text").splitlines()
    assert "  PostgreSQL 18 for 1 file (image postgres:18-alpine in ./new/docker-compose.yml:3, beside it)" in text
    assert "  PostgreSQL 16 for 1 file (image postgres:16.4 in ./old/docker-compose.yml:3, beside it)" in text
    data = json.loads(render(report, "json"))
    assert validate(data, "report.schema.json") is None
    assert data["pg_version"] is None and data["pg_version_source"] is None
    assert sorted((m["major"], m["files"]) for m in data["pg_versions"]) == [(16, 1), (18, 1)]
    docs = {d["path"]: d.get("pg_version") for d in data["documents"]}
    assert docs["./old/postgresql.conf"] == {"major": 16, "source": "neighbourhood",
                                             "reason": "image postgres:16.4 in ./old/docker-compose.yml:3, beside it"}


def test_a_given_version_still_wins_everywhere(tmp_path):
    write(tmp_path, {"old/docker-compose.yml": "services:\n  db:\n    image: postgres:16\n",
                     "old/postgresql.conf": CONF, "new/postgresql.conf": CONF})
    report = check(tmp_path, select=["PG001"], pg_version="17")
    assert {d.meta["pg_version"] for d in report.docs if "pg_version" in d.meta} == {17}
    assert {d.meta["pg_version_source"] for d in report.docs if "pg_version" in d.meta} == {"option"}
    assert removed_errors(report) == ["./new/postgresql.conf", "./old/postgresql.conf"]
    assert render(report, "text").splitlines()[-1].endswith("PostgreSQL 17 (given with --pg-version)")


TOPOLOGY = """deployments:
  - name: legacy
    hops:
      - client: legacy/app.env
      - postgres: {file: legacy/postgresql.conf, version: 16}
  - name: current
    hops:
      - postgres: {file: current/postgresql.conf, host: db2}
hosts:
  db2: {ram: 8GB, pg_version: "18"}
"""


def test_the_topology_declaration_wins_over_evidence_in_the_file_and_is_the_reason(tmp_path):
    # the legacy file names a PostgreSQL 18 data directory, and sits beside a compose file on 18
    write(tmp_path, {"legacy/postgresql.conf": "data_directory = '/var/lib/postgresql/18/main'\n" + CONF,
                     "legacy/docker-compose.yml": "services:\n  db:\n    image: postgres:18\n",
                     "legacy/app.env": "DATABASE_URL=postgresql://app@db:5432/app\n",
                     "current/postgresql.conf": CONF,
                     "current/Dockerfile": "FROM postgres:16\n",
                     "pgpath.yaml": TOPOLOGY})
    report = check(tmp_path, tmp_path / "pgpath.yaml", select=["PG001"])
    legacy, current = doc_of(report, "legacy/postgresql.conf"), doc_of(report, "current/postgresql.conf")
    assert (legacy.meta["pg_version"], current.meta["pg_version"]) == (16, 18)
    assert legacy.meta["pg_version_source"] == current.meta["pg_version_source"] == "topology"
    assert legacy.meta["pg_version_reason"].startswith(
        "declared in pgpath.yaml:5: version: 16 of the postgres hop of deployment legacy (the file says PostgreSQL "
        "18: /var/lib/postgresql/18 in legacy/postgresql.conf:1")
    assert legacy.meta["pg_version_reason"].endswith("; the declaration wins)")
    assert current.meta["pg_version_reason"].startswith(
        "declared in pgpath.yaml:10: pg_version: 18 of host db2 (deployment current)")
    # (shown relative to the folder the run was in, like the files it walked)
    assert [os.path.relpath(os.path.join(tmp_path, f), tmp_path) for f in removed_errors(report)] == [
        "current/postgresql.conf"]
    # `pgpath path`: each hop says its major and why
    from advisor.reporters.paths import render as render_path, render_json

    assert ("PostgreSQL 16 (declared in pgpath.yaml:5: version: 16 of the postgres hop of deployment legacy"
            in render_path(report))
    data = json.loads(render_json(report))
    assert validate(data, "path.schema.json") is None
    hops = [h for p in data["paths"] for h in p["hops"] if h["kind"] == "postgres"]
    assert sorted((os.path.relpath(os.path.join(tmp_path, h["file"]), tmp_path), h["pg_version"]["major"], h["pg_version"]["source"])
                  for h in hops) == [("current/postgresql.conf", 18, "topology"), ("legacy/postgresql.conf", 16, "topology")]
    assert [h.get("pg_version") for p in data["paths"] for h in p["hops"] if h["kind"] == "client"] == [None]


@pytest.mark.parametrize("value,key", [("sixteen", "deployments/0/hops/0/postgres/version"),
                                       ("16;", "deployments/0/hops/0/postgres/version")])
def test_a_declared_version_is_checked_by_the_schema_with_file_line_and_key(tmp_path, value, key):
    write(tmp_path, {"postgresql.conf": CONF,
                     "pgpath.yaml": f"deployments:\n  - name: d\n    hops:\n      - postgres: {{file: postgresql.conf, "
                                    f"version: '{value}'}}\n"})
    with pytest.raises(UsageError) as err:
        check(tmp_path, tmp_path / "pgpath.yaml")
    assert f"pgpath.yaml:4:" in str(err.value) and f"at {key}:" in str(err.value)
    (tmp_path / "pgpath.yaml").write_text("hosts:\n  db1: {pg_version: latest}\n")
    with pytest.raises(UsageError) as err:
        check(tmp_path, tmp_path / "pgpath.yaml")
    assert "pgpath.yaml:2:" in str(err.value) and "at hosts/db1/pg_version:" in str(err.value)


def test_conflicting_evidence_in_one_deployment_names_the_winner_and_why(tmp_path):
    write(tmp_path, {"docker-compose.yml": "services:\n  db:\n    image: postgres:15\n  replica:\n"
                                           "    image: postgres:15\n",
                     "Dockerfile": "FROM postgres:16\n",
                     "postgresql.conf": CONF})
    conf = doc_of(check(tmp_path), "postgresql.conf")
    assert conf.meta["pg_version"] == 15
    assert conf.meta["pg_version_reason"] == (
        "image postgres:15 in ./docker-compose.yml:3, beside it (conflicting evidence, also seen PostgreSQL 16: "
        "image postgres:16 in ./Dockerfile:1; the most frequent wins)")
    # as often one as the other: the newest wins, and says so
    (tmp_path / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:15\n")
    report = check(tmp_path)
    conf = doc_of(report, "postgresql.conf")
    assert conf.meta["pg_version"] == 16
    assert conf.meta["pg_version_reason"].endswith(
        "(conflicting evidence, also seen PostgreSQL 15: image postgres:15 in ./docker-compose.yml:3; as frequent as "
        "the others: the newest wins)")
    assert "conflicting evidence" in render(report, "text").splitlines()[-1]


def test_a_compose_file_that_mounts_the_conf_gives_its_major(tmp_path):
    # the compose file sits above the folder of the postgresql.conf it mounts
    write(tmp_path, {"deploy/docker-compose.yml": "services:\n  db:\n    image: postgres:16\n    volumes:\n"
                                                  "      - ./conf/postgresql.conf:/etc/postgresql/postgresql.conf\n",
                     "deploy/conf/postgresql.conf": CONF,
                     "other/postgresql.conf": CONF})
    report = check(tmp_path, select=["PG001"])
    mounted = doc_of(report, "deploy/conf/postgresql.conf")
    assert (mounted.meta["pg_version"], mounted.meta["pg_version_source"]) == (16, "deployment")
    assert mounted.meta["pg_version_reason"] == (
        "image postgres:16 in ./deploy/docker-compose.yml:3, which mounts ./deploy/conf/postgresql.conf")
    # the other file has no evidence but its own settings: db_user_namespace dates it 16 or older
    other = doc_of(report, "other/postgresql.conf")
    assert (other.meta["pg_version"], other.meta["pg_version_source"]) == (16, "file")
    assert removed_errors(report) == []


def test_version_keys_in_the_file_itself(tmp_path):
    write(tmp_path, {
        "a/vars.yml": "postgresql_version: 16\npostgresql_parameters:\n  - {option: db_user_namespace, value: 'off'}\n",
        "b/cloudsql.json": json.dumps({"kind": "sql#instance", "name": "db", "databaseVersion": "POSTGRES_16",
                                       "settings": {"databaseFlags": [{"name": "work_mem", "value": "4096"}]}}),
        "c/main.tf": 'resource "azurerm_postgresql_flexible_server" "db" {\n  name = "db"\n  version = "16"\n'
                     '  sku_name = "GP_Standard_D2s_v3"\n}\n'
                     'resource "azurerm_postgresql_flexible_server_configuration" "wm" {\n  name = "work_mem"\n'
                     '  server_id = azurerm_postgresql_flexible_server.db.id\n  value = "4096"\n}\n',
    })
    report = check(tmp_path, select=["PG001"])
    majors = {d.path: (d.meta["pg_version"], d.meta["pg_version_source"]) for d in report.docs
              if "pg_version" in d.meta}
    assert majors == {"./a/vars.yml": (16, "file"), "./b/cloudsql.json": (16, "file"), "./c/main.tf": (16, "file")}, majors
    assert removed_errors(report) == []


def test_two_clusters_of_one_manifest_keep_their_own_images(tmp_path):
    cluster = ("apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: {name}\nspec:\n"
               "  imageName: ghcr.io/cloudnative-pg/postgresql:{tag}\n  instances: 1\n  postgresql:\n"
               "    parameters:\n      db_user_namespace: 'off'\n")
    write(tmp_path, {"clusters.yaml": cluster.format(name="old", tag="16.4") + "---\n"
                     + cluster.format(name="new", tag="18.1")})
    report = check(tmp_path, select=["PG001"])
    majors = sorted((d.meta["pg_version"], d.meta["pg_version_source"]) for d in report.docs if "pg_version" in d.meta)
    assert majors == [(16, "file"), (18, "file")]
    reasons = {d.meta["pg_version"]: d.meta["pg_version_reason"] for d in report.docs if "pg_version" in d.meta}
    assert "PostgreSQL 16 named for this configuration in ./clusters.yaml" in reasons[16]
    assert len([f for f in report.findings if "db_user_namespace" in f.message]) == 1


def _pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_corpus_run_keeps_each_file_on_its_own_evidence():
    """The corpus holds files of many projects sorted by kind: no file may take its major from
    another project's file (before, one run-wide major won: PostgreSQL 18, "the most frequent")."""
    require_corpus()
    report = run(make_settings({"paths": [str(CORPUS)]}, use_config=False))
    versions = {d.path: d.meta for d in report.docs if "pg_version" in d.meta}
    assert versions
    for path, meta in versions.items():
        if meta["pg_version_source"] == "file":
            assert os.path.basename(path) in meta["pg_version_reason"], (path, meta["pg_version_reason"])
        else:  # nothing beside them says: the default, said as such
            assert meta["pg_version_source"] == "default" and meta["pg_version"] == 18, (path, meta)
    hatchet = CORPUS / "kubernetes" / "hatchet_docker-compose.yml"
    if str(hatchet) in versions:  # postgres:15.6 beside CloudNativePG 18 files of other projects
        assert versions[str(hatchet)]["pg_version"] == 15
    text = render(report, "text")
    assert "the most frequent wins" not in text.splitlines()[-1]
    assert len({m["pg_version"] for m in versions.values()}) > 1
    assert any(line.startswith("  PostgreSQL 15 for 1 file (image postgres:15.6 in ") for line in text.splitlines())


def test_the_hook_reads_the_same_evidence_as_a_full_run(tmp_path):
    """--hook (pre-commit) checks a changed postgresql.conf with the major its Dockerfile says,
    as a full run does, not with the default."""
    write(tmp_path, {"db/Dockerfile": "FROM postgres:16\n", "db/postgresql.conf": CONF})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        settings = make_settings({"paths": ["."], "select": ["PG001"]}, use_config=False)
        settings.changed = ["db/postgresql.conf"]
        hook = run(settings)
    finally:
        os.chdir(cwd)
    full = check(tmp_path, select=["PG001"])
    assert doc_of(hook, "postgresql.conf").meta["pg_version"] == doc_of(full, "postgresql.conf").meta["pg_version"] == 16
    assert hook.findings == full.findings == []


def test_a_file_for_a_major_older_than_the_catalogs_keeps_the_parameters_it_had(tmp_path):
    """PostgreSQL 13 is checked with 14's catalog, the oldest pgpath has: a parameter 13 still had
    (vacuum_cleanup_index_scale_factor, removed in 14) is no error there, one removed before 13
    (wal_keep_segments, removed in 13) still is; and the same file on 18 reports both."""
    conf = "vacuum_cleanup_index_scale_factor = 0.1\nwal_keep_segments = 8\n"
    write(tmp_path, {"old/docker-compose.yml": "services:\n  db:\n    image: postgres:13.5\n",
                     "old/postgresql.conf": conf, "new/postgresql.conf": conf})
    report = check(tmp_path, select=["PG001"])
    assert doc_of(report, "old/postgresql.conf").meta["pg_version"] == 14
    found = sorted((f.span.file, f.span.line) for f in report.findings)
    assert found == [("./new/postgresql.conf", 1), ("./new/postgresql.conf", 2), ("./old/postgresql.conf", 2)]
    [old] = [f for f in report.findings if f.span.file == "./old/postgresql.conf"]
    assert "removed in PostgreSQL 13, and this file is checked as PostgreSQL 14 (the files are for PostgreSQL 13" \
        in old.message


def test_init_writes_the_major_found_as_the_postgres_hops_version(tmp_path):
    write(tmp_path, {"db/docker-compose.yml": "services:\n  db:\n    image: postgres:13\n",
                     "db/postgresql.conf": CONF, "db/.env": "DATABASE_URL=postgresql://app@db:5432/app\n"})
    r = _pgpath("init", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    written = (tmp_path / "pgpath.yaml").read_text()
    assert "- postgres: {file: \"db/postgresql.conf\", version: 13}" in written, written
    # checked with the topology it wrote, the server keeps its major, now declared
    report = check(tmp_path, tmp_path / "pgpath.yaml", select=["PG001"])
    conf = doc_of(report, "postgresql.conf")
    assert (conf.meta["pg_version"], conf.meta["pg_version_source"]) == (14, "topology")
    assert "version: 13 of the postgres hop" in conf.meta["pg_version_reason"]
    assert report.findings == []  # db_user_namespace: PostgreSQL 13 had it


def test_a_declaration_that_agrees_with_a_major_older_than_the_catalogs_is_no_conflict(tmp_path):
    """13 declared for a file that says 13 (checked with 14, the oldest catalog): the reason names
    no conflict; 16 declared for it names what the file says, 13 (not the catalog's 14)."""
    topology = "deployments:\n  - name: old\n    hops:\n      - postgres: {file: old/postgresql.conf, version: %s}\n"
    write(tmp_path, {"old/postgresql.conf": "data_directory = '/var/lib/postgresql/13/main'\n" + CONF,
                     "pgpath.yaml": topology % 13})
    reason = doc_of(check(tmp_path, tmp_path / "pgpath.yaml"), "old/postgresql.conf").meta["pg_version_reason"]
    assert "the file says" not in reason, reason
    write(tmp_path, {"pgpath.yaml": topology % 16})
    reason = doc_of(check(tmp_path, tmp_path / "pgpath.yaml"), "old/postgresql.conf").meta["pg_version_reason"]
    assert "(the file says PostgreSQL 13: " in reason, reason
