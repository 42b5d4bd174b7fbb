"""The lab for PATH005's HAProxy limits: real PostgreSQL 15 behind HAProxy 2.6 on loopback.

- `maxconn 3` in `global` (or on the `listen`): three clients log in; a fourth completes the TCP
  handshake but HAProxy never accepts it, so its login gets no answer until its connect_timeout.
- `maxconn 2` on the only server, with `timeout queue 1s`: a third client waits in HAProxy's queue,
  then HAProxy closes it and its login fails.

pgpath, given the very files and a topology with 2 replicas of a HikariCP pool of 2 (4 > 3, 4 > 2),
must warn (PATH005) and say nothing once the limits are raised as its fix says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-maxconn-", "maxconn", "")


def _setup(lab, name: str, global_maxconn: int, listen: list[str], server: str) -> tuple[Path, str]:
    d = lab.dir(name)
    port = labkit.free_port()
    cfg = "\n".join(["global", f"    maxconn {global_maxconn}", "", "defaults", "    mode tcp", "    timeout connect 2s",
                     "    timeout client 30m", "    timeout server 30m", "", "listen pg", f"    bind 127.0.0.1:{port}",
                     *[f"    {line}" for line in listen], f"    server pg1 127.0.0.1:{lab.pg.port}{server}", ""])
    sc.write(d, "haproxy.cfg", cfg)
    sc.write(d, "application.properties",
             f"spring.datasource.url=jdbc:postgresql://127.0.0.1:{port}/postgres?sslmode=disable\n"
             "spring.datasource.hikari.maximum-pool-size=2\n")
    sc.write(d, "pgpath.yaml", sc.topology(["client: {file: application.properties, replicas: 2}",
                                            "haproxy: {file: haproxy.cfg, proxy: pg}", "postgres: {file: "
                                            f"{lab.pg.conf}}}"]))
    labkit.start_haproxy(lab, d / "haproxy.cfg", port)
    return d, f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"


def _logins(url: str, count: int) -> list[str]:
    """Open `count` connections at once and keep them: "ok" or the error of each login."""
    import psycopg

    held, out = [], []
    try:
        for _ in range(count):
            try:
                held.append(psycopg.connect(url, autocommit=True, connect_timeout=3))
                held[-1].execute("SELECT 1")
                out.append("ok")
            except psycopg.OperationalError as exc:
                out.append(str(exc))
    finally:
        for conn in held:
            conn.close()
    return out


@pytest.mark.parametrize("where", ["global", "listen"])
def test_connections_beyond_maxconn_get_no_answer_as_predicted(lab, where):
    listen = ["maxconn 3"] if where == "listen" else []
    folder, url = _setup(lab, f"front-{where}", 3 if where == "global" else 4000, listen, "")
    results = _logins(url, 4)
    assert results[:3] == ["ok"] * 3 and "timeout expired" in results[3], results
    [finding] = sc.findings(folder, "PATH005")
    assert finding["severity"] == "warning" and "= 4 connections through HAProxy listen pg > maxconn 3" in \
        finding["message"], finding
    fixed = sc.write(folder, "haproxy.cfg", (folder / "haproxy.cfg").read_text().replace("maxconn 3", "maxconn 104"))
    assert fixed.is_file() and sc.findings(folder, "PATH005") == []


def test_connections_beyond_a_servers_maxconn_wait_in_the_queue_then_fail(lab):
    folder, url = _setup(lab, "server", 4000, ["timeout queue 1s"], " maxconn 2")
    results = _logins(url, 3)
    assert results[:2] == ["ok", "ok"] and "server closed the connection unexpectedly" in results[2], results
    [finding] = sc.findings(folder, "PATH005")
    assert "server pg1 maxconn 2 in listen pg" in finding["message"] and "timeout queue 1s" in finding["message"]
    sc.write(folder, "haproxy.cfg", (folder / "haproxy.cfg").read_text().replace(" maxconn 2", " maxconn 104"))
    assert sc.findings(folder, "PATH005") == []
