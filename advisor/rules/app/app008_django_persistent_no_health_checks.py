"""Django persistent connections without `CONN_HEALTH_CHECKS`.

## What it checks
Django `DATABASES` entries (PostgreSQL backends) with persistent connections (`CONN_MAX_AGE` > 0
or `None` = unlimited; also `dj_database_url.config(conn_max_age=...)`) and without
`"CONN_HEALTH_CHECKS": True` (Django 4.1+; default False).

It is `info`: nothing read shows what would close a pooled connection (a server restart or
failover, a timer on the path). When the client's path has a timer shorter than the pool keeps
connections, PATH002 reports that as a warning, with `CONN_HEALTH_CHECKS` among its fixes, and
this rule says nothing more of that entry: one finding for one thing to change. A database on the same machine (`localhost`,
127.0.0.1, a Unix socket: `HOST` empty or a path) is not reported: no failover, NAT or load
balancer sits on that path, and only a restart of the server itself closes the connections.

## Why it matters
With persistent connections a worker reuses its connection across requests. Without health
checks Django does not test it first: a connection closed while the worker was idle (server
`idle_session_timeout`, PgBouncer `client_idle_timeout`, a NAT or load balancer timer, a
failover) makes the first query of the next request fail. With `CONN_HEALTH_CHECKS` Django
tests a reused connection at the start of a request and reconnects if it is dead.

## Fix
`"CONN_HEALTH_CHECKS": True` in the database entry, or `conn_health_checks=True` in its
`dj_database_url.config()` call (and a `CONN_MAX_AGE` below the shortest idle timeout on the
path, as the entry writes it: `"CONN_MAX_AGE": 870`).

## References
- Django: Persistent connections — https://docs.djangoproject.com/en/stable/ref/databases/#persistent-connections
- Django settings CONN_HEALTH_CHECKS — https://docs.djangoproject.com/en/stable/ref/settings/#conn-health-checks
"""

from advisor.findings import Severity
from advisor.rules.app.common import endpoints, same_machine, secs, where
from advisor.rules.rule import Rule


def check(ctx):
    for doc, ep in endpoints(ctx):
        pool = ep.pool
        if pool is None or pool.library != "django" or not pool.persistent or same_machine(ep):
            continue
        age, hc = pool.max_lifetime, pool.validation
        if not age.known or not hc.known or hc.value is not False:
            continue
        if _outlives_a_timer(ctx, ep, age.value):
            continue  # PATH002 reports the same failure on this entry, with the timer and this fix
        shown = "None (unlimited)" if age.raw in ("None", "", None) and age.value == float("inf") else secs(age.value)
        # as the settings module writes it (`"CONN_HEALTH_CHECKS": False`, not the normalised `false`)
        written = "False" if hc.raw in ("false", "False") else hc.raw
        hc_text = (f'"CONN_HEALTH_CHECKS": {written}' if hc.origin == "set"
                   else "CONN_HEALTH_CHECKS not set (default False)")
        yield RULE.finding(where(age, ep), f"{ep.who()}: CONN_MAX_AGE {shown} keeps connections across requests and "
                                           f"{hc_text}: a connection closed while idle fails the next request's first query",
                           pool.setting("CONN_HEALTH_CHECKS", True), related=[where(hc, ep)] if hc.origin == "set" else [])


def _outlives_a_timer(ctx, ep, age: float) -> bool:
    """The entry is a client of an assembled path on which a timer closes its idle connections
    before CONN_MAX_AGE retires them: what PATH002 reports (a warning, this rule's fix among its own)."""
    for path in ctx.paths or ():
        if not any(hop.detail is ep for _, hop in path.hops_of("client")):
            continue
        firing = [t.seconds for t in path.timers if t.fires]
        if firing and age >= min(firing):
            return True
    return False


RULE = Rule(
    code="APP008",
    name="django-persistent-no-health-checks",
    severity=Severity.INFO,
    summary="Django persistent connections without CONN_HEALTH_CHECKS",
    needs=("client",),
    check=check,
    doc=__doc__,
)
