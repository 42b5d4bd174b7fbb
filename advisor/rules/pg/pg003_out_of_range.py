"""A value outside the parameter's valid range.

## What it checks
After unit conversion and rounding, integer and real values must lie between the parameter's
`min_val` and `max_val` in the real `pg_settings` catalog of the selected version.

A server whose configuration Patroni writes (a patroni.yml, Zalando, Crunchy/Percona PGO, autobase)
gets the nearest bound instead: Patroni raises a number below the minimum to it, or lowers one
above the maximum (patroni/postgresql/validator.py: `Value=... of parameter=... is too low,
increasing to ...`). That is a **warning**: the server starts, with another value than written.

## Why it matters
PostgreSQL refuses to start with an out-of-range value. Conversion surprises are common:
`shared_buffers = 100kB` is 12 blocks of 8 kB, below the minimum of 16.

## Fix
Choose a value inside the range shown in the message. The proposed value is the bound crossed,
except where PostgreSQL would still refuse it: a `max_connections` below its minimum gets the
default (100), since the minimum, 1, is not above `superuser_reserved_connections`; a term of
the server-process total (`max_connections`, `max_worker_processes`, `max_wal_senders`,
`autovacuum_max_workers`, on 18 `autovacuum_worker_slots`) above its range gets the most that
leaves room for the other terms as the file sets them (or at their defaults).

## References
- PostgreSQL: pg_settings — https://www.postgresql.org/docs/current/view-pg-settings.html
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "out-of-range", judge=_judged)



def _judged(doc, d):
    """A server whose configuration Patroni writes never sees the value (patroni/postgresql/validator.py)."""
    from advisor.model.patroni import PATRONI_CLAMPS
    from advisor.rules.pg.common import patroni_judged

    return patroni_judged(RULE, doc, d, PATRONI_CLAMPS)


RULE = Rule(
    code="PG003",
    name="out-of-range",
    severity=Severity.ERROR,
    summary="A value outside the parameter's valid range",
    needs=(),
    check=check,
    doc=__doc__,
)
