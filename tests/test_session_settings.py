"""The PostgreSQL parameters a client sets for its own sessions (ClientEndpoint.session_setting),
checked against a real PostgreSQL 15: what `SHOW` answers in a session opened with those options,
and that they beat the role's own value (ALTER ROLE ... SET)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from advisor.loaders import detect_kind, load_file
from pg_server import running_postgres

OPTIONS = [
    "-c statement_timeout=15min",
    "-cstatement_timeout=2h",
    "--statement-timeout=90s",
    "-c search_path=x -c statement_timeout=7000",
    "-c statement_timeout=1min -c statement_timeout=3min",  # the last one wins
    "-c application_name=a\\ b -c statement_timeout=45s",  # a backslash keeps the space in a value
    "-c work_mem=4MB",  # no statement_timeout: the role's value stays
]


@pytest.fixture(scope="module")
def server():
    with running_postgres("pgpath-session-", []) as (base, socket_file):
        import psycopg

        sock_dir = os.path.dirname(socket_file)
        with psycopg.connect(host=sock_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute("ALTER ROLE postgres SET statement_timeout = '5s'")
        yield sock_dir


def _endpoint(tmp_path: Path, options: str):
    from urllib.parse import quote

    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL=postgresql://postgres@db:5432/postgres?options={quote(options)}\n")
    loaded = load_file(str(env), detect_kind(str(env)), {})
    [doc] = [d for d in (loaded if isinstance(loaded, list) else [loaded]) if d.kind == "client"]
    [ep] = doc.model.endpoints
    return ep


@pytest.mark.parametrize("options", OPTIONS)
def test_options_set_what_the_server_shows(server, tmp_path, options):
    import psycopg

    with psycopg.connect(host=server, user="postgres", dbname="postgres", options=options) as conn:
        shown = _text(conn.execute("SHOW statement_timeout").fetchone()[0])
    found = _endpoint(tmp_path, options).session_setting("statement_timeout")
    if shown == "5s":  # the role's own: the options set none
        assert found is None
    else:
        from advisor.units import pg_parse_int

        with psycopg.connect(host=server, user="postgres", dbname="postgres") as conn:
            conn.execute(f"SET statement_timeout = '{found.raw}'")
            assert _text(conn.execute("SHOW statement_timeout").fetchone()[0]) == shown
        assert pg_parse_int(found.raw, "ms")[0] is not None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value  # (a SQL_ASCII database answers bytes)
