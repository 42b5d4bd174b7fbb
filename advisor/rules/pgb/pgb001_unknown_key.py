"""A section, setting or connection-string key this PgBouncer version does not know.

## What it checks
Every key of `[pgbouncer]` is looked up in the setting table of the PgBouncer version selected
with `--pgbouncer-version` (else the tag of the image that runs it, e.g.
`edoburu/pgbouncer:v1.22.1-p0`; else the newest, 1.25). Keys are **case-sensitive**
(`Pool_mode` is unknown). The keys of the connection strings in `[databases]`, `[users]` and
`[peers]` are checked the same way, and so are section names (`[peers]` needs 1.19). A near
miss gets a did-you-mean; a key of a newer version says in which version it was added.

## Why it matters
PgBouncer refuses to start with `unknown parameter`, `unrecognized connection parameter` or
`invalid section` in its configuration (on a reload it keeps the old configuration and logs the
error), so a typo takes the pooler down at the next restart.

## Fix
Correct the spelling (and the case), or remove the setting for the version you run.

## References
- PgBouncer: Configuration — https://www.pgbouncer.org/config.html
- PgBouncer source: lib/usual/cfparser.c (cf_set), src/loader.c (parse_database)
"""

from advisor.findings import Severity
from advisor.rules.pgb import report
from advisor.rules.rule import Rule


def check(ctx):
    return report(RULE, ctx, "pgbouncer-unknown-key")


RULE = Rule(
    code="PGB001",
    name="pgbouncer-unknown-key",
    severity=Severity.ERROR,
    summary="A PgBouncer key or section this version does not know",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
