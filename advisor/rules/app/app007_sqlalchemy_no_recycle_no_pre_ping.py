"""SQLAlchemy pool with neither `pool_recycle` nor `pool_pre_ping`.

## What it checks
SQLAlchemy engines configured in application config files (a `postgresql+<dbapi>://` URL or
`sqlalchemy.url` with `sqlalchemy.pool_recycle`/`pool_pre_ping`, `engine_options` beside a URL)
where `pool_recycle` is -1 (the default: never recycle) and `pool_pre_ping` is false (the
default).

A SQLAlchemy URL alone (an environment variable of a container or `.env`, a line of text) is
not judged: the engine's options are `create_engine()`'s arguments, in code, so its pool plan is
unknown (docs/clients.md); the module that creates the engine is judged where pgpath reads it.

It is `info`: nothing read shows what would close a pooled connection (a server restart or
failover, a timer on the path). When the client's path has a timer shorter than the pool keeps
connections, PATH002 reports that as a warning.

## Why it matters
The QueuePool keeps connections open forever and hands them out without a test. A connection
closed while idle (server `idle_session_timeout`, PgBouncer `client_idle_timeout`, NAT or load
balancer idle timers, failover) fails the first statement that uses it
(`server closed the connection unexpectedly`), typically the first request after a quiet period.

## Fix
`pool_pre_ping=True` (one round trip per checkout; invalid connections are replaced) and/or
`pool_recycle` below the shortest idle timeout on the path, e.g. `pool_recycle=300`.

## References
- SQLAlchemy: Dealing with Disconnects — https://docs.sqlalchemy.org/en/20/core/pooling.html#dealing-with-disconnects
- reference: connection-timeouts.md §6.2 (SQLAlchemy)
"""

import math

from advisor.findings import Severity
from advisor.rules.app.common import endpoints, where
from advisor.rules.rule import Rule


def check(ctx):
    for doc, ep in endpoints(ctx):
        pool = ep.pool
        if pool is None or pool.library != "sqlalchemy":
            continue
        recycle, ping = pool.max_lifetime, pool.validation
        if not (recycle.known and math.isinf(recycle.value) and ping.known and ping.value is False):
            continue
        r = f"pool_recycle={recycle.raw}" if recycle.origin == "set" else "pool_recycle not set (default -1, never)"
        p = f"pool_pre_ping={ping.raw}" if ping.origin == "set" else "pool_pre_ping not set (default False)"
        span = where(recycle, ep) if recycle.origin == "set" else where(ping, ep)
        yield RULE.finding(span, f"{ep.who()}: {r} and {p}: pooled connections are never recycled nor tested, so one "
                                 "closed while idle fails the next statement",
                           f"{pool.setting('pool_pre_ping', True)} (and pool_recycle below the shortest idle timeout, "
                           f"e.g. {pool.setting('pool_recycle', 300)})")


RULE = Rule(
    code="APP007",
    name="sqlalchemy-no-recycle-no-pre-ping",
    severity=Severity.INFO,
    summary="SQLAlchemy pool without pool_recycle and without pool_pre_ping",
    needs=("client",),
    check=check,
    doc=__doc__,
)
