"""YAML that carries PostgreSQL/PgBouncer settings, limits, sysctls and LoadBalancer Services."""

from __future__ import annotations

import os
import time

import pytest

from advisor.engine import make_settings, run
from advisor.loaders import detect_kind, load_file
from advisor.loaders.infra_yaml import load, parse_compose_size, parse_k8s_size
from advisor.model import Unknown, is_known
from advisor.model.patroni import refused_values
from conftest import CORPUS, corpus_files, require_corpus


def _load(tmp_path, text, name="deploy.yaml", **options):
    p = tmp_path / name
    p.write_text(text)
    assert detect_kind(str(p), text) == "kubernetes"
    return load(str(p), options)


def _line(path, span):
    return open(path).read().split("\n")[span.line - 1]


def test_sizes():
    assert parse_k8s_size("1Gi") == 1024**3 and parse_k8s_size("512Mi") == 512 * 1024**2
    assert parse_k8s_size("1G") == 10**9 and parse_k8s_size("1e9") is None and parse_k8s_size("x") is None
    assert parse_compose_size("4g") == 4 * 1024**3 and parse_compose_size("512m") == 512 * 1024**2
    assert parse_compose_size("1gb") == 1024**3


def test_cnpg_cluster_parameters_limit_and_operator_settings(tmp_path):
    [doc] = _load(tmp_path, "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n"
                            "  imageName: ghcr.io/cloudnative-pg/postgresql:15.6\n  instances: 3\n"
                            "  postgresql:\n    parameters:\n      work_mem: '8mb'\n      max_parallel_workers: '4'\n"
                            "      ssl: 'off'\n  resources:\n    limits:\n      memory: 2Gi\n")
    assert doc.kind == "postgresql" and doc.meta["pg_version"] == 15 and doc.meta["instances"] == "3"
    assert doc.host.memory_bytes().value == 2 * 1024**3 and doc.host.memory_bytes().span.line == 15
    assert doc.value("max_parallel_workers") == 4  # the user's value beats the operator default
    assert doc.value("ssl") is True  # mandatory: the operator ignores ssl: off
    assert [(d.kind, d.span.line, d.span.col) for d in doc.diagnostics] == [("invalid-value", 10, 18)]


ZALANDO = ("apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: z\nspec:\n  postgresql:\n"
           "    version: '17'\n{params}  resources:\n    limits:\n      memory: {limit}\n")


@pytest.mark.parametrize("limit,shared,connections", [("500Mi", "100MB", 100), ("4Gi", "819MB", 136),
                                                      ("64Gi", "13107MB", 1000)])
def test_zalando_gets_spilos_defaults_and_its_memory_derived_values(tmp_path, limit, shared, connections):
    """Spilo (configure_spilo.py) starts 5 autovacuum workers, keepalives 900/100, and derives
    shared_buffers (a fifth of the limit) and max_connections (one per 30 MB, 100..1000) from the
    container's memory limit when the manifest sets none; the manifest's own values win."""
    [doc] = _load(tmp_path, ZALANDO.format(params="", limit=limit))
    assert (doc.value("autovacuum_max_workers"), doc.value("tcp_keepalives_idle"),
            doc.value("tcp_keepalives_interval")) == (5, 900, 100)
    assert doc.get("shared_buffers").raw == shared and doc.value("max_connections") == connections
    assert {"autovacuum_max_workers", "shared_buffers", "max_connections"} <= set(doc.meta["operator_settings"])
    [own] = _load(tmp_path, ZALANDO.format(params="    parameters:\n      max_connections: '30'\n"
                                                  "      autovacuum_max_workers: '2'\n", limit=limit))
    assert (own.value("max_connections"), own.value("autovacuum_max_workers")) == (30, 2)
    assert "max_connections" not in own.meta["operator_settings"]
    # in Patroni's DCS, where its checks apply: below 25 it runs its default, 100 (PG014 says so)
    [refused] = _load(tmp_path, ZALANDO.format(params="    parameters:\n      max_connections: '10'\n", limit=limit))
    assert refused.value("max_connections") == 100
    [(entry, why)] = refused.meta["_patroni_rejected"]
    assert (entry[0], entry[1], why) == ("max_connections", "10", "below Patroni's minimum of 25")


def test_zalando_without_a_memory_limit_gets_no_spilo_memory_values(tmp_path):
    # (the operator then applies its own configurable default_memory_limit, in no manifest)
    [doc] = _load(tmp_path, "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: z\nspec:\n"
                            "  postgresql:\n    version: '17'\n")
    assert doc.value("autovacuum_max_workers") == 5 and doc.get("shared_buffers") is None


def test_pooler_and_its_load_balancer(tmp_path):
    docs = _load(tmp_path, "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: p\nspec:\n"
                           "  cluster:\n    name: c\n  instances: 2\n  pgbouncer:\n    poolMode: transaction\n"
                           "    parameters:\n      max_client_conn: '1000'\n      query_timeout: 30s\n"
                           "  serviceTemplate:\n    metadata:\n      annotations:\n"
                           "        service.beta.kubernetes.io/aws-load-balancer-type: nlb\n"
                           "    spec:\n      type: LoadBalancer\n")
    pgb, lb = docs
    assert pgb.kind == "pgbouncer" and pgb.model.value("pool_mode") == "transaction"
    assert pgb.model.value("max_client_conn") == 1000
    assert [(d.kind, d.span.line) for d in pgb.diagnostics] == [("pgbouncer-unit-suffix", 13)]
    # the operator writes the rest of pgbouncer.ini (CloudNativePG's config.go): its own defaults, the
    # user's parameters, then its forced values; what it does not write is PgBouncer's default
    assert pgb.model.value("server_idle_timeout") == 600 and pgb.model.value("tcp_keepidle") == 0
    assert (pgb.model.value("client_tls_sslmode"), pgb.model.value("auth_type"), pgb.model.value("listen_port"),
            pgb.model.value("listen_addr")) == ("prefer", "hba", 5432, "*")
    [entry] = pgb.model.databases
    assert (entry.name, entry.value("host"), entry.params["host"].raw) == ("*", "c-rw", "c-rw")
    assert pgb.meta["service_type"] == "LoadBalancer"
    [box] = lb.model.middleboxes
    assert (box.kind, box.idle_timeout.value, box.idle_timeout.origin, box.targets, box.listens) == (
        "aws-nlb", 350, "default", ["pgbouncer"], ["p:5432"])


def test_pooler_defaults_and_forced_values(tmp_path):
    """No poolMode: session (the CRD's default); a forced parameter written by the user is the
    operator's; the Service is ClusterIP unless serviceTemplate says otherwise."""
    [pgb] = _load(tmp_path, "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: p\nspec:\n"
                            "  cluster:\n    name: c\n  type: ro\n  pgbouncer:\n    parameters:\n"
                            "      client_tls_sslmode: require\n      listen_port: '6432'\n"
                            "      ignore_startup_parameters: search_path\n")
    assert pgb.model.value("pool_mode") == "session"
    assert pgb.model.value("client_tls_sslmode") == "require"  # the user's value beats the operator default
    assert pgb.model.value("listen_port") == 5432  # forced: the operator writes its own over the user's
    assert pgb.model.databases[0].value("host") == "c-ro"
    # the user's are appended to the operator's (strings.go)
    assert pgb.model.value("ignore_startup_parameters") == "extra_float_digits,options,search_path"
    assert pgb.meta["service_type"] == "ClusterIP" and "operator_hba" in pgb.meta


_PGO = ("apiVersion: postgres-operator.crunchydata.com/v1beta1\nkind: PostgresCluster\nmetadata:\n  name: hippo\n"
        "spec:\n  postgresVersion: 16\n  instances:\n    - name: i1\n  proxy:\n    pgBouncer:\n      replicas: 2\n")


def test_pgo_pgbouncer_is_the_operators_file(tmp_path):
    """Crunchy PGO v5 writes pgbouncer.ini itself (internal/pgbouncer/config.go): its settings, the
    user's config.global over them, `* = host=<cluster>-primary`, one PgBouncer per replica; the
    rest is PgBouncer's default, so pool sizes are known and budgets can be checked."""
    docs = _load(tmp_path, _PGO + "      config:\n        global:\n          default_pool_size: '40'\n"
                                  "          client_tls_sslmode: prefer\n")
    [pgb] = [d for d in docs if d.kind == "pgbouncer"]
    model = pgb.model
    assert (model.value("default_pool_size"), model.value("reserve_pool_size"), model.value("pool_mode")) == (
        40, 0, "session")
    assert model.value("client_tls_sslmode") == "prefer"  # the user's value over the operator's require
    assert (model.value("server_tls_sslmode"), model.value("listen_port"), model.value("listen_addr")) == (
        "verify-full", 5432, "*")
    [entry] = model.databases
    assert (entry.name, entry.value("host"), entry.value("port")) == ("*", "hippo-primary", 5432)
    assert pgb.meta["processes"]["count"] == 2 and pgb.meta["processes"]["what"] == "pods"
    assert "defaults_unknown_because" not in pgb.meta


def test_pgo_pgbouncer_databases_and_files(tmp_path):
    """config.databases replaces the operator's `*`; config.files may replace the empty
    pgbouncer.ini the operator's file includes first, so the defaults are then unknown."""
    docs = _load(tmp_path, _PGO + "      config:\n        databases:\n          app: host=hippo-primary port=5432 dbname=app\n"
                                  "        files:\n          - configMap:\n              name: pgb-extra\n")
    [pgb] = [d for d in docs if d.kind == "pgbouncer"]
    assert [(e.name, e.value("dbname")) for e in pgb.model.databases] == [("app", "app")]
    assert pgb.meta.get("defaults_unknown_because")
    assert not is_known(pgb.model.value("default_pool_size"))


def test_autobase_pgbouncer_is_its_templates_file(tmp_path):
    """autobase's pgbouncer.ini.j2 writes reserve_pool_size = 1 whatever the variables say, a pool
    for each of pgbouncer_pools beside `*`, and the role's defaults for the variables a group_vars
    file leaves out (default_pool_size 100, max_db_connections 10000 at d10e6755)."""
    docs = _load(tmp_path, "patroni_cluster_name: main\npostgresql_parameters:\n"
                           '  - { option: "max_connections", value: "100" }\n'
                           "pgbouncer_max_client_conn: 5000\npgbouncer_default_pool_mode: transaction\n"
                           "pgbouncer_pools:\n  - { name: app, dbname: appdb, pool_parameters: 'pool_size=20' }\n",
                 name="all.yml")
    [pgb] = [d for d in docs if d.kind == "pgbouncer"]
    model = pgb.model
    assert (model.value("reserve_pool_size"), model.value("default_pool_size"), model.value("max_db_connections"),
            model.value("max_client_conn"), model.value("pool_mode")) == (1, 100, 10000, 5000, "transaction")
    assert not is_known(model.value("auth_type"))  # from postgresql_password_encryption_algorithm
    assert [(e.name, e.value("dbname"), e.value("pool_size"), e.value("host")) for e in model.databases] == [
        ("app", "appdb", 20, "/var/run/postgresql"), ("*", None, None, "/var/run/postgresql")]
    assert "defaults_unknown_because" not in pgb.meta


@pytest.mark.parametrize("extra,on_expiry", [("", "rst"),
                                             ('    service.beta.kubernetes.io/azure-load-balancer-disable-tcp-reset: "true"\n',
                                              "drop")])
def test_aks_service_resets_idle_flows_unless_disabled(tmp_path, extra, on_expiry):
    """cloud-provider-azure enables TCP reset on Standard load balancer rules unless the
    annotation turns it off."""
    [doc] = _load(tmp_path, "apiVersion: v1\nkind: Service\nmetadata:\n  name: pg\n  annotations:\n"
                            '    service.beta.kubernetes.io/azure-load-balancer-internal: "true"\n' + extra +
                  "spec:\n  type: LoadBalancer\n  selector:\n    app: postgres\n  ports:\n    - port: 5432\n")
    [box] = doc.model.middleboxes
    assert (box.kind, box.on_expiry, box.facts["enable_tcp_reset"].value) == ("azure-lb", on_expiry,
                                                                               on_expiry == "rst")


@pytest.mark.parametrize("annotations,kind,idle", [
    ({"service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-attributes": "tcp.idle_timeout.seconds=900"}, "aws-nlb", 900),
    ({"service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout": "120"}, "aws-elb", 120),
    ({"service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout": "30"}, "azure-lb", 1800),
    ({"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}, "azure-lb", 240),
    ({"cloud.google.com/load-balancer-type": "Internal"}, "gcp-lb", 600),
    ({}, "cloud-lb", None),
])
def test_service_load_balancer_annotations(tmp_path, annotations, kind, idle):
    notes = "".join(f"    {k}: \"{v}\"\n" for k, v in annotations.items())
    text = (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: pg-primary\n"
            + (f"  annotations:\n{notes}" if notes else "") +
            "spec:\n  type: LoadBalancer\n  selector:\n    app: postgres\n  ports:\n    - port: 5432\n")
    [doc] = _load(tmp_path, text)
    [box] = doc.model.middleboxes
    assert (box.kind, box.idle_timeout.value, box.targets, box.listens) == (kind, idle, ["postgresql"],
                                                                            ["pg-primary:5432"])


def test_service_not_in_front_of_postgres_is_ignored(tmp_path):
    p = tmp_path / "web.yaml"
    p.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: LoadBalancer\n"
                 "  ports:\n    - port: 80\n  selector:\n    app: postgres-exporter-ui\n")
    docs = load(str(p), {})
    assert all(d.kind == "kubernetes" for d in docs)


def test_compose_dash_c_string_and_list_forms_and_override(tmp_path):
    (tmp_path / "postgresql.conf").write_text("work_mem = 4MB\n")
    docs = _load(tmp_path, "services:\n  db:\n    image: postgres:16.2\n"
                           "    command: postgres -c 'work_mem=64MB' -c max_connections=50\n"
                           "    deploy:\n      resources:\n        limits:\n          memory: 2g\n"
                           "    volumes:\n      - ./postgresql.conf:/etc/postgresql/postgresql.conf\n"
                           "    environment:\n      POSTGRES_PASSWORD: hunter2\n"
                           "  db2:\n    image: postgres:15\n    command: [\"postgres\", \"-c\", \"idle_session_timeout=0.5\"]\n",
                 name="docker-compose.yml")
    first, second = docs
    assert [(s.name, s.value, s.value_span.line, s.value_span.col) for s in first.settings] == [
        ("work_mem", 65536, 4, 36), ("max_connections", 50, 4, 61)]
    # without -c config_file=, the official image reads $PGDATA/postgresql.conf: this mount is not its configuration
    assert "overrides_file" not in first.meta and first.meta["pg_version"] == 16
    assert "defaults_unknown_because" not in first.meta
    assert first.meta["env"] == {"POSTGRES_PASSWORD": "***"}
    assert first.host.memory_bytes().value == 2 * 1024**3
    [s] = second.settings
    assert (s.name, s.value, s.value_span.line, s.value_span.col, second.meta["pg_version"]) == (
        "idle_session_timeout", 0, 15, 55, 15)
    assert "hunter2" not in repr([d.to_dict() for d in docs])


COMPOSE_MOUNTED_CONFIG = (
    "services:\n"
    "  postgres:\n    image: postgres:17\n    volumes:\n      - ./postgres.conf:/etc/postgresql.conf:ro\n"
    "    command:\n      - -c\n      - config_file=/etc/postgresql.conf\n      - -c\n      - max_connections=80\n"
    "  postgres2:\n    image: postgres:17\n    environment:\n      PGDATA: /pgdata\n"
    "    volumes:\n      - type: bind\n        source: /srv/pg/postgresql.conf\n        target: /pgdata/postgresql.conf\n"
    "    command: postgres -c work_mem=8MB\n"
    "  pgbouncer:\n    image: edoburu/pgbouncer:v1.25.1-p0\n    environment:\n"
    "      - DATABASE_URL=postgres://app:secret@postgres:5432/app\n      - POOL_MODE=transaction\n"
    "    ports:\n      - '127.0.0.1:6432:5432'\n")


def test_compose_mounted_configuration_file_makes_the_defaults_unknown(tmp_path):
    """A server whose configuration file is mounted (config_file=, or a file at $PGDATA/postgresql.conf)
    has only its command line's settings known: a parameter they leave unset is neither assumed at
    its default nor reported missing, and a notice says the file was not read when it is not there."""
    from advisor.catalog import value_or_default

    docs = _load(tmp_path, COMPOSE_MOUNTED_CONFIG, name="docker-compose.yml")
    first, second = [d for d in docs if d.kind == "postgresql"]
    assert (first.meta["overrides_file"], first.meta["mounted_at"]) == ("./postgres.conf", "/etc/postgresql.conf")
    assert value_or_default(first, "max_connections")[0] == 80  # the command line's value is known
    assert value_or_default(first, "idle_in_transaction_session_timeout") == (None, None)
    assert value_or_default(first, "port", assume_default=True)[0] == 5432  # discovery assumes, and says so
    [notice] = first.meta["unresolved_includes"]
    assert (notice["line"], "not beside this compose file" in notice["message"]) == (5, True)
    assert second.meta["mounted_at"] == "/pgdata/postgresql.conf"
    assert "on the host it is deployed to" in second.meta["unresolved_includes"][0]["message"]
    assert value_or_default(second, "work_mem")[0] == 8192 and value_or_default(second, "max_connections")[0] is None

    # the same compose file with its postgres.conf beside it: read as a file of its own, no notice
    (tmp_path / "postgres.conf").write_text("idle_in_transaction_session_timeout = 0\n")
    first = [d for d in _load(tmp_path, COMPOSE_MOUNTED_CONFIG, name="docker-compose.yml") if d.kind == "postgresql"][0]
    assert "unresolved_includes" not in first.meta and first.meta["defaults_unknown_because"]


def test_server_settings_not_read_silence_default_based_findings(tmp_path):
    """PGB014 pairs PgBouncer's idle_transaction_timeout = 0 with its server's unset
    idle_in_transaction_session_timeout; when the server's configuration is mounted from a file not
    read, or its postgresql.conf includes a file made at deploy time, the server may set it: no finding."""
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose" / "docker-compose.yml").write_text(COMPOSE_MOUNTED_CONFIG)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "pgbouncer.ini").write_text(
        "[databases]\napp = host=127.0.0.1 port=5432\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = 6432\n"
        "auth_type = scram-sha-256\nauth_file = users.txt\npool_mode = transaction\n")
    (tmp_path / "conf" / "users.txt").write_text("")
    conf = tmp_path / "conf" / "postgresql.conf"

    def codes():
        report = run(make_settings({"paths": [str(tmp_path / "compose"), str(tmp_path / "conf")]}, use_config=False))
        return sorted(f.code for f in report.findings), report

    conf.write_text("max_connections = 100\n")
    found, _ = codes()
    assert found.count("PGB014") == 1  # the plain server: the default is known, and reported
    conf.write_text("max_connections = 100\ninclude '/etc/postgresql/conf.d/tuning.conf'\n")
    found, report = codes()
    assert "PGB014" not in found
    from advisor.reporters import notices

    assert any("tuning.conf" in message for _, message in notices(report))


@pytest.mark.parametrize("image,env,fix", [
    ("edoburu/pgbouncer:v1.25.1-p0", "      - DATABASE_URL=postgres://app@db:5432/app\n      - POOL_MODE=transaction\n",
     "IDLE_TRANSACTION_TIMEOUT=600 in its environment"),
    ("bitnami/pgbouncer:1.24.0", "      - POSTGRESQL_HOST=db\n      - PGBOUNCER_POOL_MODE=transaction\n",
     "PGBOUNCER_IDLE_TRANSACTION_TIMEOUT=600 in its environment"),
])
def test_a_fix_for_a_compose_pgbouncer_is_the_variable_of_its_image(tmp_path, image, env, fix):
    """The fix of a PgBouncer configured by a container image's environment names the variable to
    add to the compose file, not a pgbouncer.ini line that does not exist there."""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:17\n    command: postgres -c max_connections=100\n"
        f"  pgbouncer:\n    image: {image}\n    environment:\n{env}")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PGB014"]}, use_config=False))
    [finding] = report.findings
    assert finding.fix == fix


def test_an_image_variable_the_entrypoint_does_not_read_is_no_setting(tmp_path):
    """edoburu/pgbouncer writes only the variables its entrypoint knows (its tests/all-knobs/env);
    SERVER_FAST_CLOSE, a real [pgbouncer] setting, is not one of them: the image ignores it."""
    docs = _load(tmp_path, "services:\n  pgbouncer:\n    image: edoburu/pgbouncer:latest\n    environment:\n"
                           "      - DATABASE_URL=postgres://app@db:5432/app\n      - SERVER_FAST_CLOSE=1\n"
                           "      - SERVER_LIFETIME=600\n", name="docker-compose.yml")
    [pgb] = docs
    assert pgb.model.setting("server_fast_close") is None and pgb.model.value("server_lifetime") == 600


def test_pgbouncer_image_env_and_its_database_url_is_not_a_client(tmp_path):
    docs = _load(tmp_path, "services:\n  pgbouncer:\n    image: edoburu/pgbouncer:v1.25.1-p0\n    environment:\n"
                           "      - DATABASE_URL=postgres://app:secret@db:5432/app\n      - POOL_MODE=transaction\n"
                           "      - DEFAULT_POOL_SIZE=50\n      - QUERY_TIMEOUT=5s\n"
                           "  web:\n    image: myapp\n    environment:\n"
                           "      DATABASE_URL: postgres://app:secret@pgbouncer:5432/app?sslmode=require\n",
                 name="docker-compose.yml")
    kinds = [d.kind for d in docs]
    assert kinds == ["pgbouncer", "client"]
    pgb, client = docs
    assert pgb.model.value("pool_mode") == "transaction" and pgb.model.value("default_pool_size") == 50
    assert pgb.model.value("listen_port") == 5432  # the image's default
    assert [(d.kind, d.span.line, d.span.col) for d in pgb.diagnostics] == [("pgbouncer-unit-suffix", 8, 23)]
    [db] = pgb.model.databases
    assert (db.name, db.value("host"), db.value("port")) == ("app", "db", 5432)
    assert [e.span.line for e in client.model.endpoints] == [12]


def test_bitnami_pgbouncer_env(tmp_path):
    [doc] = _load(tmp_path, "services:\n  pgbouncer:\n    image: bitnami/pgbouncer:1.23.0\n    environment:\n"
                            "      PGBOUNCER_POOL_MODE: session\n      PGBOUNCER_PORT: 6433\n"
                            "      POSTGRESQL_HOST: pg\n      PGBOUNCER_DATABASE: app\n", name="compose.yaml")
    assert doc.model.value("pool_mode") == "session" and doc.model.value("listen_port") == 6433
    assert doc.model.value("listen_addr") == "0.0.0.0"
    assert doc.model.databases[0].value("host") == "pg"


def test_kubernetes_container_args_limit_and_sysctls(tmp_path):
    docs = _load(tmp_path, "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: pg\nspec:\n  template:\n"
                           "    spec:\n      securityContext:\n        sysctls:\n"
                           "          - name: net.ipv4.tcp_keepalive_time\n            value: \"300\"\n"
                           "      containers:\n        - name: postgres\n          image: postgres:17\n"
                           "          args: [\"-c\", \"work_mem=8MB\"]\n          resources:\n            limits:\n"
                           "              memory: 512Mi\n")
    pg, sysctl = docs
    assert pg.settings[0].value == 8192 and pg.host.memory_bytes().value == 512 * 1024**2
    assert sysctl.kind == "sysctl" and sysctl.model.facts["tcp_keepalive_time"].value == 300
    assert sysctl.model.facts["tcp_keepalive_time"].span.line == 11


def test_a_sysctl_written_with_slashes_is_the_same_host_fact(tmp_path):
    """sysctl.d and Kubernetes (1.23+) take `net/ipv4/tcp_keepalive_time` for the dotted key:
    the one reader of sysctl values normalises it, so a compose or pod list gives the fact too,
    and a value the kernel refuses is reported the same."""
    docs = _load(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  securityContext:\n"
                           "    sysctls:\n      - name: net/ipv4/tcp_keepalive_time\n        value: \"120\"\n"
                           "      - name: net/ipv4/tcp_keepalive_probes\n        value: \"300\"\n"
                           "  containers:\n    - name: app\n      image: example/app:1\n")
    [doc] = [d for d in docs if d.kind == "sysctl"]
    assert doc.model.facts["tcp_keepalive_time"].value == 120
    assert "tcp_keepalive_probes" not in doc.model.facts
    [d] = doc.diagnostics
    assert d.kind == "sysctl-invalid-value" and "outside 0..255" in d.message


def test_sysctls_under_a_container_securitycontext_are_no_host_facts(tmp_path):
    """Kubernetes has `sysctls` only in the pod's securityContext: the container's are never
    applied, so they give the host no keepalive fact (SYS006 reports them) and a pod-level list
    beside them still does."""
    docs = _load(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  securityContext:\n"
                           "    sysctls:\n      - name: net.ipv4.tcp_keepalive_intvl\n        value: \"30\"\n"
                           "  containers:\n    - name: app\n      image: example/app:1\n      securityContext:\n"
                           "        sysctls:\n          - name: net.ipv4.tcp_keepalive_time\n            value: \"120\"\n")
    sysctl_docs = [d for d in docs if d.kind == "sysctl"]
    misplaced = [d for d in sysctl_docs if d.model is None]
    [applied] = [d for d in sysctl_docs if d.model is not None]
    assert set(applied.model.facts) == {"tcp_keepalive_intvl"}
    [d] = misplaced[0].diagnostics
    assert d.kind == "sysctl-not-applied" and (d.span.line, d.span.col) == (14, 9)
    assert "net.ipv4.tcp_keepalive_time = 120 is never set" in d.message


def test_configmap_embedded_files_keep_yaml_lines(tmp_path):
    docs = _load(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pgb\ndata:\n  pgbouncer.ini: |\n"
                           "    [databases]\n    app = host=db port=5432\n    [pgbouncer]\n    pool_mode = transaction\n"
                           "    server_idle_timeout = 30s\n  postgresql.conf: |\n    work_mem = 8mb\n"
                           "    max_connections = 100\n")
    pgb, pg = docs
    assert pgb.model.value("pool_mode") == "transaction"
    assert [(d.kind, d.span.line, d.span.col) for d in pgb.diagnostics] == [("pgbouncer-unit-suffix", 11, 27)]
    assert [(d.kind, d.span.line, d.span.col) for d in pg.diagnostics] == [("invalid-value", 13, 16)]


def test_patroni_local_parameters_win_and_ansible_lists(tmp_path):
    [doc] = _load(tmp_path, "scope: s\nbootstrap:\n  dcs:\n    postgresql:\n      parameters:\n        work_mem: 4MB\n"
                            "postgresql:\n  parameters:\n    work_mem: 16MB\n", name="patroni.yml")
    assert doc.value("work_mem") == 16384 and doc.get("work_mem").span.line == 9
    [doc] = _load(tmp_path, "postgresql_version: 16\npostgresql_parameters:\n"
                            "  - { option: \"max_connections\", value: \"1000\" }\n"
                            "  - { option: \"ssl\", value: \"{{ 'on' if tls else 'off' }}\" }\n", name="main.yml")
    assert doc.meta["pg_version"] == 16 and doc.value("max_connections") == 1000
    assert isinstance(doc.get("ssl").value, Unknown) and doc.get("max_connections").value_span.col == 42


def test_templates_and_other_yaml_are_quiet(tmp_path):
    assert detect_kind("values.yaml", "replicaCount: 1\nimage: nginx\n") is None
    p = tmp_path / "broken.yaml"
    p.write_text("postgresql_parameters:\n  - {{ broken\n    x: [\n")
    docs = load(str(p), {})
    assert all(d.kind == "kubernetes" for d in docs)  # a syntax error, reported, never a traceback


@pytest.mark.parametrize("merge,line,col,what", [
    ("    <<: postgres\n", 4, 9, "not a scalar"),
    ("    <<:\n", 4, 8, "not a scalar"),  # an empty merge value is a null scalar
    ("    <<: [*base, x]\n", 4, 17, "and this item is a scalar"),
    ("    <<: [*base, [*base]]\n", 4, 17, "and this item is a list"),
])
def test_merge_key_of_no_mapping_is_a_syntax_error(tmp_path, merge, line, col, what):
    """The fuzz campaign's kubernetes crash: a merge key (`<<`) whose value is not a mapping or a
    list of mappings ended in an AttributeError. PyYAML and Go's yaml.v3 (kubectl, compose) refuse
    such a document (PyYAML at the same line and column): a syntax error at the offending value."""
    text = "x-base: &base {image: postgres:16}\nservices:\n  db:\n" + merge + "    command: postgres -c work_mem=4MB\n"
    p = tmp_path / "docker-compose.yml"
    p.write_text(text)
    [doc] = load(str(p), {})
    [d] = doc.diagnostics
    assert (d.kind, d.span.line, d.span.col) == ("syntax-error", line, col)
    assert d.message.startswith("invalid YAML: a merge key (<<) takes a mapping or a list of mappings") and what in d.message
    import yaml

    with pytest.raises(yaml.constructor.ConstructorError) as real:
        yaml.safe_load(text)
    assert (real.value.problem_mark.line + 1, real.value.problem_mark.column + 1) == (line, col)


def test_merge_key_of_mappings_merges(tmp_path):
    [doc] = _load(tmp_path, "x-pg: &pg\n  image: postgres:16\n  mem_limit: 1g\nservices:\n  db:\n    <<: [*pg]\n"
                            "    command: postgres -c shared_buffers=2GB\n", "docker-compose.yml")
    assert doc.kind == "postgresql" and doc.host.memory_bytes().value == 1024**3


def test_alias_bomb_is_bounded(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = chr(96 + i)
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append("postgresql_parameters:\n  - { option: work_mem, value: 4MB }")
    p = tmp_path / "bomb.yml"
    p.write_text("\n".join(lines) + "\n")
    started = time.process_time()
    docs = load(str(p), {})
    assert time.process_time() - started < 5  # a bound on the work, not a speed target: 9^12 paths unbounded
    assert docs[0].value("work_mem") == 4096


# ------------------------------------------------------------------------------------------------
# the corpus


def _corpus_yaml():
    files = corpus_files("kubernetes") + corpus_files("sysctl") + corpus_files("sql")
    files += [p for p in corpus_files("postgresql") + corpus_files("pgbouncer") if p.suffix in (".yml", ".yaml")]
    return files


@pytest.mark.parametrize("path", _corpus_yaml(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_files_load_with_spans(path):
    require_corpus()
    text = path.read_text()
    kind = detect_kind(str(path), text)
    assert kind in ("kubernetes", "sql", "sysctl"), kind
    loaded = load_file(str(path), kind, {})
    docs = loaded if isinstance(loaded, list) else [loaded]
    assert docs, "nothing read"
    lines = text.split("\n")
    settings = 0
    for doc in docs:
        operator = set(doc.meta.get("operator_settings", ()))
        for s in doc.settings:
            assert s.span.line and 1 <= s.span.line <= len(lines) and s.span.col
            if (s.name in operator or s.name in refused_values(doc.meta) or doc.kind == "client"
                    or s.section in ("databases", "users")):
                continue  # (an operator's default, or Patroni's for a value it refused: written nowhere)
            if s.section == "postgresql.listen":  # Patroni's port, taken from `listen: host:port`
                assert "listen" in lines[s.span.line - 1] and s.raw in lines[s.span.line - 1], s
                continue
            line = lines[s.span.line - 1].lower()
            assert (s.spelling or s.name).lower().split(".")[-1] in line or doc.meta.get("generated_by"), (s, line)
            settings += 1
        for d in doc.diagnostics:
            assert d.span.line and 1 <= d.span.line <= len(lines)
    assert settings or any(d.host or d.model for d in docs)


def test_corpus_cnpg_example_checked_against_its_own_memory_limit(tmp_path):
    """CloudNativePG's cluster-example-full: one work_mem per connection and parallel worker
    (32, the operator's default) is 984 MB, within its own 1Gi limit: not reported (corpus audit 12,
    finding 6: only the every-backend-sorts-and-hashes bound exceeded it). Under a 900Mi limit the
    same settings are reported against that limit."""
    require_corpus()
    path = CORPUS / "kubernetes" / "cnpg_cluster-example-full.yaml"
    report = run(make_settings({"paths": [str(path)], "select": ["MEM001"]}, use_config=False))
    assert report.findings == []
    smaller = tmp_path / path.name
    smaller.write_text(path.read_text().replace('memory: "1Gi"', 'memory: "900Mi"'))
    report = run(make_settings({"paths": [str(smaller)], "select": ["MEM001"]}, use_config=False))
    [finding] = report.findings
    assert finding.span.line == 49  # shared_buffers: 256MB
    assert "984 MB > memory limit 900 MB" in finding.message and "max_parallel_workers 32" in finding.message
    assert any(r.line == 101 for r in finding.related)  # memory: "900Mi"


def test_patroni_drops_parameters_it_does_not_know(tmp_path):
    """Patroni validates parameters for the running major and drops unknown ones: no start failure."""
    from advisor.engine import make_settings, run

    (tmp_path / "patroni.yml").write_text("scope: pg\nbootstrap:\n  dcs:\n    postgresql:\n      parameters:\n"
                                          "        wal_keep_megabytes: 1024\n        work_mem: 8MB\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PG001"]}, use_config=False))
    [finding] = report.findings
    assert str(finding.severity) == "warning" and "Patroni drops it" in finding.message


@pytest.mark.parametrize("version,said", [
    (None, "removed in PostgreSQL 17, and this file is checked as PostgreSQL 18 (the default: no version given or "
           "found for it): from PostgreSQL 17 on, Patroni drops it"),
    (17, "removed in PostgreSQL 17, and this file is checked as PostgreSQL 17 (given with --pg-version): Patroni "
         "drops it"),
    (16, None),
])
def test_patroni_drops_a_removed_parameter_rather_than_refusing_to_start(tmp_path, version, said):
    """A parameter removed in 17 under Patroni: never "the server refuses to start" (Patroni drops
    it first), and no finding at all for a file checked as a major that still has it."""
    (tmp_path / "patroni.yml").write_text("scope: pg\npostgresql:\n  parameters:\n    db_user_namespace: 'on'\n")
    options = {"paths": [str(tmp_path)], "select": ["PG001"]}
    if version is not None:
        options["pg_version"] = version
    report = run(make_settings(options, use_config=False))
    if said is None:
        assert report.findings == []
        return
    [finding] = report.findings
    assert str(finding.severity) == ("info" if version is None else "warning") and said in finding.message, finding.message
    assert "refuse" not in finding.message


@pytest.mark.parametrize("ports,exposed", [
    ('"6432:6432"', [("", "6432")]),
    ('"6432"', [("", "6432")]),
    ('"127.0.0.1:6432:6432"', [("127.0.0.1", "6432")]),
    ('"[::1]:6432:6432/tcp"', [("::1", "6432")]),
    ('"0.0.0.0:7000-7001:6432-6433"', [("0.0.0.0", "6432-6433")]),
    ('"${BIND_IP:-0.0.0.0}:6432:6432"', []),  # known only where it is deployed: no claim
    ('"${PGB_PORT:-6432}:6432"', [("", "6432")]),
    ('{target: 6432, published: "16432", host_ip: 127.0.0.1}', [("127.0.0.1", "6432")]),
    ('6432', [("", "6432")]),
])
def test_compose_published_ports(tmp_path, ports, exposed):
    """What a compose PgBouncer publishes on the host (docs.docker.com compose `ports`: short syntax
    [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], long syntax target/published/host_ip)."""
    text = ("services:\n  pgbouncer:\n    image: edoburu/pgbouncer:v1.25.1-p0\n    environment:\n"
            "      - DATABASE_URL=postgres://app@db:5432/app\n      - LISTEN_PORT=6432\n"
            f"    ports:\n      - {ports}\n")
    docs = _load(tmp_path, text, name="docker-compose.yml")
    docs = docs if isinstance(docs, list) else [docs]
    (bouncer,) = [d for d in docs if d.kind == "pgbouncer"]
    got = [(p["host_ip"], p["target"]) for p in bouncer.meta["compose_exposure"]["published"]]
    assert got == exposed
    for p in bouncer.meta["compose_exposure"]["published"]:
        assert _line(bouncer.path, p["span"]).strip().startswith("- ")


@pytest.mark.parametrize("flag", ["true", "false", "yes", "True"])
def test_ansible_pgbouncer_switches_are_not_settings(tmp_path, flag):
    """An Ansible role's `pgbouncer_<name>` boolean is the role's switch (autobase:
    `pgbouncer_auth_user: true` makes its template write `auth_user = {{ pgbouncer_auth_username }}`),
    not the text of the PgBouncer setting of that name: `auth_user = true` would be a user named
    "true". Booleans are not mapped; what the template writes for them is unknown."""
    [pg, pgb] = _load(tmp_path, "postgresql_parameters:\n  - { option: \"max_connections\", value: \"100\" }\n"
                                "pgbouncer_install: true\npgbouncer_listen_port: 6432\n"
                                "pgbouncer_default_pool_size: 20\n"
                                f"pgbouncer_auth_user: {flag}\npgbouncer_auth_username: pgbouncer\n"
                                f"pgbouncer_so_reuseport: {flag}\n"
                                "pgbouncer_auth_dbname: \"postgres\"\n", name="main.yml")
    assert pgb.kind == "pgbouncer"
    names = [s.name for s in pgb.settings]
    assert names == ["listen_port", "default_pool_size", "auth_dbname"]
    assert isinstance(pgb.model.value("auth_user"), Unknown)
    assert pgb.model.value("default_pool_size") == 20
    # a quoted "true" is a string the template writes as such: still read
    [pgb] = _load(tmp_path, "pgbouncer_listen_port: 6432\npgbouncer_auth_user: \"true\"\n", name="main.yml")
    assert pgb.model.value("auth_user") == "true"


def test_a_file_holding_several_configurations_counts_once_in_the_summary(tmp_path):
    """A compose file with a PostgreSQL and a PgBouncer service is two documents but one file read."""
    from advisor.reporters import render

    (tmp_path / "docker-compose.yml").write_text(COMPOSE_MOUNTED_CONFIG)
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert len([d for d in report.docs if d.path.endswith("docker-compose.yml")]) == 3
    text = render(report, "text")
    assert " in 1 file" in text and " in 3 files" not in text
    import json

    assert json.loads(render(report, "json"))["summary"]["files"] == 1


def test_a_byte_order_mark_of_the_yaml_file_is_not_the_embedded_configurations(tmp_path):
    """A ConfigMap file that starts with a UTF-8 BOM: the postgresql.conf in its block scalar has
    no BOM of its own (it was glued onto the embedded text: a syntax error at line 1)."""
    p = tmp_path / "cm.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pg\ndata:\n"
                  b"  postgresql.conf: |\n    work_mem = 8MB\n    max_connections = 50\n")
    [doc] = [d for d in load(str(p), {}) if d.kind == "postgresql"]
    assert doc.diagnostics == []
    assert [(s.name, s.value) for s in doc.settings] == [("work_mem", 8192), ("max_connections", 50)]


@pytest.mark.parametrize("written,runs,refused", [
    ("10", 100, True), ("3e1", 30, False), ("+30", 30, False), ("30.0", 30, False), ("24.6", 25, False),
    ("0x10", 100, True), ("030", 100, True), ("abc", 100, True),
])
def test_patroni_reads_a_dcs_integer_as_its_int_validator_does(tmp_path, written, runs, refused):
    """Patroni's IntValidator parses like strtol/strtod (patroni/utils.py parse_int): an exponent,
    a sign or a fraction is accepted and rounded, 030 is octal 24 and refused with 0x10 (16); a
    refused max_connections runs Patroni's 100 (PG014 reports it)."""
    [doc] = _load(tmp_path, "scope: pg\nbootstrap:\n  dcs:\n    postgresql:\n      parameters:\n"
                            f"        max_connections: '{written}'\n", name="patroni.yml")
    assert doc.value("max_connections") == runs
    assert bool(doc.meta["_patroni_rejected"]) == refused
    # the value the server runs is written nowhere when refused: placed at the `bootstrap:` key
    setting = doc.get("max_connections")
    assert setting.span.line == (2 if refused else 6)


@pytest.mark.parametrize("service,server,unread", [
    ("    image: postgres:16\n", True, False),                                   # no command: the image starts postgres
    ("    image: postgres:16\n    command: postgres\n", True, False),
    ("    image: postgres:16\n    command: [\"-c\", \"work_mem=8MB\"]\n", True, False),  # flags: postgres prepended
    ("    image: postgres:16\n    command: psql -h db -c 'select 1'\n", False, False),  # a job, not a server
    ("    image: postgres:16\n    command: [\"pg_dump\", \"-h\", \"db\", \"app\"]\n", False, False),
    ("    image: postgres:16\n    entrypoint: /entrypoint.sh\n    command: postgres\n", True, True),  # wrapper script
    ("    image: postgres:16\n    entrypoint: [\"bash\", \"-c\", \"sleep 1\"]\n", False, False),
    ("    image: bitnami/postgresql:16\n", True, True),                          # a configuration of its own
    ("    image: timescale/timescaledb:latest-pg16\n", True, True),             # timescaledb-tune rewrites memory
    ("    image: postgis/postgis:16-3.4\n", True, False),
    ("    image: postgres:16\n    build: ./db\n", True, True),                  # its Dockerfile may copy a configuration
])
def test_a_postgres_image_is_a_server_whatever_its_command(tmp_path, service, server, unread):
    """Without `-c` flags the official image still runs PostgreSQL with its configuration (ssl off):
    a server, whose defaults are known; unless it runs another program (psql, pg_dump), and with a
    configuration pgpath does not know when the image or an entrypoint script brings one."""
    docs = [d for d in _load(tmp_path, "services:\n  db:\n" + service, name="docker-compose.yml")
            if d.kind == "postgresql"]
    assert bool(docs) == server
    if server:
        assert bool(docs[0].meta.get("defaults_unknown_because")) == unread


def test_a_kubernetes_container_command_replaces_the_images_entrypoint(tmp_path):
    base = ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: pg\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: pg\n          image: postgres:16\n")
    [doc] = [d for d in _load(tmp_path, base) if d.kind == "postgresql"]
    assert not doc.meta.get("defaults_unknown_because")
    [doc] = [d for d in _load(tmp_path, base + "          command: [\"/scripts/start.sh\"]\n          args: [\"postgres\"]\n")
             if d.kind == "postgresql"]
    assert doc.meta["defaults_unknown_because"][0]["line"] == 11
    # the image's own script, or postgres itself, as the command: flags in command and args are its settings
    for command, args in (('["docker-entrypoint.sh"]', '["postgres", "-c", "work_mem=8MB"]'),
                          ('["postgres", "-c", "work_mem=8MB"]', None)):
        text = base + f"          command: {command}\n" + (f"          args: {args}\n" if args else "")
        [doc] = [d for d in _load(tmp_path, text) if d.kind == "postgresql"]
        assert not doc.meta.get("defaults_unknown_because") and doc.get("work_mem").value == 8192
    # a shell as the command: what it starts is not known, so no server is assumed
    text = base + '          command: ["sh", "-c", "pg_dump -h db app > /backup/app.sql"]\n'
    assert [d for d in _load(tmp_path, text) if d.kind == "postgresql"] == []


COMPOSE_DEFAULT_SERVER = (
    "services:\n  app:\n    image: app:1\n    environment:\n"
    "      DATABASE_URL: postgresql://app@db:5432/app?sslmode=require\n"
    "  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: x\n")


def test_a_client_requiring_tls_from_a_default_postgres_service_fails(tmp_path):
    """The recall audit's case: the official image leaves ssl off, so a client with sslmode=require on
    the same compose network cannot connect (PATH004, an error); found whether or not the service
    has `-c` flags."""
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_DEFAULT_SERVER)
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert [(f.code, str(f.severity)) for f in report.findings if f.code == "PATH004"] == [("PATH004", "error")]
    # an entrypoint script may turn ssl on: not known, so not certain, not reported
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_DEFAULT_SERVER + "    entrypoint: /start.sh\n    command: postgres\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert "PATH004" not in [f.code for f in report.findings]


def test_trust_on_a_published_default_postgres_service_is_reported(tmp_path):
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16\n    ports:\n      - '5432:5432'\n    environment:\n"
        "      POSTGRES_HOST_AUTH_METHOD: trust\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    [f] = [f for f in report.findings if f.code == "TLS001"]
    assert "anyone who reaches it connects as any role" in f.message and f.span.line == 5


def test_a_service_that_sets_nothing_beside_a_configuration_file_is_taken_to_run_it(tmp_path):
    """A folder with a compose file whose postgres service sets nothing of its own and a
    postgresql.conf: one server (the file), so the folder's client reaches it, as before such services
    were read; another service of the same compose file with -c flags does not make it a second one."""
    (tmp_path / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:16\n")
    (tmp_path / "postgresql.conf").write_text("ssl = on\nport = 5432\n")
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://app@db:5432/app?sslmode=require\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    [path] = [p for p in report.paths if len(p.hops) > 1]
    assert [os.path.basename(h.file) for h in path.hops] == [".env", "postgresql.conf"]
    assert not [f for f in report.findings if f.code in ("PATH004", "TLS001")]
    # within one compose file, a service without flags stays a server beside one with flags
    (tmp_path / "postgresql.conf").unlink()
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16\n    command: postgres -c ssl=on\n"
        "  scratch:\n    image: postgres:16\n    ports:\n      - '5433:5432'\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert [f.code for f in report.findings if f.code == "TLS001"] == ["TLS001"]


def test_an_env_file_may_set_the_auth_method_so_tls001_does_not_claim_one(tmp_path):
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16\n    env_file: ./db.env\n    ports:\n      - '5432:5432'\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    [f] = [f for f in report.findings if f.code == "TLS001"]
    assert "env_file (or envFrom) may set" in f.message and "scram-sha-256" not in f.message


def test_path004s_fix_for_a_container_server_is_its_command_line(tmp_path):
    """The scenario audit's W4: TLS required from a compose server that does not offer it is fixed
    in the service's command, not in a postgresql.conf it does not have."""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16\n    command: [\"postgres\", \"-c\", \"max_connections=50\"]\n"
        "  web:\n    image: acme/web\n    environment:\n"
        "      DATABASE_URL: \"postgres://shop@db:5432/shop?sslmode=verify-full&sslrootcert=/certs/ca.pem\"\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    [f] = [f for f in report.findings if f.code == "PATH004"]
    assert str(f.severity) == "error" and f.fix == "-c ssl=on in its command, with ssl_cert_file and ssl_key_file"


def test_autobase_pgbouncer_variables_are_only_those_its_template_renders(tmp_path):
    """The second scenario audit's D2: autobase's pgbouncer.ini.j2 writes pool_mode from
    pgbouncer_default_pool_mode and has no pgbouncer_pool_mode or pgbouncer_server_idle_timeout:
    those are never written, so they neither stop PgBouncer nor change its pool mode."""
    docs = _load(tmp_path, "postgresql_version: 16\nlocal_postgresql_parameters:\n  - { option: shared_buffers, value: 1GB }\n"
                           "pgbouncer_default_pool_mode: transaction\npgbouncer_default_pool_size: 20\n"
                           "pgbouncer_pool_mode: session\npgbouncer_server_idle_timeout: 10min\n", name="main.yml")
    [pgb] = [d for d in docs if d.kind == "pgbouncer"]
    assert pgb.model.value("pool_mode") == "transaction" and pgb.model.value("default_pool_size") == 20
    assert pgb.model.is_default("server_idle_timeout")
    assert not [d for d in pgb.diagnostics if "server_idle_timeout" in d.message]


def test_autobase_group_vars_without_local_parameters_are_still_handed_to_patroni(tmp_path):
    """An inventory's group_vars that set patroni_* variables beside postgresql_parameters are
    autobase's: Patroni removes a value it cannot read, so PG002 is a warning there."""
    (tmp_path / "all.yml").write_text(
        "postgresql_version: 16\npatroni_superuser_password: x\npostgresql_parameters:\n"
        "  - { option: \"idle_session_timeout\", value: \"1m\" }\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PG002"]}, use_config=False))
    assert [(f.code, str(f.severity)) for f in report.findings] == [("PG002", "warning")]
    assert "Patroni removes it" in report.findings[0].message


def test_two_compose_servers_of_one_image_each_point_at_their_own_image_line(tmp_path):
    """The corpus audit (electric's dev compose): postgres2's findings pointed at postgres's image line."""
    docs = _load(tmp_path, "services:\n  postgres:\n    image: postgres:18-alpine\n  postgres2:\n"
                           "    image: postgres:18-alpine\n    command: [-c, port=5433]\n", name="docker-compose.yml")
    lines = {d.meta["service"]: d.anchor().line for d in docs if d.kind == "postgresql"}
    assert lines == {"postgres": 3, "postgres2": 5}


PERCONA_WITH_HPA = """apiVersion: pgv2.percona.com/v2
kind: PerconaPGCluster
metadata: {name: cluster1, namespace: pg}
spec:
  crVersion: 2.5.0
  postgresVersion: 16
  instances: [{name: instance1, replicas: 3}]
  proxy:
    pgBouncer:
      replicas: 3
      config: {global: {pool_mode: transaction}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bouncers, namespace: %s}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %s}
  maxReplicas: 9
"""


@pytest.mark.parametrize("namespace, target, expected", [
    ("pg", "cluster1-pgbouncer", (9, "maxReplicas", 1, "minReplicas")),  # scaled: its pods are the autoscaler's
    ("pg", "cluster1-api", (3, "replicas", None, None)),  # another Deployment's autoscaler
    ("other", "cluster1-pgbouncer", (3, "replicas", None, None)),  # the same name in another namespace
])
def test_an_autoscaler_of_the_operators_pgbouncer_deployment_gives_its_pods(tmp_path, namespace, target, expected):
    # (scenarios13 D7) Percona and Crunchy PGO make Deployment <cluster>-pgbouncer for spec.proxy.pgBouncer
    path = tmp_path / "cluster.yaml"
    path.write_text(PERCONA_WITH_HPA % (namespace, target))
    [doc] = [d for d in load(str(path), {}) if d.kind == "pgbouncer"]
    processes = doc.meta["processes"]
    least = processes.get("least") or {}
    assert (processes["count"], processes["variable"], least.get("count"), least.get("variable")) == expected
    if expected[1] == "maxReplicas":
        assert processes["raw"] == "9 of HorizontalPodAutoscaler bouncers"
        assert least["raw"] == "not set (1) of HorizontalPodAutoscaler bouncers"
        assert "Deployment cluster1-pgbouncer, which PerconaPGCluster cluster1 makes for spec.proxy.pgBouncer with " \
               "replicas: 3" in processes["where"]
