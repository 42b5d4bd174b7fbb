"""The lab for PATH003: a statement that runs longer than HAProxy's idle timeout is cut by HAProxy.

Real PostgreSQL 15 with `statement_timeout = 5s` behind HAProxy on loopback. While `SELECT
pg_sleep(3)` runs, the connection carries no data in either direction, so HAProxy's `timeout
client/server 2s` ends it at 2 s: the client loses its connection instead of the statement
running to its end (or being cancelled by PostgreSQL at 5 s). With `timeout tunnel 10s` the same
statement completes. pgpath, run on the very files, must warn about the first (PATH003) and say
nothing about the second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-stmt-", "stmt", "statement_timeout = 5s\n")


def _setup(lab, name: str, timeouts: dict[str, str]) -> tuple[Path, str]:
    d = lab.dir(name)
    os.link(lab.pg.conf, d / "postgresql.conf")  # the server's own file
    port = labkit.free_port()
    cfg = sc.write(d, "haproxy.cfg", sc.haproxy_cfg(port, f"127.0.0.1:{lab.pg.port}", timeouts))
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    sc.write(d, "app.env", f"DATABASE_URL={url}\n")
    sc.write(d, "pgpath.yaml", sc.topology(["client: app.env", "haproxy: {file: haproxy.cfg, proxy: pg}",
                                            "postgres: postgresql.conf"]))
    labkit.start_haproxy(lab, cfg, port)
    return d, url


def _long_statement(url: str) -> tuple[bool, str, float]:
    """(completed, error, seconds) of SELECT pg_sleep(3)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        start = time.monotonic()
        try:
            conn.execute("SELECT pg_sleep(3)")
            return True, "", time.monotonic() - start
        except psycopg.Error as exc:
            return False, str(exc), time.monotonic() - start


def test_a_statement_longer_than_haproxys_timeout_is_cut_as_predicted(lab):
    folder, url = _setup(lab, "cut", {"client": "2s", "server": "2s"})
    done, error, seconds = _long_statement(url)
    assert not done and "server closed the connection unexpectedly" in error and 1.5 <= seconds <= 2.9, (
        error, seconds)
    [finding] = sc.findings(folder, "PATH003")
    assert finding["severity"] == "warning" and "(5 s) > HAProxy listen pg timeout client/server 2s" in (
        finding["message"]), finding["message"]


def test_timeout_tunnel_above_statement_timeout_lets_it_finish(lab):
    folder, url = _setup(lab, "tunnel", {"client": "2s", "server": "2s", "tunnel": "10s"})
    done, error, seconds = _long_statement(url)
    assert done and seconds >= 3, error
    assert not sc.findings(folder, "PATH003")
