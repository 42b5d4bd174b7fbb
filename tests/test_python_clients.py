"""Clients configured in Python code, read with `ast` and never executed (audit15 D2):
SQLAlchemy `create_engine()`/`create_async_engine()` and psycopg_pool
`ConnectionPool()`/`AsyncConnectionPool()` calls in a .py module.

tests/python_clients/ holds the audit's files as they were found (s03's billing/db.py, s06's
worker/db.py, the repros r1a, r1b, r1c)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from advisor.loaders import detect_kind
from advisor.loaders.client import load
from advisor.model import Unknown

ROOT = Path(__file__).resolve().parent.parent
AUDIT = Path(__file__).resolve().parent / "python_clients"


def load_text(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return load(str(path))


def only(doc):
    assert len(doc.model.endpoints) == 1, [e.name for e in doc.model.endpoints]
    return doc.model.endpoints[0]


def at(path: Path, span) -> str:
    """The source text a span starts at."""
    return path.read_text().split("\n")[span.line - 1][span.col - 1:]


# ------------------------------------------------------------------------------------------------
# the audit's files


def test_r1a_literal_url_and_pool_size():
    path = AUDIT / "r1a" / "db.py"
    assert detect_kind(str(path), path.read_text()) == "client"
    doc = load(str(path))
    ep = only(doc)
    assert doc.meta["format"] == "python"
    assert ep.driver == "sqlalchemy" and ep.dbapi == "psycopg2" and ep.name == "engine"
    assert [h.value for h in ep.hosts] == ["pg-haproxy"] and [p.value for p in ep.ports] == ["5000"]
    assert ep.dbname.value == "billing"
    assert ep.pool.size.value == 10
    # create_engine's defaults: pool_recycle -1 (never), no pre-ping
    assert ep.pool.max_lifetime.value == math.inf and ep.pool.max_lifetime.origin == "default"
    assert ep.pool.validation.value is False and ep.pool.validation.origin == "default"
    # spans point into the URL literal and at the keyword's value
    assert at(path, ep.hosts[0].span).startswith("pg-haproxy:5000")
    assert at(path, ep.pool.size.span).startswith("10)")
    assert ep.span.line == 2 and at(path, ep.span).startswith("create_engine(")
    assert ep.password.secret and ep.password.raw == "***"


def test_r1b_f_string_url_is_read_part_by_part():
    """f"postgresql+psycopg2://u:p@{DB_HOST}:5000/billing" with DB_HOST = os.getenv("DB_HOST",
    "pg-haproxy"): the host is the default, assumed, spanned inside it; the rest of the URL is the
    f-string's literal text, spanned there."""
    path = AUDIT / "r1b" / "db.py"
    ep = only(load(str(path)))
    assert ep.driver == "sqlalchemy" and ep.form == "sqlalchemy" and ep.dbapi == "psycopg2"
    assert [h.value for h in ep.hosts] == ["pg-haproxy"] and ep.hosts[0].assumed == "DB_HOST"
    assert at(path, ep.hosts[0].span).startswith('pg-haproxy")')
    assert [p.value for p in ep.ports] == ["5000"] and at(path, ep.ports[0].span).startswith("5000/billing")
    assert ep.ports[0].assumed is None and ep.dbname.value == "billing"
    assert ep.password.secret and ep.password.raw == "***"
    assert ep.pool.size.value == 10 and ep.pool.max_lifetime.value == math.inf


def test_r1c_environ_url_is_unknown_and_named():
    ep = only(load(str(AUDIT / "r1c" / "db.py")))
    assert ep.form == "unknown" and isinstance(ep.hosts[0].value, Unknown)
    assert ep.hosts[0].value.text == 'os.environ["DATABASE_URL"]'
    # where it connects is not known: neither is what the URL may say about TLS or timeouts
    assert isinstance(ep.sslmode.value, Unknown) and isinstance(ep.connect_timeout.value, Unknown)
    assert ep.pool.size.value == 10


def test_s03_billing_engine_options_and_connect_args():
    path = AUDIT / "s03" / "db.py"
    doc = load(str(path))
    ep = only(doc)
    # DATABASE_URL is an f-string of os.getenv defaults and os.environ["BILLING_DB_PASSWORD"]
    assert ep.driver == "sqlalchemy" and ep.form == "sqlalchemy"
    assert [h.value for h in ep.hosts] == ["pg-haproxy.billing.internal"] and ep.hosts[0].assumed == "BILLING_DB_HOST"
    assert ep.user.value == "billing" and ep.user.assumed == "BILLING_DB_USER"
    assert isinstance(ep.password.value, Unknown) and ep.password.raw == "***"
    assert [p.value for p in ep.ports] == ["5000"] and ep.dbname.value == "billing"
    assert ep.pool.max_lifetime.value == 3600 and at(path, ep.pool.max_lifetime.span).startswith("3600,")
    assert ep.pool.validation.value is False and ep.pool.validation.origin == "default"
    assert ep.pool.size.value == 10
    # connect_args are psycopg2.connect() keywords: libpq's, over the URL's
    assert ep.connect_timeout.value == 10 and at(path, ep.connect_timeout.span).startswith("10,")
    assert ep.params["application_name"].value == "billing-worker"
    names = {s.name for s in doc.settings}
    assert {"pool_recycle", "pool_size", "connect_args.connect_timeout", "url"} <= names


def test_s06_psycopg_pool_checked():
    path = AUDIT / "s06" / "db.py"
    doc = load(str(path))
    ep = only(doc)
    assert ep.driver == "psycopg_pool" and ep.form == "unknown" and ep.name == "pool"
    assert ep.hosts[0].value.text == 'os.environ["INGEST_DSN"]'
    assert len(ep.ports) == 1 and isinstance(ep.ports[0].value, Unknown)  # not libpq's 5432
    assert ep.pool.max_lifetime.value == 1800 and ep.pool.max_idle.value == 300
    assert ep.pool.validation.value is True and ep.pool.validation.raw == "ConnectionPool.check_connection"
    assert ep.pool.size.value == 10
    assert at(path, ep.pool.max_lifetime.span).startswith("1800,")


def test_an_unknown_url_reaches_no_server_on_5432(tmp_path):
    """s06: os.environ["INGEST_DSN"] beside a PostgreSQL on 5432 is no path to it (the worker's DSN
    is the PgBouncer its compose file sets)."""
    (tmp_path / "db.py").write_text((AUDIT / "s06" / "db.py").read_text())
    (tmp_path / "postgresql.conf").write_text("port = 5432\nlisten_addresses = '*'\n")
    proc = subprocess.run([sys.executable, "-m", "advisor", "path", "."], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "pool connects to port 5432" not in proc.stdout, proc.stdout
    assert "0 connection paths" in proc.stdout, proc.stdout


def test_dump_shows_the_endpoint():
    proc = subprocess.run([sys.executable, "-m", "advisor", "dump", str(AUDIT / "s03" / "db.py")],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    (ep,) = out["model"]["endpoints"]
    assert ep["driver"] == "sqlalchemy" and ep["pool"]["max_lifetime"]["value"] == 3600
    assert "BILLING_DB_PASSWORD" not in proc.stdout or "***" in proc.stdout


# ------------------------------------------------------------------------------------------------
# forms


def test_psycopg_pool_defaults_and_kwargs(tmp_path):
    doc = load_text(tmp_path, "db.py", """
        import psycopg_pool

        pool = psycopg_pool.ConnectionPool(
            "host=pgbouncer port=6432 dbname=app",
            kwargs={"keepalives_idle": 30, "sslmode": "require", "prepare_threshold": None, "autocommit": True},
        )
    """)
    ep = only(doc)
    assert ep.driver == "psycopg_pool" and ep.form == "keyword"
    assert ep.pool.max_lifetime.value == 3600 and ep.pool.max_lifetime.origin == "default"
    assert ep.pool.max_idle.value == 600 and ep.pool.validation.value is False
    assert ep.keepalive.idle.value == 30 and ep.sslmode.value == "require"
    assert "autocommit" not in ep.params  # a psycopg keyword, not libpq's
    assert ep.prepares.threshold.value is None  # prepare_threshold=None: never prepares


def test_async_pool_and_check_none(tmp_path):
    ep = only(load_text(tmp_path, "db.py", """
        from psycopg_pool import AsyncConnectionPool as Pool
        POOL = Pool(conninfo="postgresql://app@db:5432/app", check=None, max_lifetime=300.0)
    """))
    assert ep.driver == "psycopg_pool" and ep.name == "POOL"
    assert ep.pool.validation.value is False and ep.pool.max_lifetime.value == 300


def test_module_constant_url_and_async_engine(tmp_path):
    path = tmp_path / "db.py"
    doc = load_text(tmp_path, "db.py", """
        from sqlalchemy.ext.asyncio import create_async_engine

        DATABASE_URL = "postgresql+asyncpg://app@db:5432/app"
        RECYCLE = 1800

        engine = create_async_engine(DATABASE_URL, pool_recycle=RECYCLE, pool_pre_ping=True)
    """)
    ep = only(doc)
    assert ep.dbapi == "asyncpg" and ep.hosts[0].value == "db"
    assert at(path, ep.hosts[0].span).startswith("db:5432")  # in the constant's literal
    assert ep.pool.max_lifetime.value == 1800 and ep.pool.validation.value is True
    assert ep.prepares is not None and ep.prepares.read


def test_sqlalchemy_module_call_and_connect_args_override_url(tmp_path):
    ep = only(load_text(tmp_path, "db.py", """
        import sqlalchemy as sa

        engine = sa.create_engine(
            "postgresql://app@db/app?sslmode=disable",
            connect_args={"sslmode": "require", "keepalives_idle": 60, "options": "-c statement_timeout=5s"},
        )
    """))
    assert ep.driver == "sqlalchemy" and ep.sslmode.value == "require"
    assert ep.keepalive.idle.value == 60 and ep.params["options"].value == "-c statement_timeout=5s"


def test_null_pool_has_no_pool(tmp_path):
    ep = only(load_text(tmp_path, "db.py", """
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool
        engine = create_engine("postgresql://app@pgbouncer:6432/app", poolclass=NullPool, pool_recycle=3600)
    """))
    assert ep.pool is None


def test_splatted_options_leave_unwritten_settings_unknown(tmp_path):
    ep = only(load_text(tmp_path, "db.py", """
        from sqlalchemy import create_engine
        OPTS = {"pool_recycle": 300}
        engine = create_engine("postgresql://app@db/app", pool_size=5, **OPTS)
    """))
    assert isinstance(ep.pool.max_lifetime.value, Unknown) and isinstance(ep.pool.validation.value, Unknown)
    assert ep.pool.size.value == 5


def test_env_reads_are_unknown_or_assumed(tmp_path):
    ep = only(load_text(tmp_path, "db.py", """
        import os
        from sqlalchemy import create_engine
        engine = create_engine(os.getenv("DATABASE_URL"), pool_recycle=int(os.environ["RECYCLE"]))
    """))
    assert ep.hosts[0].value.text == 'os.getenv("DATABASE_URL")'
    assert isinstance(ep.pool.max_lifetime.value, Unknown)


def test_environment_defaults_are_assumed(tmp_path):
    """os.getenv("X", "literal") / os.environ.get("X", "literal"): the default, assumed (the same
    reading as Django's settings, advisor.loaders.clients.django.env_default)."""
    path = tmp_path / "db.py"
    doc = load_text(tmp_path, "db.py", """
        import os
        from sqlalchemy import create_engine
        DB_URL = os.environ.get("DATABASE_URL", "postgresql://app@pg-haproxy:5000/app")
        engine = create_engine(DB_URL, pool_recycle=int(os.getenv("RECYCLE", "3600")))
    """)
    ep = only(doc)
    assert ep.hosts[0].value == "pg-haproxy" and ep.hosts[0].assumed == "DATABASE_URL"
    assert at(path, ep.hosts[0].span).startswith("pg-haproxy:5000")  # inside the default
    assert "assumed: the default of DATABASE_URL" in ep.target()
    assert ep.pool.max_lifetime.value == 3600 and ep.pool.max_lifetime.assumed == "RECYCLE"


def test_attribute_target_and_module_call(tmp_path):
    doc = load_text(tmp_path, "db.py", """
        import os
        import psycopg_pool

        class Store:
            def __init__(self):
                self.pool = psycopg_pool.AsyncConnectionPool(os.environ["DSN"], max_idle=60)
                self.other = psycopg_pool.ConnectionPool()  # PG* variables: not read
    """)
    ep = only(doc)
    assert ep.name == "self.pool" and ep.driver == "psycopg_pool" and ep.pool.max_idle.value == 60


def test_two_calls_two_endpoints(tmp_path):
    doc = load_text(tmp_path, "db.py", """
        from sqlalchemy import create_engine
        primary = create_engine("postgresql://app@primary/app", pool_recycle=300)
        replica = create_engine("postgresql://app@replica/app")
        cache = create_engine("sqlite:///cache.db")
    """)
    assert [(e.name, e.hosts[0].value) for e in doc.model.endpoints] == [("primary", "primary"), ("replica", "replica")]


# ------------------------------------------------------------------------------------------------
# which files are claimed


@pytest.mark.parametrize("text", [
    "import sqlalchemy\nengine = sqlalchemy.create_engine('sqlite://')\n",
    "from sqlalchemy import create_engine\nengine = create_engine('sqlite:///x.db')\n",
    "from sqlalchemy import create_engine\n# create_engine('postgresql://a@b/c')\n",
    "def test_pool():\n    pool = ConnectionPool('host=db')\n",  # no psycopg_pool import
    "import os\nprint(os.environ['DATABASE_URL'])\n",
    "x = 'postgres://a@b/c'\n",
])
def test_not_claimed(tmp_path, text):
    path = tmp_path / "module.py"
    path.write_text(text)
    assert detect_kind(str(path), text) != "client"


@pytest.mark.parametrize("text", [
    "from sqlalchemy import create_engine\ne = create_engine('postgresql://h/db')\n",
    "import sqlalchemy as sa\ne = sa.create_engine(URL)\n",
    "from sqlalchemy.ext.asyncio import create_async_engine\ne = create_async_engine(\n    os.environ['URL'])\n",
    "from psycopg_pool import ConnectionPool\np = ConnectionPool(os.environ['DSN'])\n",
    "import psycopg_pool\np = psycopg_pool.AsyncConnectionPool('host=db')\n",
])
def test_claimed(tmp_path, text):
    path = tmp_path / "module.py"
    path.write_text(text)
    assert detect_kind(str(path), text) == "client"


def test_syntax_error_in_a_claimed_module(tmp_path):
    doc = load_text(tmp_path, "db.py", "from sqlalchemy import create_engine\ne = create_engine('postgresql://h/db'\n")
    assert [d.kind for d in doc.diagnostics] == ["syntax-error"]
    assert "module" in doc.diagnostics[0].message and doc.model.endpoints == []


def test_django_settings_with_an_engine_reads_both(tmp_path):
    doc = load_text(tmp_path, "settings.py", """
        from sqlalchemy import create_engine
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "db"}}
        reporting = create_engine("postgresql://app@warehouse/app")
    """)
    assert doc.meta["format"] == "django"
    assert [e.driver for e in doc.model.endpoints] == ["django", "sqlalchemy"]
