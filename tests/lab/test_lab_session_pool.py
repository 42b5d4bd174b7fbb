"""The lab for PATH005's session-pooling budget: real PostgreSQL 15 and PgBouncer on loopback.

In session pooling a client holds one of its pool's server connections from login to disconnect.
With `default_pool_size = 1` and `query_wait_timeout = 2`, a second client of the same database
and user logs in at once (the pool already has the server's parameters), its first query waits
2 s, and PgBouncer answers `FATAL: query_wait_timeout` (SQLSTATE 08P01) and closes it (its log:
`closing because: query_wait_timeout`), while the first stays served; with a pool of 2 both are
served. PATH005's message quotes that error (PATH005.QUERY_WAIT_ERROR). pgpath, given the very files and a topology with the client's
`replicas: 2`, must warn about the first setup (PATH005) and say nothing about the second.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-pool-", "pool", "")


def _setup(lab, name: str, pool_size: int) -> tuple[Path, str]:
    d = lab.dir(name)
    port = labkit.free_port()
    ini = sc.write(d, "pgbouncer.ini", sc.pgbouncer_ini(lab, name, port, f"127.0.0.1:{lab.pg.port}", {
        "pool_mode": "session", "default_pool_size": str(pool_size), "query_wait_timeout": "2"}))
    url = f"postgresql://postgres@127.0.0.1:{port}/labdb?sslmode=disable"
    sc.write(d, "app.env", f"DATABASE_URL={url}\n")
    sc.write(d, "pgpath.yaml", sc.topology(["client: {file: app.env, replicas: 2}",
                                            "pgbouncer: {file: pgbouncer.ini, database: labdb}"]))
    labkit.start_pgbouncer(lab, ini, port)
    return d, url


def _second_client(url: str) -> tuple[bool, str, float, dict]:
    """(served, error, seconds, details) of a second client while a first holds its server
    connection; details: the step that failed (`login` or `query`), the error's severity, SQLSTATE
    and primary message, and whether its connection was closed afterwards."""
    import psycopg

    first = psycopg.connect(url, autocommit=True, prepare_threshold=None)
    try:
        first.execute("SELECT 1")
        start = time.monotonic()
        step, second = "login", None
        try:
            second = psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=10)
            step = "query"
            second.execute("SELECT 1")
            return True, "", time.monotonic() - start, {}
        except psycopg.Error as exc:
            seconds = time.monotonic() - start
            return False, str(exc), seconds, {
                "step": step, "severity": exc.diag.severity, "sqlstate": exc.sqlstate,
                "message": exc.diag.message_primary, "closed": second is None or second.closed}
        finally:
            if second is not None:
                second.close()
            first.execute("SELECT 1")  # the first client is still served
    finally:
        first.close()


def test_a_second_client_of_a_full_session_pool_is_refused_as_predicted(lab):
    from advisor.rules.path.path005_connection_budget import QUERY_WAIT_ERROR

    folder, url = _setup(lab, "pool1", 1)
    served, error, seconds, got = _second_client(url)
    assert not served and 1.5 <= seconds <= 6, (error, seconds)
    # its login is accepted; its first query waits, then PgBouncer sends this and closes it
    assert got == {"step": "query", "severity": "FATAL", "sqlstate": "08P01", "message": "query_wait_timeout",
                   "closed": True}, got
    log = (folder / "pgbouncer.stderr").read_text(errors="replace")
    assert "closing because: query_wait_timeout" in log, log[-2000:]
    found = sc.findings(folder, "PATH005")
    assert ("PATH005", "warning") in {(f["code"], f["severity"]) for f in found}
    # the finding says what the client gets, as the client got it
    assert QUERY_WAIT_ERROR == f"{got['severity']} {got['message']} (SQLSTATE {got['sqlstate']})"
    assert any(QUERY_WAIT_ERROR in f["message"] for f in found), found


def test_a_session_pool_as_large_as_its_clients_serves_them_all(lab):
    folder, url = _setup(lab, "pool2", 2)
    served, error, _seconds, _got = _second_client(url)
    assert served, error
    assert not {(f["code"], f["severity"]) for f in sc.findings(folder, "PATH005")}
