"""The lab on loopback: real PostgreSQL 15 (TLS), PgBouncer and HAProxy with 2-second timers, real
libpq clients held idle, and pgpath's `path` and `check` on the very files the daemons run with.

Each scenario is checked three ways:
- what happened matches ../shared/reference/lab-observations.md (`test_observed_as_documented`);
- `pgpath path` predicted it: when the idle connection is closed (the second the socket saw the
  close), by which hop and timer (the error's SQLSTATE, or HAProxy's logged termination state),
  and that it survives when pgpath says nothing closes it (`test_pgpath_predicts`);
- `pgpath check` does not call invalid a file the real software just ran with, and its pool rule
  says a pool without validation fails where one with validation recovers (`test_pool_rule`).

All scenarios run at once (threads), so the module takes about one idle period plus start-up.
"""

from __future__ import annotations

import pytest

import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

IDS = ["H0", "H1", "H1d", "H2", "H3", "H4", "H5", "H5b", "H6", "H7", "B1", "B1t", "B3", "B4", "B5", "B6", "X1",
       "X1t", "P1", "P1r", "B6r", "POOL1", "POOL2"]



@pytest.fixture(scope="module")
def loopback():
    results = sc.part("loopback")
    assert sorted(results) == sorted(IDS)
    return results


@pytest.mark.parametrize("sid", IDS)
def test_observed_as_documented(loopback, sid):
    r = loopback[sid]
    assert not sc.expectation_problems(r), (r.scenario.config, r.observation)


@pytest.mark.parametrize("sid", IDS)
def test_pgpath_predicts(loopback, sid, request):
    sc.assert_predicted(loopback[sid], sid, request)


@pytest.mark.parametrize("sid", IDS)
def test_pgpath_check_accepts_what_the_daemons_ran(loopback, sid):
    sc.assert_check_accepts(loopback[sid], sid, "the daemons")


@pytest.mark.parametrize("sid,fails", [("POOL1", True), ("POOL2", False)])
def test_pool_rule(loopback, sid, fails, request):
    """psycopg_pool without `check=` hands out the connection idle_session_timeout closed; with
    `check=ConnectionPool.check_connection` it notices at borrow and opens a new one. pgpath's pool
    rule (pool-outlives-idle-timeout) must say the first fails (warning) and say nothing of the
    second: its check is the remedy, and nothing else in its configuration would do better."""
    r = loopback[sid]
    o = r.observation
    assert o.alive is not fails, o  # the real pool did what the test says
    assert r.check_error is None, r.check_error
    known = sc.known_disagreement(f"{sid}:pool")
    if known:
        request.applymarker(pytest.mark.xfail(reason=known, strict=False))
    verdict = sc.pool_verdict(r)
    want = "fails" if fails else "no finding"
    assert verdict.startswith(want), f"{sid}: the real pool {o.detail['pool']}, pgpath check says: {verdict}"
