"""A connection pool that neither validates connections on borrow nor retires them.

## What it checks
Pools whose plan has no validation on borrow **and** no maximum lifetime:
- node-postgres `pg.Pool` (pg-pool never checks an idle client before handing it out;
  `maxLifetimeSeconds` defaults to 0 = never retire);
- psycopg_pool without `check=` and with no `max_lifetime` (`max_lifetime` defaults to 3600 s,
  so this fires only when it is set to never);
- pgxpool (validates after 1 s idle: never reported) and HikariCP (always validates a
  connection idle > 500 ms: never reported);
- asyncpg's `create_pool` (no check on acquire beyond a close it has seen, no lifetime): its
  `max_inactive_connection_lifetime` (default 300 s; 0 disables it, and the pool is then not
  judged here) closes every idle connection, `min_size` ones included, and is judged as pg-pool's
  `idleTimeoutMillis` below (its connections notice a close as pg-pool's do).

SQLAlchemy and Django have their own rules (APP007, APP008).

pg-pool's `idleTimeoutMillis` (default 10000 ms; 0 disables it; Node runs a delay below 1 ms or
above 2^31-1 ms after 1 ms) closes a client left idle that long, so the pool never hands out one
idle longer, unless `min` > 0: a client released while the pool holds `min` clients or fewer gets
no idle timer and may idle for ever. When that timer bounds every idle client:
- on an assembled path, the pool is reported only when the first timer to end an idle connection
  there does it silently (an NLB's, a NAT's flow expiry) as soon as or sooner than
  `idleTimeoutMillis` (PATH002 then says so too);
- on no path, or a path whose timers are all kept open by keepalives, no timer is known: the
  pool is reported only when `idleTimeoutMillis` is not below 240 s, the shortest default idle
  timer among the middleboxes whose expiry a client learns of only at its next packet (an Azure
  Load Balancer without TCP reset). A shorter bound outlives none of the usual timers; a timer
  configured shorter still shows once its file is read.

pg-pool also removes an idle client whose connection ends (pg-pool's `makeIdleListener`: the
server, HAProxy, PgBouncer or a closing load balancer such as an ALB sends a FIN or RST as it
closes it), so for it only timers the client learns of at its next packet count (an NLB's or
NAT's flow expiry, an Azure Load Balancer without TCP reset); PATH002 says what the others do.

It is `info`: nothing read shows what would close a pooled connection (a server restart or
failover, a timer on the path). When the client's path has a timer shorter than the pool keeps
connections, PATH002 reports that as a warning.

## Why it matters
A pooled connection closed behind the pool's back (server `idle_session_timeout`, PgBouncer
`client_idle_timeout`, a NAT or load balancer idle timer, a failover) stays in the pool. Without
validation it is handed to the application, and the first query on it fails
(`server closed the connection unexpectedly`, `SSL SYSCALL error: EOF detected`).

## Fix
node-postgres: `idleTimeoutMillis` below the shortest idle timeout on the path (its default,
10000 ms, is below every middlebox default), or `maxLifetimeSeconds` below that timeout when
`min` keeps clients; psycopg_pool: `check=ConnectionPool.check_connection`; asyncpg:
`max_inactive_connection_lifetime` below the shortest idle timeout on the path.

## References
- asyncpg `create_pool` (`max_inactive_connection_lifetime`, PoolConnectionHolder):
  https://magicstack.github.io/asyncpg/current/api/index.html#connection-pools
- node-postgres pool options: https://node-postgres.com/apis/pool
- pg-pool `_release` (idle timer armed only above `min`; default 10000 ms):
  https://github.com/brianc/node-postgres/blob/master/packages/pg-pool/index.js
- psycopg_pool: https://www.psycopg.org/psycopg3/docs/api/pool.html
- reference: connection-timeouts.md §6.2
"""

import math

from advisor.findings import Severity
from advisor.rules.app.common import endpoints, said, secs, where
from advisor.rules.rule import Rule

FIXES = {
    "psycopg_pool": "check=ConnectionPool.check_connection",
}


def shortest_silent_default_idle() -> tuple[float, str]:
    """(seconds, kinds) of the shortest default idle timer among the middleboxes whose expiry the
    client learns of only at its next packet (an Azure Load Balancer without TCP reset, 240 s; an
    NLB or NAT gateway, 350 s): pg-pool removes an idle client that a closing proxy ends (ALB,
    Classic ELB), so only those can have it lend a dead one."""
    from advisor.model.middlebox import KINDS

    silent = [k for k in KINDS.values() if k.default_idle and k.on_expiry in ("rst", "drop")]
    least = min(k.default_idle for k in silent)
    return least, " or ".join(k.label for k in silent if k.default_idle == least)


def _silent_first(ctx) -> dict:
    """id(client endpoint) -> the timers that end its idle connections silently first, one per
    assembled path it is the client of (none for a path whose first timer to fire closes the
    connection as it expires: pg-pool drops the client then, before any later timer). Built once
    per run."""
    out: dict = {}
    for path in ctx.paths:
        if len(path.hops) < 2:
            continue  # a client alone: no path known
        firing = [t for t in path.timers if t.fires]
        first = min(firing, key=lambda t: t.seconds) if firing else None
        for _i, hop in path.hops_of("client"):
            timers = out.setdefault(id(hop.detail), [])
            if first is not None and not first.notifies:
                timers.append(first)
    return out


def check(ctx):
    index = None  # the silent timers each client's paths end its idle connections with, built when needed
    for doc, ep in endpoints(ctx):
        pool = ep.pool
        if pool is None or pool.library in ("sqlalchemy", "django"):
            continue
        v, life = pool.validation, pool.max_lifetime
        if not (v.known and v.value is False and life.known and math.isinf(life.value)):
            continue
        key = {"pg-pool": "maxLifetimeSeconds", "psycopg_pool": "max_lifetime"}.get(pool.library, "max lifetime")
        if pool.library == "asyncpg" and pool.idle_bound() is None:
            continue  # max_inactive_connection_lifetime=0 with max_queries: not judged here
        head = (f"{ep.who()} ({pool.library}): no validation on borrow and "
                f"{key + ' not set (default: never)' if life.origin == 'default' else key + ' ' + secs(life.value)}")
        fix = FIXES.get(pool.library, "validate connections on borrow or set a maximum lifetime")
        bound = pool.idle_bound()
        if bound is not None:
            idle = said(pool.max_idle, pool.idle_key)
            if index is None:
                index = _silent_first(ctx)
            on_paths = index.get(id(ep))  # None: on no assembled path
            timers = [t for t in on_paths or () if t.seconds is not None]
            shortest = min(timers, key=lambda t: t.seconds) if timers else None
            if on_paths is not None and shortest is None:
                continue  # on its paths nothing ends an idle connection silently before a close it sees
            if shortest is None:
                usual, kinds = shortest_silent_default_idle()
                if bound < usual:
                    continue  # it closes idle clients before any timer usual on a path would
                why = (f"; it closes a client only once idle {secs(bound)} ({idle}), not sooner than the "
                       f"{secs(usual)} after which an {kinds} forgets an idle flow by default")
            elif bound < shortest.seconds:
                continue  # it closes idle clients before every timer on its path
            else:
                why = (f"; it closes a client only once idle {secs(bound)} ({idle}), but {shortest.name} ends an "
                       f"idle connection after {secs(shortest.seconds)}")
            yield RULE.finding(where(pool.max_idle, ep),
                               f"{head}{why}: a connection whose flow such a timer drops while idle in the pool (the "
                               "client learns of it only at its next packet) is handed out and fails on first use",
                               _idle_fix(shortest.seconds if shortest else None, pool))
            continue
        if pool.library == "pg-pool":
            if index is None:
                index = _silent_first(ctx)
            fix = _pg_pool_fix(pool, index.get(id(ep)) or ())
        note = _unbounded_note(pool)
        closed = ("a connection whose flow a middlebox drops while idle in the pool (an NLB, a NAT: the client learns "
                  "of it only at its next packet; pg-pool removes one the server or a proxy closes)"
                  if pool.library == "pg-pool" else
                  "a connection closed by the server or a middlebox while idle in the pool")
        yield RULE.finding(where(life, ep), f"{head}{note}: {closed} is handed out and fails on first use", fix)


def _pg_pool_fix(pool, silent) -> str:
    """pg-pool's idle timer where it can bound every idle client (`min` 0), else a maximum
    lifetime 30 s below the shortest timer its client learns of only at its next packet (`silent`,
    on its paths; else the shortest such default)."""
    least = pool.min_size
    if least is None or not least.known or least.value == 0:
        return "idleTimeoutMillis: 10000 (pg-pool's default: an idle client is closed after 10 s)"
    timers = [t.seconds for t in silent if t.seconds is not None]
    timer, what = (min(timers), "the shortest idle timer on its path") if timers else \
        (shortest_silent_default_idle()[0], "the shortest default of an NLB, NAT or Azure Load Balancer without reset")
    return f"maxLifetimeSeconds: {int(max(timer - 30, timer / 2))} (below {secs(timer)}, {what})"


def _unbounded_note(pool) -> str:
    """Why pg-pool's idle timer does not bound how long a connection idles (disabled, or `min`)."""
    if pool.library != "pg-pool":
        return ""
    idle, least = pool.max_idle, pool.min_size
    if idle.known and isinstance(idle.value, float) and math.isinf(idle.value):
        return f" ({idle.key or 'idleTimeoutMillis'}={idle.raw or 0}: idle clients are never closed)"
    if least is not None and least.known and least.value > 0:
        n = least.raw or f"{least.value:g}"
        return (f" (min={n}: a client released while the pool holds {n} or fewer gets no idle timer "
                "(idleTimeoutMillis) and may idle for ever)")
    return ""


def _idle_fix(timer: float | None, pool=None) -> str:
    """pg-pool's idleTimeoutMillis below the path's shortest timer (30 s below it, or half of a
    timer of a minute or less), or its default when no timer is known; asyncpg's
    max_inactive_connection_lifetime (seconds) alike."""
    if pool is not None and pool.library == "asyncpg":
        target = (timer - 30 if timer >= 60 else max(1, timer / 2)) if timer is not None else 120
        below = f"below {secs(timer)}" if timer is not None else "below the shortest idle timeout on the path"
        return f"max_inactive_connection_lifetime={int(target)} in asyncpg.create_pool() (s, {below})"
    if timer is None:
        return "idleTimeoutMillis: 10000 (pg-pool's default), below the shortest idle timeout on the path"
    target = timer - 30 if timer >= 60 else max(0.001, timer / 2)
    return f"idleTimeoutMillis: {int(target * 1000)} (ms, below {secs(timer)})"


RULE = Rule(
    code="APP004",
    name="pool-no-validation-no-lifetime",
    severity=Severity.INFO,
    summary="A pool that neither validates connections on borrow nor retires them",
    needs=("client",),
    check=check,
    doc=__doc__,
)
