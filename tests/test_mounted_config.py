"""A configuration file mounted into the container that runs it is one server, not two (audit 15,
D1 and D3): a compose service's PgBouncer or PostgreSQL that mounts ./pgbouncer.ini or
./postgresql.conf (with `-c config_file=`), and a Kubernetes workload that mounts a ConfigMap's
postgresql.conf, are one hop whose settings are the file's (the command line's `-c` flags over
them), whose host facts are the container's (its memory limit) and whose names are the service's
(a client naming the service reaches it). The scenarios are the audit's reproductions (r8, s02,
s06, r3, r3c, r3e), trimmed to what they show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from advisor.engine import make_settings, run
from advisor.reporters import notices

# ------------------------------------------------------------------------------------------------ scenarios

R8_COMPOSE = """\
services:
  postgres:
    image: postgres:17.2
  pgbouncer:
    image: edoburu/pgbouncer:v1.24.1-p1
    volumes:
      - ./pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro
  worker:
    image: worker:1
    environment:
      DATABASE_URL: postgres://ingest@pgbouncer:6432/ingest
"""
R8_INI = """\
[databases]
ingest = host=postgres port=5432 dbname=ingest

[pgbouncer]
listen_addr = *
listen_port = 6432
pool_mode = transaction
client_idle_timeout = 60
tcp_keepidle = 60
"""

S06_COMPOSE = """\
services:
  postgres:
    image: postgres:17.2
    environment:
      POSTGRES_USER: ingest
      POSTGRES_DB: ingest
      POSTGRES_PASSWORD_FILE: /run/secrets/pg_password
    secrets: [pg_password]
    volumes:
      - ./config/postgresql.conf:/etc/postgresql/postgresql.conf:ro
      - pg:/var/lib/postgresql/data
    command: ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]
    shm_size: 1g
    deploy:
      resources:
        limits: {memory: 8g}

  pgbouncer:
    image: edoburu/pgbouncer:v1.24.1-p1
    volumes:
      - ./pgbouncer/pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro
      - ./pgbouncer/userlist.txt:/etc/pgbouncer/userlist.txt:ro
    depends_on: [postgres]

  worker:
    build: ./worker
    environment:
      DATABASE_URL: "postgresql://ingest@pgbouncer:6432/ingest?connect_timeout=5&application_name=ingest-worker"
    deploy:
      replicas: 2
    depends_on: [pgbouncer]

secrets:
  pg_password: {file: ./secrets/pg_password}
volumes:
  pg: {}
"""
S06_INI = """\
[databases]
ingest = host=postgres port=5432 dbname=ingest

[pgbouncer]
listen_addr = *
listen_port = 6432
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 30
server_idle_timeout = 600
server_lifetime = 3600
tcp_keepalive = 1
tcp_keepidle = 60
tcp_keepintvl = 10
"""
S06_CONF = """\
listen_addresses = '*'
max_connections = 100
shared_buffers = 2GB
work_mem = 16MB
maintenance_work_mem = 512MB
effective_cache_size = 6GB
max_parallel_workers_per_gather = 2
tcp_keepalives_idle = 60
tcp_keepalives_interval = 10
tcp_keepalives_count = 6
idle_in_transaction_session_timeout = '5min'
log_min_duration_statement = '500ms'
password_encryption = scram-sha-256
"""

S02_COMPOSE = """\
name: shop
services:
  db:
    image: postgres:16.4
    command:
      - postgres
      - -c
      - max_connections=60
      - -c
      - shared_buffers=512MB
      - -c
      - tcp_keepalives_idle=60
    environment:
      POSTGRES_DB: shop
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set in .env}
    volumes:
      - pgdata:/var/lib/postgresql/data

  pgbouncer:
    image: bitnami/pgbouncer:1.23.1
    depends_on: [db]
    volumes:
      - ./pgbouncer/pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro
      - ./pgbouncer/userlist.txt:/etc/pgbouncer/userlist.txt:ro
    command: ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]
volumes:
  pgdata: {}
"""
S02_INI = """\
[databases]
shop = host=db port=5432 dbname=shop
shop_reporting = host=db port=5432 dbname=shop

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 40
reserve_pool_size = 5
; drop clients that sit idle for 5 minutes
client_idle_timeout = 300
server_idle_timeout = 600
server_lifetime = 3600
ignore_startup_parameters = extra_float_digits
admin_users = postgres
"""

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: data
spec:
  serviceName: postgres
  replicas: 1
  selector:
    matchLabels: {app: postgres}
  template:
    metadata:
      labels: {app: postgres}
    spec:
      containers:
        - name: postgres
          image: postgres:15.8
          args: ["-c", "config_file=/etc/postgresql/postgresql.conf"]
          env:
            - name: PGDATA
              value: /var/lib/postgresql/data/pgdata
          ports:
            - containerPort: 5432
          resources:
            requests: {cpu: "2", memory: 4Gi}
            limits: {memory: 4Gi}
          volumeMounts:
            - {name: data, mountPath: /var/lib/postgresql/data}
            - {name: config, mountPath: /etc/postgresql}
      volumes:
        - name: config
          configMap: {name: postgres-config}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 64Gi}}
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: postgres-config
  namespace: data
data:
  postgresql.conf: |
    listen_addresses = '*'
    port = 5432
    max_connections = 200
    superuser_reserved_connections = 3
    shared_buffers = 2GB
    work_mem = 32MB
    maintenance_work_mem = 256MB
    effective_cache_size = 6GB
    # keepalives so the Azure LB does not drop idle sessions
    tcp_keepalives_idle = 300
    tcp_keepalives_interval = 30
    tcp_keepalives_count = 5
    log_connections = on
    password_encryption = scram-sha-256
  pg_hba.conf: |
    local all all trust
    host all all 0.0.0.0/0 scram-sha-256
"""
AZURE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: postgres-lb
  namespace: data
  annotations:
    service.beta.kubernetes.io/azure-load-balancer-internal: "true"
spec:
  type: LoadBalancer
  selector: {app: postgres}
  ports:
    - port: 5432
      targetPort: 5432
"""


# ------------------------------------------------------------------------------------------------ helpers


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def report_of(folder: Path, **cli):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return run(make_settings({"paths": ["."], **cli}, use_config=False))
    finally:
        os.chdir(cwd)


def path_text(folder: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "advisor", "path", "--no-config", "."], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    return done.stdout


def connection_paths(report):
    return [p for p in report.paths if len(p.hops) > 1]


def of_kind(report, kind):
    return [d for d in report.docs if d.kind == kind]


def serious(report):
    return sorted((f.code, f.severity.name.lower()) for f in report.findings if f.severity.name.lower() in ("error", "warning"))


# ------------------------------------------------------------------------------------------------ compose (D1)


def test_a_compose_pgbouncer_runs_the_ini_it_mounts_and_its_clients_reach_it(tmp_path):
    """r8: edoburu/pgbouncer with ./pgbouncer.ini mounted at /etc/pgbouncer/pgbouncer.ini (the image
    writes its own file from the environment only when none is there): one PgBouncer, the ini's,
    named by its service, so the worker's DATABASE_URL (pgbouncer:6432) reaches it."""
    write(tmp_path, {"compose.yaml": R8_COMPOSE, "pgbouncer.ini": R8_INI})
    report = report_of(tmp_path)
    [pgb] = of_kind(report, "pgbouncer")
    assert os.path.basename(pgb.path) == "pgbouncer.ini"
    assert (pgb.meta["service"], pgb.meta["mounted_in"]["at"]) == ("pgbouncer", "/etc/pgbouncer/pgbouncer.ini")
    assert pgb.model.value("listen_port") == 6432 and pgb.model.value("pool_mode") == "transaction"
    [path] = connection_paths(report)
    assert [h.kind for h in path.hops] == ["client", "pgbouncer", "postgres"]
    assert path.hops[1].doc is pgb
    first = path.first_close()
    assert (first.seconds, path.hops[first.hop].kind) == (60, "pgbouncer")
    assert "client_idle_timeout = 60" in first.name
    # every path of the run is this one: no image-default copy of the PgBouncer, no lone ini
    assert len([p for p in report.paths if p.hops and p.hops[0].kind != "client"]) == 0
    [pgb015] = [f for f in report.findings if f.code == "PGB015"]
    assert (os.path.basename(pgb015.span.file), pgb015.span.line, pgb015.severity.name.lower()) == (
        "pgbouncer.ini", 8, "warning")
    text = path_text(tmp_path)
    assert "tcp_keepidle = 60" in text and "tcp_keepidle not set" not in text
    assert "nothing on this path closes" not in text and "single hop" not in text


def test_a_compose_stack_with_its_files_in_subfolders_is_one_healthy_path(tmp_path):
    """s06 (healthy): PostgreSQL reads ./config/postgresql.conf (config_file=), PgBouncer
    ./pgbouncer/pgbouncer.ini: the server has the file's keepalives and the container's 8g limit,
    the path says what the files set, and nothing is reported as an error or a warning."""
    write(tmp_path, {"compose.yaml": S06_COMPOSE, "pgbouncer/pgbouncer.ini": S06_INI,
                     "pgbouncer/userlist.txt": '"ingest" "SCRAM-SHA-256$4096:x"\n',
                     "config/postgresql.conf": S06_CONF})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    [pgb] = of_kind(report, "pgbouncer")
    assert pg.path.endswith(os.path.join("config", "postgresql.conf")) and pg.meta["service"] == "postgres"
    keepidle = pg.get("tcp_keepalives_idle")
    assert (keepidle.value, os.path.basename(keepidle.span.file), keepidle.span.line) == (60, "postgresql.conf", 8)
    # the command line's config_file= is a setting too, where compose writes it
    assert os.path.basename(pg.get("config_file").span.file) == "compose.yaml"
    assert pg.host.memory_bytes().value == 8 * 1024**3
    assert "defaults_unknown_because" not in pg.meta and "unresolved_includes" not in pg.meta
    [path] = connection_paths(report)
    assert [h.kind for h in path.hops] == ["client", "pgbouncer", "postgres"]
    assert (path.hops[1].doc, path.hops[2].doc) == (pgb, pg)
    assert serious(report) == []
    assert "MEM001" not in {f.code for f in report.findings}
    # (nothing publishes a port: only the stack's containers reach PgBouncer, so no PGB017)
    assert "PGB017" not in {f.code for f in report.findings}
    text = path_text(tmp_path)
    assert "reads settings pgpath did not read" not in text and "tcp_keepidle not set" not in text
    assert "tcp_keepidle = 60, tcp_keepintvl = 10" in text


def test_a_bitnami_pgbouncer_whose_command_names_the_mounted_ini_forwards_to_the_compose_server(tmp_path):
    """s02: bitnami/pgbouncer run as `pgbouncer /etc/pgbouncer/pgbouncer.ini` with that file mounted:
    the ini's two pools of 40 + 5 go to the db service's max_connections 60 (its -c flags)."""
    write(tmp_path, {"docker-compose.yml": S02_COMPOSE, "pgbouncer/pgbouncer.ini": S02_INI,
                     "pgbouncer/userlist.txt": '"shop" "md5x"\n'})
    report = report_of(tmp_path)
    [pgb] = of_kind(report, "pgbouncer")
    assert pgb.path.endswith("pgbouncer.ini") and pgb.meta["service"] == "pgbouncer"
    assert "generated_by" not in pgb.meta  # its settings are the ini's lines, not the image's variables
    [path] = connection_paths(report)
    assert [h.kind for h in path.hops] == ["pgbouncer", "postgres"]
    assert path.hops[1].doc.get("max_connections").value == 60
    codes = {f.code: f for f in report.findings}
    assert codes["PGB015"].severity.name.lower() == "warning"
    budget = [f for f in report.findings if f.code in ("PGB016", "PATH005")]
    assert budget and "90" in budget[0].message and "60" in budget[0].message


def test_a_setting_the_command_line_writes_wins_over_the_mounted_file_and_is_fixed_there(tmp_path):
    """`postgres -c name=value` overrides every configuration file: the command line's value is the
    effective one, its fix stays on the command line, and a fix of a line of the file stays there."""
    compose = S06_COMPOSE.replace('"-c", "config_file=/etc/postgresql/postgresql.conf"]',
                                  '"-c", "config_file=/etc/postgresql/postgresql.conf", "-c", "work_mem=1GB"]')
    write(tmp_path, {"compose.yaml": compose, "config/postgresql.conf": S06_CONF})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    work_mem = pg.get("work_mem")
    assert (work_mem.value, os.path.basename(work_mem.span.file)) == (1024 * 1024, "compose.yaml")
    assert [s.effective for s in pg.settings if s.name == "work_mem"] == [False, True]
    from advisor.model.pg_parameters import assignment

    assert assignment(pg, "work_mem", "64MB") == "-c work_mem=64MB in its command"
    assert assignment(pg, "tcp_keepalives_idle", "120") == "tcp_keepalives_idle = 120"
    assert assignment(pg, "statement_timeout", "'30s'") == "statement_timeout = '30s'"


def test_a_mounted_file_not_there_keeps_its_notice(tmp_path):
    """A mounted configuration file pgpath cannot find is still said not read, and the server's
    unset settings stay unknown."""
    write(tmp_path, {"compose.yaml": S06_COMPOSE})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    assert pg.path.endswith("compose.yaml") and pg.meta["defaults_unknown_because"]
    assert any("./config/postgresql.conf mounted at /etc/postgresql/postgresql.conf" in message
               for _, message in notices(report))


# ------------------------------------------------------------------------------------------------ Kubernetes (D3)


def test_a_statefulset_runs_the_configmap_it_mounts_behind_its_load_balancer(tmp_path):
    """r3c: the ConfigMap's postgresql.conf is what the StatefulSet's server reads (config_file= in
    the directory the ConfigMap is mounted at): one server, behind the Azure load balancer, whose
    keepalive 300 s still exceeds the load balancer's 240 s (PATH001), fixed on the ConfigMap's line."""
    write(tmp_path, {"statefulset.yaml": STATEFULSET, "configmap.yaml": CONFIGMAP, "service.yaml": AZURE_SERVICE})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    assert pg.meta["mounted_in"]["file"].endswith("statefulset.yaml")
    assert pg.get("tcp_keepalives_idle").value == 300
    assert pg.host.memory_bytes().value == 4 * 1024**3
    [path] = connection_paths(report)
    assert [h.kind for h in path.hops] == ["azure-lb", "postgres"]
    [path001] = [f for f in report.findings if f.code == "PATH001"]
    assert path001.severity.name.lower() == "warning" and "tcp_keepalives_idle = 300" in path001.message
    assert "tcp_keepalives_idle = " in path001.fix and "-c tcp_keepalives_idle" not in path001.fix


def test_a_statefulsets_memory_limit_bounds_the_configmaps_memory(tmp_path):
    """r3e: 200 connections × 32MB work_mem + 2GB shared_buffers against the container's 4Gi, not
    the machine's RAM (an info by MEM001's severity rule: the fixed 2.8 GB fits, and ten queries beside it)."""
    write(tmp_path, {"statefulset.yaml": STATEFULSET, "configmap.yaml": CONFIGMAP})
    report = report_of(tmp_path)
    [mem] = [f for f in report.findings if f.code == "MEM001"]
    assert "> memory limit 4 GB" in mem.message and "(now 4Gi)" in mem.fix
    assert os.path.basename(mem.span.file) == "configmap.yaml"
    assert any(os.path.basename(r.file) == "statefulset.yaml" and r.line == 26 for r in mem.related)


def test_a_configmap_the_run_did_not_read_is_said_so(tmp_path):
    """r3: the server reads a postgresql.conf from a ConfigMap that no checked file holds: a notice
    says so, and its unset settings are not assumed at their defaults."""
    write(tmp_path, {"statefulset.yaml": STATEFULSET, "service.yaml": AZURE_SERVICE})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    assert pg.meta["defaults_unknown_because"]
    assert any("ConfigMap postgres-config" in message and "not read" in message for _, message in notices(report))


def test_a_published_server_reading_a_mounted_file_without_ssl_is_told_to_turn_it_on_there(tmp_path):
    """TLS001: the mounted postgresql.conf leaves ssl unset (the official image's default, off), so
    a port published on every interface crosses the network unencrypted; the fix goes in that file."""
    compose = S06_COMPOSE.replace("    shm_size: 1g\n", "    ports: [\"5432:5432\"]\n    shm_size: 1g\n")
    write(tmp_path, {"compose.yaml": compose, "config/postgresql.conf": S06_CONF})
    [tls] = [f for f in report_of(tmp_path).findings if f.code == "TLS001"]
    assert tls.message.startswith("ssl not set (default off in the postgres image)")
    assert "the password_encryption of postgresql.conf" in tls.message
    assert tls.fix.endswith("ssl = on, ssl_cert_file = '<mounted certificate>', ssl_key_file = '<mounted key, "
                            f"mode 0600>' in {os.path.join('.', 'config', 'postgresql.conf')}")


K8S_PGBOUNCER = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: pgbouncer-config
data:
  pgbouncer.ini: |
    [databases]
    app = host=db.internal port=5432 dbname=app

    [pgbouncer]
    listen_addr = 0.0.0.0
    listen_port = 6432
    auth_type = scram-sha-256
    auth_file = /etc/pgbouncer/userlist.txt
    pool_mode = transaction
    client_idle_timeout = 120
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pgbouncer
spec:
  replicas: 3
  selector:
    matchLabels: {app: pgbouncer}
  template:
    metadata:
      labels: {app: pgbouncer}
    spec:
      containers:
        - name: pgbouncer
          image: edoburu/pgbouncer:v1.24.1-p1
          env:
            - name: DB_HOST
              value: db.internal
          volumeMounts:
            - name: config
              mountPath: /etc/pgbouncer/pgbouncer.ini
              subPath: pgbouncer.ini
      volumes:
        - name: config
          configMap: {name: pgbouncer-config}
"""


def test_a_deployments_pgbouncer_runs_the_configmap_ini_mounted_at_its_subpath(tmp_path):
    """edoburu/pgbouncer with the ConfigMap's pgbouncer.ini mounted (subPath) at the file it runs:
    one PgBouncer, the ini's (scram-sha-256 on 6432), run by the Deployment's 3 pods; not also an
    image-default one from DB_HOST (listening on 5432 with auth_type md5). Its SCRAM logins inside
    the cluster, with no Service of type LoadBalancer in front, are no PGB017."""
    write(tmp_path, {"pgbouncer.yaml": K8S_PGBOUNCER})
    report = report_of(tmp_path)
    [pgb] = of_kind(report, "pgbouncer")
    assert pgb.model.value("listen_port") == 6432 and pgb.model.value("auth_type") == "scram-sha-256"
    assert pgb.meta["mounted_in"]["at"] == "/etc/pgbouncer/pgbouncer.ini" and "generated_by" not in pgb.meta
    assert pgb.meta["processes"]["count"] == 3
    assert [f.span.line for f in report.findings if f.code == "PGB017"] == []


def test_a_compose_pgbouncers_copies_stay_with_the_ini_it_runs(tmp_path):
    """deploy.replicas of the service that mounts the ini are that PgBouncer's copies (PGB016, PATH005)."""
    compose = R8_COMPOSE.replace("pgbouncer.ini:ro\n", "pgbouncer.ini:ro\n    deploy:\n      replicas: 2\n")
    write(tmp_path, {"compose.yaml": compose, "pgbouncer.ini": R8_INI})
    [pgb] = of_kind(report_of(tmp_path), "pgbouncer")
    assert pgb.path.endswith("pgbouncer.ini")
    assert (pgb.meta["processes"]["count"], pgb.meta["processes"]["variable"]) == (2, "deploy.replicas")


def test_a_statefulset_behind_its_load_balancer_without_ssl_is_fixed_in_its_configmap(tmp_path):
    """TLS001: the ConfigMap's postgresql.conf leaves ssl off; the fix names that ConfigMap key."""
    write(tmp_path, {"statefulset.yaml": STATEFULSET, "configmap.yaml": CONFIGMAP, "service.yaml": AZURE_SERVICE})
    [tls] = [f for f in report_of(tmp_path).findings if f.code == "TLS001"]
    assert os.path.basename(tls.span.file) == "service.yaml"
    assert tls.fix.endswith("in ./configmap.yaml (ConfigMap postgres-config, key postgresql.conf)")
    assert "-c flags" not in tls.fix


def test_a_pgbouncer_ini_mounted_but_not_read_leaves_its_settings_unknown(tmp_path):
    """edoburu/pgbouncer with a mounted ini that is not there: the image's variables are not what runs
    (its entrypoint writes a file only when none is mounted), so no setting is known, a notice says
    the file was not read, and `path` says the PgBouncer's idle timeout is not known, not that
    nothing closes an idle connection (audit 15: 'nothing on this path closes', 'tcp_keepidle not set')."""
    write(tmp_path, {"compose.yaml": R8_COMPOSE})
    report = report_of(tmp_path)
    [pgb] = of_kind(report, "pgbouncer")
    assert pgb.settings == [] and "generated_by" not in pgb.meta and pgb.meta["defaults_unknown_because"]
    assert any("./pgbouncer.ini mounted at /etc/pgbouncer/pgbouncer.ini: the pgbouncer.ini PgBouncer runs" in m
               and "not beside this compose file" in m for _, m in notices(report))
    assert not [f for f in report.findings if f.code.startswith("PGB")]
    text = path_text(tmp_path)
    assert "nothing on this path closes" not in text and "tcp_keepidle not set" not in text
    assert "closes first: not known: PgBouncer client_idle_timeout unknown" in text


def test_a_pgbouncer_configmap_not_in_the_run_is_said_not_read(tmp_path):
    deployment = K8S_PGBOUNCER.split("---\n", 1)[1]
    write(tmp_path, {"pgbouncer.yaml": deployment})
    report = report_of(tmp_path)
    [pgb] = of_kind(report, "pgbouncer")
    assert pgb.settings == [] and pgb.meta["defaults_unknown_because"]
    assert any(m.startswith("ConfigMap pgbouncer-config, key pgbouncer.ini, mounted at /etc/pgbouncer/pgbouncer.ini")
               for _, m in notices(report))


def test_a_mounted_folder_holding_the_configuration_file_is_followed(tmp_path):
    """`./config:/etc/postgresql` with config_file=/etc/postgresql/postgresql.conf, and
    `./pgbouncer:/etc/pgbouncer` for edoburu's /etc/pgbouncer/pgbouncer.ini: the files in those folders."""
    compose = S06_COMPOSE.replace("./config/postgresql.conf:/etc/postgresql/postgresql.conf:ro",
                                  "./config:/etc/postgresql:ro").replace(
        "      - ./pgbouncer/pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro\n"
        "      - ./pgbouncer/userlist.txt:/etc/pgbouncer/userlist.txt:ro\n", "      - ./pgbouncer/:/etc/pgbouncer\n")
    write(tmp_path, {"compose.yaml": compose, "pgbouncer/pgbouncer.ini": S06_INI, "config/postgresql.conf": S06_CONF})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    [pgb] = of_kind(report, "pgbouncer")
    assert pg.path.endswith("postgresql.conf") and pg.meta["mounted_in"]["at"] == "/etc/postgresql/postgresql.conf"
    assert pgb.path.endswith("pgbouncer.ini") and pgb.meta["mounted_in"]["at"] == "/etc/pgbouncer/pgbouncer.ini"
    [path] = connection_paths(report)
    assert [h.doc for h in path.hops[1:]] == [pgb, pg]


def test_an_override_files_flags_and_limit_go_over_the_base_files_mounted_configuration(tmp_path):
    """docker-compose.override.yml adds `-c work_mem=64MB` and mem_limit 2g to the base file's db,
    which mounts conf/postgresql.conf: one server, the file's settings with the override's over them,
    and the base file's app reaches it by its service name."""
    write(tmp_path, {
        "docker-compose.yml": "services:\n  db:\n    image: postgres:16.4\n"
                              "    command: [\"postgres\", \"-c\", \"config_file=/etc/postgresql/postgresql.conf\"]\n"
                              "    volumes:\n      - ./conf/postgresql.conf:/etc/postgresql/postgresql.conf:ro\n"
                              "  app:\n    image: app:1\n    environment:\n"
                              "      DATABASE_URL: postgresql://app@db:5432/app\n",
        "docker-compose.override.yml": "services:\n  db:\n    command: [\"postgres\", \"-c\", "
                                       "\"config_file=/etc/postgresql/postgresql.conf\", \"-c\", \"work_mem=64MB\"]\n"
                                       "    mem_limit: 2g\n",
        "conf/postgresql.conf": "max_connections = 50\nwork_mem = 4MB\ntcp_keepalives_idle = 30\n"})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    assert pg.path.endswith("postgresql.conf") and pg.meta["merged_over"]["service"] == "db"
    assert (pg.get("work_mem").value, os.path.basename(pg.get("work_mem").span.file)) == (
        64 * 1024, "docker-compose.override.yml")
    assert pg.get("max_connections").value == 50 and pg.host.memory_bytes().value == 2 * 1024**3
    [path] = connection_paths(report)
    assert [h.kind for h in path.hops] == ["client", "postgres"] and path.hops[1].doc is pg


def test_bitnami_runs_the_ini_of_its_mounted_configuration_folder(tmp_path):
    """bitnami/pgbouncer copies /bitnami/pgbouncer/conf/pgbouncer.ini over the file its variables
    would make (libpgbouncer.sh); a file mounted over /opt/bitnami/pgbouncer/conf/pgbouncer.ini gets
    the variables written into it, so it is not tied as the configuration the image runs."""
    def compose(target):
        return ("services:\n  pgbouncer:\n    image: bitnami/pgbouncer:1.23.1\n    environment:\n"
                "      POSTGRESQL_HOST: db\n    volumes:\n"
                f"      - ./pgbouncer/:{target}\n")
    write(tmp_path, {"docker-compose.yml": compose("/bitnami/pgbouncer/conf"), "pgbouncer/pgbouncer.ini": S02_INI})
    [pgb] = of_kind(report_of(tmp_path), "pgbouncer")
    assert pgb.path.endswith("pgbouncer.ini") and pgb.meta["mounted_in"]["at"] == "/bitnami/pgbouncer/conf/pgbouncer.ini"
    write(tmp_path, {"docker-compose.yml": compose("/opt/bitnami/pgbouncer/conf")})
    docs = of_kind(report_of(tmp_path), "pgbouncer")
    assert sorted(os.path.basename(d.path) for d in docs) == ["docker-compose.yml", "pgbouncer.ini"]


def test_the_mounted_file_is_checked_as_the_major_of_the_image_that_reads_it(tmp_path):
    """A postgresql.conf whose own lines suggest 14 (data_directory) mounted into postgres:16.4 is read
    by PostgreSQL 16: checked as 16, so a parameter 16 removed is the error it is at start."""
    write(tmp_path, {"compose.yaml": "services:\n  db:\n    image: postgres:16.4\n"
                                     "    command: [\"postgres\", \"-c\", \"config_file=/etc/postgresql/postgresql.conf\"]\n"
                                     "    volumes:\n      - ./conf/postgresql.conf:/etc/postgresql/postgresql.conf:ro\n",
                     "conf/postgresql.conf": "data_directory = '/var/lib/postgresql/14/main'\nmax_connections = 50\n"
                                             "vacuum_defer_cleanup_age = 0\n"})
    report = report_of(tmp_path)
    [pg] = of_kind(report, "postgresql")
    assert (pg.meta["pg_version"], pg.meta["pg_version_reason"]) == (16, "image postgres:16.4 in ./compose.yaml:3")
    assert pg.get("max_connections").value == 50
    [pg001] = [f for f in report.findings if f.code == "PG001"]
    assert pg001.span.line == 3 and "removed in PostgreSQL 16" in pg001.message
