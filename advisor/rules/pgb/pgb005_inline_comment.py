"""A `; comment` after a PgBouncer string value becomes part of the value.

## What it checks
PgBouncer reads `;` and `#` as comments only at the start of a line. After a value they are
ordinary characters, so `logfile = /var/log/pgbouncer.log ; rotate daily` names a file called
`/var/log/pgbouncer.log ; rotate daily`. (After a number or an enumeration the same comment is
an invalid value, reported by PGB002.)

## Why it matters
PgBouncer starts, but with a value nobody meant: a log file with a strange name, a
`server_reset_query` with junk after it, an `admin_users` list with an extra user.

## Fix
Move the comment to a line of its own, starting with `;`.

## References
- PgBouncer source: lib/usual/cfparser.c (comments only at the start of a line)
"""

from advisor.findings import Severity
from advisor.rules.pgb import report
from advisor.rules.rule import Rule


def check(ctx):
    return report(RULE, ctx, "pgbouncer-inline-comment")


RULE = Rule(
    code="PGB005",
    name="pgbouncer-inline-comment",
    severity=Severity.WARNING,
    summary="A trailing ; comment that PgBouncer keeps as part of the value",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
