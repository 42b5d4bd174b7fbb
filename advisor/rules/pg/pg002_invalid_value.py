"""A value PostgreSQL cannot parse for its parameter.

## What it checks
Values are checked with PostgreSQL's own rules for the parameter's type: integers and reals with
an optional unit (memory `B kB MB GB TB`, time `us ms s min h d`, case-sensitive; there is no
`m`), booleans (`on/off/true/false/yes/no/1/0` and unambiguous prefixes), and enum values.

A server whose configuration Patroni writes (a patroni.yml, Zalando, Crunchy/Percona PGO, autobase)
never gets a boolean, integer, real or enum value Patroni cannot read: Patroni removes it before
it writes postgresql.conf (patroni/postgresql/validator.py: `Removing integer parameter=... due to
the invalid value`) and PostgreSQL starts with the default. That is a **warning**: the server
starts, and the setting silently has no effect. A string value is written as it is, and
PostgreSQL refuses it as usual.

## Why it matters
An invalid value stops PostgreSQL from starting; on reload the line is ignored and the old value
silently stays. `tcp_keepalives_idle = 1m` and `work_mem = 8mb` look right and are both invalid.

## Fix
Use a unit PostgreSQL knows, in the right case (`'1min'`, `'8MB'`), or a plain number in the
parameter's base unit.

## References
- PostgreSQL: Parameter Names and Values — https://www.postgresql.org/docs/current/config-setting.html#CONFIG-SETTING-NAMES-VALUES
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "invalid-value", judge=_judged)



def _judged(doc, d):
    """A server whose configuration Patroni writes never sees the value (patroni/postgresql/validator.py)."""
    from advisor.model.patroni import PATRONI_REMOVES
    from advisor.rules.pg.common import patroni_judged

    return patroni_judged(RULE, doc, d, PATRONI_REMOVES)


RULE = Rule(
    code="PG002",
    name="invalid-value",
    severity=Severity.ERROR,
    summary="A value PostgreSQL cannot parse for the parameter",
    needs=(),
    check=check,
    doc=__doc__,
)
