"""The connection path: discovery by evidence, the topology, timers, `pgpath path` and `pgpath init`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.schemas import validate
from conftest import CORPUS, require_corpus

ROOT = Path(__file__).resolve().parent.parent


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def report_of(folder: Path, config: Path | str | None = None, **cli):
    """`pgpath check .` run inside `folder` (with `config`, else no settings file)."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        settings = make_settings({"paths": ["."], **cli}, config_path=str(config) if config else None,
                                 use_config=config is not None)
        return run(settings)
    finally:
        os.chdir(cwd)


def paths_of(folder: Path, config: Path | None = None):
    return report_of(folder, config).paths


def shared(paths):
    return [p for p in paths if len(p.hops) > 1]


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


PG = "listen_addresses = '*'\nport = 5432\n"
PGB = ("[databases]\napp = host=db.internal port=5432 dbname=app\n\n[pgbouncer]\nlisten_addr = *\nlisten_port = 6432\n"
       "auth_type = scram-sha-256\nauth_file = /etc/pgbouncer/userlist.txt\npool_mode = transaction\n")
HAP = ("defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30m\n    timeout server 30m\n\n"
       "listen pg\n    bind *:5000\n    server b1 pgb.internal:6432 check\n")
ENV = "DATABASE_URL=postgresql://app@lb.internal:5000/app?sslmode=disable\n"


# ------------------------------------------------------------------------------------------------ discovery


def test_one_folder_chains_client_haproxy_pgbouncer_postgres_by_ports(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "pgbouncer.ini": PGB, "haproxy.cfg": HAP, ".env": ENV})
    [path] = shared(paths_of(tmp_path))
    assert [h.kind for h in path.hops] == ["client", "haproxy", "pgbouncer", "postgres"]
    assert path.source == "discovered"
    assert any("port 5000" in e for e in path.evidence) and any("port 6432" in e for e in path.evidence)
    assert path.evidence[-1] in ("all in one folder", f"all in one folder ({tmp_path})")
    # HAProxy's 30 min closes the idle client connection first (keepalives never reset it)
    first = path.first_close()
    assert first.seconds == 1800 and path.hops[first.hop].kind == "haproxy" and first.resets_on == "traffic"


PROD_COMPOSE = """services:
  db:
    image: postgres:16.4
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?}
  pgbouncer:
    image: edoburu/pgbouncer:v1.22.1-p0
    environment:
      DATABASE_URL: postgres://orders:${POSTGRES_PASSWORD}@db:5432/orders
      POOL_MODE: transaction
"""
DEV_COMPOSE = """services:
  db:
    image: postgres:16.4
    command: ["postgres", "-c", "ssl=off"]
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?}
  api:
    build: .
    environment:
      DATABASE_URL: postgresql://orders@db:5432/orders?sslmode=require
"""


def test_a_compose_files_service_names_are_its_own(tmp_path):
    """Scenario audit 14, D2: a dev compose file beside the production one. Each file's `db` is its
    own service (compose resolves service names within a project): the dev api reaches the dev db,
    not the production PgBouncer that also listens on 5432, and the production PgBouncer's `db`
    (an image-only server pgpath has no settings of) is not the dev file's db."""
    write(tmp_path, {"docker-compose.yml": PROD_COMPOSE, "docker-compose.dev.yml": DEV_COMPOSE})
    report = report_of(tmp_path)
    paths = shared(report.paths)
    assert [[(h.kind, os.path.basename(h.file)) for h in p.hops] for p in paths] == [
        [("client", "docker-compose.dev.yml"), ("postgres", "docker-compose.dev.yml")]]
    [tls] = [f for f in report.findings if f.code == "PATH004"]
    assert tls.span.file.endswith("docker-compose.dev.yml") and "ssl = off" in tls.message
    assert "-c ssl=on" in tls.fix
    assert not any("docker-compose.dev.yml" in str(r) for f in report.findings if f.code == "PGB014"
                   for r in (f.span, *f.related))


def test_client_in_a_subfolder_joins_its_deployment(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "app/.env": "DATABASE_URL=postgresql://app@db:5432/app\n"})
    [path] = shared(paths_of(tmp_path))
    assert [h.kind for h in path.hops] == ["client", "postgres"]


def test_sibling_folders_are_never_paired(tmp_path):
    """Per-kind folders of unrelated files (like ../shared/corpus) share no path, even on port 5432."""
    write(tmp_path, {"postgresql/a.conf": PG + "max_connections = 10\n",
                     "pgbouncer/pgbouncer.ini": PGB, "clients/.env": "DATABASE_URL=postgresql://x@db:5432/app\n"})
    assert shared(paths_of(tmp_path)) == []


def test_a_port_nobody_listens_on_is_no_evidence(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, ".env": "DATABASE_URL=postgresql://app@db:6543/app\n"})
    assert shared(paths_of(tmp_path)) == []


def test_many_setups_in_one_folder_split_by_the_numbers_in_their_names(tmp_path):
    files = {}
    for n in ("01", "02", "03"):
        files[f"postgresql-{n}.conf"] = PG
        files[f"pgbouncer-{n}.ini"] = PGB
        files[f"app-{n}.env"] = "DATABASE_URL=postgresql://app@pgb:6432/app\n"
    files["postgresql-99.conf"] = PG  # no partner: stays alone
    write(tmp_path, files)
    found = shared(paths_of(tmp_path))
    assert len(found) == 3
    for path in found:
        numbers = {os.path.basename(h.file).split("-")[1].split(".")[0] for h in path.hops}
        assert len(numbers) == 1, path.label
        assert [h.kind for h in path.hops] == ["client", "pgbouncer", "postgres"]


COMPOSE = """services:
  db:
    image: postgres:16
    command: postgres -c max_connections=200
  pgbouncer:
    image: edoburu/pgbouncer:v1.25.1-p0
    environment:
      - DATABASE_URL=postgres://app@db:5432/app
      - LISTEN_PORT=6432
"""


def test_a_compose_projects_services_stay_one_deployment_in_a_crowded_folder(tmp_path):
    """Several server configurations in one folder and no numbers in the names: each file is its own
    deployment, and the PgBouncer and PostgreSQL services of one compose file stay together."""
    write(tmp_path, {"app-compose.yml": COMPOSE, "other-compose.yml": COMPOSE, "postgresql.conf": PG})
    found = shared(paths_of(tmp_path))
    assert sorted((os.path.basename(path.hops[0].file), [h.kind for h in path.hops]) for path in found) == [
        ("app-compose.yml", ["pgbouncer", "postgres"]), ("other-compose.yml", ["pgbouncer", "postgres"])]
    for path in found:
        assert len({h.file for h in path.hops}) == 1
        # one file's hops: no "all in <folder>" line, which read as if the folder were the evidence
        assert not any(e.startswith("all in") for e in path.evidence), path.evidence


def test_corpus_files_share_no_path():
    """The 80 published files come from unrelated projects: discovery pairs none of them. Paths
    inside one file (a compose file's app, PgBouncer and PostgreSQL services) are found."""
    require_corpus()
    found = shared(paths_of(CORPUS))
    assert [p.label for p in found if len({h.file for h in p.hops}) > 1] == []
    assert len(found) >= 3


def test_a_topology_of_corpus_files_pairs_only_files_of_one_deployment(tmp_path):
    """Deployments declared over the published files (unrelated projects, put on one path as a
    user's topology would): every finding that names more than one file names files of one path
    (its hops, the files they include, the topology that declares a middlebox), and the declared
    paths get their cross-file findings (keepalives vs the declared NLB, with what the pool does on
    borrow: one cause, one finding, PATH001's, not also PATH002's) — the rest of the corpus gets none. (PgBouncer's sample pools in session mode: no idle-transaction
    finding, PGB014 being about transaction pooling.)"""
    require_corpus()
    c = CORPUS.resolve()
    config = tmp_path / "pgpath.yaml"
    config.write_text(
        f"paths: [{c}]\ndeployments:\n"
        f"  - name: pooled\n    hops:\n"
        f"      - client: {c}/clients/spring-petclinic_application-postgres.properties\n"
        f"      - pgbouncer: {c}/pgbouncer/pgbouncer_etc_pgbouncer.ini\n"
        f"      - aws-nlb: {{}}\n"
        f"      - postgres: {c}/postgresql/cardano-grest_postgresql.conf\n"
        f"  - name: proxied\n    hops:\n"
        f"      - client: {c}/clients/netbox_configuration_example.py\n"
        f"      - haproxy: {{file: {c}/haproxy/patroni_haproxy.cfg, proxy: batman}}\n"
        f"      - postgres: {c}/postgresql/pgvecto-rs-zh_postgresql.conf\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        report = run(make_settings({}, config_path=str(config)))
    finally:
        os.chdir(cwd)
    assert not report.input_errors and [p.name for p in report.paths if p.source == "topology"] == ["pooled", "proxied"]
    on_path = []
    for path in report.paths:
        files = {os.path.realpath(str(config))}
        for hop in path.hops:
            if hop.doc is not None:
                files |= {os.path.realpath(f) for f in [hop.doc.path, *hop.doc.files]}
        on_path.append(files)
    crossing = []
    for f in report.findings:
        files = {os.path.realpath(s.file) for s in (f.span, *f.related) if s is not None and s.file}
        if len(files) > 1:
            assert any(files <= p for p in on_path), (f.code, sorted(files))
            crossing.append((f.code, sorted(os.path.basename(x) for x in files)))
    pooled = {code for code, files in crossing if "pgbouncer_etc_pgbouncer.ini" in files}
    assert "PATH001" in pooled and "PATH002" not in pooled and "PGB014" not in pooled, crossing
    # no finding pairs a declared file with any other corpus file
    declared = {"spring-petclinic_application-postgres.properties", "pgbouncer_etc_pgbouncer.ini",
                "cardano-grest_postgresql.conf", "netbox_configuration_example.py", "patroni_haproxy.cfg",
                "pgvecto-rs-zh_postgresql.conf", "pgpath.yaml"}
    assert all(set(files) <= declared for _, files in crossing if set(files) & declared), crossing


# ------------------------------------------------------------------------------------------------ timers


def test_session_pooling_client_idle_timeout_never_closes_the_client(tmp_path):
    """Lab B1: PgBouncer's client_idle_timeout skips clients linked to a server (session pooling)."""
    write(tmp_path, {"postgresql.conf": PG, ".env": "DATABASE_URL=postgresql://app@pgb:6432/app\n",
                     "pgbouncer.ini": PGB.replace("transaction", "session") + "client_idle_timeout = 60\n"})
    [path] = shared(paths_of(tmp_path))
    [timer] = [t for t in path.timers if "client_idle_timeout" in t.name]
    assert not timer.closes_client and path.first_close() is None
    write(tmp_path, {"pgbouncer.ini": PGB + "client_idle_timeout = 60\n"})  # transaction pooling (B1t)
    [path] = shared(paths_of(tmp_path))
    assert path.first_close().seconds == 60


def test_idle_session_timeout_is_hidden_by_a_transaction_pooler_only(tmp_path):
    """Lab B5 (transaction: PgBouncer reconnects) and B6/P1 (session or direct: the client fails)."""
    write(tmp_path, {"postgresql.conf": PG + "idle_session_timeout = '2min'\n", "pgbouncer.ini": PGB,
                     ".env": "DATABASE_URL=postgresql://app@pgb:6432/app\n"})
    [path] = shared(paths_of(tmp_path))
    assert path.first_close() is None
    write(tmp_path, {"pgbouncer.ini": PGB.replace("transaction", "session")})
    [path] = shared(paths_of(tmp_path))
    assert path.first_close().seconds == 120


def test_keepalives_on_either_end_keep_a_packet_reset_middlebox_open(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, ".env": "DATABASE_URL=postgresql://app@db:5432/app\n",
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - aws-nlb: {}\n      - postgres: postgresql.conf\n"})
    config = tmp_path / "pgpath.yaml"
    [path] = shared(paths_of(tmp_path, config))
    [nlb] = [t for t in path.timers if t.resets_on == "packets"]
    assert nlb.seconds == 350 and not nlb.defeated and path.first_close() is nlb
    # the server alone probing below 350 s keeps the flow (middlebox lab: server-only keepalive)
    write(tmp_path, {"postgresql.conf": PG + "tcp_keepalives_idle = 60\n"})
    [path] = shared(paths_of(tmp_path, config))
    [nlb] = [t for t in path.timers if t.resets_on == "packets"]
    assert nlb.defeated and path.first_close() is None


def test_path001_fixes_the_end_whose_keepalive_line_is_written(tmp_path):
    """The scenario audit's U5: probes from either end keep the flow, so the fix changes the
    keepalive the server's file already sets, not the client (which sets none)."""
    write(tmp_path, {"postgresql.conf": PG + "tcp_keepalives_idle = 600\n",
                     ".env": "DATABASE_URL=postgresql://app@db:5432/app\n",
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - aws-nlb: {}\n      - postgres: postgresql.conf\n"})
    report = report_of(tmp_path, "pgpath.yaml", select=["PATH001"])
    [f] = report.findings
    assert (os.path.basename(f.span.file), f.span.line) == ("postgresql.conf", 3)
    assert f.fix.startswith("tcp_keepalives_idle = ")


# ------------------------------------------------------------------------------------------------ topology


def test_topology_declares_hops_hosts_and_replicas(tmp_path):
    write(tmp_path, {"postgresql.conf": PG + "shared_buffers = 6GB\nwork_mem = 64MB\nmax_connections = 200\n",
                     "app.env": ENV.replace("lb.internal:5000", "db:5432"),
                     "pgpath.yaml": "deployments:\n  - name: orders\n    hops:\n"
                                    "      - client: {file: app.env, replicas: 3}\n"
                                    "      - azure-lb: {idle_timeout: 4min}\n"
                                    "      - postgres: {file: postgresql.conf, host: db1}\n"
                                    "hosts:\n  db1: {ram: 8GB, tcp_keepalive_time: 100}\n"})
    config = tmp_path / "pgpath.yaml"
    [path] = shared(paths_of(tmp_path, config))
    assert path.source == "topology" and [h.kind for h in path.hops] == ["client", "azure-lb", "postgres"]
    assert path.hops[0].replicas == 3
    # the host's sysctl keepalive (100 s) on the server end keeps the 240 s Azure flow open
    [azure] = [t for t in path.timers if t.resets_on == "packets"]
    assert azure.seconds == 240 and azure.defeated
    # and the host's RAM is what the memory rule compares with
    r = pgpath("check", ".", "--config", "pgpath.yaml", "--select", "MEM001", cwd=tmp_path)
    assert "MEM001 warning" in r.stdout and "RAM 8 GB" in r.stdout, r.stdout


def test_a_topology_hop_may_name_a_compose_file_holding_its_server(tmp_path):
    """A postgres hop naming a docker-compose file is read by the compose reader (not as a
    postgresql.conf, which gave syntax errors): its server joins the path and takes the host's facts."""
    write(tmp_path, {
        "docker-compose.yml": "services:\n  db:\n    image: postgres:17\n"
                              "    command: postgres -c max_connections=100 -c work_mem=64MB -c shared_buffers=2GB\n"
                              "  app:\n    image: myapp\n    environment:\n      DATABASE_URL: postgres://app@db:5432/app\n",
        "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: {file: docker-compose.yml}\n"
                       "      - aws-nlb: {}\n      - postgres: {file: docker-compose.yml, host: db1}\n"
                       "hosts:\n  db1: {ram: 4GB}\n"})
    r = pgpath("check", ".", "--format", "json", cwd=tmp_path)
    data = json.loads(r.stdout)
    assert not [f for f in data["findings"] if f["code"] in ("ADV001", "ADV004")], r.stdout
    [path] = [p for p in data["paths"] if p["source"] == "topology"]
    assert [h["kind"] for h in path["hops"]] == ["client", "aws-nlb", "postgres"]
    [mem] = [f for f in data["findings"] if f["code"] == "MEM001"]
    assert "RAM 4 GB" in mem["message"]  # the declared host's RAM reached the compose server


TWO_SERVICES = ("services:\n  db:\n    image: postgres:17\n    command: postgres -c max_connections=100\n"
                "  api:\n    image: api\n    environment:\n      DATABASE_URL: postgres://app@db:5432/app\n"
                "  worker:\n    image: worker\n    environment:\n"
                "      - DATABASE_URL=postgres://app@db:5432/app?keepalives_idle=60\n")


def test_two_compose_services_with_one_variable_are_told_apart_and_can_be_declared(tmp_path):
    """Two services set DATABASE_URL: their paths are named after the service, `pgpath init`
    writes `service:`, and a topology picks one service's client with it."""
    write(tmp_path, {"docker-compose.yml": TWO_SERVICES})
    names = sorted(p.name for p in shared(paths_of(tmp_path)))
    assert names == ["docker-compose.yml: api: DATABASE_URL", "docker-compose.yml: worker: DATABASE_URL"]
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "0. client     worker: DATABASE_URL (libpq)" in text
    r = pgpath("init", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    written = (tmp_path / "pgpath.yaml").read_text()
    assert '- client: {file: "docker-compose.yml", variable: "DATABASE_URL", service: "worker"}' in written, written
    declared = [p for p in paths_of(tmp_path, tmp_path / "pgpath.yaml") if p.source == "topology"]
    assert sorted(p.hops[0].label for p in declared) == ["api: DATABASE_URL (libpq)", "worker: DATABASE_URL (libpq)"]
    assert {p.hops[0].detail.service: p.hops[0].detail.keepalive.idle.display if p.hops[0].detail.keepalive.idle
            else None for p in declared}["worker"] == "60"
    # a service the file does not have is an error with the line
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: d\n    hops:\n"
                                          "      - client: {file: docker-compose.yml, service: web}\n"
                                          "      - postgres: {file: docker-compose.yml}\n")
    r = pgpath("check", ".", "--config", "pgpath.yaml", cwd=tmp_path)
    assert "pgpath.yaml:4:9: ADV004 error deployment d: docker-compose.yml has no client setting in service 'web'" \
        in r.stdout, r.stdout
    assert "fix: service: one of api, worker (the compose services whose environment holds it)" in r.stdout, r.stdout


def test_a_topology_given_by_absolute_path_elsewhere_shows_files_as_the_command_line_does(tmp_path):
    """`pgpath check . --config /elsewhere/pgpath.yaml` (a topology written by `pgpath init -o`):
    the files it names are shown relative to the working directory, like the files walked,
    never as /elsewhere/../repo/file."""
    repo = write(tmp_path / "repo", {"postgresql.conf": PG + "statement_timeout = 60s\n", "pgbouncer.ini": PGB})
    (tmp_path / "cfg").mkdir()
    r = pgpath("init", ".", "-o", str(tmp_path / "cfg" / "topology.yaml"), cwd=repo)
    assert r.returncode == 0, r.stderr
    assert '"../repo/pgbouncer.ini"' in (tmp_path / "cfg" / "topology.yaml").read_text()
    r = pgpath("check", ".", "--config", str(tmp_path / "cfg" / "topology.yaml"), "--select", "ALL,PG010", cwd=repo)
    findings = [ln for ln in r.stdout.splitlines() if " PG010 " in ln]
    assert findings and all(ln.startswith("postgresql.conf:") for ln in findings), r.stdout
    assert str(tmp_path) not in r.stdout


def test_client_findings_name_the_service_when_two_set_the_variable(tmp_path):
    write(tmp_path, {"docker-compose.yml": "services:\n  api:\n    image: api\n    environment:\n"
                     "      DATABASE_URL: postgres://app@db.example.com:5432/app\n"
                     "  worker:\n    image: worker\n    environment:\n"
                     "      DATABASE_URL: postgres://app@db.example.com:5432/app?sslmode=prefer\n"})
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["APP001"]}, use_config=False))
    assert sorted(f.message.split(" to ")[0] for f in report.findings) == [
        "api: DATABASE_URL (libpq)", "worker: DATABASE_URL (libpq)"]


def test_one_service_keeps_its_variables_name_and_the_budget_names_each_service(tmp_path):
    """Only a variable that two services set is named after its service (a single service's
    messages, and so baselines, keep `DATABASE_URL`); PATH005 names each service's pool; a PG*
    environment client gets its service too."""
    write(tmp_path, {"docker-compose.yml": "services:\n  db:\n    image: postgres:17\n"
                     "    command: postgres -c max_connections=10\n"
                     "  api:\n    image: api\n    environment:\n      DATABASE_URL: postgres://app@db:5432/app\n"})
    [path] = shared(paths_of(tmp_path))
    assert path.name == "docker-compose.yml: DATABASE_URL" and path.hops[0].label == "DATABASE_URL (libpq)"
    assert path.hops[0].detail.service == "api"  # the fact is kept (topology `service:` selects it)
    write(tmp_path, {"docker-compose.yml": TWO_SERVICES.replace("max_connections=100", "max_connections=3")
                     + "  cron:\n    image: cron\n    environment:\n      PGHOST: db\n      PGPORT: '5432'\n"
                       "  cron2:\n    image: cron\n    environment:\n      PGHOST: db\n"})
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PATH005"]}, use_config=False))
    labels = sorted(p.hops[0].label for p in shared(report.paths))
    assert labels == ["api: DATABASE_URL (libpq)", "cron2: PG* environment (driver unknown)", "cron: PG* environment (driver unknown)",
                      "worker: DATABASE_URL (libpq)"], labels
    [budget] = report.findings
    assert "api: DATABASE_URL 1 connection" in budget.message and "worker: DATABASE_URL" in budget.message, \
        budget.message


def test_two_containers_of_a_deployment_are_told_apart_by_their_names(tmp_path):
    write(tmp_path, {"app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n"
                     "  template:\n    spec:\n      containers:\n"
                     "        - name: web\n          image: web\n          env:\n"
                     "            - name: DATABASE_URL\n              value: postgres://app@db.internal:5432/app\n"
                     "        - name: worker\n          image: worker\n          env:\n"
                     "            - name: DATABASE_URL\n              value: postgres://app@db.internal:5432/app\n",
                     "postgresql.conf": PG})
    names = sorted(p.name for p in shared(paths_of(tmp_path)))
    assert names == ["app.yaml: web: DATABASE_URL", "app.yaml: worker: DATABASE_URL"], names


def test_checking_one_folder_reports_its_files_not_the_other_deployments_the_topology_names(tmp_path):
    """A repository's pgpath.yaml names two deployments; `pgpath check a` reads what it needs to
    assemble paths, and reports findings (and unread-include notices) only where they concern a
    file under `a`; `pgpath check` (the whole tree) reports both."""
    write(tmp_path, {"a/postgresql.conf": PG + "statement_timeout = 60s\n",
                     "b/postgresql.conf": PG + "include '/etc/made/at/deploy.conf'\nstatement_timeout = 90s\n",
                     "pgpath.yaml": "select: [ALL, PG010]\n"
                                    "deployments:\n  - name: a\n    hops:\n      - postgres: a/postgresql.conf\n"
                                    "  - name: b\n    hops:\n      - postgres: b/postgresql.conf\n"})
    one = pgpath("check", "a", cwd=tmp_path).stdout
    assert "a/postgresql.conf:" in one and "b/postgresql.conf" not in one, one
    both = pgpath("check", cwd=tmp_path).stdout
    assert "a/postgresql.conf:" in both and "b/postgresql.conf:4:" in both and "deploy.conf" in both, both
    # a baseline of the whole tree: checking `a` finds b's entries neither reported nor stale
    r = pgpath("check", ".", "--write-baseline", "base.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = pgpath("check", "a", "--baseline", "base.json", "--baseline-stale", cwd=tmp_path)
    assert r.returncode == 0 and "stale" not in r.stdout, r.stdout


def test_checking_one_folder_reads_only_its_deployments(tmp_path):
    """As --hook reads the changed files' deployments: `pgpath check a` does not read deployment
    b, so b's unreadable file and b's topology error do not fail it; the whole tree's check does."""
    write(tmp_path, {"a/postgresql.conf": PG,
                     "pgpath.yaml": "deployments:\n  - name: a\n    hops:\n      - postgres: a/postgresql.conf\n"
                                    "  - name: b\n    hops:\n      - postgres: b/postgresql.conf\n"})
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "postgresql.conf").write_bytes(b"\x00\x01binary")
    r = pgpath("check", "a", cwd=tmp_path)
    assert r.returncode == 0 and "ADV004" not in r.stdout and "b/postgresql.conf" not in r.stdout + r.stderr, \
        r.stdout + r.stderr
    r = pgpath("check", cwd=tmp_path)
    assert r.returncode == 2 and "ADV004 error deployment b" in r.stdout, r.stdout + r.stderr
    # a topology error of the deployment checked is still reported
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: a\n    hops:\n      - postgres: a/missing.conf\n"
                                          "      - postgres: a/postgresql.conf\n")
    r = pgpath("check", "a", cwd=tmp_path)
    assert "ADV004 error deployment a: a/missing.conf does not exist" in r.stdout, r.stdout


def test_checking_the_topologys_tree_reports_the_files_it_names_outside_it(tmp_path):
    """repo/pgpath.yaml names ../shared/postgresql.conf: `pgpath check .` from repo checks the
    topology's whole tree, so that file's findings are reported (docs/path.md: every file the
    topology names is read, wherever it is)."""
    write(tmp_path, {"shared/postgresql.conf": PG + "statement_timeout = 90s\n",
                     "repo/pgbouncer.ini": PGB,
                     "repo/pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - pgbouncer: pgbouncer.ini\n"
                                         "      - postgres: ../shared/postgresql.conf\n"})
    r = pgpath("check", ".", "--select", "ALL,PG010", cwd=tmp_path / "repo")
    assert "postgresql.conf:3:21: PG010" in r.stdout, r.stdout


def test_an_operators_keepalive_default_is_named_as_such_on_the_leg(tmp_path):
    """Spilo (the Zalando operator's image) sets tcp_keepalives_idle = 900 where the manifest sets
    none: the leg's keepalive says whose value it is, not a line of the manifest."""
    write(tmp_path, {"z.yaml": "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: acid-orders\n"
                     "spec:\n  postgresql:\n    version: '17'\n",
                     ".env": "DATABASE_URL=postgresql://app@acid-orders:5432/app\n"})
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "keepalives leave it silent at most 900 s (15 min) (tcp_keepalives_idle = 900 (Spilo's default))" \
        in text, text


def test_topology_errors_name_the_line(tmp_path):
    write(tmp_path, {"postgresql.conf": PG,
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - postgres: missing.conf\n"})
    r = pgpath("check", ".", "--config", "pgpath.yaml", cwd=tmp_path)
    assert "pgpath.yaml:4:9: ADV004 error deployment d: missing.conf does not exist" in r.stdout, r.stdout
    # an option of another kind of hop is read nowhere: said, not silently ignored
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: d\n    hops:\n"
                                          "      - postgres: {file: postgresql.conf, service: db, proxy: pg}\n")
    r = pgpath("check", ".", "--config", "pgpath.yaml", cwd=tmp_path)
    assert "pgpath.yaml:4:9: ADV004 error deployment d: proxy, service do not apply to a postgres hop" in r.stdout, \
        r.stdout
    # a wrong shape is a usage error with file, line and key
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: d\n    hops:\n      - bouncer: x.ini\n")
    r = pgpath("check", ".", "--config", "pgpath.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "pgpath.yaml:4:9: at deployments/0/hops/0" in r.stderr, r.stderr


# ------------------------------------------------------------------------------------------------ commands


def test_path_json_follows_its_schema_and_names_the_first_close(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "pgbouncer.ini": PGB, "haproxy.cfg": HAP, ".env": ENV})
    r = pgpath("path", ".", "--format", "json", "--no-config", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert validate(data, "path.schema.json") is None
    [p] = [p for p in data["paths"] if len(p["hops"]) > 1]
    assert p["idle"]["closes_after_s"] == 1800
    assert p["hops"][p["idle"]["closed_by"]["hop"]]["kind"] == "haproxy"
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "closes first: HAProxy listen pg timeout client/server 30m, after 1800 s (30 min) idle" in text


def test_init_writes_a_topology_that_gives_the_same_paths(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "pgbouncer.ini": PGB, "haproxy.cfg": HAP, ".env": ENV})
    r = pgpath("init", ".", cwd=tmp_path)
    assert r.returncode == 0 and "wrote pgpath.yaml: 1 deployment" in r.stdout, r.stdout + r.stderr
    assert pgpath("init", ".", cwd=tmp_path).returncode == 2  # never overwrites without --force
    declared = shared(paths_of(tmp_path, tmp_path / "pgpath.yaml"))
    discovered = shared(paths_of(tmp_path))
    assert [p.source for p in declared] == ["topology"]
    assert [h.kind for h in declared[0].hops] == [h.kind for h in discovered[0].hops]
    assert declared[0].first_close().seconds == discovered[0].first_close().seconds


def test_check_says_which_paths_were_assumed(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "pgbouncer.ini": PGB, "haproxy.cfg": HAP, ".env": ENV})
    r = pgpath("check", ".", "--no-config", cwd=tmp_path)
    assert "1 connection path (1 assumed from the files" in r.stdout
    data = json.loads(pgpath("check", ".", "--no-config", "--format", "json", cwd=tmp_path).stdout)
    assert validate(data, "report.schema.json") is None
    assert [p["source"] for p in data["paths"]] == ["discovered"]


@pytest.mark.parametrize("sample", ["risky", "healthy"])
def test_samples_pair_only_files_of_their_own_folder(sample):
    folder = ROOT / "samples" / sample
    found = shared(paths_of(folder))
    # the Spring app through PgBouncer, the reporting worker through the NLB (infra/nlb.tf) to HAProxy
    # risky: the NLB of infra/nlb.tf in front of HAProxy; healthy: HAProxy in front of PgBouncer (no
    # Terraform there, so that a check of it imports no cloud module: see test_cloud_properties)
    via_haproxy = (("client", "aws-nlb", "haproxy", "postgres") if sample == "risky"
                   else ("client", "haproxy", "pgbouncer", "postgres"))
    assert sorted(tuple(h.kind for h in p.hops) for p in found) == sorted(
        [("client", "pgbouncer", "postgres"), via_haproxy]), [p.label for p in found]
    for path in found:
        for hop in path.hops:
            assert (folder / hop.file).resolve().is_relative_to(folder.resolve())


def test_a_long_keepalive_interval_leaves_the_leg_silent_too_long(tmp_path):
    """Lab N8/N11: after an answered probe Linux probes again only `interval` later, so idle 1 s with
    interval 10 s lets a 3 s flow table forget the connection; interval 2 s keeps it."""
    topology = ("deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                "      - firewall: {idle_timeout: 3s}\n      - postgres: postgresql.conf\n")
    write(tmp_path, {"postgresql.conf": PG, "pgpath.yaml": topology,
                     ".env": "DATABASE_URL=postgresql://app@db:5432/app?keepalives_idle=1&keepalives_interval=10\n"})
    [path] = shared(paths_of(tmp_path, tmp_path / "pgpath.yaml"))
    assert path.legs[0].keepalive().probes_every == 10
    assert path.first_close().seconds == 3
    write(tmp_path, {".env": "DATABASE_URL=postgresql://app@db:5432/app?keepalives_idle=1&keepalives_interval=2\n"})
    [path] = shared(paths_of(tmp_path, tmp_path / "pgpath.yaml"))
    assert path.first_close() is None


def test_a_roles_own_idle_session_timeout_applies_to_its_sessions(tmp_path):
    """Lab P1r/B6r: ALTER ROLE ... SET beside postgresql.conf closes that role's sessions."""
    write(tmp_path, {"postgresql.conf": PG, "roles.sql": "ALTER ROLE lab_ist SET idle_session_timeout = '2s';\n",
                     ".env": "DATABASE_URL=postgresql://lab_ist@db:5432/app\n"})
    [path] = shared(paths_of(tmp_path))
    first = path.first_close()
    assert first.seconds == 2 and "(role lab_ist)" in first.name
    write(tmp_path, {".env": "DATABASE_URL=postgresql://other@db:5432/app\n"})  # another role: the file's value
    [path] = shared(paths_of(tmp_path))
    assert path.first_close() is None
    # named in the topology with the server's files
    write(tmp_path, {".env": "DATABASE_URL=postgresql://lab_ist@db:5432/app\n", "sql/roles.sql":
                     "ALTER ROLE lab_ist SET idle_session_timeout = '3s';\n",
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - postgres: {file: postgresql.conf, files: [sql/roles.sql]}\n"})
    (tmp_path / "roles.sql").unlink()
    [path] = shared(paths_of(tmp_path, tmp_path / "pgpath.yaml"))
    assert path.first_close().seconds == 3


def test_a_declared_server_takes_the_sql_files_beside_it(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "roles.sql": "ALTER ROLE lab_ist SET idle_session_timeout = '2s';\n",
                     ".env": "DATABASE_URL=postgresql://lab_ist@db:5432/app\n",
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - postgres: postgresql.conf\n"})
    [path] = shared(paths_of(tmp_path, tmp_path / "pgpath.yaml"))
    assert path.first_close().seconds == 2


def test_the_review_report_draws_each_path_with_one_box_per_hop(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "pgbouncer.ini": PGB, "haproxy.cfg": HAP, ".env": ENV})
    r = pgpath("report", ".", "--no-config", "-o", "report.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "report.html").read_text()
    assert page.count('class="path-figure"') == 1
    # a box per hop (client, HAProxy, PgBouncer, PostgreSQL), HAProxy's the one that closes first
    assert page.count('class="hop"') + page.count('class="hop closes-first"') == 4
    assert page.count('class="hop closes-first"') == 1
    md = pgpath("report", ".", "--no-config", cwd=tmp_path).stdout
    assert "### Connection paths" in md and "HAProxy listen pg" in md


def test_a_systemd_memory_limit_beside_the_server_is_the_memory_that_counts(tmp_path):
    write(tmp_path, {"postgresql.conf": PG + "shared_buffers = 2GB\nwork_mem = 64MB\nmax_connections = 200\n",
                     ".env": "DATABASE_URL=postgresql://app@db:5432/app\n",
                     "postgresql.service": "[Unit]\nDescription=PostgreSQL\n[Service]\nExecStart=/usr/lib/postgresql/15/"
                                           "bin/postgres -D /var/lib/postgresql/15/main\nMemoryMax=8G\n"})
    r = pgpath("check", ".", "--no-config", "--select", "MEM001", cwd=tmp_path)
    assert "MEM001 info" in r.stdout and "memory limit 8 GB" in r.stdout, r.stdout  # 30 queries fit: info


# ------------------------------------------------------------------------------------------------ proxies of other protocols

MQTT = ("defaults\n    mode http\n    timeout connect 5s\n    timeout client 50s\n    timeout server 50s\n"
        "    timeout tunnel 1h\n\n"
        "listen mqtt-in\n    bind *:1883\n    mode tcp\n    timeout client 3h\n    timeout server 3h\n"
        "    server m1 tb-mqtt1:1883 check\n\n"
        "listen edges-rpc-in\n    bind *:7070\n    mode tcp\n    server r1 tb-core1:7070 check\n")


def test_a_tcp_proxy_with_no_postgresql_evidence_is_no_path(tmp_path):
    """Thingsboard's HAProxy carries MQTT (1883) and gRPC (7070) in mode tcp: nothing says PostgreSQL
    (no pgsql-check, no Patroni check, no PostgreSQL port, name or next hop), so `pgpath path`
    must not present them as PostgreSQL paths ("the next query fails")."""
    write(tmp_path, {"haproxy.cfg": MQTT})
    assert [p.name for p in paths_of(tmp_path)] == []
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "mqtt" not in text and "next query" not in text
    data = json.loads(pgpath("path", ".", "--no-config", "--format", "json", cwd=tmp_path).stdout)
    assert data["paths"] == []


def test_a_client_connecting_to_a_tcp_proxy_is_evidence_enough(tmp_path):
    """The same proxy reached by a PostgreSQL client's port carries PostgreSQL: its path is kept."""
    write(tmp_path, {"haproxy.cfg": MQTT, ".env": "DATABASE_URL=postgresql://app@lb:7070/app\n"})
    [path] = shared(paths_of(tmp_path))
    assert [h.kind for h in path.hops] == ["client", "haproxy"]


PATRONI = ("defaults\n    mode tcp\n    timeout client 30m\n    timeout server 30m\n\n"
           "listen primary\n    bind *:5000\n    option httpchk HEAD /primary\n    http-check expect status 200\n"
           "    server {{ .Key }} {{ .conn_url }} check port 8008\n\n"
           "listen replicas\n    bind *:5001\n"
           "    server n1 10.0.0.1:{{ postgresql_port }} check port 8008\n")


def test_a_patroni_health_check_or_a_postgresql_port_placeholder_is_postgresql(tmp_path):
    """Patroni's REST health checks (/primary, /replica?lag=...) and a server port written as a
    template placeholder named for PostgreSQL are evidence: the path and the HAProxy rules agree."""
    write(tmp_path, {"haproxy.cfg.tmpl": PATRONI})
    found = paths_of(tmp_path)
    assert [p.name for p in found] == ["HAProxy listen primary", "HAProxy listen replicas"]
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["HAP005"],
                                "rule_options": {"HAP005": {"report-up-to": 3600}}}, use_config=False))
    # both inherit the timeouts of one defaults line: one finding names both (HAP005)
    assert [f.message.split(":")[0] for f in report.findings] == ["listen primary and listen replicas"]


def test_check_and_path_count_the_same_connection_paths(tmp_path):
    """`pgpath check` counts the connection paths of more than one hop; `pgpath path` shows those as
    `path N` with the same count, and a proxy, pooler or server alone that still has idle timers
    (a single hop) after them, as `single hop N`, never as one more connection path."""
    write(tmp_path, {"db/postgresql.conf": PG, "db/pgbouncer.ini": PGB, "db/haproxy.cfg": HAP, "db/.env": ENV,
                     "edge/haproxy.cfg": HAP.replace("listen pg", "listen pg_edge")})
    check = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert "\n1 connection path (1 assumed from the files" in check
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert [ln.split(":")[0] for ln in text.splitlines() if ln.startswith(("path ", "single hop "))] == [
        "path 1 (assumed)", "single hop 1 (assumed)"]
    assert text.rstrip().splitlines()[-1].startswith(
        "1 connection path (more than one hop, as `pgpath check` counts them) and 1 single hop with idle timers")


NLB_TOPOLOGY = ("deployments:\n  - name: app\n    hops:\n      - client: {file: .env}\n"
                "      - pgbouncer: {file: pgbouncer.ini}\n      - aws-nlb: {}\n      - postgres: {file: postgresql.conf}\n")
PGB_KA = ("[databases]\napp = host=10.0.0.5 port=5432 dbname=app\n\n[pgbouncer]\nlisten_addr = *\nlisten_port = 6432\n"
          "pool_mode = session\ntcp_keepalive = 1\ntcp_keepidle = 300\n")


@pytest.mark.parametrize("pgb,pg,refused", [
    # PgBouncer reads tcp_keepintvl with strtol: "400.0" is refused (PGB002), not 400 nor Linux's 75
    ("tcp_keepintvl = 400.0\n", "", "tcp_keepintvl = 400.0"),
    ("tcp_keepintvl = 30\ntcp_keepcnt = 3x\n", "", "tcp_keepcnt = 3x"),
    ("tcp_keepalive = yes\n", "", "tcp_keepalive = yes"),
    ("tcp_keepintvl = 30\ntcp_keepidle = 5min\n", "", "tcp_keepidle = 5min"),  # no unit suffixes in PgBouncer
    ("tcp_keepintvl = 30\n", "tcp_keepalives_idle = 'often'\n", "tcp_keepalives_idle = 'often'"),
    ("tcp_keepintvl = 30\n", "tcp_keepalives_idle = 300\ntcp_keepalives_interval = 'ten'\n",
     "tcp_keepalives_interval = 'ten'"),
    ("tcp_keepintvl = 30\n", "tcp_keepalives_idle = 300\ntcp_keepalives_count = -1\n", "tcp_keepalives_count = -1"),
])
def test_a_keepalive_value_the_software_refuses_is_unknown_in_the_plan(tmp_path, pgb, pg, refused):
    """A keepalive setting PgBouncer or PostgreSQL refuses (they do not start with it: PGB002, PG002)
    makes that end's keepalive plan unknown, never the OS default silently put in its place."""
    write(tmp_path, {"pgpath.yaml": NLB_TOPOLOGY, ".env": "DATABASE_URL=postgresql://app@10.0.0.5:6432/app\n",
                     "pgbouncer.ini": PGB_KA + pgb, "postgresql.conf": "port = 5432\n" + pg})
    [path] = paths_of(tmp_path, tmp_path / "pgpath.yaml")
    [leg] = [leg for leg in path.legs if leg.middleboxes]
    end = next(e for e in leg.ends if e.text.startswith(refused))
    assert (end.enabled, end.idle, end.probes_every) == (None, None, None)
    assert "refuses" in end.text
    assert not any(refused in (t.note or "") for t in path.timers)  # never "kept open" by it


POOLER_LB = ("apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: pooler-rw\nspec:\n"
             "  cluster:\n    name: pg\n  type: rw\n  serviceTemplate:\n    spec:\n      type: LoadBalancer\n"
             "  pgbouncer:\n    poolMode: transaction\n")


def test_a_load_balancer_in_front_of_the_first_hop_makes_a_leg_from_unread_clients(tmp_path):
    """A Pooler's LoadBalancer Service sits in front of PgBouncer: the leg from the clients has one
    end, PgBouncer's keepalives are judged, and the JSON says which end is open."""
    write(tmp_path, {"pooler.yaml": POOLER_LB})
    [path] = shared(paths_of(tmp_path))
    assert [h.kind for h in path.hops] == ["cloud-lb", "pgbouncer"]
    [leg] = path.legs
    assert (leg.a, leg.b, leg.middleboxes, leg.open_end) == (1, 1, [0], "client")
    assert leg.keepalive().probes_every == 7200  # PgBouncer's tcp_keepidle unset: the OS default
    r = pgpath("path", ".", "--format", "json", "--no-config", cwd=tmp_path)
    data = json.loads(r.stdout)
    assert validate(data, "path.schema.json") is None and data["paths"][0]["legs"][0]["open_end"] == "client"
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "leg clients (not read) -> PgBouncer pooler.yaml [*] via cloud load balancer of Service pooler-rw" in text
    assert "closes first: not known" in text and "(name the cloud: cloud: in pgpath.yaml" in text


def test_an_unknown_templated_timer_asks_for_the_rendered_file_not_the_cloud(tmp_path):
    """A placeholder HAProxy timeout is not known until the template is rendered: `pgpath path`
    says so, and does not ask for a cloud that has nothing to do with it."""
    write(tmp_path, {"haproxy.cfg.j2": "defaults\n    mode tcp\n    timeout connect 5s\n"
                     "    timeout client {{ t_client }}\n    timeout server {{ t_server }}\n"
                     "listen pg\n    bind *:5000\n    server db1 10.0.0.1:5432\n"})
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "closes first: not known: HAProxy listen pg timeout client {{ t_client }}" in text
    assert "its value is filled in where the file is deployed" in text and "cloud" not in text


def test_a_middlebox_declared_without_its_timer_is_asked_for_it(tmp_path):
    write(tmp_path, {"postgresql.conf": PG, "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n"
                     "      - firewall: {}\n      - postgres: postgresql.conf\n"})
    text = pgpath("path", ".", cwd=tmp_path).stdout
    assert "closes first: not known: firewall (declared) idle timeout unknown (declare it: firewall: " \
           "{idle_timeout: <seconds>} on the deployment)" in text, text


@pytest.mark.parametrize("cloud,kind,seconds", [("azure", "azure-lb", 240), ("aws", "aws-elb", 60)])
def test_the_cloud_option_names_the_load_balancer_a_service_gets(tmp_path, cloud, kind, seconds):
    write(tmp_path, {"pooler.yaml": POOLER_LB, "pgpath.yaml": f"cloud: {cloud}\n"})
    [path] = shared(paths_of(tmp_path, tmp_path / "pgpath.yaml"))
    box = path.hops[0]
    assert (box.kind, box.detail.idle_timeout.value) == (kind, seconds)
    r = pgpath("check", ".", "--no-config", "--cloud", cloud, "--format", "json", cwd=tmp_path)
    codes = {(f["code"], f["severity"]) for f in json.loads(r.stdout)["findings"]}
    # PgBouncer probes after 7200 s, past Azure's 240 s: PATH001 warns; a Classic ELB counts data only, not probes
    assert (("PATH001", "warning") in codes) == (cloud == "azure")


def test_an_unknown_cloud_is_a_usage_error(tmp_path):
    write(tmp_path, {"pooler.yaml": POOLER_LB, "pgpath.yaml": "cloud: ibm\n"})
    r = pgpath("check", ".", cwd=tmp_path)
    assert r.returncode == 2 and "cloud" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = pgpath("check", ".", "--no-config", "--cloud", "ibm", cwd=tmp_path)
    assert r.returncode == 2 and "cloud must be one of aws, azure, gcp, not 'ibm'" in r.stderr, r.stderr


def test_the_summary_counts_the_paths_that_cross_no_middlebox(tmp_path):
    write(tmp_path, {"k8s/pooler.yaml": POOLER_LB, "vm/postgresql.conf": PG, "vm/pgbouncer.ini": PGB})
    last = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout.strip().splitlines()[-1]
    assert last.startswith("2 connection paths (2 assumed from the files;"), last
    assert last.endswith("; 1 of them crosses no middlebox known, so its keepalives were not checked: declare load "
                         "balancers and NATs"), last


def test_a_zalando_cluster_behind_its_master_load_balancer(tmp_path):
    """enableMasterLoadBalancer makes the operator's primary Service (named as the cluster) a
    LoadBalancer on port 5432, in front of Spilo's PostgreSQL."""
    write(tmp_path, {"pg.yaml": "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: acid-main\n"
                                "spec:\n  enableMasterLoadBalancer: true\n  postgresql:\n    version: '16'\n"})
    [path] = shared(paths_of(tmp_path))
    assert [(h.kind, h.label) for h in path.hops] == [("cloud-lb", "cloud load balancer of Service acid-main"),
                                                      ("postgres", "PostgreSQL pg.yaml")]
    assert path.legs[0].open_end == "client"
    r = pgpath("check", ".", "--format", "json", "--no-config", "--select", "PATH001", cwd=tmp_path)
    [finding] = json.loads(r.stdout)["findings"]
    # the fix in the manifest's own syntax
    assert finding["fix"].startswith('tcp_keepalives_idle: "120", tcp_keepalives_interval: "30", '
                                     'tcp_keepalives_count: "3" in spec.postgresql.parameters'), finding["fix"]


@pytest.mark.parametrize("replicas,warned", [(2, False), (3, True)])
def test_a_poolers_pods_each_have_their_own_session_pools(tmp_path, replicas, warned):
    """A CloudNativePG Pooler of 3 instances runs 3 PgBouncers behind its Service: 3 × 20 server
    connections for one database and user; 2 replicas of a 30-connection pool fit, 3 do not."""
    write(tmp_path, {
        "pooler.yaml": "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: pooler-rw\nspec:\n"
                       "  cluster:\n    name: pg\n  instances: 3\n  type: rw\n  pgbouncer:\n    poolMode: session\n"
                       "    parameters:\n      default_pool_size: \"20\"\n",
        "application.properties": "spring.datasource.url=jdbc:postgresql://pooler-rw:5432/app\n"
                                  "spring.datasource.username=app\nspring.datasource.hikari.maximum-pool-size=30\n",
        "pgpath.yaml": f"deployments:\n  - name: app\n    hops:\n      - client: {{file: application.properties, "
                       f"replicas: {replicas}}}\n      - pgbouncer: pooler.yaml\n"})
    r = pgpath("check", ".", "--format", "json", "--select", "PATH005", cwd=tmp_path)
    findings = json.loads(r.stdout)["findings"]
    assert bool(findings) == warned, r.stdout
    if warned:
        assert "> (default_pool_size = 20) × 3 pods (instances: 3" in findings[0]["message"], findings[0]["message"]
        assert "= 60 server connections" in findings[0]["message"]


def test_init_keeps_a_services_load_balancer_of_unknown_cloud_as_a_hop(tmp_path):
    """`pgpath init` writes the Service's load balancer as `cloud-lb: {file: ...}`, so the findings on
    it survive the topology; naming the cloud afterwards turns the same hop into that cloud's."""
    write(tmp_path, {"pooler.yaml": POOLER_LB})
    before = {(f["code"], f["severity"]) for f in json.loads(pgpath("check", ".", "--format", "json", "--no-config",
                                                                      cwd=tmp_path).stdout)["findings"]}
    assert pgpath("init", ".", cwd=tmp_path).returncode == 0
    assert '- cloud-lb: {file: "pooler.yaml"}' in (tmp_path / "pgpath.yaml").read_text()
    after = {(f["code"], f["severity"]) for f in json.loads(pgpath("check", ".", "--format", "json",
                                                                     cwd=tmp_path).stdout)["findings"]}
    assert after == before and ("PATH001", "info") in after
    aws = {(f["code"], f["severity"]) for f in json.loads(pgpath("check", ".", "--format", "json", "--cloud", "aws",
                                                                   cwd=tmp_path).stdout)["findings"]}
    assert ("PATH002", "warning") in aws  # the in-tree Classic ELB: 60 s, whatever the keepalives


def test_a_cloud_lb_hop_without_its_manifest_is_a_topology_error(tmp_path):
    write(tmp_path, {"pooler.yaml": POOLER_LB,
                     "pgpath.yaml": "deployments:\n  - name: app\n    hops:\n      - cloud-lb: {}\n"
                                    "      - pgbouncer: pooler.yaml\n"})
    r = pgpath("check", ".", cwd=tmp_path)
    assert "ADV004 error deployment app: a cloud-lb is the load balancer of a Kubernetes Service read from its " \
           "manifest, and needs file:" in r.stdout, r.stdout


@pytest.mark.parametrize("cluster,joined", [("pg", True), ("other", False)])
def test_a_pooler_joins_only_the_cnpg_cluster_it_names(tmp_path, cluster, joined):
    write(tmp_path, {"pooler.yaml": "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: pooler-rw\n"
                                    "spec:\n  cluster:\n    name: pg\n  type: rw\n",
                     "cluster.yaml": f"apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: {cluster}\n"
                                     "spec:\n  instances: 3\n"})
    kinds = [[h.kind for h in p.hops] for p in shared(paths_of(tmp_path))]
    assert (["pgbouncer", "postgres"] in kinds) == joined, kinds


def test_pgpath_path_takes_the_cloud_option_too(tmp_path):
    write(tmp_path, {"pooler.yaml": POOLER_LB})
    text = pgpath("path", ".", "--no-config", "--cloud", "azure", cwd=tmp_path).stdout
    assert "0. azure-lb" in text and "idle timeout 240 s (documented default)" in text, text


HAP_5M = ("defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5m\n    timeout server 5m\n\n"
          "listen pg\n    bind *:5000\n    server db1 db.internal:5432 check\n")
DJANGO_SAFE = ("DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'HOST': 'lb.internal', 'PORT': 5000,\n"
               "    'NAME': 'app', 'CONN_MAX_AGE': 60, 'CONN_HEALTH_CHECKS': True}}\n")
SQLALCHEMY_BARE = "[app:main]\nsqlalchemy.url = postgresql+psycopg2://app@lb.internal:5000/app\n"


@pytest.mark.parametrize("client,expected", [
    (None, ["HAP005"]),                          # no client read: common pools are cut (a warning)
    (("app/settings.py", DJANGO_SAFE), []),        # the client read is safe: PATH002 finds nothing to report
    (("app/production.ini", SQLALCHEMY_BARE), ["PATH002"]),  # the client read is cut: said there, once
])
def test_a_proxys_idle_timeout_is_judged_against_the_clients_read_on_its_path(tmp_path, client, expected):
    """The scenario audit's N1: HAP005 warns of the pools it would cut when no client is read; when
    every path through the route starts at a client read, PATH002 judges those clients instead."""
    files = {"haproxy.cfg": HAP_5M, "postgresql.conf": PG}
    if client is not None:
        files[client[0]] = client[1]
    write(tmp_path, files)
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["HAP005", "PATH002"]}, use_config=False))
    assert sorted(f.code for f in report.findings if str(f.severity) == "warning") == expected


RDS_PROXY_TF = ('resource "aws_db_proxy" "app" {\n  name                = "app-proxy"\n  engine_family       = "POSTGRESQL"\n'
                '  idle_client_timeout = 900\n  require_tls         = true\n}\n')


@pytest.mark.parametrize("host,linked", [
    ("app-proxy.proxy-c1xyz.eu-west-1.rds.amazonaws.com", True),   # the endpoint AWS gives the proxy named app-proxy
    ("other-proxy.proxy-c1xyz.eu-west-1.rds.amazonaws.com", False),
    ("app-proxy.internal", False),
])
def test_a_client_naming_an_rds_proxys_endpoint_reaches_it(tmp_path, host, linked):
    """The scenario audit's M5: the endpoint's first label is the proxy's name, evidence enough to
    pair the client with the proxy's Terraform in another folder; its idle timer then judges the pool."""
    write(tmp_path, {"infra/rds_proxy.tf": RDS_PROXY_TF,
                     "web/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', "
                                        f"'HOST': '{host}', 'NAME': 'app', 'CONN_MAX_AGE': None}}}}\n"})
    found = shared(paths_of(tmp_path))
    assert [[h.kind for h in p.hops] for p in found] == ([["client", "aws-rds-proxy"]] if linked else [])
    if linked:
        report = run(make_settings({"paths": [str(tmp_path)], "select": ["PATH002"]}, use_config=False))
        assert [str(f.severity) for f in report.findings] == ["warning"]


def test_a_pgx_leg_names_gos_dialer_keepalive_not_a_libpq_key(tmp_path):
    """The scenario audit's U4: pgx has no keepalives_idle; its 15 s is Go's net.Dialer default."""
    write(tmp_path, {"postgresql.conf": PG,
                     ".env": "DATABASE_URL=postgres://app@db:5432/app?pool_max_conns=8\n",
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - aws-nat: {}\n      - postgres: postgresql.conf\n"})
    [path] = shared(paths_of(tmp_path, tmp_path / "pgpath.yaml"))
    assert path.hops[0].detail.driver == "pgx"
    best = path.legs[0].keepalive()
    assert best.probes_every == 15 and best.text.startswith("pgx: Go net.Dialer default keepalive"), best.text


AZURE_LB = ('{"name": "pg-ilb", "type": "Microsoft.Network/loadBalancers", "loadBalancingRules": [{"name": "pg-5432", '
            '"protocol": "Tcp", "frontendPort": 5432, "backendPort": 5432, "idleTimeoutInMinutes": 4, '
            '"enableTcpReset": false}]}\n')
DJANGO = ('DATABASES = {\n    "default": {\n        "ENGINE": "django.db.backends.postgresql",\n        "NAME": "app",\n'
          '        "HOST": "db.internal",\n        "CONN_MAX_AGE": None,\n    }\n}\n')


def test_topology_error_lists_what_the_file_has(tmp_path):
    """U1: a hop naming what its file lacks says what the file does have (no `pgpath dump` needed)."""
    write(tmp_path, {"infra/lb.json": AZURE_LB, "web/settings.py": DJANGO, "postgresql.conf": PG,
                     "pgpath.yaml": "deployments:\n  - name: app\n    hops:\n"
                                    "      - client: {file: web/settings.py, variable: default}\n"
                                    "      - azure-lb: {file: infra/lb.json, name: pg-6432}\n"
                                    "      - postgres: postgresql.conf\n"})
    r = pgpath("check", ".", cwd=tmp_path)
    assert ("pgpath.yaml:4:9: ADV004 error deployment app: web/settings.py has no client setting 'default'\n"
            "    fix: variable: one of DATABASES['default']\n") in r.stdout, r.stdout
    assert ("pgpath.yaml:5:9: ADV004 error deployment app: infra/lb.json describes no azure-lb named 'pg-6432'\n"
            "    fix: name: one of pg-ilb/pg-5432 (or 'pg-5432')\n") in r.stdout, r.stdout
    # the kind it does describe, when it has none of the kind named
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: app\n    hops:\n"
                                          "      - client: {file: web/settings.py}\n"
                                          "      - aws-nlb: {file: infra/lb.json}\n      - postgres: postgresql.conf\n")
    r = pgpath("check", ".", cwd=tmp_path)
    assert "describes no aws-nlb\n    fix: it describes azure-lb pg-ilb/pg-5432\n" in r.stdout, r.stdout


AZURE_TF = """
resource "azurerm_lb_rule" "pg" {
  loadbalancer_id         = azurerm_lb.pg.id
  name                    = "postgres"
  protocol                = "Tcp"
  frontend_port           = 5432
  backend_port            = 5432
  idle_timeout_in_minutes = 4
  enable_tcp_reset        = false
}

resource "azurerm_lb_rule" "metrics" {
  loadbalancer_id         = azurerm_lb.pg.id
  name                    = "metrics"
  protocol                = "Tcp"
  frontend_port           = 9187
  backend_port            = 9187
  idle_timeout_in_minutes = 30
}
"""


@pytest.mark.parametrize("lb_file, lb_text, names, expected", [
    ("infra/lb.tf", AZURE_TF, ("postgres", "azurerm_lb_rule.pg"), "azurerm_lb_rule.pg"),
    ("infra/lb.json", AZURE_LB, ("pg-5432", "pg-ilb/pg-5432"), "pg-ilb/pg-5432"),
])
def test_middlebox_hop_takes_the_rules_own_name_or_its_address(tmp_path, lb_file, lb_text, names, expected):
    """D11: a topology hop's `name:` is the rule's own name (`name = "postgres"`) or its Terraform
    address (`azurerm_lb_rule.pg`; an ARM rule's `<load balancer>/<rule>`): both give that rule, with
    its 4 min timer, not the other rule of the file."""
    for name in names:
        write(tmp_path, {lb_file: lb_text, "web/settings.py": DJANGO, "postgresql.conf": PG,
                         "pgpath.yaml": "deployments:\n  - name: app\n    hops:\n"
                                        "      - client: {file: web/settings.py}\n"
                                        f"      - azure-lb: {{file: {lb_file}, name: {name}}}\n"
                                        "      - postgres: postgresql.conf\n"})
        report = report_of(tmp_path, tmp_path / "pgpath.yaml")
        assert not [f for f in report.findings if f.code == "ADV004"], [f.message for f in report.findings]
        (path,) = report.paths
        (box,) = [h.detail for h in path.hops if h.kind == "azure-lb"]
        assert (box.name, box.idle_timeout.value) == (expected, 240), name


def test_topology_error_lists_at_most_eight_names(tmp_path):
    env = "".join(f"DB{i:02}_URL=postgresql://app@db{i}.internal/app\n" for i in range(12))
    write(tmp_path, {"app.env": env, "postgresql.conf": PG,
                     "pgpath.yaml": "deployments:\n  - name: app\n    hops:\n"
                                    "      - client: {file: app.env, variable: DATABASE_URL}\n"
                                    "      - postgres: postgresql.conf\n"})
    r = pgpath("check", ".", cwd=tmp_path)
    fix = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("fix: variable: one of"))
    assert fix.strip() == ("fix: variable: one of DB00_URL, DB01_URL, DB02_URL, DB03_URL, DB04_URL, DB05_URL, DB06_URL, "
                           "DB07_URL and 4 more (pgpath dump lists them)"), fix


def test_a_timer_duration_is_converted_once(tmp_path):
    """U4: PATH001 says `idle timeout 4 min = 240 s`, not `4 min = 240 s = 240 s` (an Azure LB's
    idleTimeoutInMinutes), and a bare seconds field (RDS Proxy `IdleClientTimeout: 1800`) once."""
    write(tmp_path, {"infra/lb.json": AZURE_LB, "postgresql.conf": PG,
                     "app/application.properties": "spring.datasource.url=jdbc:postgresql://10.1.0.100:5432/app\n"
                                                   "spring.datasource.hikari.max-lifetime=1800000\n",
                     "pgpath.yaml": "deployments:\n  - name: app\n    hops:\n"
                                    "      - client: {file: app/application.properties}\n"
                                    "      - azure-lb: {file: infra/lb.json, name: pg-ilb/pg-5432}\n"
                                    "      - postgres: postgresql.conf\n"})
    r = pgpath("check", ".", "--select", "PATH001", cwd=tmp_path)
    line = next(ln for ln in r.stdout.splitlines() if "PATH001" in ln)
    assert "crosses Azure Load Balancer pg-ilb/pg-5432 idle timeout 4 min = 240 s: " in line, line
    assert "240 s = 240 s" not in line


def test_a_keepalive_fix_turns_keepalives_on_where_the_client_turned_them_off(tmp_path):
    """The second scenario audit's D5: libpq applies keepalives_* only with keepalives on (checked
    with ss -tno), so a client with keepalives=0 is told keepalives=1 first, in its service's section."""
    write(tmp_path, {"app/pg_service.conf": "[reports]\nhost=db.internal\nport=5432\ndbname=reports\nkeepalives=0\n",
                     "db/postgresql.conf": "listen_addresses='*'\n",
                     "pgpath.yaml": "deployments:\n  - name: reports\n    hops:\n      - client: {file: app/pg_service.conf}\n"
                                    "      - aws-nat: {}\n      - postgres: {file: db/postgresql.conf}\n"})
    report = report_of(tmp_path, "pgpath.yaml", select=["PATH001"])
    [f] = report.findings
    assert f.fix.startswith("keepalives=1 keepalives_idle=") and "in [reports] of the service file" in f.fix


TWO_LEVEL = {
    "app/pgbouncer.ini": ("[databases]\norders = host=10.0.1.10 port=6432 dbname=orders\n[pgbouncer]\n"
                          "listen_addr = 127.0.0.1\nlisten_port = 6432\nauth_type = scram-sha-256\n"
                          "auth_file = /etc/pgbouncer/userlist.txt\npool_mode = transaction\ndefault_pool_size = 150\n"),
    "central/pgbouncer.ini": ("[databases]\norders = host=127.0.0.1 port=5432 dbname=orders\n[pgbouncer]\n"
                              "listen_addr = 0.0.0.0\nlisten_port = 6432\nauth_type = scram-sha-256\n"
                              "auth_file = /etc/pgbouncer/userlist.txt\npool_mode = transaction\n"
                              "client_idle_timeout = 60\nmax_client_conn = 100\ndefault_pool_size = 80\n"),
    "app/.env": "DATABASE_URL=postgresql://app@127.0.0.1:6432/orders\n",
    "central/postgresql.conf": "port = 5432\nmax_connections = 50\n",
    "pgpath.yaml": ("deployments:\n  - name: orders\n    hops:\n      - client: {file: app/.env}\n"
                    "      - pgbouncer: {file: app/pgbouncer.ini, database: orders}\n"
                    "      - pgbouncer: {file: central/pgbouncer.ini, database: orders}\n"
                    "      - postgres: {file: central/postgresql.conf}\n"),
}


def test_two_level_pooling_judges_each_pgbouncer_against_its_own_next_hop(tmp_path):
    """The second scenario audit's D3 and D4: the central PgBouncer's client_idle_timeout closes the
    app-side PgBouncer's server connections, which it replaces (no error for the application:
    checked with PgBouncer 1.18 on both levels); PostgreSQL's max_connections limits the central
    PgBouncer's pools, not the app-side one's, whose server connections go to the central."""
    write(tmp_path, TWO_LEVEL)
    report = report_of(tmp_path, "pgpath.yaml", select=["PGB015", "PGB016"])
    assert [(f.code, os.path.dirname(f.span.file)) for f in report.findings] == [("PGB016", "central")]
    [path] = shared(report.paths)
    [cit] = [t for t in path.timers if "client_idle_timeout" in t.name]
    assert not cit.closes_client and path.first_close() is None


def test_a_timer_in_seconds_as_written_is_not_converted_again():
    """The second scenario audit's D15: 'client_idle_timeout = 300 = 300 s' says it twice."""
    from advisor.path.model import Timer
    from advisor.rules.path import timer_seconds

    assert timer_seconds(Timer(0, None, "PgBouncer client_idle_timeout = 300", 300.0, "traffic", True, "")) == \
        "PgBouncer client_idle_timeout = 300 s"
    assert timer_seconds(Timer(0, None, "HAProxy listen pg timeout client/server 30m", 1800.0, "traffic", True, "")) == \
        "HAProxy listen pg timeout client/server 30m = 1800 s"


def test_a_bare_connection_string_leaves_the_proxy_timeout_to_hap005(tmp_path):
    """The review's must-fix: a .env DATABASE_URL names no pool, so PATH002 judges nothing there and
    HAP005 still warns of the common pools its 5 min would cut."""
    write(tmp_path, {"haproxy.cfg": HAP_5M, "postgresql.conf": PG,
                     ".env": "DATABASE_URL=postgresql://app@lb.internal:5000/app\n"})
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["HAP005", "PATH002"]}, use_config=False))
    assert [(f.code, str(f.severity)) for f in report.findings] == [("HAP005", "warning")]


@pytest.mark.parametrize("statement,fix", [
    ("ALTER ROLE crm_app SET idle_session_timeout = '10min';", "ALTER ROLE crm_app SET idle_session_timeout = 0"),
    ("ALTER ROLE crm_app IN DATABASE crm SET idle_session_timeout = '10min';",
     "ALTER ROLE crm_app IN DATABASE crm SET idle_session_timeout = 0"),
    ("ALTER DATABASE crm SET idle_session_timeout = '10min';", "ALTER DATABASE crm SET idle_session_timeout = 0"),
])
def test_pgb012s_session_fix_undoes_the_value_where_it_is_set(tmp_path, statement, fix):
    """The review's must-fix: a per-database role value needs ALTER ROLE ... IN DATABASE (a plain
    ALTER ROLE neither parses with the section's text nor overrides it)."""
    write(tmp_path, {"pgbouncer.ini": "[databases]\ncrm = host=127.0.0.1 port=5432 dbname=crm\n[pgbouncer]\n"
                                      "listen_addr = 127.0.0.1\nlisten_port = 6432\npool_mode = session\n",
                     "postgresql.conf": "port = 5432\n", "roles.sql": statement + "\n",
                     ".env": "DATABASE_URL=postgresql://crm_app@127.0.0.1:6432/crm\n"})
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PGB012"]}, use_config=False))
    [session] = [f for f in report.findings if "pool_mode = session" in f.message]
    assert session.fix.startswith(fix), session.fix


PGO_CLUSTER = ("apiVersion: postgres-operator.crunchydata.com/v1beta1\nkind: PostgresCluster\nmetadata:\n"
               "  name: hippo\n  namespace: shop\nspec:\n  postgresVersion: 16\n  instances:\n    - name: i1\n"
               "  proxy:\n    pgBouncer:\n      replicas: 2\n")
ZALANDO_CLUSTER = ("apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: acid\n  namespace: default\n"
                   "spec:\n  teamId: acid\n  postgresql:\n    version: '16'\n  numberOfInstances: 2\n")


@pytest.mark.parametrize("manifest,host,reached", [
    (PGO_CLUSTER, "hippo-pgbouncer", [["client", "pgbouncer", "postgres"]]),
    (PGO_CLUSTER, "hippo-pgbouncer.shop.svc.cluster.local", [["client", "pgbouncer", "postgres"]]),
    # past the PgBouncer to the primary: its PgBouncer's path stays its own
    (PGO_CLUSTER, "hippo-primary.shop", [["client", "postgres"], ["pgbouncer", "postgres"]]),
    (PGO_CLUSTER, "hippo-pgbouncer.other.svc", None),  # another namespace's Service of that name
    (PGO_CLUSTER, "hippo-pgbouncer.example.com", None),  # no Kubernetes Service name
    (ZALANDO_CLUSTER, "acid.default.svc", [["client", "postgres"]]),
    (ZALANDO_CLUSTER, "acid", None),  # a cluster's bare name alone is too common a word
])
def test_a_client_naming_an_operators_service_reaches_it_in_another_folder(tmp_path, manifest, host, reached):
    """A Kubernetes Service an operator creates for a cluster or its PgBouncer is evidence across
    folders (an app/ folder beside k8s/): the client joins that path, which then starts no path of
    its own."""
    write(tmp_path, {"k8s/cluster.yaml": manifest,
                     "app/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', "
                                        f"'HOST': '{host}', 'PORT': 5432, 'NAME': 'app'}}}}\n"})
    found = shared(paths_of(tmp_path))
    kinds = [[h.kind for h in p.hops] for p in found]
    if reached is None:
        assert not any(k[0] == "client" for k in kinds), kinds
    else:
        assert kinds == reached, kinds
        assert f"connects to {host}, the Service" in found[0].evidence[0]


def test_a_server_whose_settings_were_not_read_has_an_unknown_idle_timer(tmp_path):
    """A compose server started by its own entrypoint script reads settings pgpath did not: whether
    it closes idle sessions is not known, and `pgpath path` says so instead of 'nothing closes'."""
    write(tmp_path, {"docker-compose.yml": "services:\n  db:\n    image: postgres:16\n    entrypoint: /entrypoint.sh\n"
                                           "    command: postgres\n  api:\n    image: api\n    environment:\n"
                                           "      DATABASE_URL: postgresql://app@db:5432/app\n"})
    [path] = shared(paths_of(tmp_path))
    [timer] = path.timers
    assert timer.seconds is None and "idle_session_timeout" in timer.name and path.first_close() is None
    out = pgpath("path", ".", cwd=tmp_path).stdout
    assert "closes first: not known: PostgreSQL idle_session_timeout unknown" in out, out
    assert "nothing on this path closes" not in out


AZURE_RULES_TF = '''
resource "azurerm_lb_rule" "pg_primary" {
  name                    = "pg-primary-5432"
  protocol                = "Tcp"
  frontend_port           = 5432
  backend_port            = 5432
  idle_timeout_in_minutes = 30
  tcp_reset_enabled       = true
}

resource "azurerm_lb_rule" "pg_replica" {
  name              = "pg-replica-5433"
  protocol          = "Tcp"
  frontend_port     = 5433
  backend_port      = 5432
  tcp_reset_enabled = true
}
'''
AZURE_CLIENTS = ("PRIMARY_DATABASE_URL=postgresql://crm@10.10.0.50:5432/crm?keepalives_idle=600\n"
                 "REPLICA_DATABASE_URL=postgresql://crm_ro@10.10.0.50:5433/crm\n")


@pytest.mark.parametrize("lb", ["lb.tf", "lb.json"])
def test_a_client_connecting_to_a_load_balancers_frontend_port_reaches_the_hop_behind_it(tmp_path, lb):
    """Scenario audit 12, D10: an Azure LB rule listening on 5433 forwards to backend port 5432; a
    client connecting to 5433 went on no path (nothing listens on 5433), so its PATH001 was lost.
    The rule's frontend port is the evidence that the client crosses it, its backend port that of
    the hop behind. A rule the client does not connect to is not on its path: the primary client
    (5432) does not cross the replica rule, though that rule also forwards to 5432."""
    arm = ('{"name": "pg-ilb", "type": "Microsoft.Network/loadBalancers", "loadBalancingRules": ['
           '{"name": "pg-primary-5432", "protocol": "Tcp", "frontendPort": 5432, "backendPort": 5432, '
           '"idleTimeoutInMinutes": 30, "enableTcpReset": true}, '
           '{"name": "pg-replica-5433", "protocol": "Tcp", "frontendPort": 5433, "backendPort": 5432, '
           '"enableTcpReset": true}]}\n')
    write(tmp_path, {"postgresql.conf": PG, ".env": AZURE_CLIENTS, lb: AZURE_RULES_TF if lb == "lb.tf" else arm})
    replica_rule, primary_rule = (("azurerm_lb_rule.pg_replica", "azurerm_lb_rule.pg_primary") if lb == "lb.tf"
                                  else ("pg-ilb/pg-replica-5433", "pg-ilb/pg-primary-5432"))
    paths = {p.name: p for p in shared(paths_of(tmp_path))}
    assert sorted(paths) == [".env: PRIMARY_DATABASE_URL", ".env: REPLICA_DATABASE_URL"], sorted(paths)
    replica = paths[".env: REPLICA_DATABASE_URL"]
    assert [(h.kind, getattr(h.detail, "name", None)) for h in replica.hops] == [
        ("client", "REPLICA_DATABASE_URL"), ("azure-lb", replica_rule), ("postgres", None)]
    assert any("connects to port 5433, where Azure Load Balancer" in e and "forwards to port 5432" in e
               for e in replica.evidence), replica.evidence
    primary = paths[".env: PRIMARY_DATABASE_URL"]
    assert [(h.kind, getattr(h.detail, "name", None)) for h in primary.hops] == [
        ("client", "PRIMARY_DATABASE_URL"), ("azure-lb", primary_rule), ("postgres", None)]
    r = pgpath("check", ".", "--no-config", "--select", "PATH001", cwd=tmp_path)
    found = [ln for ln in r.stdout.splitlines() if "PATH001" in ln]
    assert len(found) == 1 and "REPLICA_DATABASE_URL" in found[0] and "idle timeout 240 s (documented default)" in found[0], \
        r.stdout


def test_a_frontend_port_without_evidence_behind_it_pairs_nothing(tmp_path):
    """The frontend port alone is no path: the rule must forward to a port a file here listens on."""
    write(tmp_path, {"postgresql.conf": "port = 5440\n", ".env": AZURE_CLIENTS.splitlines()[1] + "\n",
                     "lb.tf": AZURE_RULES_TF})
    assert shared(paths_of(tmp_path)) == []


def test_init_names_the_middlebox_of_a_file_that_holds_several(tmp_path):
    """A topology hop naming a file with several middleboxes of its kind needs `name:` (ADV004
    otherwise, never the first by position): `pgpath init` writes it, and the written topology
    gives the paths discovery found, each client with its own load balancer rule."""
    write(tmp_path, {"postgresql.conf": PG, ".env": AZURE_CLIENTS, "lb.tf": AZURE_RULES_TF})
    assert pgpath("init", ".", cwd=tmp_path).returncode == 0
    text = (tmp_path / "pgpath.yaml").read_text()
    assert '- azure-lb: {file: "lb.tf", name: "azurerm_lb_rule.pg_replica"}' in text, text
    report = report_of(tmp_path, tmp_path / "pgpath.yaml")
    assert [f.code for f in report.findings if f.code == "ADV004"] == []
    declared = {p.name: [getattr(h.detail, "name", h.kind) for h in p.hops] for p in shared(report.paths)}
    discovered = {p.name: [getattr(h.detail, "name", h.kind) for h in p.hops] for p in shared(paths_of(tmp_path))}
    assert declared == discovered and len(declared) == 2, (declared, discovered)


def test_a_sysctl_file_beside_the_server_is_named_on_the_leg_not_an_empty_host(tmp_path):
    """Scenario audit 12, D14(d): the leg said `host : net.ipv4.tcp_keepalive_time = 60`, an empty
    host name, when the sysctl drop-in was discovered beside the server; it names the file (and
    line) the value comes from. A host the topology names keeps its name."""
    write(tmp_path, {"postgresql.conf": PG, ".env": "DATABASE_URL=postgresql://app@pg-nlb.internal:5432/app\n",
                     "99-keepalive.conf": "# probes for the NLB\nnet.ipv4.tcp_keepalive_time = 60\n",
                     "nlb.tf": AZURE_RULES_TF})
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "host :" not in text and "host  " not in text, text
    assert "(host: net.ipv4.tcp_keepalive_time = 60 in ./99-keepalive.conf:2)" in text, text
    write(tmp_path, {"pgpath.yaml": "deployments:\n  - name: app\n    hops:\n      - client: .env\n"
                                    "      - postgres: {file: postgresql.conf, host: db1}\n"
                                    "hosts:\n  db1: {tcp_keepalive_time: 90}\n"})
    text = pgpath("path", ".", cwd=tmp_path).stdout
    assert "(host db1: net.ipv4.tcp_keepalive_time = 90)" in text, text

# ------------------------------------------------------------------------------------------------ HikariCP's keepalive


def _hikari_nlb(tmp_path, hikari: str, nlb: str = "{idle_timeout: 1800s}", pg: str = PG, box: str = "aws-nlb"):
    """A Spring Boot HikariCP client (pgjdbc with tcpKeepAlive=true: OS timers, 7200 s) -> an NLB (or `box`) ->
    PostgreSQL."""
    write(tmp_path, {"app/application.properties":
                     "spring.datasource.url=jdbc:postgresql://db.internal:5432/app?tcpKeepAlive=true\n"
                     "spring.datasource.username=app\n" + hikari,
                     "db/postgresql.conf": pg,
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n"
                                    "      - client: {file: app/application.properties, variable: spring.datasource}\n"
                                    f"      - {box}: {nlb}\n      - postgres: {{file: db/postgresql.conf}}\n"})
    return report_of(tmp_path, "pgpath.yaml", select=["PATH001", "PATH002"])


def test_hikaris_keepalive_queries_keep_the_flow_of_idle_pooled_connections(tmp_path):
    """The scenario audit 12's D6: HikariCP's keepalive task validates each idle pooled connection
    every keepaliveTime (HikariPool.KeepaliveTask, pgjdbc isValid: an empty query), real traffic that
    refreshes the NLB's flow, although the OS keepalives (7200 s) are far above its 1800 s."""
    report = _hikari_nlb(tmp_path, "spring.datasource.hikari.keepalive-time=120000\n"
                                   "spring.datasource.hikari.max-lifetime=1800000\n")
    assert [f.code for f in report.findings] == []
    [nlb] = [t for t in report.paths[0].timers if t.resets_on == "packets"]
    assert nlb.defeated and nlb.seconds == 1800
    assert "keepalive-time=120000" in nlb.note and "holds idle" in nlb.note, nlb.note


@pytest.mark.parametrize("hikari,why", [
    # HikariConfig.validateNumerics disables a keepaliveTime below 30000 ms ...
    ("spring.datasource.hikari.keepalive-time=20000\n", "below 30000"),
    # ... and one not below maxLifetime
    ("spring.datasource.hikari.keepalive-time=600000\nspring.datasource.hikari.max-lifetime=600000\n", "maxLifetime"),
    # a keepalive longer than the timer runs too late
    ("spring.datasource.hikari.keepalive-time=400000\n", None),
])
def test_a_hikari_keepalive_that_does_not_run_in_time_keeps_no_flow(tmp_path, hikari, why):
    report = _hikari_nlb(tmp_path, hikari, nlb="{}")
    [nlb] = [t for t in report.paths[0].timers if t.resets_on == "packets"]
    assert not nlb.defeated and nlb.seconds == 350
    [f] = [f for f in report.findings if f.code == "PATH001"]
    # the NLB's flow timer is PATH001's alone (one cause, one finding); it offers HikariCP's
    # keepaliveTime as a fix, never the one HikariCP disables or runs too late
    assert "PATH002" not in [f.code for f in report.findings]
    assert "keepalive-time=170000" in f.fix, (why, f.fix)


def _consequence(message: str) -> str:
    """What a PATH001 message says happens to the pooled connection: from the pool's check on."""
    at = message.index("the pool checks the connection when lending it")
    return message[at:]


def test_a_pool_that_validates_on_borrow_replaces_a_connection_an_nlb_reset(tmp_path):
    """The scenario audit 12's D11 (s02): HikariCP checks a pooled connection unused for more than
    500 ms before lending it (HikariPool.getConnection, aliveBypassWindowMs); on an NLB the check
    draws the RST and fails at once, so the pool opens a new connection and the application sees no
    error: churn, an info, when no statement runs longer than the NLB keeps a silent flow
    (statement_timeout 5 min < 350 s). PATH001 says it of that pool; PATH002 says nothing more (the
    NLB's flow timer: one cause, one finding)."""
    report = _hikari_nlb(tmp_path, "spring.datasource.hikari.maximum-pool-size=25\n", nlb="{}",
                         pg=PG + "statement_timeout = 5min\n")
    by_code = {f.code: f for f in report.findings}
    assert set(by_code) == {"PATH001"}, [f.message for f in report.findings]
    path001 = by_code["PATH001"]
    assert str(path001.severity) == "info"
    assert "fails at once" in path001.message and "opens a new one" in path001.message
    assert "holds idle" in path001.message  # what the check does not cover
    assert _consequence(path001.message).startswith("the pool checks the connection when lending it (HikariCP")


def test_a_statement_longer_than_the_nlb_timer_makes_the_keepalive_finding_a_warning(tmp_path):
    """Audit 15's D9: with no statement_timeout (or one above the NLB's 350 s) a statement that
    returns no rows for 350 s loses its flow while it runs, which no check on borrow reaches (lab
    N12: the result never reaches the client; N13: keepalives keep it): PATH001, whose keepalive
    fix prevents it, is a warning, and says what the pool does on borrow (PATH002 says nothing more)."""
    for pg, said in ((PG, "statement_timeout not set: no limit"),
                     (PG + "statement_timeout = 10min\n", "statement_timeout = 10min")):
        report = _hikari_nlb(tmp_path, "spring.datasource.hikari.maximum-pool-size=25\n", nlb="{}", pg=pg)
        by_code = {f.code: f for f in report.findings}
        assert set(by_code) == {"PATH001"}, [f.message for f in report.findings]
        path001 = by_code["PATH001"]
        assert str(path001.severity) == "warning"
        assert f"a statement that runs longer than 350 s without returning rows ({said})" in path001.message
        assert "fails at once" in _consequence(path001.message)


@pytest.mark.parametrize("hikari,stall,fails", [
    ("", "5 s", "after connectionTimeout 30 s"),  # HikariCP's defaults: 6 dead connections make a borrow fail
    ("spring.datasource.hikari.validation-timeout=2000\nspring.datasource.hikari.connection-timeout=10000\n",
     "2 s", "after connectionTimeout 10 s"),
])
def test_a_validating_pool_stalls_on_a_silently_dropped_flow(tmp_path, hikari, stall, fails):
    """On a middlebox that drops an expired flow silently, HikariCP's check gets no answer and
    fails only after validationTimeout (PoolBase.isConnectionDead sets it as the network timeout),
    so each dead connection a borrow meets costs that long, and the borrow fails once they add up to
    connectionTimeout: a warning, PATH001's (one cause, one finding: not also PATH002's)."""
    report = _hikari_nlb(tmp_path, hikari, nlb="{}", box="azure-lb")  # 4 min, no TCP reset: a silent drop
    by_code = {f.code: f for f in report.findings}
    assert set(by_code) == {"PATH001"}, [f.message for f in report.findings]
    assert str(by_code["PATH001"].severity) == "warning"
    message = by_code["PATH001"].message
    assert f"only after validationTimeout {stall}" in message and fails in message, message


def test_a_pool_without_a_check_timeout_hangs_on_a_silently_dropped_flow(tmp_path):
    """SQLAlchemy's pool_pre_ping sends its ping with no timeout of its own: on a silently dropped
    flow the borrow waits until TCP gives up (a warning), where on a reset it would be churn."""
    write(tmp_path, {"app/production.ini": ("[app:main]\nsqlalchemy.url = postgresql+psycopg://app@db.internal:5432/app\n"
                                           "sqlalchemy.pool_recycle = 3600\nsqlalchemy.pool_pre_ping = true\n"),
                     "db/postgresql.conf": PG,
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: {file: app/production.ini}\n"
                                    "      - azure-lb: {}\n      - postgres: {file: db/postgresql.conf}\n"})
    report = report_of(tmp_path, "pgpath.yaml", select=["PATH001"])
    [f] = report.findings
    assert str(f.severity) == "warning" and "no timeout of its own" in f.message, f.message


def test_path001_fixes_a_pgjdbc_leg_at_the_end_a_file_sets_and_asks_nothing_already_set(tmp_path):
    """The scenario audit 12's D14(a) (s02): pgjdbc has no per-connection timers, so its end needs
    the client host's sysctl; PgBouncer's end takes the fix in its own file (probes from either end
    keep the flow). tcpKeepAlive=true, already in the URL, is not asked for again."""
    write(tmp_path, {"app/application.properties":
                     "spring.datasource.url=jdbc:postgresql://pgbouncer.internal:6432/app?tcpKeepAlive=true\n"
                     "spring.datasource.username=app\n",
                     "pgbouncer.ini": PGB,
                     "postgresql.conf": PG,
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n"
                                    "      - client: {file: app/application.properties, variable: spring.datasource}\n"
                                    "      - aws-nlb: {}\n      - pgbouncer: {file: pgbouncer.ini, database: app}\n"
                                    "      - postgres: {file: postgresql.conf}\n"})
    report = report_of(tmp_path, "pgpath.yaml", select=["PATH001"])
    [f] = report.findings
    assert os.path.basename(f.span.file) == "pgbouncer.ini", f.span
    assert f.fix.startswith("tcp_keepidle = 170, tcp_keepintvl = 30, tcp_keepcnt = 3"), f.fix
    assert "tcpKeepAlive=true in the JDBC URL" not in f.fix
    assert "net.ipv4.tcp_keepalive_time=170 on the client host" in f.fix  # the other end, as an alternative
    # without tcpKeepAlive the client's alternative asks for it
    write(tmp_path, {"app/application.properties": "spring.datasource.url=jdbc:postgresql://pgbouncer.internal:6432/app\n"
                                                   "spring.datasource.username=app\n"})
    [f] = report_of(tmp_path, "pgpath.yaml", select=["PATH001"]).findings
    assert "tcpKeepAlive=true in the JDBC URL and net.ipv4.tcp_keepalive_time=170" in f.fix, f.fix


def test_path001_offers_the_other_ends_own_file_and_either_fix_keeps_the_flow(tmp_path):
    """A libpq client's own connection string comes first; PostgreSQL's end, in its file, is offered
    too. Each, applied alone, keeps the NLB's flow (one end probing suffices)."""
    files = {"postgresql.conf": PG, ".env": "DATABASE_URL=postgresql://app@db:5432/app\n",
             "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                            "      - aws-nlb: {}\n      - postgres: postgresql.conf\n"}
    write(tmp_path, files)
    [f] = report_of(tmp_path, "pgpath.yaml", select=["PATH001"]).findings
    first, _, other = f.fix.partition("; or at the other end, ")
    assert first == "keepalives_idle=170 keepalives_interval=30 keepalives_count=3 in the connection string", f.fix
    assert other == ("in postgresql.conf: tcp_keepalives_idle = 170, tcp_keepalives_interval = 30, "
                     "tcp_keepalives_count = 3"), f.fix
    write(tmp_path, {"postgresql.conf": PG + "tcp_keepalives_idle = 170\ntcp_keepalives_interval = 30\n"
                                             "tcp_keepalives_count = 3\n"})
    assert report_of(tmp_path, "pgpath.yaml", select=["PATH001"]).findings == []
    write(tmp_path, {"postgresql.conf": PG,
                     ".env": "DATABASE_URL=postgresql://app@db:5432/app?keepalives_idle=170&keepalives_interval=30"
                             "&keepalives_count=3\n"})
    assert report_of(tmp_path, "pgpath.yaml", select=["PATH001"]).findings == []


def test_a_host_keepalive_fix_below_the_os_probe_interval_sets_the_interval_too(tmp_path):
    """A 60 s NLB: the client host's tcp_keepalive_time=30 alone leaves the leg silent for the OS's
    75 s probe interval once a probe is answered, so the fix sets tcp_keepalive_intvl too; declared
    as the host's facts, it keeps the flow."""
    write(tmp_path, {"app/application.properties":
                     "spring.datasource.url=jdbc:postgresql://db.internal:5432/app?tcpKeepAlive=true\n",
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n"
                                    "      - client: {file: app/application.properties, variable: spring.datasource, "
                                    "host: app}\n      - aws-nlb: {idle_timeout: 60s}\n      - postgres: {}\n"})
    [f] = report_of(tmp_path, "pgpath.yaml", select=["PATH001"]).findings
    assert f.fix.startswith("net.ipv4.tcp_keepalive_time=30 and net.ipv4.tcp_keepalive_intvl=7 on the client host"), f.fix
    (tmp_path / "pgpath.yaml").write_text((tmp_path / "pgpath.yaml").read_text()
                                          + "hosts:\n  app: {tcp_keepalive_time: 30, tcp_keepalive_intvl: 7}\n")
    assert report_of(tmp_path, "pgpath.yaml", select=["PATH001"]).findings == []


@pytest.mark.parametrize("keep,reported", [("120000", False), ("300000", True)])
def test_hikaris_keepalive_below_every_clouds_timer_keeps_a_service_load_balancers_flow(tmp_path, keep, reported):
    """A Service's load balancer of unknown cloud: HikariCP's keepalive query every 120 s is below
    the shortest packet-reset default (Azure's 240 s), as keepalive probes that often would be."""
    write(tmp_path, {"pooler.yaml": POOLER_LB,
                     "app/application.properties": "spring.datasource.url=jdbc:postgresql://pooler-rw:5432/app\n"
                                                   f"spring.datasource.hikari.keepalive-time={keep}\n",
                     "pgpath.yaml": "deployments:\n  - name: app\n    hops:\n"
                                    "      - client: {file: app/application.properties, variable: spring.datasource}\n"
                                    "      - cloud-lb: {file: pooler.yaml}\n      - pgbouncer: pooler.yaml\n"})
    codes = [f.code for f in report_of(tmp_path, "pgpath.yaml", select=["PATH001"]).findings]
    assert ("PATH001" in codes) == reported, codes


def test_a_pgbouncer_reaching_its_server_through_a_unix_socket_has_no_tcp_leg(tmp_path):
    """The corpus audit's path 10 (autobase): `* = host=/var/run/postgresql` is a Unix socket, where
    no keepalive and no middlebox applies; `pgpath path` says so (text and JSON)."""
    write(tmp_path, {"postgresql.conf": PG + "tcp_keepalives_idle = 300\n",
                     "pgbouncer.ini": "[databases]\n* = host=/var/run/postgresql port=5432\n\n[pgbouncer]\n"
                                      "listen_addr = *\nlisten_port = 6432\n"})
    [path] = shared(paths_of(tmp_path))
    [leg] = path.legs
    assert leg.socket == "/var/run/postgresql" and leg.to_dict()["socket"] == "/var/run/postgresql"
    out = pgpath("path", ".", cwd=tmp_path).stdout
    assert "a Unix socket (/var/run/postgresql): no TCP, so no keepalives and no middlebox" in out, out
    assert "keepalives leave it silent" not in out
    data = json.loads(pgpath("path", ".", "--format", "json", cwd=tmp_path).stdout)
    assert validate(data, "path.schema.json") is None


def test_a_server_older_than_idle_session_timeout_has_no_idle_timer(tmp_path):
    """The corpus audit's path 1 (cardano): a PostgreSQL 13 image whose settings were not all read
    has no idle_session_timeout to be unknown (it came in 14): nothing closes an idle connection."""
    write(tmp_path, {"docker-compose.yml": "services:\n  db:\n    image: postgres:13.5\n    entrypoint: /entrypoint.sh\n"
                                           "    command: postgres\n  api:\n    image: api\n    environment:\n"
                                           "      DATABASE_URL: postgresql://app@db:5432/app\n"})
    [path] = shared(paths_of(tmp_path))
    assert path.timers == []


PGB_CONFIGMAP = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pgbouncer-config\n  namespace: db\ndata:\n"
                 "  pgbouncer.ini: |\n    [databases]\n    shop = host=pg.db.svc port=5432 dbname=shop\n\n"
                 "    [pgbouncer]\n    listen_addr = 0.0.0.0\n    listen_port = 6432\n    pool_mode = transaction\n")
PGB_DEPLOYMENT = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: pgbouncer\n  namespace: db\nspec:\n"
                  "  replicas: 2\n  selector:\n    matchLabels: {app: pgbouncer}\n  template:\n    metadata:\n"
                  "      labels: {app: pgbouncer, tier: db}\n    spec:\n      containers:\n        - name: pgbouncer\n"
                  "          image: pgbouncer/pgbouncer:1.22.1\n          volumeMounts:\n            - {name: config, "
                  "mountPath: /etc/pgbouncer}\n      volumes:\n        - name: config\n          configMap: {name: "
                  "pgbouncer-config}\n")


@pytest.mark.parametrize("selector,namespace,joined", [("{app: pgbouncer}", "db", True),
                                                       ("{app: pgbouncer, tier: db}", "db", True),
                                                       ("{app: other}", "db", False),
                                                       ("{app: pgbouncer}", "shop", False)])
def test_a_client_naming_a_service_that_selects_a_pgbouncer_deployment_reaches_it(tmp_path, selector, namespace,
                                                                                   joined):
    """The fourth scenario audit's D11: a plain Service -> Deployment -> ConfigMap PgBouncer, in
    files of their own under k8s/, and a client in app/ naming the Service: the Service selects the
    Deployment's pods (its selector among their labels, in its namespace), which run the pgbouncer.ini
    of the ConfigMap they mount; without a pgpath.yaml."""
    write(tmp_path, {"k8s/configmap.yaml": PGB_CONFIGMAP, "k8s/deployment.yaml": PGB_DEPLOYMENT,
                     "k8s/service.yaml": f"apiVersion: v1\nkind: Service\nmetadata:\n  name: pgbouncer\n"
                                         f"  namespace: {namespace}\nspec:\n  selector: {selector}\n  ports:\n"
                                         "    - port: 6432\n",
                     "app/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', "
                                        "'HOST': 'pgbouncer.db.svc', 'PORT': 6432, 'NAME': 'shop'}}\n"})
    kinds = [[h.kind for h in p.hops] for p in shared(paths_of(tmp_path))]
    assert (["client", "pgbouncer"] in kinds) == joined, kinds


def test_pgpath_path_says_which_pgbouncer_version_a_hop_is_checked_as(tmp_path):
    """The PgBouncer-version helper's left item: `pgpath path` shows each PgBouncer hop's version and
    why, as it does PostgreSQL's major (here from the image of the Deployment beside its ConfigMap)."""
    write(tmp_path, {"k8s/configmap.yaml": PGB_CONFIGMAP, "k8s/deployment.yaml": PGB_DEPLOYMENT,
                     "k8s/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: pgbouncer\n"
                                         "  namespace: db\nspec:\n  selector: {app: pgbouncer}\n",
                     "app/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', "
                                        "'HOST': 'pgbouncer.db.svc', 'PORT': 6432, 'NAME': 'shop'}}\n"})
    out = pgpath("path", ".", cwd=tmp_path).stdout
    assert "PgBouncer 1.22 assumed (image pgbouncer/pgbouncer:1.22.1 in" in out, out
    (tmp_path / "pgpath.yaml").write_text('pgbouncer-version: "1.18"\n')
    given = pgpath("path", ".", cwd=tmp_path).stdout
    assert "PgBouncer 1.18 (" in given and "PgBouncer 1.18 assumed" not in given, given


def test_the_path_view_says_what_a_validating_pool_does_with_a_connection_the_nlb_forgot(tmp_path):
    """Audit 15's D9: `pgpath path` said only "the next query fails at once" for the NLB while
    `check` said the pool's check meets it first; the path view now says both, as PATH001 does."""
    from advisor.reporters.paths import render

    report = _hikari_nlb(tmp_path, "spring.datasource.hikari.maximum-pool-size=25\n", nlb="{}")
    text = render(report)
    line = next(ln for ln in text.splitlines() if "AWS NLB" in ln and "closed after 350 s" in ln)
    assert "the next query fails at once" in line, line
    assert "a connection idle in the hikaricp pool: its check on borrow fails at once" in line, line
    # a silently dropping middlebox: the check waits
    text = render(_hikari_nlb(tmp_path, "", nlb="{}", box="azure-lb"))
    line = next(ln for ln in text.splitlines() if "Azure Load Balancer" in ln and "closed after" in ln)
    assert "its check on borrow gets no answer and waits" in line, line


def test_a_gcp_passthrough_load_balancers_tracking_expiry_does_not_end_the_connection(tmp_path):
    """Google's passthrough Network Load Balancers: a packet with no connection tracking entry
    (expired after idleTimeoutSec, 600 s internal / 60 s external) goes through backend selection
    again, by consistent hashing, so it reaches the same backend while the backends and their
    health are unchanged: the idle connection continues, and no rule says it is cut. Only a change
    of the backend set in the meantime can send it elsewhere (a RST), which `pgpath path` says."""
    import json as _json

    bs = {"kind": "compute#backendService", "name": "pg-ilb", "loadBalancingScheme": "INTERNAL", "protocol": "TCP",
          "sessionAffinity": "NONE", "timeoutSec": 30}
    write(tmp_path, {"postgresql.conf": PG, ".env": "DATABASE_URL=postgresql://app@10.0.0.9:5432/app\n",
                     "bs.json": _json.dumps(bs, indent=2),
                     "pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - gcp-lb: {file: bs.json}\n      - postgres: postgresql.conf\n"})
    config = tmp_path / "pgpath.yaml"
    report = report_of(tmp_path, config)
    [path] = shared(report.paths)
    [lb] = [t for t in path.timers if t.resets_on == "packets"]
    assert lb.seconds == 600 and lb.expiry == "rehash" and not lb.closes_client and not lb.fires
    assert path.first_close() is None
    assert not [f for f in report.findings if f.code in ("PATH001", "PATH002", "APP004")]
    text = pgpath("path", ".", cwd=tmp_path).stdout
    assert "not seen by the client" in text and "same backend" in text and "backend set" in text
    assert "closes first: nothing on this path closes an idle connection" in text
    # the external passthrough load balancer (60 s, not settable) behaves the same way
    bs.update(loadBalancingScheme="EXTERNAL")
    write(tmp_path, {"bs.json": _json.dumps(bs, indent=2)})
    [path] = shared(paths_of(tmp_path, config))
    [lb] = [t for t in path.timers if t.resets_on == "packets"]
    assert lb.seconds == 60 and lb.expiry == "rehash" and not lb.fires
    # declared by kind: the same; with a declared drop (what the topology says wins) it is judged
    write(tmp_path, {"pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - gcp-lb: {}\n      - postgres: postgresql.conf\n"})
    [path] = shared(paths_of(tmp_path, config))
    [lb] = [t for t in path.timers if t.resets_on == "packets"]
    assert lb.seconds == 600 and lb.expiry == "rehash" and not lb.fires
    write(tmp_path, {"pgpath.yaml": "deployments:\n  - name: d\n    hops:\n      - client: .env\n"
                                    "      - gcp-lb: {on_expiry: drop}\n      - postgres: postgresql.conf\n"})
    [path] = shared(paths_of(tmp_path, config))
    [lb] = [t for t in path.timers if t.resets_on == "packets"]
    assert lb.expiry == "drop" and lb.fires


def test_an_haproxy_that_ends_tls_is_the_tls_end_of_its_legs(tmp_path):
    """audit17 s04 (D1): `bind ... ssl crt` makes HAProxy the TLS end of the client's leg and sends
    the decrypted stream on in plaintext; `pgpath path` says both (text and JSON), PATH004 no longer
    compares the client's sslmode with PostgreSQL's ssl across it, and HAP013 reports the bind."""
    hap = HAP.replace("bind *:5000", "bind *:5443 ssl crt /etc/haproxy/db.pem").replace("pgb.internal:6432",
                                                                                       "db.internal:5432")
    write(tmp_path, {"postgresql.conf": PG + "ssl = off\n", "haproxy.cfg": hap,
                     ".env": "DATABASE_URL=postgresql://app@lb.internal:5443/app?sslmode=require\n"})
    [path] = shared(paths_of(tmp_path))
    assert [h.kind for h in path.hops] == ["client", "haproxy", "postgres"]
    front, back = path.legs
    assert front.tls.startswith("TLS ends at HAProxy listen pg, bind *:5443 ssl (haproxy.cfg:8), no alpn")
    assert back.tls.startswith("no TLS: HAProxy ended the client's TLS")
    out = pgpath("path", ".", cwd=tmp_path).stdout
    assert "      TLS ends at HAProxy listen pg, bind *:5443 ssl (haproxy.cfg:8)" in out, out
    data = json.loads(pgpath("path", ".", "--format", "json", cwd=tmp_path).stdout)
    assert validate(data, "path.schema.json") is None and data["paths"][0]["legs"][0]["tls"] == front.tls
    codes = [f.code for f in report_of(tmp_path).findings if f.code in ("PATH004", "HAP013")]
    assert codes == ["HAP013"], codes
    # with TLS left to PostgreSQL, the legs say nothing of TLS and PATH004 compares the two ends again
    write(tmp_path, {"haproxy.cfg": hap.replace(" ssl crt /etc/haproxy/db.pem", "")})
    [path] = shared(paths_of(tmp_path))
    assert [leg.tls for leg in path.legs] == ["", ""]
    assert [f.code for f in report_of(tmp_path).findings if f.code in ("PATH004", "HAP013")] == ["PATH004"]
