"""A connection pool that neither validates connections on borrow nor retires them.

## What it checks
Pools whose plan has no validation on borrow **and** no maximum lifetime:
- node-postgres `pg.Pool` (pg-pool never checks an idle client before handing it out;
  `maxLifetimeSeconds` defaults to 0 = never retire);
- psycopg_pool without `check=` and with no `max_lifetime` (`max_lifetime` defaults to 3600 s,
  so this fires only when it is set to never);
- pgxpool (validates after 1 s idle: never reported) and HikariCP (always validates a
  connection idle > 500 ms: never reported).

SQLAlchemy and Django have their own rules (APP007, APP008).

It is `info`: nothing read shows what would close a pooled connection (a server restart or
failover, a timer on the path). When the client's path has a timer shorter than the pool keeps
connections, PATH002 reports that as a warning.

## Why it matters
A pooled connection closed behind the pool's back (server `idle_session_timeout`, PgBouncer
`client_idle_timeout`, a NAT or load balancer idle timer, a failover) stays in the pool. Without
validation it is handed to the application, and the first query on it fails
(`server closed the connection unexpectedly`, `SSL SYSCALL error: EOF detected`).

## Fix
node-postgres: `maxLifetimeSeconds` below the shortest idle timeout on the path (and
`idleTimeoutMillis` shorter still); psycopg_pool: `check=ConnectionPool.check_connection`.

## References
- node-postgres pool options: https://node-postgres.com/apis/pool
- psycopg_pool: https://www.psycopg.org/psycopg3/docs/api/pool.html
- reference: connection-timeouts.md §6.2
"""

import math

from advisor.findings import Severity
from advisor.rules.app.common import endpoints, secs, where
from advisor.rules.rule import Rule

FIXES = {
    "pg-pool": "maxLifetimeSeconds: 300 (below the shortest idle timeout on the path)",
    "psycopg_pool": "check=ConnectionPool.check_connection",
}


def check(ctx):
    for doc, ep in endpoints(ctx):
        pool = ep.pool
        if pool is None or pool.library in ("sqlalchemy", "django"):
            continue
        v, life = pool.validation, pool.max_lifetime
        if not (v.known and v.value is False and life.known and math.isinf(life.value)):
            continue
        key = {"pg-pool": "maxLifetimeSeconds", "psycopg_pool": "max_lifetime"}.get(pool.library, "max lifetime")
        yield RULE.finding(where(life, ep),
                           f"{ep.who()} ({pool.library}): no validation on borrow and "
                           f"{key + ' not set (default: never)' if life.origin == 'default' else key + ' ' + secs(life.value)}"
                           ": a connection closed by the server or a middlebox while idle in the "
                           "pool is handed out and fails on first use",
                           FIXES.get(pool.library, "validate connections on borrow or set a maximum lifetime"))


RULE = Rule(
    code="APP004",
    name="pool-no-validation-no-lifetime",
    severity=Severity.INFO,
    summary="A pool that neither validates connections on borrow nor retires them",
    needs=("client",),
    check=check,
    doc=__doc__,
)
