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
- N4: client keepalives_idle=5 > 3 s: the first probe comes too late, it dies;
- N5: libpq's default keepalives (idle and interval from the OS) with the client host's
  net.ipv4.tcp_keepalive_time/intvl = 1 (declared in `hosts:`, applied in the client namespace);
- N6/N7: the middlebox in front of PgBouncer, whose own probes (tcp_keepidle=1) keep the client
  leg, or do not (tcp_keepidle unset: the OS's 7200 s);
- N8: keepalives_idle=1 but keepalives_interval=10: after the first answered probe the next comes
  an interval later, so the flow is silent for 10 s > 3 s and dies;
- N9/N10: HAProxy in the client namespace, the middlebox on its server leg: the client's
  keepalives do not cross HAProxy (dies) unless HAProxy probes that leg (option srvtcpka);
- N12/N13: a statement that returns no rows for longer than the timer (`SELECT pg_sleep(6)`) is as
  silent as an idle connection: without keepalives its flow expires while it runs and the result
  never reaches the client (it waits; both variants); client probes every second keep it.
A connection predicted to die is also probed just before (alive) and 1.5 s after (dead) the
predicted second. Skips with the reason when namespaces cannot be made (not root, no nft).
"""

from __future__ import annotations

import pytest

import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

IDS = [f"N{n}-{mode}" for mode in ("drop", "reset") for n in range(1, 14)]



@pytest.fixture(scope="module")
def middlebox():
    results = sc.part("middlebox")
    assert sorted(results) == sorted(IDS)
    return results


@pytest.mark.parametrize("sid", IDS)
def test_observed_as_documented(middlebox, sid):
    r = middlebox[sid]
    assert not sc.expectation_problems(r), (r.scenario.config, r.observation, r.brackets)


@pytest.mark.parametrize("sid", IDS)
def test_pgpath_predicts(middlebox, sid, request):
    sc.assert_predicted(middlebox[sid], sid, request)


@pytest.mark.parametrize("sid", IDS)
def test_pgpath_check_accepts_what_the_daemons_ran(middlebox, sid):
    sc.assert_check_accepts(middlebox[sid], sid, "PostgreSQL")


@pytest.mark.parametrize("sid", IDS)
def test_keepalive_rule(middlebox, sid, request):
    """`pgpath check` reports keepalive-over-middlebox-timeout (warning) exactly for the
    connections the middlebox really dropped."""
    r = middlebox[sid]
    assert r.check_error is None, r.check_error
    known = sc.known_disagreement(f"{sid.split('-')[0]}:rule")
    if known:
        request.applymarker(pytest.mark.xfail(reason=known, strict=False))
    died = not r.observation.alive
    verdict = sc.keepalive_verdict(r)
    assert verdict.startswith("dropped") == died, f"{sid}: {r.observation.short()}; pgpath check: {verdict}"
