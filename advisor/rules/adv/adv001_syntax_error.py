"""A line the software itself cannot parse.

## What it checks
Lines that PostgreSQL, PgBouncer or HAProxy would reject before looking at any value: a value
with a space that is not quoted (`work_mem = 8 MB`), an unquoted dotted value
(`cluster_name = a.b`), an unterminated quote, a line that is not `name = value`. The position
is where the real parser gives up. A connection string that only libpq reads and libpq refuses
is one too: a client's (`DATABASE_URL`, `*_DSN`...), and `primary_conninfo`, which the server
takes as any string but the WAL receiver of a standby cannot connect with
(`invalid connection option "keepalive_idle"`, `invalid sslmode value: "requir"`).

## Why it matters
PostgreSQL refuses to start with a syntax error in postgresql.conf, and on reload it ignores the
whole file: none of the other changes in it take effect.

## Fix
Quote values that contain spaces or dots, close quotes on the same line, and comment out free
text with `#`.

## References
- PostgreSQL: Setting Parameters — https://www.postgresql.org/docs/current/config-setting.html
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "syntax-error")


RULE = Rule(
    code="ADV001",
    name="syntax-error",
    severity=Severity.ERROR,
    summary="A line the real parser rejects",
    needs=(),
    check=check,
    doc=__doc__,
)
