"""A non-zero value that PostgreSQL silently rounds to 0 — which usually means "disabled".

## What it checks
Integer settings whose written value is not zero but becomes 0 after PostgreSQL converts it to
the parameter's base unit and rounds: `idle_session_timeout = 0.5` (0.5 ms -> 0),
`statement_timeout = '400us'`, `tcp_keepalives_idle = '500ms'` (seconds -> 0).

## Why it matters
For every timeout and keepalive parameter 0 means off (or "use the OS default"), so the value
meant as a very short limit switches the feature off, without any error or warning from
PostgreSQL.

## Fix
Write the value with an explicit unit large enough to survive rounding, e.g.
`tcp_keepalives_idle = '1s'`, or `0` if off (for the keepalive settings and `tcp_user_timeout`:
the operating system's default) is what you want. A timer that cancels or ends work
(`lock_timeout`, `transaction_timeout`, `idle_in_transaction_session_timeout`, ...) never gets
its smallest value proposed: every statement, transaction or pause would hit it. `statement_timeout` and
`idle_session_timeout` are fixed per role (`ALTER ROLE app SET idle_session_timeout = '500ms'`),
since a server-wide value is what PG010 and PG011 report.

## References
- PostgreSQL: Parameter Names and Values (rounding) — https://www.postgresql.org/docs/current/config-setting.html#CONFIG-SETTING-NAMES-VALUES
"""

from advisor.findings import Severity
from advisor.model.pg_parameters import assignment, removal
from advisor.rules.rule import Rule
from advisor.units import c_strtod

# settings that belong to a role, not to every session of the server (rules PG010, PG011)
_PER_ROLE = {
    "statement_timeout": "server-wide it cancels migrations and batch jobs too: PG010",
    "idle_session_timeout": "server-wide it closes pooled server connections too: PG011",
}

# timers that cancel or end work: their smallest value is no fix (every statement, transaction or
# pause would hit it)
_ENDS_WORK = frozenset({"statement_timeout", "idle_session_timeout", "transaction_timeout",
                        "idle_in_transaction_session_timeout", "lock_timeout"})

# where 0 is not "off" but the operating system's value (reference §1.1)
_ZERO_MEANS = {
    "tcp_keepalives_idle": "the operating system's default (Linux: 7200 s)",
    "tcp_keepalives_interval": "the operating system's default (Linux: 75 s)",
    "tcp_keepalives_count": "the operating system's default (Linux: 9)",
    "tcp_user_timeout": "the operating system's default",
}


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        for setting in doc.settings:
            if setting.value != 0 or isinstance(setting.value, bool) or not isinstance(setting.value, int):
                continue
            text = setting.raw.strip("'")
            number, _, _ = c_strtod(text)
            if number is None or number == 0:
                continue
            unit = setting.unit or ""
            bare = text.strip() == f"{number:g}" or text.strip().lstrip("+").replace(".", "", 1).isdigit()
            larger = {"ms": "s", "s": "min", "min": "h"}.get(unit)
            zero = _ZERO_MEANS.get(setting.name)
            if bare and larger:
                meant, why = f"'{text.strip()}{larger}'", f"if {text.strip()} {larger} was meant: bare numbers are {unit}"
            elif unit:
                meant = f"'1{unit}'"
                why = f"the smallest non-zero value; or 0 for {zero}" if zero else \
                    "the smallest non-zero value; or 0 if off is intended"
            else:
                meant, why = "1", ""
            if setting.name in _PER_ROLE and bare and larger:
                # server-wide, PG010 or PG011 would report the value fixed here: per role
                fix = (f"{removal(doc, setting, setting.name + ' line')} and ALTER ROLE <role> SET {setting.name} = "
                       f"{meant}  ({why}; {_PER_ROLE[setting.name]})")
            elif setting.name in _PER_ROLE:
                # its smallest value would cancel every statement, or end every session at its first pause
                fix = (f"{removal(doc, setting, setting.name + ' line')} (0, off, is what it is now); for a limit, "
                       f"ALTER ROLE <role> SET {setting.name} = '<the limit meant, in ms or more>'  "
                       f"({_PER_ROLE[setting.name]})")
            elif setting.name in _ENDS_WORK and not (bare and larger):
                fix = (f"{removal(doc, setting, setting.name + ' line')} (0, off, is what it is now), or write the "
                       f"limit meant with a unit: {assignment(doc, setting.name, chr(39) + '<limit>s' + chr(39))}")
            else:
                fix = assignment(doc, setting.name, meant) + (f"  ({why})" if why else "")
            yield RULE.finding(
                setting.value_span or setting.span,
                f"{setting.name} = {setting.raw} rounds to 0{unit} (its base unit is {unit or 'a whole number'}), "
                + (f"and 0 means {zero}" if zero else f"and 0 turns {setting.name} off"),
                fix,
            )


RULE = Rule(
    code="PG012",
    name="rounds-to-zero",
    severity=Severity.WARNING,
    summary="A non-zero value that rounds to 0 and disables the setting",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
