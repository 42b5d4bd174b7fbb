"""PgBouncer `idle_transaction_timeout` left at 0 (off).

## What it checks
`idle_transaction_timeout = 0` (the default) in `[pgbouncer]`, when no PostgreSQL
configuration in the run sets `idle_in_transaction_session_timeout` either.

## Why it matters
A client that opens a transaction and then stops talking (a crashed worker, a forgotten
`BEGIN`, a debugger breakpoint) keeps its server connection for as long as it stays connected,
in every pool mode. The pool shrinks by one connection each time, the transaction holds its locks
and snapshot, and vacuum cannot clean up behind it.

## Fix
Set a limit in PgBouncer, e.g. `idle_transaction_timeout = 600` (seconds), or on the server
with `idle_in_transaction_session_timeout`. PgBouncer closes the server connection when it fires.

## References
- PgBouncer: idle_transaction_timeout — https://www.pgbouncer.org/config.html#idle_transaction_timeout
- PostgreSQL: idle_in_transaction_session_timeout — https://www.postgresql.org/docs/current/runtime-config-client.html
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import bouncers, pg_value, source, where
from advisor.rules.rule import Rule


def check(ctx):
    for pg in ctx.of_kind("postgresql"):
        value, _ = pg_value(pg, "idle_in_transaction_session_timeout")
        if not is_known(value) or value > 0:
            return  # the server limits it (or we cannot tell)
    for doc, model in bouncers(ctx):
        if model.value("idle_transaction_timeout") == 0:
            yield RULE.finding(
                where(doc, model, "idle_transaction_timeout"),
                f"{source(model, 'idle_transaction_timeout', 's')}: a client idle inside a transaction keeps its server "
                "connection (and the transaction's locks) for as long as it stays connected",
                "idle_transaction_timeout = 600",
            )


RULE = Rule(
    code="PGB014",
    name="pgbouncer-idle-transaction-timeout",
    severity=Severity.INFO,
    summary="idle_transaction_timeout = 0: idle-in-transaction clients hold server connections",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
