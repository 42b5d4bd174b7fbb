"""A value PgBouncer cannot read, so it refuses to start.

## What it checks
Values are read the way PgBouncer reads them: integers with `strtol` (so `on`, `off`, `yes`
and `true` are invalid; write `1` or `0`), times as a plain non-negative number of seconds,
enumerations (`pool_mode`, `*_tls_sslmode`, `auth_type`) against their list, connection
strings as `key=value` pairs (an empty value, an unterminated quote or `port=0` is an error),
`*_tls_protocols` when that side uses TLS, reserved database names, and keepalive values
outside what Linux accepts (`tcp_keepidle`/`tcp_keepintvl` 1..32767, `tcp_keepcnt` at most 127,
`tcp_user_timeout` not negative: PgBouncer then starts without its TCP listener). A `; comment` after a
number is part of the value (PgBouncer only reads `;` and `#` as comments at the start of a
line), so `server_idle_timeout = 30 ; note` is invalid.

## Why it matters
PgBouncer stops reading at the first invalid value and refuses to start (`cannot load config
file`), or, on a reload, keeps running with the old values and only logs the error.

## Fix
Write the value PgBouncer expects; the finding gives the corrected line. Put comments on lines of
their own, starting with `;`.

## References
- PgBouncer: Configuration — https://www.pgbouncer.org/config.html
- PgBouncer source: lib/usual/cfparser.c (cf_set_int, cf_set_time_usec, cf_set_lookup)
"""

from advisor.findings import Severity
from advisor.rules.pgb import report
from advisor.rules.rule import Rule


def check(ctx):
    return report(RULE, ctx, "pgbouncer-invalid-value")


RULE = Rule(
    code="PGB002",
    name="pgbouncer-invalid-value",
    severity=Severity.ERROR,
    summary="A PgBouncer value that makes it refuse to start",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
