"""HikariCP `maxLifetime` not shorter than a connection limit imposed further along the path.

## What it checks
HikariCP's `maxLifetime` (default 1800000 ms = 30 min; 0 = never) against the idle limits found
in the same run:
- PostgreSQL `idle_session_timeout` (postgresql.conf), which ends a session idle outside a
  transaction;
- PgBouncer `client_idle_timeout` when `pool_mode` is `transaction` or `statement`: it closes
  only clients that hold no server connection, so with session pooling (the default) it never
  closes an application's connection (lab rows B1, B1t).

A pooled connection can sit idle for its whole life, so only `maxLifetime` below the limit
guarantees the pool retires it first. PgBouncer `server_lifetime` is *not* used: it only closes
server connections that no client holds, never the application's connection.
This is a first approximation: the connection-path model (which hop sits in front of which)
will make the comparison precise per leg.

## Why it matters
HikariCP's documentation asks for `maxLifetime` several seconds shorter than any database or
infrastructure-imposed connection time limit. A connection killed first is only noticed when
it is borrowed (HikariCP validates connections idle > 500 ms, costing up to
`validationTimeout` each), and the server logs a FATAL for each one.

## Fix
`maxLifetime` at least 30 s below the shortest limit (in milliseconds), e.g. with
`idle_session_timeout = 10min`: `spring.datasource.hikari.max-lifetime=570000`.

## References
- HikariCP configuration (maxLifetime): https://github.com/brettwooldridge/HikariCP#frequently-used
- PostgreSQL idle_session_timeout: https://www.postgresql.org/docs/current/runtime-config-client.html
- PgBouncer client_idle_timeout, server_lifetime: https://www.pgbouncer.org/config.html
"""

import math

from advisor.findings import Severity
from advisor.rules.app.common import endpoints, origin_note, secs, where
from advisor.rules.rule import Rule


def limits(ctx):
    """(seconds, description, span) of every idle limit in the run."""
    out = []
    for doc in ctx.of_kind("postgresql"):
        s = doc.get("idle_session_timeout")
        if s is not None and isinstance(s.value, (int, float)) and s.value > 0:
            out.append((s.value / 1000.0, f"PostgreSQL idle_session_timeout {s.value / 1000.0:g} s", s.span))
    for doc in ctx.of_kind("pgbouncer"):
        mode = doc.get("pool_mode", section="pgbouncer")
        if mode is None or str(mode.value).lower() not in ("transaction", "statement"):
            continue  # session pooling (the default): client_idle_timeout never closes a client (lab B1)
        for s in doc.settings:
            if s.name == "client_idle_timeout" and s.effective and isinstance(s.value, (int, float)) and s.value > 0:
                out.append((float(s.value), f"PgBouncer client_idle_timeout {s.value:g} s (pool_mode={mode.value})",
                            s.span))
    return out


def check(ctx):
    found = limits(ctx)
    if not found:
        return
    for doc, ep in endpoints(ctx):
        pool = ep.pool
        if pool is None or pool.library != "hikaricp" or not pool.max_lifetime.known:
            continue
        life = pool.max_lifetime.value
        limit, what, span = min(found, key=lambda x: x[0])
        if life < limit:
            continue
        target_ms = max(30000, int((limit - 30) * 1000))
        shown = f"{pool.max_lifetime.raw} ms = " if pool.max_lifetime.origin == "set" and pool.max_lifetime.raw else ""
        yield RULE.finding(where(pool.max_lifetime, ep),
                           f"{ep.name}: HikariCP maxLifetime {shown}{secs(life)}{origin_note(pool.max_lifetime)} "
                           f"{'is not below' if not math.isinf(life) else 'never ends, not below'} {what}: an idle "
                           "pooled connection is closed there before HikariCP retires it",
                           f"maxLifetime={target_ms} (ms, at least 30 s below {limit:g} s)", related=[span])


RULE = Rule(
    code="APP005",
    name="hikari-lifetime-over-hop-limit",
    severity=Severity.WARNING,
    summary="HikariCP maxLifetime not shorter than an idle limit on the path",
    needs=("client",),
    check=check,
    doc=__doc__,
)
