"""PgBouncer `idle_transaction_timeout` left at 0 (off).

## What it checks
`idle_transaction_timeout = 0` (the default) in `[pgbouncer]`, when the PostgreSQL servers on
the PgBouncer's connection path do not set `idle_in_transaction_session_timeout` either. Only
servers on its path count: a PgBouncer whose server is not among the files read (a managed
database, another repository) is not reported, since that server may set the limit; nor is one
whose server's settings are partly in a file pgpath did not read (an include made at deploy time,
a configuration file a compose service mounts from elsewhere); nor does an unrelated server's
setting silence it.

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
from advisor.model import Span, is_known
from advisor.catalog import value_or_default
from advisor.rules.pgb import assignment, bouncers, source, where
from advisor.rules.rule import Rule, setting_span


def check(ctx):
    servers: dict[int, list] = {}
    for doc, pg, _path in ctx.on_one_path("pgbouncer", "postgresql"):
        servers.setdefault(id(doc), []).append(pg)
    for doc, model in bouncers(ctx):
        if model.value("idle_transaction_timeout") != 0 or not servers.get(id(doc)):
            continue
        limits = [value_or_default(pg, "idle_in_transaction_session_timeout") for pg in servers[id(doc)]]
        if any(not is_known(v) or v > 0 for v, _ in limits):
            continue  # the server limits it (or we cannot tell)
        names = ", ".join(dict.fromkeys(pg.path for pg in servers[id(doc)]))
        written = [s for _, s in limits if s is not None]
        server = (f"idle_in_transaction_session_timeout = {written[0].raw}" if written
                  else "idle_in_transaction_session_timeout not set (default 0)")
        yield RULE.finding(
            where(doc, model, "idle_transaction_timeout"),
            f"{source(model, 'idle_transaction_timeout', 's')} and {server} on its server "
            f"({names}): a client idle inside a transaction keeps its server connection "
            "(and the transaction's locks) for as long as it stays connected",
            assignment(doc, model, "idle_transaction_timeout", 600),
            tuple(dict.fromkeys([setting_span(s) for s in written] or [Span(pg.path, 1, 1) for pg in servers[id(doc)]])),
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
