"""A unit suffix on a PgBouncer time or size: PgBouncer takes plain numbers only.

## What it checks
PgBouncer's time settings (`server_idle_timeout`, `query_timeout`, `client_idle_timeout`, ...)
are a plain, possibly fractional, number of **seconds**; integer settings such as
`tcp_keepidle` (seconds), `tcp_user_timeout` (milliseconds) or `pkt_buf` (bytes) are plain
integers. No version accepts a unit: `30s`, `5min`, `1h` or `4kB` make the value invalid.
The finding converts the value to the setting's own unit.

## Why it matters
Unlike PostgreSQL (`30s`) and HAProxy (`30s`, default ms), PgBouncer rejects the suffix and
refuses to start (`invalid value "30s" for parameter query_timeout`); copying a value from
postgresql.conf is the usual way this happens.

## Fix
Write the number alone, in the setting's unit: `query_timeout = 30`, `server_lifetime = 3600`,
`query_timeout = 0.5` for 500 ms.

## References
- PgBouncer: Configuration — https://www.pgbouncer.org/config.html
- Observed on PgBouncer 1.18 (`30s`, `1h` are fatal; `1.5` is fine)
"""

from advisor.findings import Severity
from advisor.rules.pgb import report
from advisor.rules.rule import Rule


def check(ctx):
    return report(RULE, ctx, "pgbouncer-unit-suffix")


RULE = Rule(
    code="PGB003",
    name="pgbouncer-unit-suffix",
    severity=Severity.ERROR,
    summary="A unit suffix (30s, 5min) on a PgBouncer value",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
