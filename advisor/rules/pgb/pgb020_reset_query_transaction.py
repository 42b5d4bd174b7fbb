"""`server_reset_query` set with transaction pooling, where PgBouncer does not run it.

## What it checks
`server_reset_query` written in the file (non-empty) while `pool_mode = transaction` (or
`statement`) and `server_reset_query_always = 0` (the default).

## Why it matters
Since 1.7 PgBouncer runs the reset query only in session pooling, unless
`server_reset_query_always = 1`. In transaction pooling the line is dead: whoever wrote it
expected session state (temporary tables, `SET`s, prepared statements, advisory locks) to be
cleaned between clients, and it is not. Transaction pooling needs clients that leave no session
state behind.

## Fix
Remove the line, or, if a reset between transactions is really wanted, set
`server_reset_query_always = 1` (it costs a round trip per transaction).

## References
- PgBouncer: server_reset_query, server_reset_query_always — https://www.pgbouncer.org/config.html
- PgBouncer NEWS 1.7.1: server_reset_query is not used in transaction pooling
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import assignment, bouncers, removal, where
from advisor.rules.rule import Rule


def check(ctx):
    for doc, model in bouncers(ctx):
        query, always, mode = (model.value(n) for n in ("server_reset_query", "server_reset_query_always", "pool_mode"))
        if model.is_default("server_reset_query") or not is_known(query) or not query.strip():
            continue
        if not is_known(always) or always != 0 or mode not in ("transaction", "statement"):
            continue
        yield RULE.finding(
            where(doc, model, "server_reset_query"),
            f"server_reset_query = {query} is never run: pool_mode = {mode} and server_reset_query_always = 0 "
            "(PgBouncer resets server connections only in session pooling)",
            f"{removal(doc, model, 'server_reset_query')}, or set {assignment(doc, model, 'server_reset_query_always', 1)} "
            "if a reset is really needed",
            [where(doc, model, "pool_mode")],
        )


RULE = Rule(
    code="PGB020",
    name="pgbouncer-reset-query-ignored",
    severity=Severity.INFO,
    summary="server_reset_query set while transaction pooling ignores it",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
