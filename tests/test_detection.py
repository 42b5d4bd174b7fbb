"""Which files `pgpath check DIR` reads: by name, then by content, never source code quoting a config."""

from advisor.engine import discover, make_settings
from advisor.loaders import detect_kind

HAPROXY = "defaults\n    mode tcp\n    timeout client 30m\nlisten pg\n    bind *:5000\n    server a 10.0.0.1:5432\n"
PGBOUNCER = "[databases]\napp = host=10.0.0.1 dbname=app\n[pgbouncer]\npool_mode = transaction\n"
POSTGRES = "shared_buffers = 1GB\nmax_connections = 100\nwork_mem = 8MB\nlisten_addresses = '*'\n"


def test_names():
    assert detect_kind("postgresql.conf") == "postgresql"
    assert detect_kind("postgresql.auto.conf") == "postgresql"
    assert detect_kind("postgresql.conf.j2") == "postgresql"
    assert detect_kind("pgbouncer.ini") == "pgbouncer"
    assert detect_kind("haproxy.cfg") == "haproxy"
    assert detect_kind("patroni_haproxy.tmpl") == "haproxy"
    assert detect_kind("haproxy_cfg.py") is None
    assert detect_kind("pgbouncer_settings.py") is None


def test_content_of_config_files_is_recognised(tmp_path):
    (tmp_path / "edge.cfg").write_text(HAPROXY)
    (tmp_path / "pooler.ini").write_text(PGBOUNCER)
    (tmp_path / "main.conf").write_text(POSTGRES)
    found = dict((p.rsplit("/", 1)[1], k) for p, k in discover(make_settings({"paths": [str(tmp_path)]},
                                                                               use_config=False))[0])
    assert found == {"edge.cfg": "haproxy", "pooler.ini": "pgbouncer", "main.conf": "postgresql"}


def test_source_and_documents_quoting_a_config_are_not_claimed(tmp_path):
    (tmp_path / "haproxy_cfg.py").write_text(f'CONFIG = """\n{HAPROXY}"""\n')
    (tmp_path / "notes.md").write_text(f"```\n{PGBOUNCER}```\n")
    (tmp_path / "guide.txt").write_text(HAPROXY + PGBOUNCER)
    (tmp_path / "tune.py").write_text(f'TEXT = """\n{POSTGRES}"""\n')
    found, unknown, errors = discover(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert found == [] and not errors


def test_usual_names_shortcut_agrees_with_the_name_patterns(monkeypatch):
    import advisor.loaders as loaders

    shortcut = dict(loaders._USUAL_NAMES)
    monkeypatch.setattr(loaders, "_USUAL_NAMES", {})
    for name, kind in shortcut.items():
        assert detect_kind(f"/etc/x/{name}") == kind, name
        assert detect_kind(f"/etc/x/{name}.j2") == kind, name


# ------------------------------------------------------------------------------------------------
# an ini key named like an HAProxy section keyword (`listen = ...`) is no HAProxy section

PYRAMID_INI = """[app:main]
sqlalchemy.url = postgresql+psycopg2://orders@pg-haproxy.internal:5000/orders
sqlalchemy.pool_size = 10

[server:main]
use = egg:waitress#main
listen = 0.0.0.0:6543
"""
S01_HAPROXY = """global
    maxconn 2000

defaults
    mode tcp
    timeout connect 5s
    timeout client 30m
    timeout server 30m

listen pg_primary
    bind *:5000
    server pg1 10.0.0.5:5432 check
"""


def test_waitress_listen_key_is_not_an_haproxy_section():
    """M1: a Pyramid/waitress `production.ini` (`[server:main]` with `listen = 0.0.0.0:6543`) is a client."""
    assert detect_kind("app/production.ini", PYRAMID_INI) == "client"
    # the same keys with `:`, with blanks before `=`, and the other section keywords as ini keys
    for line in ("listen: 0.0.0.0:6543", "listen   =0.0.0.0:6543", "defaults = x", "global = 1", "frontend = a",
                 "backend: b"):
        assert detect_kind("app/production.ini", PYRAMID_INI.replace("listen = 0.0.0.0:6543", line)) == "client", line
    # an indented HAProxy keyword under `listen =` does not make it a proxy either
    text = "[server:main]\nlisten = 0.0.0.0:6543\n    server = x\n    bind *:1\n"
    assert detect_kind("edge.cfg", text) is None


def test_haproxy_sections_are_still_recognised_by_content():
    assert detect_kind("edge.cfg", S01_HAPROXY) == "haproxy"
    assert detect_kind("edge.cfg", "defaults\n    mode tcp\nlisten pg 0.0.0.0:5000\n    server a 10.0.0.1:5432\n") == "haproxy"
    assert detect_kind("edge.cfg", "defaults tcp\n    mode tcp\nbackend b\n    server a 10.0.0.1:5432\n") == "haproxy"
    # a client-looking ini with a real HAProxy section is still refused as a client
    assert detect_kind("mixed.ini", "global\nlisten pg\n    bind *:1\nx = postgresql://h/db\n") == "haproxy"
    from advisor.loaders.client_detect import detect

    assert detect("mixed.ini", "global\nlisten pg\nx = postgresql://h/db\n") is None
    assert detect("mixed.ini", "[db]\nlisten = pg\nx = postgresql://h/db\n") == "client"


def test_pyramid_ini_behind_haproxy_reports_path002_and_app007(tmp_path):
    """M1 end to end (scenario s01): the SQLAlchemy pool of the Pyramid ini is read and checked
    against HAProxy's 30 min timeouts."""
    import os

    from advisor.engine import run

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "production.ini").write_text(PYRAMID_INI)
    (tmp_path / "haproxy.cfg").write_text(S01_HAPROXY)
    (tmp_path / "postgresql.conf").write_text("listen_addresses = '*'\nport = 5432\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        report = run(make_settings({"paths": ["."]}, use_config=False))
    finally:
        os.chdir(cwd)
    got = sorted((f.code, f.severity.name.lower(), f.span.file.lstrip("./")) for f in report.findings if f.code in ("PATH002", "APP007"))
    assert ("PATH002", "warning", "app/production.ini") in got
    assert ("APP007", "info", "app/production.ini") in got
    path002 = next(f for f in report.findings if f.code == "PATH002")
    assert "sqlalchemy.pool_recycle = 1770" in path002.fix
