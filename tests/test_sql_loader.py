"""SQL files: ALTER SYSTEM / DATABASE / ROLE ... SET read with pglast, typed like postgresql.conf.

The parity test runs the same statements on a private PostgreSQL 15 and checks that the
statements it rejects are exactly those the loader reports, and that the role/database settings
it stores (pg_db_role_setting) are the ones `RoleSettings` says are in force.
"""

from __future__ import annotations

import sys

import pytest

from advisor.catalog import load_catalog
from advisor.engine import make_settings, run
from advisor.loaders import detect_kind
from advisor.loaders.sql_file import load, mask_script
from advisor.model import Unknown
from advisor.model.sql import RoleSettings
from conftest import corpus_files, require_corpus


def _load(tmp_path, text, name="m.sql", major=15):
    p = tmp_path / name
    p.write_text(text)
    return load(str(p), {"catalog": load_catalog(major)})


def test_sections_values_and_spans(tmp_path):
    doc = _load(tmp_path, "-- up\nALTER SYSTEM SET work_mem TO '64MB';\n"
                          "alter role \"App\" in database d set statement_timeout = 5000;\n"
                          "ALTER DATABASE foo SET search_path = public, pg_catalog;\n"
                          "ALTER USER bob SET lock_timeout TO '8s';\n"
                          "ALTER ROLE ALL SET idle_session_timeout = '1min';\n"
                          "ALTER ROLE ALL IN DATABASE foo SET work_mem = '4MB';\n")
    got = [(s.section, s.name, s.value, s.value_span.line, s.value_span.col) for s in doc.settings]
    assert got == [
        ("system", "work_mem", 65536, 2, 30),
        ("role:App@database:d", "statement_timeout", 5000, 3, 56),
        ("database:foo", "search_path", "public, pg_catalog", 4, 38),
        ("role:bob", "lock_timeout", 8000, 5, 36),
        ("role:ALL", "idle_session_timeout", 60000, 6, 43),
        ("database:foo", "work_mem", 4096, 7, 47),
    ]
    assert doc.kind == "sql" and not doc.diagnostics
    assert doc.settings[1].span.col == 36  # the name


def test_reset_and_default_retire_earlier_settings(tmp_path):
    doc = _load(tmp_path, "ALTER ROLE a SET work_mem = '8MB';\nALTER ROLE a RESET work_mem;\n"
                          "ALTER ROLE a SET statement_timeout = '1s';\nALTER ROLE a SET statement_timeout TO DEFAULT;\n"
                          "ALTER ROLE b SET statement_timeout = '2s';\nALTER ROLE b RESET ALL;\n"
                          "ALTER ROLE c SET statement_timeout = '3s';\n")
    assert [s.name for s in doc.settings if s.effective] == ["statement_timeout"]
    roles = RoleSettings.from_docs([doc])
    assert roles.effective("work_mem", "a") is None
    assert roles.effective("statement_timeout", "a") is None
    assert roles.effective("statement_timeout", "b") is None
    assert roles.effective("statement_timeout", "c").value == 3000


def test_precedence_role_in_database_then_role_then_database_then_all(tmp_path):
    first = _load(tmp_path, "ALTER ROLE ALL SET statement_timeout = '1s';\n"
                            "ALTER DATABASE shop SET statement_timeout = '2s';\n", "001.sql")
    second = _load(tmp_path, "ALTER ROLE app SET statement_timeout = '3s';\n"
                             "ALTER ROLE app IN DATABASE shop SET statement_timeout = '4s';\n"
                             "ALTER ROLE ops SET statement_timeout = '9s';\n", "002.sql")
    roles = RoleSettings.from_docs([first, second])
    assert roles.effective("statement_timeout", "app", "shop").value == 4000
    assert roles.effective("statement_timeout", "app", "other").value == 3000
    assert roles.effective("statement_timeout", "web", "shop").value == 2000
    assert roles.effective("statement_timeout", "web", "other").value == 1000
    assert roles.effective("idle_session_timeout", "app", "shop") is None
    # a later file's RESET removes an earlier file's setting
    third = _load(tmp_path, "ALTER ROLE app IN DATABASE shop RESET statement_timeout;\n", "003.sql")
    assert RoleSettings.from_docs([first, second, third]).effective("statement_timeout", "app", "shop").value == 3000


def test_invalid_values_are_the_postgresql_diagnostics(tmp_path):
    doc = _load(tmp_path, "ALTER ROLE app SET work_mem = '64mb';\nALTER ROLE app SET statment_timeout = 1;\n"
                          "ALTER ROLE app SET statement_timeout = -1;\nALTER ROLE app SET my.custom = 'x';\n")
    kinds = [(d.kind, d.span.line) for d in doc.diagnostics]
    assert kinds == [("invalid-value", 1), ("unknown-parameter", 2), ("out-of-range", 3)]
    assert doc.diagnostics[0].fix == "ALTER ROLE app SET work_mem = '64MB'"


def test_psql_meta_commands_and_variables(tmp_path):
    doc = _load(tmp_path, "\\set ON_ERROR_STOP on\n\\connect :dbname\n"
                          "ALTER ROLE :\"PGUSER\" SET statement_timeout = :'timeout';\n"
                          "SELECT '10:30', 'a:b'::text;\n"
                          "ALTER ROLE app SET search_path = :schema;\n")
    assert not doc.diagnostics
    first, second = doc.settings
    assert first.section == 'role::"PGUSER"' and isinstance(first.value, Unknown)
    assert second.section == "role:app" and isinstance(second.value, Unknown)


def test_mask_keeps_offsets_and_leaves_strings_alone():
    text = "SELECT ':x', $$ :y $$;\n\\echo hi\nALTER ROLE :r SET a.b = 1; -- :c\n"
    masked, unknown = mask_script(text)
    assert len(masked) == len(text)
    assert masked.count(":") == text.count(":") - 1
    assert "\\echo" not in masked
    assert [text[a:b] for a, b in unknown] == ["r"]


def test_a_statement_pglast_rejects_is_a_syntax_error_and_the_rest_is_read(tmp_path):
    doc = _load(tmp_path, "ALTER ROLE a SET work_mem = '4MB';\nALTER ROLE b SETT work_mem = 1;\n"
                          "ALTER ROLE c SET work_mem = '8MB';\n")
    assert [(d.kind, d.span.line, d.span.col) for d in doc.diagnostics] == [("syntax-error", 2, 14)]
    assert "sett" in doc.diagnostics[0].message
    assert [s.section for s in doc.settings] == ["role:a", "role:c"]


def test_unterminated_string_is_reported_not_raised(tmp_path):
    doc = _load(tmp_path, "ALTER ROLE a SET work_mem = '4MB;\n")
    assert doc.diagnostics and doc.diagnostics[0].kind == "syntax-error"


def test_detection_needs_a_setting_statement(tmp_path):
    assert detect_kind("up.sql", "ALTER ROLE app SET statement_timeout = '5s';") == "sql"
    assert detect_kind("up.sql", "alter system set work_mem to '1MB';") == "sql"
    assert detect_kind("schema.sql", "CREATE TABLE t (id int);\nALTER TABLE t SET (fillfactor = 70);") is None
    assert detect_kind("notes.md", "ALTER ROLE app SET statement_timeout = '5s';") is None


def test_pglast_is_imported_only_for_sql(tmp_path):
    import subprocess

    conf = tmp_path / "postgresql.conf"
    conf.write_text("work_mem = '4MB'\n")
    code = ("import sys; from advisor.engine import make_settings, run; "
            f"r = run(make_settings({{'paths': [{str(tmp_path)!r}]}}, use_config=False)); "
            "print('pglast' in sys.modules, [(f.code, f.span.line) for f in r.findings if f.span.file.endswith('.sql')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False []"
    (tmp_path / "001_roles.sql").write_text("ALTER ROLE app SET work_mem = '4mb';\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True [('PG002', 1)]"


@pytest.mark.parametrize("path", corpus_files("sql"), ids=lambda p: p.name)
def test_corpus_sql_loads_with_spans(path):
    require_corpus()
    doc = load(str(path))
    assert doc.settings, path.name
    for s in doc.settings:
        assert s.section and s.span.line and s.value_span.line and s.value_span.col
        line = path.read_text().split("\n")[s.span.line - 1]
        assert s.spelling.lower() in line.lower()


# ------------------------------------------------------------------------------------------------
# parity with PostgreSQL 15

PARITY = [
    "ALTER ROLE app SET work_mem = '64MB'",
    "ALTER ROLE app SET work_mem = '64mb'",
    "ALTER ROLE app SET statement_timeout TO 5000",
    "ALTER ROLE app SET statement_timeout TO '5 min'",
    "ALTER ROLE app SET statement_timeout TO '5m'",
    "ALTER ROLE app SET statement_timeout = -1",
    "ALTER ROLE app SET idle_in_transaction_session_timeout = '1h'",
    "ALTER ROLE app IN DATABASE shop SET idle_session_timeout = '10min'",
    "ALTER ROLE app SET statment_timeout = 1",
    "ALTER ROLE app SET myapp.tenant = 'x'",
    "ALTER ROLE app SET default_transaction_isolation = 'serializable'",
    "ALTER ROLE app SET default_transaction_isolation = 'snapshot'",
    "ALTER ROLE app SET search_path = public, extensions",
    "ALTER ROLE app SET lock_timeout = 1.5",
    "ALTER ROLE app SET log_min_duration_statement = '250ms'",
    "ALTER ROLE app SET jit = off",
    "ALTER ROLE app SET jit = maybe",
    "ALTER DATABASE shop SET statement_timeout = '30s'",
    "ALTER DATABASE shop SET temp_buffers = '1kB'",
    "ALTER ROLE ALL SET statement_timeout = '2min'",
    "ALTER ROLE app RESET work_mem",
    "ALTER ROLE app SET lock_timeout TO DEFAULT",
]


@pytest.fixture(scope="module")
def pg():
    import pg_server

    reason = pg_server.available()
    if reason:
        pytest.skip(reason)
    server = pg_server.PgServer()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001
        server.stop()
        pytest.skip(f"could not start PostgreSQL 15: {exc}")
    yield server
    server.stop()


@pytest.mark.server
def test_parity_with_postgresql(pg, tmp_path):
    import psycopg

    with pg.conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS shop")
        cur.execute("CREATE DATABASE shop")
        cur.execute("DROP ROLE IF EXISTS app")
        cur.execute("CREATE ROLE app")
        cur.execute("ALTER ROLE ALL RESET ALL")
    rejected_by_pg = []
    for i, statement in enumerate(PARITY):
        try:
            with pg.conn.cursor() as cur:
                cur.execute(statement)
        except psycopg.Error:
            rejected_by_pg.append(i)
    doc = _load(tmp_path, ";\n".join(PARITY) + ";\n")
    rejected_by_us = sorted({d.span.line - 1 for d in doc.diagnostics})
    assert rejected_by_us == rejected_by_pg
    with pg.conn.cursor() as cur:
        cur.execute("SELECT coalesce(r.rolname, 'ALL'), coalesce(d.datname, ''), s.setconfig FROM pg_db_role_setting s "
                    "LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase")
        stored = cur.fetchall()
    in_pg = set()
    for role, db, config in stored:
        for item in config:
            name = item.split("=", 1)[0]
            if role == "ALL" and db:
                in_pg.add((f"database:{db}", name))
            elif db:
                in_pg.add((f"role:{role}@database:{db}", name))
            else:
                in_pg.add((f"role:{role}", name))
    roles = RoleSettings.from_docs([doc])
    ours = {(section, name) for section, names in roles.by_section.items() for name in names}
    # a rejected statement stores nothing; ours keeps it (its value None) to report it
    ours_valid = {(sec, name) for sec, name in ours if roles.by_section[sec][name].value is not None}
    assert ours_valid == in_pg
