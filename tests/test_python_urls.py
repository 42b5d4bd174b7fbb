"""Connection strings Python code builds from parts (advisor.loaders.clients.pyurl: f-strings,
str.format, %, +, SQLAlchemy's URL.create and make_url) and plain connections made in code
(psycopg.connect, psycopg2.connect, asyncpg.connect: advisor.loaders.clients.pycode).

tests/python_clients/s03_scenario/ is audit 15's scenario s03 as it was laid out (billing/,
haproxy/, patroni/): its SQLAlchemy URL is an f-string of os.getenv defaults and a password read
from os.environ."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from advisor.loaders import detect_kind
from advisor.loaders.client import load
from advisor.model import Unknown

ROOT = Path(__file__).resolve().parent.parent
S03 = Path(__file__).resolve().parent / "python_clients" / "s03_scenario"
SECRET = "Xq7s3cretPw"  # a password written in code: it must appear in no output


def load_text(tmp_path: Path, text: str, name: str = "db.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return load(str(path)), path


def only(doc):
    assert len(doc.model.endpoints) == 1, [e.name for e in doc.model.endpoints]
    return doc.model.endpoints[0]


def at(path: Path, span) -> str:
    return path.read_text().split("\n")[span.line - 1][span.col - 1:]


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


def findings(folder: Path) -> list[tuple[str, str, str, int]]:
    r = pgpath("check", ".", "--format", "json", cwd=folder)
    return sorted((f["code"], f["severity"], f["span"]["file"].removeprefix("./"), f["span"]["line"])
                  for f in json.loads(r.stdout)["findings"])


# ------------------------------------------------------------------------------------------------
# audit 15, scenario s03: HAProxy 30 min in front of Patroni; SQLAlchemy pool_recycle 3600, no pre-ping


PATH002_S03 = ("PATH002", "warning", "billing/billing/db.py", 17)  # at pool_recycle=3600


def test_s03_as_laid_out_reads_the_engine_but_links_it_to_nothing(tmp_path):
    """billing/billing/db.py names pg-haproxy.billing.internal:5000, which no file names, and port
    5000 is listened on in a sibling folder: the client is read (its TLS is judged), on no path."""
    folder = tmp_path / "s03"
    shutil.copytree(S03, folder)
    got = findings(folder)
    assert ("APP001", "info", "billing/billing/db.py", 13) in got
    assert PATH002_S03 not in got
    out = pgpath("path", ".", cwd=folder).stdout
    assert ("client on no path: db.py: engine: engine connects to pg-haproxy.billing.internal:5000/billing "
            "(assumed: the default of BILLING_DB_HOST), which no file here listens on") in out


def test_s03_declared_or_co_located_finds_the_pool_outliving_haproxy(tmp_path):
    """The audit's expected PATH002 warning (pool_recycle 3600 s > HAProxy's 30 min, no pre_ping),
    with the deployment declared, and with the three files in one folder (linked by port 5000,
    which only the f-string says)."""
    folder = tmp_path / "s03"
    shutil.copytree(S03, folder)
    (folder / "pgpath.yaml").write_text(textwrap.dedent("""
        deployments:
          - name: billing
            hops:
              - client: {file: billing/billing/db.py, variable: engine}
              - haproxy: {file: haproxy/haproxy.cfg, proxy: primary}
              - postgres: {file: patroni/patroni.yml}
    """))
    assert PATH002_S03 in findings(folder)
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in ("billing/billing/db.py", "haproxy/haproxy.cfg", "patroni/patroni.yml"):
        shutil.copy(S03 / f, flat)
    got = findings(flat)
    assert ("PATH002", "warning", "db.py", 17) in got
    text = pgpath("check", ".", cwd=flat).stdout
    assert "pool_recycle=3600 (3600 s)) ≥ HAProxy listen primary timeout client/server 30m = 1800 s" in text
    assert "BILLING_DB_PASSWORD" not in text


# ------------------------------------------------------------------------------------------------
# f-strings


def test_f_string_of_constants_and_defaults(tmp_path):
    doc, path = load_text(tmp_path, """
        import os
        from sqlalchemy import create_engine

        HOST = "pg.internal"
        PORT = 6432
        DB = os.environ.get("APP_DB", "orders")
        USER = "app"

        engine = create_engine(f"postgresql+psycopg://{USER}@{HOST}:{PORT}/{DB}?sslmode=require", pool_recycle=300)
    """)
    ep = only(doc)
    assert ep.dbapi == "psycopg" and [h.value for h in ep.hosts] == ["pg.internal"] and ep.hosts[0].assumed is None
    assert at(path, ep.hosts[0].span).startswith('pg.internal"')  # in the constant's literal
    assert [p.value for p in ep.ports] == ["6432"] and at(path, ep.ports[0].span).startswith("6432")
    assert ep.dbname.value == "orders" and ep.dbname.assumed == "APP_DB"
    assert ep.sslmode.value == "require" and at(path, ep.sslmode.span).startswith("require?") is False
    assert at(path, ep.sslmode.span).startswith('require", pool_recycle')  # in the f-string's literal text
    assert ep.pool.max_lifetime.value == 300


@pytest.mark.parametrize("part, attr", [("host", "hosts"), ("port", "ports"), ("db", "dbname"), ("user", "user")])
def test_f_string_unknown_part_stays_unknown(tmp_path, part, attr):
    """Each part read from os.environ[...] (no default) is unknown, named by its variable; the
    others are read."""
    parts = {"host": '"pg.internal"', "port": "5432", "db": '"app"', "user": '"app"'}
    parts[part] = f'os.environ["APP_{part.upper()}"]'
    doc, _ = load_text(tmp_path, f"""
        import os
        from sqlalchemy import create_engine
        HOST = {parts["host"]}
        PORT = {parts["port"]}
        DB = {parts["db"]}
        USER = {parts["user"]}
        engine = create_engine(f"postgresql://{{USER}}@{{HOST}}:{{PORT}}/{{DB}}")
    """)
    ep = only(doc)
    value = getattr(ep, attr)
    value = value[0] if isinstance(value, list) else value
    assert isinstance(value.value, Unknown) and f"APP_{part.upper()}" in value.value.text
    known = {"hosts": "pg.internal", "dbname": "app", "user": "app"}
    for other, expected in known.items():
        if other != attr:
            v = getattr(ep, other)
            assert (v[0] if isinstance(v, list) else v).value == expected


def test_unknown_host_links_nothing_even_on_a_known_port(tmp_path):
    """f"...@{os.environ['DB_HOST']}:5432/app" beside a PostgreSQL on 5432: where it points is
    filled in where it runs, so no path (as for a URL unknown as a whole)."""
    (tmp_path / "db.py").write_text(textwrap.dedent("""
        import os
        from sqlalchemy import create_engine
        engine = create_engine(f"postgresql://app@{os.environ['DB_HOST']}:5432/app", pool_recycle=7200)
    """).lstrip())
    (tmp_path / "postgresql.conf").write_text("port = 5432\nlisten_addresses = '*'\n")
    out = pgpath("path", ".", cwd=tmp_path).stdout
    assert "0 connection paths" in out, out
    assert "where it points is not known" in out, out
    # the same with the host known: linked by the port
    (tmp_path / "db.py").write_text((tmp_path / "db.py").read_text().replace("{os.environ['DB_HOST']}", "db"))
    assert "1 connection path" in pgpath("path", ".", cwd=tmp_path).stdout


def test_f_string_password_is_secret_everywhere(tmp_path):
    """A password part written in the module is secret in every output, and APP013 points at it."""
    (tmp_path / "db.py").write_text(textwrap.dedent(f"""
        from sqlalchemy import create_engine
        PASSWORD = "{SECRET}"
        HOST = "billing-db.prod.internal"
        engine = create_engine(f"postgresql+psycopg2://billing:{{PASSWORD}}@{{HOST}}:5432/billing")
    """).lstrip())
    for args in (("check", "."), ("check", ".", "--format", "json"), ("check", ".", "--format", "sarif"),
                 ("path", "."), ("dump", "db.py")):
        r = pgpath(*args, cwd=tmp_path)
        assert SECRET not in r.stdout + r.stderr, args
    doc = load(str(tmp_path / "db.py"))
    ep = only(doc)
    assert ep.password.secret and ep.password.raw == "***"
    assert at(tmp_path / "db.py", ep.password.span).startswith(SECRET)
    assert all(SECRET not in json.dumps(s.to_dict()) for s in doc.settings)
    app013 = json.loads(pgpath("check", ".", "--format", "json", "--select", "APP013", cwd=tmp_path).stdout)["findings"]
    assert [f["span"]["line"] for f in app013] == [2]


def test_f_string_of_another_database_is_no_client_and_unknown_scheme_stays_unknown(tmp_path):
    doc, _ = load_text(tmp_path, """
        from sqlalchemy import create_engine
        PATH = "/tmp/x.db"
        cache = create_engine(f"sqlite:///{PATH}")
        other = create_engine(f"{SCHEME}://app@db/app")
    """)
    ep = only(doc)
    assert ep.name == "other" and ep.form == "unknown" and isinstance(ep.hosts[0].value, Unknown)


# ------------------------------------------------------------------------------------------------
# str.format, %, +, URL.create, make_url


@pytest.mark.parametrize("expr", [
    '"postgresql://{}@{}:{}/{}".format(USER, HOST, PORT, DB)',
    '"postgresql://{user}@{host}:{port}/{db}".format(user=USER, host=HOST, port=PORT, db=DB)',
    '"postgresql://{0}@{1}:{2}/{3}".format(USER, HOST, PORT, DB)',
    '"postgresql://%s@%s:%d/%s" % (USER, HOST, PORT, DB)',
    '"postgresql://%(u)s@%(h)s:%(p)s/%(d)s" % {"u": USER, "h": HOST, "p": PORT, "d": DB}',
    '"postgresql://" + USER + "@" + HOST + ":" + str(PORT) + "/" + DB',
    'URL.create("postgresql+psycopg2", username=USER, host=HOST, port=PORT, database=DB)',
    'URL.create("postgresql+psycopg2", USER, None, HOST, PORT, DB)',
    'make_url(f"postgresql://{USER}@{HOST}:{PORT}/{DB}")',
])
def test_composition_forms(tmp_path, expr):
    doc, path = load_text(tmp_path, f"""
        import os
        from sqlalchemy import create_engine, make_url
        from sqlalchemy.engine import URL
        USER = "app"
        HOST = os.getenv("DB_HOST", "pgbouncer.internal")
        PORT = 6432
        DB = "orders"
        engine = create_engine({expr})
    """)
    ep = only(doc)
    assert [h.value for h in ep.hosts] == ["pgbouncer.internal"] and ep.hosts[0].assumed == "DB_HOST"
    assert at(path, ep.hosts[0].span).startswith('pgbouncer.internal"')
    assert [p.value for p in ep.ports] == ["6432"] and ep.dbname.value == "orders" and ep.user.value == "app"


@pytest.mark.parametrize("expr, attr", [
    ('"postgresql://app@{}:5432/app".format(os.environ["H"])', "hosts"),
    ('"postgresql://app@{host}:5432/app".format(**settings)', "hosts"),
    ('"postgresql://app@%s:5432/app" % os.environ["H"]', "hosts"),
    ('"postgresql://app@db.internal:%s/app" % (get_port(),)', "ports"),
    ('"postgresql://app@" + os.environ["H"] + ":5432/app"', "hosts"),
    ('URL.create("postgresql", username="app", host=os.environ["H"], port=5432)', "hosts"),
    ('URL.create("postgresql", username="app", host="db.internal", port=settings.port)', "ports"),
    ('URL.create("postgresql", username="app", host="db.internal", database=cfg["db"])', "dbname"),
])
def test_composition_unknown_part(tmp_path, expr, attr):
    doc, _ = load_text(tmp_path, f"""
        import os
        from sqlalchemy import create_engine
        from sqlalchemy.engine import URL
        engine = create_engine({expr})
    """)
    ep = only(doc)
    value = getattr(ep, attr)
    value = value[0] if isinstance(value, list) else value
    assert isinstance(value.value, Unknown)
    if attr == "hosts":  # and so the port names no listener
        assert all(isinstance(p.value, Unknown) for p in ep.ports)
    else:
        assert ep.hosts[0].value == "db.internal"


def test_url_create_password_query_and_escaping(tmp_path):
    doc, path = load_text(tmp_path, f"""
        import os
        import sqlalchemy as sa
        url = sa.engine.URL.create(
            drivername="postgresql+psycopg2",
            username="app",
            password="{SECRET}@x",
            host="db.internal",
            port=5432,
            database="app",
            query={{"sslmode": "verify-full", "keepalives_idle": os.getenv("KA", "60")}},
        )
        engine = sa.create_engine(url, pool_pre_ping=True)
    """)
    ep = only(doc)
    assert ep.hosts[0].value == "db.internal" and ep.user.value == "app" and ep.dbname.value == "app"
    assert ep.password.secret and ep.password.raw == "***"
    assert ep.sslmode.value == "verify-full" and at(path, ep.sslmode.span).startswith('verify-full"')
    assert ep.keepalive.idle.value == 60 and ep.keepalive.idle.assumed == "KA"
    assert all(SECRET not in json.dumps(s.to_dict()) for s in doc.settings)
    assert SECRET not in json.dumps(ep.to_dict())


# ------------------------------------------------------------------------------------------------
# plain connections: psycopg, psycopg2, asyncpg


def test_psycopg_connect_keywords_over_the_conninfo(tmp_path):
    doc, path = load_text(tmp_path, """
        import psycopg
        conn = psycopg.connect("host=pg.internal port=5432 dbname=app sslmode=disable",
                               sslmode="verify-full", keepalives_idle=60, prepare_threshold=None, autocommit=True)
    """)
    ep = only(doc)
    assert ep.driver == "libpq" and ep.dbapi == "psycopg" and ep.pool is None
    assert ep.hosts[0].value == "pg.internal" and ep.sslmode.value == "verify-full"
    assert at(path, ep.sslmode.span).startswith('"verify-full"')
    assert ep.keepalive.idle.value == 60
    assert ep.prepares.threshold.value is None  # prepare_threshold=None: never prepares
    assert "autocommit" not in ep.params


def test_psycopg2_connect_keyword_arguments_and_database_alias(tmp_path):
    doc, _ = load_text(tmp_path, """
        import psycopg2
        conn = psycopg2.connect(host="pg.internal", port=5432, database="app", user="app",
                                options="-c statement_timeout=5min", connect_timeout=None)
    """)
    ep = only(doc)
    assert ep.dbapi == "psycopg2" and ep.form == "keyword" and ep.pool is None and ep.prepares is None
    assert ep.dbname.value == "app"  # psycopg2's make_dsn: database is dbname
    assert ep.session_setting("statement_timeout").value == "5min"
    assert ep.keepalive.enabled.value is True and ep.keepalive.idle.origin == "os-default"


def test_psycopg3_has_no_database_alias(tmp_path):
    ep = only(load_text(tmp_path, """
        from psycopg import Connection
        conn = Connection.connect(host="pg.internal", database="app")
    """)[0])
    assert ep.dbapi == "psycopg" and ep.dbname is None


@pytest.mark.parametrize("ssl, expected", [
    ('ssl=True', "verify-full"), ('ssl=False', "disable"), ('ssl="require"', "require"), ("", "prefer"),
])
def test_asyncpg_connect_tls_and_no_keepalive(tmp_path, ssl, expected):
    doc, _ = load_text(tmp_path, f"""
        import asyncpg
        async def main():
            conn = await asyncpg.connect(host="pg.internal", port=5432, user="app", database="app"{', ' + ssl if ssl else ''})
    """)
    ep = only(doc)
    assert ep.driver == "asyncpg" and ep.name == "conn" and ep.pool is None
    assert ep.sslmode.value == expected and ep.dbname.value == "app"
    assert ep.keepalive.enabled.value is False  # asyncpg sets no SO_KEEPALIVE
    assert ep.connect_timeout.value == 60


def test_asyncpg_dsn_sslmode_and_unknown_ssl_context(tmp_path):
    doc, _ = load_text(tmp_path, """
        import ssl
        from asyncpg import connect
        CTX = ssl.create_default_context(cafile="/etc/ca.pem")
        a = connect("postgresql://app@pg.internal/app?sslmode=verify-ca&sslrootcert=/etc/ca.pem")
        b = connect("postgresql://app@pg.internal/app?sslmode=disable", ssl=CTX)
    """)
    a, b = doc.model.endpoints
    assert a.sslmode.value == "verify-ca" and a.sslrootcert.value == "/etc/ca.pem"
    assert isinstance(b.sslmode.value, Unknown)  # ssl= wins over the DSN's sslmode


def test_plain_connection_with_unknown_target(tmp_path):
    doc, _ = load_text(tmp_path, """
        import os
        import psycopg2
        a = psycopg2.connect(os.environ["DSN"])
        b = psycopg2.connect(**settings.DATABASE)
    """)
    for ep in doc.model.endpoints:
        assert isinstance(ep.hosts[0].value, Unknown) and isinstance(ep.sslmode.value, Unknown)
        assert all(isinstance(p.value, Unknown) for p in ep.ports)


def test_plain_connections_see_single_connection_rules_only(tmp_path):
    """Behind an NLB and an HAProxy whose 30 min timeout is shorter than the server's
    statement_timeout: PATH001 (no keepalives: asyncpg's fix is at the server), PATH003 and
    PATH004 see plain connections; no pool finding (PATH002, APP004, APP007) is made up."""
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import asyncpg
        import psycopg2
        conn = psycopg2.connect("host=pg.internal port=5000 dbname=app sslmode=require")
        async def main():
            aconn = await asyncpg.connect("postgresql://app@pg.internal:5000/app", ssl="require")
    """).lstrip())
    (tmp_path / "haproxy.cfg").write_text(textwrap.dedent("""
        defaults
            mode tcp
            timeout connect 4s
            timeout client 30m
            timeout server 30m
        listen pg
            bind *:5000
            server pg1 10.0.0.5:5432 check
    """).lstrip())
    (tmp_path / "postgresql.conf").write_text("listen_addresses = '*'\nport = 5432\nssl = off\n"
                                              "statement_timeout = '2h'\n")
    (tmp_path / "pgpath.yaml").write_text(textwrap.dedent("""
        deployments:
          - name: sync
            hops:
              - client: {file: app.py, variable: conn}
              - aws-nlb: {}
              - haproxy: {file: haproxy.cfg, proxy: pg}
              - postgres: {file: postgresql.conf}
          - name: async
            hops:
              - client: {file: app.py, variable: aconn}
              - aws-nlb: {}
              - haproxy: {file: haproxy.cfg, proxy: pg}
              - postgres: {file: postgresql.conf}
    """).lstrip())
    r = pgpath("check", ".", "--format", "json", cwd=tmp_path)
    got = json.loads(r.stdout)["findings"]
    codes = {f["code"] for f in got}
    assert not codes & {"PATH002", "APP004", "APP007", "PATH005"}, codes
    assert {"PATH001", "PATH003", "PATH004"} <= codes, codes
    path001 = [f for f in got if f["code"] == "PATH001" and "aconn" in f["message"]]
    assert path001 and all("keepalives_idle" not in f["fix"].split(";")[0] or "tcpka" in f["fix"] for f in path001)
    assert any("ssl=require" in f["message"] for f in got if f["code"] == "PATH004")


# ------------------------------------------------------------------------------------------------
# which files are claimed


@pytest.mark.parametrize("text", [
    "import psycopg2\nconn = psycopg2.connect('dbname=app')\n",
    "import psycopg\nconn = psycopg.connect(os.environ['DSN'])\n",
    "from psycopg import Connection\nconn = Connection.connect(host='db')\n",
    "import asyncpg\nasync def f():\n    c = await asyncpg.connect(host='db')\n",
    "from asyncpg import connect\nc = connect('postgresql://db/app')\n",
])
def test_plain_connections_claimed(tmp_path, text):
    path = tmp_path / "module.py"
    path.write_text(text)
    assert detect_kind(str(path), text) == "client"


@pytest.mark.parametrize("text", [
    "import psycopg2\nprint(psycopg2.__version__)\n",
    "import sqlite3\nconn = sqlite3.connect('x.db')\n",
    "import asyncpg\n# conn = await asyncpg.connect(host='db')\n",
])
def test_plain_connections_not_claimed(tmp_path, text):
    path = tmp_path / "module.py"
    path.write_text(text)
    assert detect_kind(str(path), text) != "client"


def test_plain_psycopg_through_transaction_pooling(tmp_path):
    """What PgBouncer does to one connection's prepared statements and startup parameters applies
    to a plain connection too (PATH006, PATH007); prepare_threshold=None prepares nothing."""
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import psycopg
        conn = psycopg.connect("host=pgbouncer port=6432 dbname=app user=app options='-c statement_timeout=30s'")
        raw = psycopg.connect("host=pgbouncer port=6432 dbname=app user=app", prepare_threshold=None)
    """).lstrip())
    (tmp_path / "pgbouncer.ini").write_text("[databases]\napp = host=db port=5432 dbname=app\n[pgbouncer]\n"
                                            "listen_addr = *\nlisten_port = 6432\npool_mode = transaction\n"
                                            "max_prepared_statements = 0\n")
    got = json.loads(pgpath("check", ".", "--format", "json", cwd=tmp_path).stdout)["findings"]
    assert sorted((f["code"], f["span"]["line"]) for f in got if f["code"].startswith("PATH")) == [
        ("PATH006", 2), ("PATH007", 2)]
    (path006,) = [f for f in got if f["code"] == "PATH006"]
    assert "prepare_threshold=None in psycopg.connect()" in path006["fix"]


def test_a_password_value_with_url_delimiters_spills_into_nothing_shown(tmp_path):
    """"postgresql://app:{}@{}/app".format("p@ss/wd", HOST) splits at run time after "p": the
    parts the rest of the password lands in (host "ss", database "wd@...") are secret too."""
    (tmp_path / "db.py").write_text(textwrap.dedent(f"""
        from sqlalchemy import create_engine
        HOST = "db.internal"
        engine = create_engine("postgresql://app:{{}}@{{}}/app".format("{SECRET}@zz/qq", HOST))
    """).lstrip())
    ep = only(load(str(tmp_path / "db.py")))
    assert isinstance(ep.hosts[0].value, Unknown) and ep.hosts[0].value.text == "***"
    for args in (("dump", "db.py"), ("check", "."), ("path", ".")):
        out = pgpath(*args, cwd=tmp_path).stdout
        assert SECRET not in out and "zz" not in out and "qq" not in out, args


# ------------------------------------------------------------------------------------------------
# asyncpg.create_pool: a pool that closes connections idle max_inactive_connection_lifetime


def test_asyncpg_create_pool_plan(tmp_path):
    doc, _ = load_text(tmp_path, """
        import asyncpg
        from asyncpg import create_pool
        async def main():
            a = await asyncpg.create_pool("postgresql://app@pg.internal/app", max_size=20)
            b = await create_pool(host="pg.internal", max_inactive_connection_lifetime=0, ssl=True)
    """)
    a, b = doc.model.endpoints
    assert a.driver == "asyncpg" and a.pool.library == "asyncpg" and a.pool.size.value == 20
    assert a.pool.max_idle.value == 300 and a.pool.max_idle.origin == "default" and a.pool.idle_bound() == 300
    assert a.pool.validation.value is False and a.keepalive.enabled.value is False
    assert b.pool.idle_bound() is None and b.sslmode.value == "verify-full"  # 0 disables the idle timer


def test_asyncpg_pool_against_idle_timers(tmp_path):
    """The default 300 s idle close keeps a pool inside HAProxy's 30 min (nothing to say); 3600 s
    behind an Azure Load Balancer (240 s, silent) loses its flows: PATH001's warning (the flow timer,
    one cause, one finding), and against HAProxy's 30 min, which closes with a FIN the pool sees, it
    only reconnects: a PATH002 info, with or without the load balancer."""
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import asyncpg
        async def main():
            long = await asyncpg.create_pool("postgresql://app@pg.internal:5000/app", max_inactive_connection_lifetime=3600)
            short = await asyncpg.create_pool("postgresql://app@pg.internal:5000/app")
            bare = await asyncpg.create_pool("postgresql://app@pg.internal:5000/app", max_inactive_connection_lifetime=3600)
    """).lstrip())
    (tmp_path / "haproxy.cfg").write_text("defaults\n    mode tcp\n    timeout connect 4s\n    timeout client 30m\n"
                                          "    timeout server 30m\nlisten pg\n    bind *:5000\n"
                                          "    server pg1 10.0.0.5:5432 check\n")
    (tmp_path / "pgpath.yaml").write_text(textwrap.dedent("""
        deployments:
          - name: long
            hops:
              - client: {file: app.py, variable: long}
              - azure-lb: {}
              - haproxy: {file: haproxy.cfg, proxy: pg}
          - name: short
            hops:
              - client: {file: app.py, variable: short}
              - haproxy: {file: haproxy.cfg, proxy: pg}
          - name: bare
            hops:
              - client: {file: app.py, variable: bare}
              - haproxy: {file: haproxy.cfg, proxy: pg}
    """).lstrip())
    got = json.loads(pgpath("check", ".", "--format", "json", "--select", "PATH001,PATH002,HAP005",
                            cwd=tmp_path).stdout)
    by_line = {(f["code"], f["span"]["line"]): f for f in got["findings"]}
    assert {k for k in by_line if k[0] == "PATH002"} == {("PATH002", 3), ("PATH002", 5)}, sorted(by_line)
    assert any(code == "PATH001" and f["severity"] == "warning" and "Azure Load Balancer" in f["message"]
               for (code, _line), f in by_line.items()), sorted(by_line)
    long, bare = by_line[("PATH002", 3)], by_line[("PATH002", 5)]
    for pool in (long, bare):
        assert pool["severity"] == "info" and "sees it closed and opens a new one on acquire" in pool["message"]
        assert "max_inactive_connection_lifetime=1770 in asyncpg.create_pool()" in pool["fix"], pool["fix"]


def test_asyncpg_settings_are_startup_parameters(tmp_path):
    """asyncpg.connect(server_settings={...}) and a DSN query key it does not read are sent at
    connect time: a PostgreSQL setting among them is the session's (as libpq's options), and
    through PgBouncer PATH007 judges it."""
    doc, _ = load_text(tmp_path, """
        import asyncpg
        async def main():
            a = await asyncpg.connect("postgresql://app@pgbouncer:6432/app?application_name=api",
                                      server_settings={"statement_timeout": "30s"})
    """)
    ep = only(doc)
    assert ep.session_setting("statement_timeout").value == "30s"
    assert ep.session_setting("application_name").value == "api"
    assert ep.session_setting("sslmode") is None  # asyncpg reads it itself
    (tmp_path / "pgbouncer.ini").write_text("[databases]\napp = host=db port=5432 dbname=app\n[pgbouncer]\n"
                                            "listen_addr = *\nlisten_port = 6432\npool_mode = transaction\n")
    got = json.loads(pgpath("check", ".", "--format", "json", "--select", "PATH007", cwd=tmp_path).stdout)["findings"]
    assert [(f["code"], f["severity"]) for f in got] == [("PATH007", "error")]
    assert "statement_timeout" in got[0]["message"]


def test_sqlalchemy_asyncpg_sends_no_keepalives_either(tmp_path):
    """SQLAlchemy's asyncpg dialect connects with asyncpg.connect(): no probes from its end, so
    behind an NLB PATH001's fix is the server's tcp_keepalives_idle, never libpq keys in the URL."""
    (tmp_path / "db.py").write_text(textwrap.dedent("""
        from sqlalchemy.ext.asyncio import create_async_engine
        engine = create_async_engine("postgresql+asyncpg://app@pg.internal:5432/app", pool_pre_ping=True)
    """).lstrip())
    ep = only(load(str(tmp_path / "db.py")))
    assert ep.keepalive.enabled.value is False and ep.asyncpg
    (tmp_path / "postgresql.conf").write_text("listen_addresses = '*'\nport = 5432\n")
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: app\n    hops:\n"
                                          "      - client: {file: db.py, variable: engine}\n"
                                          "      - aws-nlb: {}\n      - postgres: {file: postgresql.conf}\n")
    got = json.loads(pgpath("check", ".", "--format", "json", "--select", "PATH001", cwd=tmp_path).stdout)["findings"]
    assert len(got) == 1 and got[0]["fix"].startswith("tcp_keepalives_idle = 170"), got
    assert "query of the URL" not in got[0]["fix"] and "connect_args" not in got[0]["fix"]


def test_asyncpg_named_statements_through_transaction_pooling(tmp_path):
    """asyncpg's statement cache (statement_cache_size, default 100) names the statements it
    prepares: through PgBouncer transaction pooling that does not track them, PATH006; 0 names none."""
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import asyncpg
        async def main():
            a = await asyncpg.connect("postgresql://app@pgbouncer:6432/app")
            b = await asyncpg.create_pool("postgresql://app@pgbouncer:6432/app", statement_cache_size=0)
    """).lstrip())
    (tmp_path / "pgbouncer.ini").write_text("[databases]\napp = host=db port=5432 dbname=app\n[pgbouncer]\n"
                                            "listen_addr = *\nlisten_port = 6432\npool_mode = transaction\n"
                                            "max_prepared_statements = 0\n")
    got = json.loads(pgpath("check", ".", "--format", "json", "--select", "PATH006", cwd=tmp_path).stdout)["findings"]
    assert [(f["span"]["line"], f["severity"]) for f in got] == [(3, "warning")]
    assert got[0]["fix"].startswith("statement_cache_size=0 in asyncpg.connect()")
    assert "__asyncpg_stmt_1__" in got[0]["message"]
