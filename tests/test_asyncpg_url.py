"""APP012 against the real SQLAlchemy asyncpg dialect and asyncpg: for each query key of a
`postgresql+asyncpg://` URL, pgpath reports it exactly when SQLAlchemy + asyncpg refuse the
arguments before any connection attempt (the URL points at a closed loopback port, so accepted
arguments end in `ConnectionRefusedError`)."""

from __future__ import annotations

import asyncio

import pytest

from advisor.engine import make_settings, run

pytest.importorskip("sqlalchemy.ext.asyncio", reason="SQLAlchemy is not installed (pip install -e '.[test]')")
pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e '.[test]')")

QUERIES = ["sslmode=require", "keepalives_idle=60", "connect_timeout=5", "application_name=api", "options=-c%20a%3Db",
           "sslrootcert=/etc/ca.pem", "tcp_user_timeout=1000", "timeout=5", "statement_cache_size=0",
           "max_cached_statement_lifetime=0", "server_settings=x", "ssl=true",
           "ssl=require", "ssl=disable", "ssl=prefer", "command_timeout=30", "prepared_statement_cache_size=0",
           "target_session_attrs=primary", "passfile=/x", "krbsrvname=x", "gsslib=gssapi", "service=x",
           "servicefile=/x"]


def _refused_before_connecting(query: str) -> bool:
    from sqlalchemy.ext.asyncio import create_async_engine

    async def attempt() -> bool:
        engine = create_async_engine(f"postgresql+asyncpg://u@127.0.0.1:1/db?{query}")
        try:
            async with engine.connect():
                pass
        except (ConnectionRefusedError, OSError) as exc:
            return not isinstance(exc, (ConnectionRefusedError, ConnectionError)) and "Connect call failed" not in str(exc)
        except Exception:  # TypeError, InterfaceError...: the arguments, not the network
            return True
        finally:
            await engine.dispose()
        return False

    return asyncio.run(attempt())


@pytest.mark.parametrize("query", QUERIES)
def test_app011_agrees_with_sqlalchemy_and_asyncpg(tmp_path, query):
    (tmp_path / ".env").write_text(f"DATABASE_URL=postgresql+asyncpg://u@db.internal:5432/db?{query}\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["APP012"]}, use_config=False))
    flagged = bool(report.findings)
    assert flagged == _refused_before_connecting(query), (query, [f.message for f in report.findings])
