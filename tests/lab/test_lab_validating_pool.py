"""The lab for PGB015 and PATH002 on one path: a pool that checks a connection when it lends it,
behind PgBouncer's client_idle_timeout (real PostgreSQL 15 and PgBouncer on loopback).

PgBouncer in transaction pooling closes a client idle longer than `client_idle_timeout`: it sends
an ErrorResponse (FATAL 08P01 client_idle_timeout) and closes the socket (lab row B1t). pgx v5's
pgxpool checks a connection idle for more than 1 s when it is acquired (pgxpool/pool.go
Pool.Acquire: v5.0-v5.3 `PgConn.CheckConn`, a read until it would block; v5.4+ `Conn.Ping`, an
empty query "-- ping"), destroys it when the check fails and takes another (a new connection when
none is left). This lab does both checks on a connection PgBouncer closed, with psycopg on the
same socket, and then what the pool does next: a new connection whose query succeeds. So the
application sees no error, as PATH002 says (info), and PGB015 leaves that path to it.
"""

from __future__ import annotations

import os
import select
import time
from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

TIMEOUT = 2  # client_idle_timeout (PgBouncer 1.18 refuses unit suffixes)


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-validate-", "validate", "")


@pytest.fixture(scope="module")
def bouncer(lab) -> tuple[Path, str]:
    d = lab.dir("validate")
    port = labkit.free_port()
    ini = sc.write(d, "pgbouncer.ini", sc.pgbouncer_ini(lab, "validate", port, f"127.0.0.1:{lab.pg.port}", {
        "pool_mode": "transaction", "client_idle_timeout": str(TIMEOUT)}))
    url = f"postgresql://postgres@127.0.0.1:{port}/labdb?sslmode=disable"
    # the very files for pgpath: a pgx DSN (pgxpool, pool_max_conns) to this PgBouncer
    sc.write(d, "app.env", f"DATABASE_URL={url}&pool_max_conns=4\n")
    labkit.start_pgbouncer(lab, ini, port)
    return d, url


def _idle_past_the_timeout(url: str):
    import psycopg

    conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=10)
    conn.execute("SELECT 1")
    time.sleep(TIMEOUT + 3)  # PgBouncer's janitor closes it within a second of the timeout
    return conn


def test_a_closed_connection_fails_pgx_v5_0_check_at_once(bouncer):
    """v5.0-v5.3: CheckConn reads what is buffered until the read would block: PgBouncer's FATAL
    and then the end of the stream, an error (io.EOF), without sending anything."""
    _folder, url = bouncer
    conn = _idle_past_the_timeout(url)
    try:
        fd = conn.pgconn.socket
        readable, _, _ = select.select([fd], [], [], 0)
        assert readable, "PgBouncer's close is already on the socket"
        data = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        assert data[:1] == b"E" and b"08P01" in data and b"client_idle_timeout" in data, data
    finally:
        conn.close()


def test_a_closed_connection_fails_pgx_ping_and_the_pool_serves_a_new_one(bouncer):
    """v5.4+: Ping sends an empty query and reads the answer: the FATAL PgBouncer sent when it
    closed the connection. The pool destroys it and opens another, whose query succeeds."""
    import psycopg

    _folder, url = bouncer
    conn = _idle_past_the_timeout(url)
    try:
        with pytest.raises(psycopg.OperationalError) as failed:
            conn.execute("-- ping")  # (observed: ProtocolViolation 08P01 client_idle_timeout, at once)
        assert failed.value.sqlstate == "08P01" and "client_idle_timeout" in str(failed.value), str(failed.value)
    finally:
        conn.close()
    with psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=10) as fresh:
        assert fresh.execute("SELECT 1").fetchone() == (1,)


def test_pgpath_says_it_once_as_an_info(bouncer):
    """On the very files: PATH002 says the pool replaces the connection (info); PGB015 is silent."""
    folder, _url = bouncer
    found = sc.findings(folder, "PATH002,PGB015")
    assert [(f["code"], f["severity"]) for f in found] == [("PATH002", "info")], found
    assert "the application sees no error" in found[0]["message"]
