"""A second `[pgbouncer]` header, which silently resets everything set before it.

## What it checks
PgBouncer fills in the default of every setting each time it reads a `[pgbouncer]` header.
A second header (in the same file or an included one) therefore throws away every setting
read before it. The finding lists what is lost.

## Why it matters
Nothing is logged: the settings above the second header simply do not apply. A file assembled
from pieces (or an `%include` that starts with its own `[pgbouncer]`) ends up running with
defaults, for example `listen_addr` empty (no TCP listener) or `pool_mode = session`.

## Fix
Keep a single `[pgbouncer]` section; in included fragments, leave the header out.

## References
- PgBouncer source: lib/usual/cfparser.c (fill_defaults at every section header)
- Observed on PgBouncer 1.18: a second `[pgbouncer]` header resets what came before it
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "pgbouncer-section-reset", ("pgbouncer",))


RULE = Rule(
    code="PGB004",
    name="pgbouncer-section-reset",
    severity=Severity.WARNING,
    summary="A second [pgbouncer] header resets the settings before it",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
