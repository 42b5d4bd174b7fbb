"""A placeholder with a default is read as its default, assumed (audit15 D4).

The reproductions of the audit (/work/audit15/repro r6 vs r6b, s02 vs s02b) are the cases here;
they also run as rule fixtures (tests/rules/PATH003/bad_socket_timeout_placeholder_default,
tests/rules/PATH007/bad_django_environ_defaults_through_pgbouncer)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.loaders.client import load
from advisor.model import Unknown

RULES = Path(__file__).resolve().parent / "rules"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def endpoints(path: Path):
    return load(str(path)).model.endpoints


def check(path: Path, select: list[str]):
    return run(make_settings({"paths": [str(path)], "select": select}, use_config=False))


# ------------------------------------------------------------------------------------------------
# Spring: ${VAR:default}


def test_spring_url_with_a_defaulted_host_keeps_its_query_keys():
    """r6: the host is `${DB_HOST:payments-proxy...}`; sslmode and socketTimeout are the URL's own
    (before: the whole URL unknown, so PATH003 and APP003 were missed)."""
    (ep, local) = endpoints(RULES / "PATH003" / "bad_socket_timeout_placeholder_default" / "application.yml")
    host = ep.hosts[0]
    assert (host.value, host.assumed, host.origin) == (
        "payments-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com", "${DB_HOST}", "set")
    assert host.to_dict()["assumed"] == "assumed: the default of ${DB_HOST}"
    assert (host.span.line, host.span.col, host.span.end_col) == (6, 38, 99)  # the default, inside ${...}
    assert [p.value for p in ep.ports] == ["5432"] and ep.ports[0].assumed is None
    assert (ep.sslmode.value, ep.sslmode.assumed) == ("verify-full", None)
    assert (ep.socket_timeout.value, ep.socket_timeout.assumed) == (60.0, None)
    assert ep.form == "jdbc" and not ep.template
    assert ep.target() == ("payments-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com:5432/payments "
                           "(assumed: the default of ${DB_HOST})")
    assert ep.label() == "0.spring.datasource (pgjdbc; assumed: the default of ${DB_HOST})"
    assert (ep.user.value, ep.user.assumed) == ("payments_app", "${DB_USER}")  # a whole-value placeholder
    assert isinstance(ep.password.value, Unknown) and ep.password.display == "***"  # ${DB_PASSWORD}: no default
    assert local.hosts[0].value == "localhost" and local.hosts[0].assumed is None


def test_spring_url_with_a_placeholder_without_default_stays_unknown(tmp_path):
    (ep,) = endpoints(write(tmp_path, "application.yml", """
        spring:
          datasource:
            url: jdbc:postgresql://${DB_HOST}:5432/app?sslmode=require&socketTimeout=60
    """))
    assert ep.form == "unknown" and isinstance(ep.hosts[0].value, Unknown) and isinstance(ep.sslmode.value, Unknown)


def test_spring_any_property_reads_its_default(tmp_path):
    from advisor.rules.app.common import said

    (ep,) = endpoints(write(tmp_path, "application.properties", """
        spring.datasource.url=jdbc:postgresql://db.internal:${DB_PORT:6432}/app
        spring.datasource.hikari.max-lifetime=${MAX_LIFETIME:600000}
        spring.datasource.hikari.maximum-pool-size=${POOL_SIZE:}
    """))
    assert (ep.ports[0].value, ep.ports[0].assumed) == ("6432", "${DB_PORT}")
    life = ep.pool.max_lifetime
    assert (life.value, life.raw, life.assumed) == (600.0, "600000", "${MAX_LIFETIME}")
    assert said(life, "maxLifetime") == "max-lifetime=600000 (600 s; assumed: the default of ${MAX_LIFETIME})"
    assert isinstance(ep.pool.size.value, Unknown)  # an empty default is no default


# ------------------------------------------------------------------------------------------------
# compose / .env: ${VAR:-default}, ${VAR-default}


@pytest.mark.parametrize("placeholder,value,assumed", [
    ("${DB_HOST:-pgbouncer}", "pgbouncer", "${DB_HOST}"),
    ("${DB_HOST-pgbouncer}", "pgbouncer", "${DB_HOST}"),
    ("${DB_HOST:?set DB_HOST}", None, None),
    ("${DB_HOST:+pgbouncer}", None, None),
    ("${DB_HOST:-}", None, None),
    ("${DB_HOST}", None, None),
])
def test_compose_url_hosts(tmp_path, placeholder, value, assumed):
    (ep,) = endpoints(write(tmp_path, "docker-compose.yml", f"""
        services:
          web:
            image: web:1
            environment:
              DATABASE_URL: postgres://app@{placeholder}:6432/app?sslmode=require&options=-c%20statement_timeout%3D5000
    """))
    host = ep.hosts[0]
    if value is None:
        assert isinstance(host.value, Unknown) and host.assumed is None
    else:
        assert (host.value, host.assumed) == (value, assumed)
    # the keys after the placeholder are read either way
    assert ep.sslmode.value == "require" and ep.params["options"].value == "-c statement_timeout=5000"


def test_compose_whole_url_default_and_pg_variables(tmp_path):
    (url, pg) = endpoints(write(tmp_path, "docker-compose.yml", """
        services:
          web:
            image: web:1
            environment:
              DATABASE_URL: ${DATABASE_URL:-postgres://app@pgbouncer:6432/app?sslmode=require}
          worker:
            image: worker:1
            environment:
              PGHOST: ${PGHOST:-pgbouncer}
              PGPORT: "6432"
              PGSSLMODE: ${PGSSLMODE:-verify-full}
    """))
    assert (url.hosts[0].value, url.hosts[0].assumed, url.sslmode.value) == ("pgbouncer", "${DATABASE_URL}", "require")
    assert (pg.hosts[0].value, pg.hosts[0].assumed, pg.hosts[0].origin) == ("pgbouncer", "${PGHOST}", "env")
    assert (pg.sslmode.value, pg.sslmode.assumed) == ("verify-full", "${PGSSLMODE}")


# ------------------------------------------------------------------------------------------------
# Django: os.environ.get("X", "d") and friends


@pytest.mark.parametrize("expression,value,assumed", [
    ('os.environ.get("DB_HOST", "pgbouncer")', "pgbouncer", "DB_HOST"),
    ('os.getenv("DB_HOST", "pgbouncer")', "pgbouncer", "DB_HOST"),
    ('getenv("DB_HOST", default="pgbouncer")', "pgbouncer", "DB_HOST"),
    ('environ.get("DB_HOST", "pgbouncer")', "pgbouncer", "DB_HOST"),
    ('env("DB_HOST", default="pgbouncer")', "pgbouncer", "DB_HOST"),
    ('env.str("DB_HOST", default="pgbouncer")', "pgbouncer", "DB_HOST"),
    ('config("DB_HOST", default="pgbouncer")', "pgbouncer", "DB_HOST"),
    ('config("DB_HOST", "pgbouncer")', "pgbouncer", "DB_HOST"),
    ('str(os.getenv("DB_HOST", "pgbouncer"))', "pgbouncer", "DB_HOST"),
    ('os.environ["DB_HOST"]', None, None),
    ('os.environ.get("DB_HOST")', None, None),
    ('os.environ.get("DB_HOST", "")', None, None),
    ('os.environ.get("DB_HOST", None)', None, None),
    ('env("DB_HOST", "pgbouncer")', None, None),  # django-environ: the second argument is the cast
    ('parser.get("database", "host")', None, None),  # configparser: section, option
])
def test_django_host(tmp_path, expression, value, assumed):
    (ep,) = endpoints(write(tmp_path, "settings.py", f"""
        import os
        DATABASES = {{
            "default": {{
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "shop",
                "HOST": {expression},
                "PORT": int(os.environ.get("DB_PORT", "6432")),
            }},
        }}
    """))
    host = ep.hosts[0]
    if value is None:
        assert isinstance(host.value, Unknown) and host.assumed is None
    else:
        assert (host.value, host.assumed) == (value, assumed)
        line = (tmp_path / "settings.py").read_text().split("\n")[host.span.line - 1]
        assert line[host.span.col - 1:host.span.end_col - 1] == '"pgbouncer"'  # the default's constant
    assert (ep.ports[0].value, ep.ports[0].assumed) == ("6432", "DB_PORT")


def test_django_through_pgbouncer_is_linked_and_path007_found():
    """s02: HOST/PORT from os.environ.get with defaults `pgbouncer`/`6432` reach the compose
    PgBouncer (before: no path, so the PATH007 error was missed)."""
    case = RULES / "PATH007" / "bad_django_environ_defaults_through_pgbouncer"
    report = check(case, ["PATH007"])
    (finding,) = report.findings
    assert finding.code == "PATH007" and str(finding.severity) == "error"
    assert finding.message.startswith("DATABASES['default'] (django; assumed: the defaults of DB_HOST, DB_PORT) -> "
                                      "PgBouncer ")
    (path,) = [p for p in report.paths if p.hops[0].label.startswith("DATABASES['default']")]
    assert [h.kind for h in path.hops] == ["client", "pgbouncer", "postgres"]


# ------------------------------------------------------------------------------------------------
# APP013: a default password is written in the file


def test_app013_a_default_password_is_written_in_the_file(tmp_path):
    write(tmp_path, "application.properties", """
        spring.datasource.url=jdbc:postgresql://${DB_HOST:localhost}:5432/app
        spring.datasource.username=app
        spring.datasource.password=${DB_PASSWORD:Xk93hQpzLm}
    """)
    write(tmp_path, "dev/application.properties", """
        spring.datasource.url=jdbc:postgresql://db.prod.internal:5432/app
        spring.datasource.username=app
        spring.datasource.password=${DB_PASSWORD:changeme}
    """)
    (finding,) = check(tmp_path, ["APP013"]).findings
    assert finding.span.file.endswith("/application.properties") and "dev/" not in finding.span.file
    assert "(spring.datasource.password, as the default of ${DB_PASSWORD})" in finding.message
    # the host is set at deploy: its default (localhost) does not make the client a local one
    assert "to a host set at deploy (${DB_HOST}, default localhost)/app" in finding.message
    assert "Xk93hQpzLm" not in finding.message and "Xk93hQpzLm" not in (finding.fix or "")
    assert finding.fix.startswith("move it out of the file: write ${DB_PASSWORD} with no default")


def test_a_default_password_is_never_printed(tmp_path):
    """A password's default is read (APP013 judges it) but shown as *** everywhere."""
    import json
    import subprocess
    import sys

    write(tmp_path, "application.properties", """
        spring.datasource.url=jdbc:postgresql://db.internal:5432/app?password=${DB_PASS:Qm7vXk93hQpz1}
        spring.datasource.username=app
        spring.datasource.password=${DB_PASSWORD:Qm7vXk93hQpz2}
    """)
    write(tmp_path, "docker-compose.yml", """
        services:
          web:
            image: web:1
            environment:
              DATABASE_URL: ${DATABASE_URL:-postgres://app:Qm7vXk93hQpz3@db.internal:5432/app}
              PGPASSWORD: ${PGPASSWORD:-Qm7vXk93hQpz4}
    """)
    write(tmp_path, "settings.py", """
        import os
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "db.internal",
                                 "USER": "app", "PASSWORD": os.environ.get("DB_PASSWORD", "Qm7vXk93hQpz5")}}
    """)
    outputs = []
    for args in (["check", str(tmp_path), "--no-config", "--include-development"],
                 ["check", str(tmp_path), "--no-config", "-f", "json"]):
        outputs.append(subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True).stdout)
    for name in ("application.properties", "docker-compose.yml", "settings.py"):
        outputs.append(subprocess.run([sys.executable, "-m", "advisor", "dump", str(tmp_path / name)],
                                      capture_output=True, text=True).stdout)
    assert all(outputs) and "APP013" in outputs[0]
    for out in outputs:
        assert "Qm7vXk93hQpz" not in out
    assert json.loads(outputs[1])


@pytest.mark.parametrize("call,var", [
    ("dj_database_url.config(default='postgres://app@pgbouncer:6432/shop?sslmode=require', conn_max_age=600)",
     "DATABASE_URL"),
    ("dj_database_url.config(env='SHOP_DB_URL', default='postgres://app@pgbouncer:6432/shop?sslmode=require')",
     "SHOP_DB_URL"),
    ("dj_database_url.config('SHOP_DB_URL', 'postgres://app@pgbouncer:6432/shop?sslmode=require')", "SHOP_DB_URL"),
])
def test_dj_database_url_config_default_is_assumed(tmp_path, call, var):
    (ep,) = endpoints(write(tmp_path, "settings.py", f"import dj_database_url\nDATABASES = {{'default': {call}}}\n"))
    assert ep.driver == "django" and [(h.value, h.assumed) for h in ep.hosts] == [("pgbouncer", var)]
    assert (ep.ports[0].value, ep.sslmode.value, ep.sslmode.assumed) == ("6432", "require", var)
    assert ep.label() == f"DATABASES['default'] (django; assumed: the default of {var})"


def test_dj_database_url_config_without_a_postgres_default_is_unknown(tmp_path):
    (ep,) = endpoints(write(tmp_path, "settings.py", "import dj_database_url\nDATABASES = {'default': "
                                                     "dj_database_url.config(default='sqlite:///db.sqlite3')}\n"))
    assert ep.form == "unknown" and isinstance(ep.hosts[0].value, Unknown)
