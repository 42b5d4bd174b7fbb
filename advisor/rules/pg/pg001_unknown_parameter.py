"""A parameter name the chosen PostgreSQL version does not know.

## What it checks
Every name in postgresql.conf (and the files it includes) is looked up in the real `pg_settings`
catalog of the PostgreSQL major selected with `--pg-version` (default: the newest). Names are
case-insensitive. Names with a dot (`pg_stat_statements.max`, `my.setting`) are custom settings
and always accepted. The same check applies to `ALTER SYSTEM SET` (and `ALTER ROLE/DATABASE ...
SET`) in SQL files, where PostgreSQL rejects the statement.

A near miss gets a did-you-mean, naming only a parameter a configuration can set: parameters of
context `internal` (`wal_segment_size`, `block_size`, `server_version`...) are never suggested,
since no file and no `ALTER SYSTEM` can change them (`wal_segment_size` is chosen once, by
`initdb --wal-segsize`). With no settable near miss the fix is to remove the line (the statement,
in SQL).

## Why it matters
PostgreSQL refuses to start with an unrecognized parameter in its configuration files, and a
typo in a timeout means the timeout you thought you set does not exist. Parameters also come and
go between majors (`idle_session_timeout` is 14+, `transaction_timeout` 17+).

A parameter that an older major had (`db_user_namespace`, removed in 17) is an error when the
file's major is known (given, declared, or found in the files); when no version was given or found
and the file is checked as the newest major by default, it is an info that says from which major
on the server refuses to start, and how to declare the version if the file is for an older one
(whether it fails depends on a version no file shows).

In a Patroni configuration an unknown name is a warning: Patroni checks parameters against the
running major and drops the ones it does not know, so PostgreSQL starts without the setting.

## Fix
Correct the spelling to the suggested name, or remove the setting (for versions that do not have
it, or a name that no PostgreSQL has).

## References
- PostgreSQL: Server Configuration — https://www.postgresql.org/docs/current/runtime-config.html
"""

from advisor.findings import Severity
from advisor.model import pg_version_of, short_version_reason
from advisor.model.patroni import managed_by_patroni
from advisor.rules.rule import Rule, report_diagnostics


# Patroni validates parameters against the running major and drops the ones it does not know
# (with a log line): PostgreSQL never sees them, so it still starts
PATRONI_DROPS = "Patroni drops it (PostgreSQL never sees it), so the setting has no effect"


def check(ctx):
    return report_diagnostics(RULE, ctx, "unknown-parameter", judge=_judged)


def _judged(doc, d):
    patroni = managed_by_patroni(doc)
    version = pg_version_of(doc) if d.removed_in is not None else None
    if version is None:
        if patroni:
            return RULE.finding(d.span, f"{d.message}; {PATRONI_DROPS}", d.fix, d.related, severity=Severity.WARNING)
        return RULE.from_diagnostic(d)
    said = doc.meta.get("pg_version_said")  # the files are for 13, checked with 14 (the oldest catalog)
    if said is not None and d.removed_in > said:
        return None  # (that major had it)
    message = (f"{d.message}, and this file is checked as PostgreSQL {version['major']} "
               f"({short_version_reason(version)}): ")
    # with no version given or found, what happens holds only from the major that removed it on:
    # a risk that depends on a version no file shows (an info, whose fix says how to declare it)
    assumed = version["source"] == "default"
    since = f"PostgreSQL {d.removed_in:g}"
    if patroni:
        consequence = (f"from {since} on, " if assumed else "") + PATRONI_DROPS
        severity = Severity.INFO if assumed else Severity.WARNING
    elif assumed:
        consequence, severity = f"{since} and later refuse to start with it", Severity.INFO
    else:
        consequence, severity = "the server refuses to start with it", None
    return RULE.finding(d.span, message + consequence, d.fix, d.related, severity=severity)


RULE = Rule(
    code="PG001",
    name="unknown-parameter",
    severity=Severity.ERROR,
    summary="A parameter name this PostgreSQL version does not know",
    needs=(),
    check=check,
    doc=__doc__,
)
