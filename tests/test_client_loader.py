"""Client loader: every format, typed values and spans, unknowns, detection, corpus, no-raise."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from advisor.loaders import detect_kind
from advisor.loaders.client import load
from advisor.model import Unknown
from advisor.units import go_parse_duration
from conftest import corpus_files, require_corpus

ROOT = Path(__file__).resolve().parent.parent


def load_text(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return load(str(path))


def only(doc):
    assert len(doc.model.endpoints) == 1, [e.name for e in doc.model.endpoints]
    return doc.model.endpoints[0]


# ------------------------------------------------------------------------------------------------
# units


@pytest.mark.parametrize("text,seconds", [
    ("1h30m", 5400.0), ("300ms", 0.3), ("1.5h", 5400.0), ("0", 0.0), ("-1s", -1.0), ("2m3s", 123.0),
    ("1us", 1e-6), ("1µs", 1e-6), (".5s", 0.5), ("", None), ("5", None), ("1d", None), ("1 h", None),
    ("1H", None), ("s", None), ("1h-5m", None),
])
def test_go_parse_duration(text, seconds):
    got = go_parse_duration(text)
    if seconds is None:
        assert got is None
    else:
        assert got == pytest.approx(seconds)


# ------------------------------------------------------------------------------------------------
# libpq strings in .env, spans


def test_env_uri_values_and_spans(tmp_path):
    doc = load_text(tmp_path, ".env", """
        # comment
        DATABASE_URL=postgresql://app:pw@db1:5433,db2/shop?sslmode=verify-full&connect_timeout=1&keepalives_idle=30
    """)
    ep = only(doc)
    assert ep.driver == "libpq" and ep.form == "uri"
    assert [h.value for h in ep.hosts] == ["db1", "db2"]
    assert ep.dbname.value == "shop"
    assert ep.sslmode.value == "verify-full"
    assert ep.connect_timeout.value == 2.0  # libpq raises 1 to 2
    assert ep.keepalive.idle.value == 30 and ep.keepalive.idle.origin == "set"
    assert ep.keepalive.interval.value == 75.0 and ep.keepalive.interval.origin == "os-default"
    line = (tmp_path / ".env").read_text().split("\n")[1]
    span = ep.sslmode.span
    assert span.line == 2 and line[span.col - 1:span.end_col - 1] == "verify-full"
    assert ep.password.secret and ep.password.display == "***"
    setting = doc.get("DATABASE_URL")
    assert "pw@" not in setting.raw and "***" in setting.raw


def test_env_keyword_string_with_placeholders(tmp_path):
    doc = load_text(tmp_path, "app.env", """
        APP_DSN="host=${DB_HOST} port=5432 dbname=app sslmode=${SSLMODE:-require}"
    """)
    ep = only(doc)
    assert isinstance(ep.hosts[0].value, Unknown)  # no default: unknown
    # a default: read as it, assumed, its span the default inside the placeholder
    assert (ep.sslmode.value, ep.sslmode.assumed, ep.sslmode.origin) == ("require", "${SSLMODE}", "set")
    line = (tmp_path / "app.env").read_text().split("\n")[0]
    assert line[ep.sslmode.span.col - 1:ep.sslmode.span.end_col - 1] == "require"
    assert ep.sslmode.to_dict()["assumed"] == "assumed: the default of ${SSLMODE}"
    assert ep.ports[0].value == "5432"


def test_env_pg_variables_form_an_endpoint(tmp_path):
    doc = load_text(tmp_path, ".env.production", """
        PGHOST=db.internal
        PGPORT=5432
        PGSSLMODE=verify-full
        PGCONNECT_TIMEOUT=10
        PGPASSWORD=hunter2
    """)
    ep = only(doc)
    assert ep.form == "env" and ep.sslmode.value == "verify-full" and ep.sslmode.origin == "env"
    assert ep.connect_timeout.value == 10.0
    assert doc.get("PGPASSWORD").secret
    assert ep.keepalive.idle.origin == "os-default"  # no environment variable for keepalives


def test_pg_variables_fill_what_the_url_leaves_unset(tmp_path):
    doc = load_text(tmp_path, "x.env", """
        PGSSLMODE=verify-full
        DATABASE_URL=postgresql://db.internal/app
    """)
    ep = only(doc)
    assert ep.sslmode.value == "verify-full" and ep.sslmode.origin == "env"


def test_whole_value_placeholder_reads_its_default(tmp_path):
    doc = load_text(tmp_path, ".env", "DATABASE_URL=${DATABASE_URL:-postgres://db.internal/app?sslmode=require}\n")
    ep = only(doc)
    assert ep.form == "uri" and ep.sslmode.value == "require" and ep.sslmode.assumed == "${DATABASE_URL}"
    assert [(h.value, h.assumed) for h in ep.hosts] == [("db.internal", "${DATABASE_URL}")]
    assert ep.target() == "db.internal/app (assumed: the default of ${DATABASE_URL})"
    assert (ep.hosts[0].span.col, ep.hosts[0].span.end_col) == (41, 52)  # db.internal, inside the placeholder


@pytest.mark.parametrize("value", ["${DATABASE_URL:-}", "${DATABASE_URL}", "${DATABASE_URL:?set it}",
                                   "${DATABASE_URL:+postgres://db/app}", "${DATABASE_URL:-${OTHER}}"])
def test_whole_value_placeholder_without_a_default_is_unknown(tmp_path, value):
    ep = only(load_text(tmp_path, ".env", f"DATABASE_URL={value}\n"))
    assert ep.form == "unknown" and isinstance(ep.sslmode.value, Unknown) and isinstance(ep.hosts[0].value, Unknown)


def test_unix_socket_has_no_keepalive(tmp_path):
    ep = only(load_text(tmp_path, ".env", "DATABASE_URL=postgresql://%2Fvar%2Frun%2Fpostgresql/app\n"))
    assert ep.hosts[0].value == "/var/run/postgresql"
    assert ep.keepalive.enabled.value is False


def test_connect_timeout_with_unit_is_an_invalid_value(tmp_path):
    doc = load_text(tmp_path, ".env", "DATABASE_URL=postgresql://db/app?connect_timeout=5s\n")
    (d,) = [d for d in doc.diagnostics if d.kind == "client-invalid-value"]
    assert d.message == 'invalid integer value "5s" for connection option "connect_timeout"'
    assert d.fix.startswith("connect_timeout=5 ")
    assert d.span.col == len("DATABASE_URL=postgresql://db/app?connect_timeout=") + 1


def test_libpq_syntax_error_is_reported_without_the_password(tmp_path):
    doc = load_text(tmp_path, ".env", "APP_DSN=host=db password='s3cret dbname=app\n")
    (d,) = [d for d in doc.diagnostics if d.kind == "syntax-error"]
    assert "unterminated quoted string" in d.message and "s3cret" not in d.message


# ------------------------------------------------------------------------------------------------
# compose and Kubernetes


def test_compose_list_and_mapping_environment(tmp_path):
    doc = load_text(tmp_path, "docker-compose.yml", """
        services:
          api:
            environment:
              - DATABASE_URL=postgres://api:pw@db:5432/api?sslmode=disable
          worker:
            environment:
              WORKER_DSN: "postgres://w@db/w?sslmode=require"
    """)
    eps = doc.model.endpoints
    assert [e.name for e in eps] == ["DATABASE_URL", "WORKER_DSN"]
    assert eps[0].sslmode.value == "disable"
    assert eps[0].sslmode.span.line == 4
    line = (tmp_path / "docker-compose.yml").read_text().split("\n")[3]
    assert line[eps[0].sslmode.span.col - 1:].startswith("disable")
    line = (tmp_path / "docker-compose.yml").read_text().split("\n")[6]
    assert line[eps[1].sslmode.span.col - 1:].startswith("require")


def test_kubernetes_env_value_and_value_from(tmp_path):
    doc = load_text(tmp_path, "deploy.yaml", """
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - name: app
                  env:
                    - name: PGHOST
                      value: db.internal
                    - name: PGSSLMODE
                      valueFrom:
                        configMapKeyRef: {name: db, key: sslmode}
    """)
    ep = only(doc)
    assert ep.hosts[0].value == "db.internal"
    assert isinstance(ep.sslmode.value, Unknown)


# ------------------------------------------------------------------------------------------------
# pgjdbc / Spring / HikariCP


@pytest.mark.parametrize("key", ["max-lifetime", "maxLifetime", "max_lifetime", "MAX_LIFETIME"])
def test_spring_relaxed_binding(tmp_path, key):
    doc = load_text(tmp_path, "application.properties", f"""
        spring.datasource.url=jdbc:postgresql://db1:5432,db2:5433/app?tcpKeepAlive=true&socketTimeout=30
        spring.datasource.hikari.{key}=600000
    """)
    ep = only(doc)
    assert ep.driver == "pgjdbc"
    assert [h.value for h in ep.hosts] == ["db1", "db2"] and [p.value for p in ep.ports] == ["5432", "5433"]
    assert ep.keepalive.enabled.value is True
    assert ep.socket_timeout.value == 30.0 and ep.connect_timeout.value == 10.0
    assert ep.pool.library == "hikaricp" and ep.pool.max_lifetime.value == 600.0
    assert ep.pool.max_lifetime.span.line == 2


def test_spring_yaml_spans_and_placeholder_default(tmp_path):
    doc = load_text(tmp_path, "application-prod.yml", """
        spring:
          datasource:
            url: "${DB_URL:jdbc:postgresql://localhost/app}"
            hikari:
              keepalive-time: 60000
              maximumPoolSize: 12
    """)
    ep = only(doc)
    # the URL is its default, assumed: pgjdbc's defaults for what it leaves unset
    assert ep.form == "jdbc" and [(h.value, h.assumed) for h in ep.hosts] == [("localhost", "${DB_URL}")]
    assert ep.keepalive.enabled.value is False and ep.keepalive.enabled.origin == "default"
    assert ep.pool.keepalive_time.value == 60.0
    assert ep.pool.size.value == 12
    span = ep.pool.size.span
    assert (span.line, span.col) == (6, 24)


def test_hikari_properties(tmp_path):
    ep = only(load_text(tmp_path, "hikari.properties", """
        jdbcUrl=jdbc:postgresql://db/app
        maxLifetime=0
        dataSource.tcpKeepAlive=true
    """))
    assert ep.pool.max_lifetime.value == math.inf
    assert ep.keepalive.enabled.value is True
    assert ep.pool.validation.value is True


def test_jdbc_ssl_true_means_verify_full(tmp_path):
    ep = only(load_text(tmp_path, "application.properties", "spring.datasource.url=jdbc:postgresql://db/app?ssl=true\n"))
    assert ep.sslmode.value == "verify-full"


# ------------------------------------------------------------------------------------------------
# SQLAlchemy, psycopg_pool, pgx, node-postgres


def test_sqlalchemy_ini(tmp_path):
    ep = only(load_text(tmp_path, "production.ini", """
        [app:main]
        sqlalchemy.url = postgresql+psycopg://shop@db/shop?keepalives_idle=45
        sqlalchemy.pool_recycle = 3600
        sqlalchemy.pool_pre_ping = true
    """))
    assert ep.driver == "sqlalchemy" and ep.dbapi == "psycopg"
    assert ep.keepalive.idle.value == 45
    assert ep.pool.max_lifetime.value == 3600.0 and ep.pool.validation.value is True


def test_sqlalchemy_yaml_engine_options_and_default_recycle(tmp_path):
    ep = only(load_text(tmp_path, "config.yaml", """
        database:
          url: postgresql://shop@db/shop
          engine_options:
            pool_recycle: -1
            pool_size: 20
    """))
    assert ep.driver == "sqlalchemy"
    assert ep.pool.max_lifetime.value == math.inf and ep.pool.validation.value is False
    assert ep.pool.size.value == 20


def test_sqlalchemy_bare_url_pool_plan_is_unknown(tmp_path):
    ep = only(load_text(tmp_path, "setup.cfg", "[db]\npostgresql = postgresql+asyncpg://u:p@h/db\n"))
    assert ep.dbapi == "asyncpg"
    assert isinstance(ep.pool.max_lifetime.value, Unknown)


def test_toml_sqlalchemy(tmp_path):
    ep = only(load_text(tmp_path, "settings.toml", """
        [database]
        url = "postgresql+psycopg2://app@db/app?sslmode=verify-full"  # prod
        pool_pre_ping = true
    """))
    assert ep.sslmode.value == "verify-full" and ep.pool.validation.value is True
    line = (tmp_path / "settings.toml").read_text().split("\n")[1]
    assert line[ep.sslmode.span.col - 1:].startswith("verify-full")


def test_psycopg_pool(tmp_path):
    ep = only(load_text(tmp_path, "pool.yaml", """
        pool:
          conninfo: "host=db dbname=app sslmode=verify-full"
          max_lifetime: 600
          max_idle: 120
          check: psycopg_pool.ConnectionPool.check_connection
    """))
    assert ep.driver == "psycopg_pool"
    assert ep.pool.max_lifetime.value == 600 and ep.pool.max_idle.value == 120 and ep.pool.validation.value is True


def test_pgx_dsn(tmp_path):
    ep = only(load_text(tmp_path, "app.yaml", """
        db:
          url: "postgres://app@db/app?pool_max_conns=8&pool_max_conn_lifetime=1h30m&pool_max_conn_idle_time=5m"
    """))
    assert ep.driver == "pgx"
    assert ep.keepalive.idle.value == 15.0 and not ep.keepalive.honours_libpq_keys
    assert ep.pool.max_lifetime.value == 5400.0 and ep.pool.max_idle.value == 300.0
    assert ep.pool.size.value == 8 and ep.pool.validation.value is True


def test_node_postgres_json(tmp_path):
    ep = only(load_text(tmp_path, "db.json", """
        {"pg": {"host": "db", "port": 5432, "keepAlive": true, "keepAliveInitialDelayMillis": 60000,
                "idleTimeoutMillis": 30000, "connectionTimeoutMillis": 5000, "max": 10,
                "ssl": {"rejectUnauthorized": false}}}
    """))
    assert ep.driver == "node-postgres"
    assert ep.keepalive.enabled.value is True and ep.keepalive.idle.value == 60.0
    assert ep.connect_timeout.value == 5.0
    assert ep.pool.library == "pg-pool" and ep.pool.max_idle.value == 30.0 and ep.pool.validation.value is False
    assert ep.sslmode.value == "require"
    assert ep.span.line == 1


@pytest.mark.parametrize("options,bound", [
    ('"max": 10', 10.0),                                   # idleTimeoutMillis undefined: pg-pool's 10000 ms
    ('"idleTimeoutMillis": 30000', 30.0),
    ('"idleTimeoutMillis": 30000, "min": 0', 30.0),
    ('"idleTimeoutMillis": 30000, "min": -1', 30.0),        # `clients.length > min` holds for every client
    ('"idleTimeoutMillis": 0', None),                      # falsy: no idle timer
    ('"idleTimeoutMillis": 30000, "min": 2', None),         # clients released at or below min get no timer
    ('"min": 1', None),
    ('"idleTimeoutMillis": -5', 0.001),                    # Node runs setTimeout(fn, < 1) after 1 ms
    ('"idleTimeoutMillis": 3000000000', 0.001),            # and one above 2^31-1 ms after 1 ms too
])
def test_pg_pool_idle_bound_is_pg_pools(tmp_path, options, bound):
    """N4: pg-pool closes a client left idle idleTimeoutMillis (default 10000; 0 disables it), armed
    only while the pool holds more than `min` clients (packages/pg-pool/index.js, _release)."""
    ep = only(load_text(tmp_path, "db.json", '{"pg": {"host": "db", "port": 5432, "keepAlive": true, ' + options + '}}'))
    assert ep.pool.library == "pg-pool"
    assert ep.pool.idle_bound() == bound


# ------------------------------------------------------------------------------------------------
# Django, pg_service.conf


def test_django_settings(tmp_path):
    doc = load_text(tmp_path, "settings.py", """
        import os
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "app",
                "HOST": os.environ.get("DB_HOST", "localhost"),
                "PASSWORD": os.environ["DB_PASSWORD"],
                "CONN_MAX_AGE": None,
                "CONN_HEALTH_CHECKS": True,
                "OPTIONS": {"sslmode": "verify-full", "keepalives_idle": 30, "connect_timeout": "5s"},
            },
            "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"},
        }
    """)
    ep = only(doc)
    assert ep.driver == "django"
    # os.environ.get's default: assumed, its span the default's constant
    assert (ep.hosts[0].value, ep.hosts[0].assumed) == ("localhost", "DB_HOST")
    assert (ep.hosts[0].span.line, ep.hosts[0].span.col) == (6, 43)
    assert isinstance(ep.password.value, Unknown)  # os.environ[...]: no default
    assert ep.pool.max_lifetime.value == math.inf and ep.pool.validation.value is True and ep.pool.persistent
    assert ep.keepalive.idle.value == 30 and ep.sslmode.value == "verify-full"
    assert ep.sslmode.span.line == 10
    assert [d.message for d in doc.diagnostics if d.kind == "client-invalid-value"] == [
        'invalid integer value "5s" for connection option "connect_timeout"']


def test_django_fix_settings_are_written_as_the_settings_module_writes_them(tmp_path):
    """U4: a DATABASES entry takes `"CONN_MAX_AGE": 870` (a dict entry, not `CONN_MAX_AGE=870`);
    dj_database_url.config() takes the keyword argument `conn_max_age=870`."""
    ep = only(load_text(tmp_path, "settings.py", """
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "db", "CONN_MAX_AGE": None}}
    """))
    assert ep.pool.setting("CONN_MAX_AGE", 870) == '"CONN_MAX_AGE": 870'
    assert ep.pool.setting("CONN_HEALTH_CHECKS", True) == '"CONN_HEALTH_CHECKS": True'
    ep = only(load_text(tmp_path, "other/settings.py", """
        import dj_database_url
        DATABASES = {"default": dj_database_url.config(conn_max_age=600)}
    """))
    assert ep.pool.setting("CONN_MAX_AGE", 870) == "conn_max_age=870"
    assert ep.pool.setting("CONN_HEALTH_CHECKS", True) == "conn_health_checks=True"
    doc = load_text(tmp_path, "bad/settings.py", """
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": "10m"}}
    """)
    assert [d.fix for d in doc.diagnostics if d.kind == "client-invalid-value"] == ['"CONN_MAX_AGE": 60']


def test_django_syntax_error_does_not_raise(tmp_path):
    doc = load_text(tmp_path, "settings.py", "DATABASES = {\n  'default': {'ENGINE': 'postgresql',\n")
    assert [d.kind for d in doc.diagnostics] == ["syntax-error"]


def test_pg_service_conf(tmp_path):
    doc = load_text(tmp_path, "pg_service.conf", """
        [main]
        host=db.internal
           # comment
        keepalives_idle=60
        not a setting
        bogus=1

        [empty]
    """)
    ep = only(doc)
    assert ep.name == "service main" and ep.keepalive.idle.value == 60
    assert [(d.kind, d.span.line) for d in doc.diagnostics] == [("syntax-error", 5), ("syntax-error", 6)]


# ------------------------------------------------------------------------------------------------
# detection


@pytest.mark.parametrize("name,text", [
    ("postgresql.conf", "listen_addresses = '*'\nmax_connections = 100\nshared_buffers = 128MB\n"),
    ("pgbouncer.ini", "[databases]\napp = host=db port=5432 dbname=app\n[pgbouncer]\nlisten_port = 6432\n"),
    ("pool.ini", "[databases]\napp = host=db port=5432 dbname=app\n"),
    ("haproxy.cfg", "global\n  maxconn 100\nbackend pg\n  server s1 postgres://x:5432\n"),
    ("values.yaml", "# dsn: postgres://u@h/db\nreplicas: 2\n"),
    ("random.py", "x = 'postgres://a@b/c'\n"),
    ("notes.txt", "see postgres://a@b/c for details\n"),
])
def test_not_a_client_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert detect_kind(str(path), text) != "client"


@pytest.mark.parametrize("name,text", [
    (".env", "X=1\n"),
    ("prod.env", "X=1\n"),
    ("pg_service.conf", "[a]\nhost=x\n"),
    ("application-prod.yml", "server: {port: 8080}\n"),
    ("hikari.properties", "maximumPoolSize=5\n"),
    ("docker-compose.yml", "services:\n  a:\n    environment:\n      - DATABASE_URL=postgres://h/db\n"),
    ("config.json", '{"db": {"keepAliveInitialDelayMillis": 1000}}'),
    ("settings.py", "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n"),
    ("alembic.ini", "[alembic]\nsqlalchemy.url = postgresql://h/db\n"),
    ("app.toml", "[db]\ndsn = \"host=db port=5432 dbname=x\"\n"),
    ("env", "DATABASE_URL=postgres://h/db\nOTHER=1\n"),
])
def test_client_file_detected(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert detect_kind(str(path), None if name.startswith((".env", "pg_service", "application", "hikari")) else text) == "client"


def test_detection_and_cli_stay_light():
    code = ("import sys, advisor.loaders, advisor.cli; from advisor.loaders import detect_kind; "
            "detect_kind('docker-compose.yml', 'services: {}'); "
            "print(sorted(m for m in ('yaml', 'psycopg', 'advisor.loaders.clients.build', 'advisor.loaders.clients.libpq') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------------------------
# corpus and no-raise


def test_every_corpus_client_and_kubernetes_file_is_handled():
    require_corpus()
    files = corpus_files("clients") + corpus_files("kubernetes")
    assert files
    detected = 0
    for path in files:
        text = path.read_text(errors="replace")
        kind = detect_kind(str(path), text)
        doc = load(str(path))  # every file loads as a client file without raising, detected or not
        assert doc.kind == "client" and doc.model is not None
        for ep in doc.model.endpoints:
            assert ep.span.file == str(path) and (ep.span.line or ep.span.key)
            ep.to_dict()
        if kind == "client":
            detected += 1
        elif kind == "kubernetes":  # a compose/manifest file also read for its servers: its client doc is beside
            from advisor.loaders import load_file

            if any(d.kind == "client" for d in load_file(str(path), kind, {})):
                detected += 1
    # 9: hatchet's only connection string is the DATABASE_URL of an edoburu/pgbouncer image, which is
    # where PgBouncer connects, not an application's client string (tests/test_infra_yaml.py)
    assert detected >= 9


def test_corpus_endpoints_are_what_the_files_say():
    require_corpus()
    by_name = {p.name: p for p in corpus_files("clients") + corpus_files("kubernetes")}
    if "kratos_quickstart-postgres.yml" not in by_name:
        pytest.skip("corpus without the kratos file")
    eps = load(str(by_name["kratos_quickstart-postgres.yml"])).model.endpoints
    assert [(e.name, e.sslmode.value) for e in eps] == [("DSN", "disable"), ("DSN", "disable")]
    eps = load(str(by_name["netbox_configuration_example.py"])).model.endpoints
    assert eps[0].pool.max_lifetime.value == 300.0 and eps[0].pool.validation.value is False
    eps = load(str(by_name["cardano-grest_docker-compose.yml"])).model.endpoints
    assert isinstance(eps[0].user.value, Unknown) and eps[0].hosts[0].value == "postgres"


SUFFIXES = [".env", "docker-compose.yml", "a.json", "a.toml", "a.ini", "application.properties", "settings.py",
            "pg_service.conf", "notes.conf"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(SUFFIXES), text=st.lists(st.sampled_from(
    list("abcDSN_=:/@?&%'\"{}[]$#-.,\n \t0123456789") + ["postgres://", "jdbc:postgresql:", "host=", "${",
                                                         "keepalives_idle=", "DATABASE_URL=", "spring.datasource.",
                                                         "pool_max_conns=", "  - ", "environment:\n"]),
    max_size=80).map("".join))
def test_loader_never_raises(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    doc = load(str(path))
    doc.to_dict()


def test_libpq_strings_use_libpqs_own_connect_time_checks(tmp_path):
    """Values in libpq strings are checked by advisor.loaders.clients.libpq.validate_values, once each."""
    from advisor.loaders.clients.libpq import parse_conninfo, validate_values

    dsn = "host=db port=abc sslmode=bogus connect_timeout=5s tcp_user_timeout=${TUT} keepalives=1"
    doc = load_text(tmp_path, ".env", f"APP_DSN='{dsn}'\n")
    got = sorted(d.message for d in doc.diagnostics if d.kind == "client-invalid-value")
    expected = sorted(m for p, m in validate_values(parse_conninfo(dsn.replace("${TUT}", "10")))
                      if p.key != "tcp_user_timeout")
    assert got == expected and len(got) == 3


def test_helm_template_yaml_keeps_its_structure(tmp_path):
    doc = load_text(tmp_path, "templates/deployment.yaml", """
        kind: Deployment
        spec:
          template:
            spec:
              containers:
                - name: {{ .Chart.Name }}
                  env:
                    {{- if .Values.db.enabled }}
                    - name: DATABASE_URL
                      value: "postgresql://{{ .Values.db.user }}@{{ .Values.db.host }}:5432/app?sslmode=disable"
                    {{- end }}
    """)
    assert doc.meta["format"] == "yaml" and doc.template
    ep = only(doc)
    assert isinstance(ep.hosts[0].value, Unknown) and ep.sslmode.value == "disable"
    line = (tmp_path / "templates/deployment.yaml").read_text().split("\n")[9]
    assert line[ep.sslmode.span.col - 1:].startswith("disable")


def _check(path: Path, select: list[str]):
    from advisor.engine import make_settings, run

    return run(make_settings({"paths": [str(path)], "select": select}, use_config=False)).findings


def test_a_nested_placeholder_is_no_default(tmp_path):
    """`${A:${B:x}}`: the outer default is another placeholder, so the value is unknown (it was read
    as the inner placeholder's text, `${B:x`, and shown as the host)."""
    load_text(tmp_path, "application.properties", """
        spring.datasource.url=jdbc:postgresql://${DB_HOST:${FALLBACK:db.internal}}:5432/app?socketTimeout=abc
    """)
    assert not [f for f in _check(tmp_path, ["APP"]) if "FALLBACK" in f.message and " to " in f.message
                and "set at deploy" not in f.message]
    assert not [f for f in _check(tmp_path, ["APP009"])]  # the URL as a whole is unknown, as without a default


def test_rules_do_not_guess_placeholders(tmp_path):
    load_text(tmp_path, "application.properties", """
        spring.datasource.url=${JDBC_URL}
        spring.datasource.hikari.max-lifetime=${MAX_LIFETIME}
    """)
    load_text(tmp_path, "app.env", "DATABASE_URL=${DATABASE_URL}\nPGSSLMODE=${SSLMODE:-disable}\n")
    assert _check(tmp_path, ["APP"]) == []


def test_rules_judge_placeholder_defaults_and_say_so(tmp_path):
    """A placeholder's default is what runs when the variable is unset: rules judge it, and the
    message says the value is assumed."""
    load_text(tmp_path, "application.properties", """
        spring.datasource.url=${JDBC_URL:jdbc:postgresql://db.internal/app}
        spring.datasource.hikari.max-lifetime=${MAX_LIFETIME:30m}
    """)
    found = {f.code: f for f in _check(tmp_path, ["APP"])}
    assert sorted(found) == ["APP001", "APP003", "APP009"]
    assert "to db.internal:5432/app (assumed: the default of ${JDBC_URL}): sslmode not set" in found["APP001"].message
    assert "to db.internal:5432/app (assumed: the default of ${JDBC_URL})" in found["APP003"].message
    assert found["APP009"].message.endswith('HikariCP maxLifetime: "30m" is not a number of milliseconds (HikariCP '
                                            'reads a plain long, no unit) (assumed: the default of ${MAX_LIFETIME}: '
                                            'it fails wherever the variable is not set)')
    # wrong only where the variable is unset, which no file shows certainly happens: a warning
    assert str(found["APP009"].severity) == "warning"
    assert (found["APP009"].span.line, found["APP009"].span.col) == (2, 54)  # 30m, in the placeholder


def test_node_postgres_without_ssl_is_plaintext(tmp_path):
    load_text(tmp_path, "db.json", '{"pg": {"host": "db.internal", "keepAlive": true, "max": 5}}')
    (finding,) = [f for f in _check(tmp_path, ["APP001"])]
    assert "node-postgres without `ssl` uses no TLS" in finding.message


def test_sqlalchemy_asyncpg_tls_is_its_ssl_argument(tmp_path):
    """SQLAlchemy hands an asyncpg URL's query to asyncpg.connect(): `ssl=<mode>` is the TLS mode
    (not libpq's `ssl=true` alias), unset is asyncpg's prefer, and no sslrootcert is read."""
    def endpoint(query):
        return only(load_text(tmp_path, "config.yaml", f"database:\n  url: postgresql+asyncpg://u@db.internal/app{query}\n"))

    ep = endpoint("?ssl=require&sslrootcert=/ca.crt")
    assert (ep.sslmode.value, ep.sslmode.key, ep.sslmode.origin, ep.sslrootcert) == ("require", "ssl", "set", None)
    ep = endpoint("")
    assert (ep.sslmode.value, ep.sslmode.origin) == ("prefer", "default")
    assert isinstance(endpoint("?ssl=true").sslmode.value, Unknown)  # asyncpg refuses "true"
    assert endpoint("?sslmode=require").sslmode.key == "sslmode"  # libpq's name, kept as read
    # the same alias in a psycopg URL is libpq's: sslmode=require
    ep = only(load_text(tmp_path, "config.yaml", "database:\n  url: postgresql+psycopg://u@db.internal/app?ssl=true\n"))
    assert ep.sslmode.value == "require"
