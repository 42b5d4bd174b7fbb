"""The lab for PATH005's session-pooling budget: real PostgreSQL 15 and PgBouncer on loopback.

In session pooling a client holds one of its pool's server connections from login to disconnect.
With `default_pool_size = 1` and `query_wait_timeout = 2`, a second client of the same database
and user waits 2 s and is refused (`query_wait_timeout`), while the first stays served; with a
pool of 2 both are served. pgpath, given the very files and a topology with the client's
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


def _second_client(url: str) -> tuple[bool, str, float]:
    """(served, error, seconds) of a second client while a first holds its server connection."""
    import psycopg

    first = psycopg.connect(url, autocommit=True, prepare_threshold=None)
    try:
        first.execute("SELECT 1")
        start = time.monotonic()
        try:
            with psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=10) as second:
                second.execute("SELECT 1")
            return True, "", time.monotonic() - start
        except psycopg.Error as exc:
            return False, str(exc), time.monotonic() - start
        finally:
            first.execute("SELECT 1")  # the first client is still served
    finally:
        first.close()


def test_a_second_client_of_a_full_session_pool_is_refused_as_predicted(lab):
    folder, url = _setup(lab, "pool1", 1)
    served, error, seconds = _second_client(url)
    assert not served and "query_wait_timeout" in error and 1.5 <= seconds <= 6, (error, seconds)
    assert ("PATH005", "warning") in {(f["code"], f["severity"]) for f in sc.findings(folder, "PATH005")}


def test_a_session_pool_as_large_as_its_clients_serves_them_all(lab):
    folder, url = _setup(lab, "pool2", 2)
    served, error, seconds = _second_client(url)
    assert served, error
    assert not {(f["code"], f["severity"]) for f in sc.findings(folder, "PATH005")}
