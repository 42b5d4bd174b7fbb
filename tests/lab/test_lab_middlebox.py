"""The lab's packet-reset middlebox: three network namespaces, conntrack with a 3 s established
timeout in the middle one, only pure SYNs open flows; `drop` and `reset` variants
(../shared/reference/middlebox-simulation.md and its recipe.sh, command for command).

PostgreSQL 15 (TLS) runs in the server namespace as user postgres; libpq clients run in the client
namespace. The same folders hold `pgpath.yaml` declaring the middlebox
(`- firewall: {idle_timeout: 3s, on_expiry: drop|rst}`), so `pgpath path` predicts each case:

- N1: no keepalive on either side: the flow is forgotten at 3 s (drop: the next query hangs;
  reset: ECONNRESET / "server closed the connection");
- N2: client keepalives_idle=1: probes refresh the flow, it survives;
- N3: only the server sends keepalives (tcp_keepalives_idle=1 in postgresql.conf): survives;
- N4: client keepalives_idle=5 > 3 s: the first probe comes too late, it dies.
A connection predicted to die is also probed just before (alive) and just after (dead) the
predicted second. Skips with the reason when namespaces cannot be made (not root, no nft).
"""

from __future__ import annotations

import time
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

IDS = [f"{n}-{mode}" for mode in ("drop", "reset") for n in ("N1", "N2", "N3", "N4")]

VALIDITY = {"ADV001", "ADV003", "PG001", "PG002", "PG003", "APP009"}


@pytest.fixture(scope="module")
def middlebox():
    reason = labkit.netns_unavailable() or labkit.loopback_unavailable()
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    lab = labkit.Lab("pgpath-labnet-")
    prefix = f"pgl{os.getpid() % 100000}"
    try:
        def one(mode: str):
            box, scenarios = sc.build_middlebox(lab, mode, prefix + mode[0])
            return sc.run_middlebox(box, scenarios)

        with ThreadPoolExecutor(2) as ex:
            parts = list(ex.map(one, ("drop", "reset")))
    finally:
        lab.stop()
    results = {k: v for part in parts for k, v in part.items()}
    assert sorted(results) == sorted(IDS)
    sc.record(results, "middlebox", time.monotonic() - started)
    return results


@pytest.mark.parametrize("sid", IDS)
def test_observed_as_documented(middlebox, sid):
    r = middlebox[sid]
    assert not sc.expectation_problems(r), (r.scenario.config, r.observation, r.brackets)


@pytest.mark.parametrize("sid", IDS)
def test_pgpath_predicts(middlebox, sid):
    r = middlebox[sid]
    ok, why = r.verdict()
    if ok is None and sc.NOT_YET in why:
        pytest.skip(why)
    assert ok, why


@pytest.mark.parametrize("sid", IDS)
def test_pgpath_check_accepts_what_the_daemons_ran(middlebox, sid):
    r = middlebox[sid]
    if r.check_error and sc.NOT_YET in r.check_error:
        pytest.skip(r.check_error)
    assert r.check_error is None, r.check_error
    wrong = [f"{f['code']} {f['span']}: {f['message']}" for f in r.findings if f["code"] in VALIDITY]
    assert not wrong, f"{sid}: PostgreSQL started with this file, yet pgpath calls it invalid: {wrong}"
