"""PgBouncer in transaction pooling with `idle_transaction_timeout` left at 0 (off).

## What it checks
`idle_transaction_timeout = 0` (the default) in `[pgbouncer]` of a PgBouncer that pools in
transaction mode (globally, or for a database or user), when the PostgreSQL servers on its
connection path do not set `idle_in_transaction_session_timeout` either. Only servers on its path
count: a PgBouncer whose server is not among the files read (a managed database, another
repository) is not reported, since that server may set the limit; nor is one whose server's
settings are partly in a file pgpath did not read (an include made at deploy time, a
configuration file a compose service mounts from elsewhere); nor does an unrelated server's
setting silence it.

In session pooling a client holds its server connection for its whole session anyway, and
statement pooling refuses transactions: what an idle transaction costs there (its locks, the
snapshot that holds back vacuum) is the server's business, not the pooler's, and this rule says
nothing.

## Why it matters
Transaction pooling shares a few server connections among many clients on the promise that each
gives its connection back at the end of every transaction. A client that opens a transaction and
then stops talking (a crashed worker, a forgotten `BEGIN`, a debugger breakpoint) keeps one for as
long as it stays connected. As many such clients as the pool has connections (`default_pool_size`)
leave every other client of that database and user queuing, until `query_wait_timeout` (120 s by
default) fails their queries; meanwhile the transactions hold their locks and snapshots.

## Fix
Set a limit in PgBouncer, e.g. `idle_transaction_timeout = 600` (seconds), or on the server
with `idle_in_transaction_session_timeout`. PgBouncer closes the server connection when it fires.

## References
- PgBouncer: idle_transaction_timeout, query_wait_timeout — https://www.pgbouncer.org/config.html#idle_transaction_timeout
- PostgreSQL: idle_in_transaction_session_timeout — https://www.postgresql.org/docs/current/runtime-config-client.html
"""

from advisor.findings import Severity
from advisor.model import Span, is_known
from advisor.catalog import value_or_default
from advisor.rules.pgb import assignment, bouncers, source, where, written
from advisor.rules.pg.common import describe
from advisor.rules.rule import Rule, setting_span


def check(ctx):
    servers: dict[int, list] = {}
    for doc, pg, _path in ctx.on_one_path("pgbouncer", "postgresql"):
        servers.setdefault(id(doc), []).append(pg)
    for doc, model in bouncers(ctx):
        if model.value("idle_transaction_timeout") != 0 or not servers.get(id(doc)):
            continue
        transaction = [s for mode, s in model.pool_modes() if mode == "transaction"]
        if not transaction:
            continue  # session pooling pins the connection anyway; statement pooling has no transactions
        limits = [value_or_default(pg, "idle_in_transaction_session_timeout") for pg in servers[id(doc)]]
        if any(not is_known(v) or v > 0 for v, _ in limits):
            continue  # the server limits it (or we cannot tell)
        names = ", ".join(dict.fromkeys(pg.path for pg in servers[id(doc)]))
        set_on_server = [s for _, s in limits if s is not None]
        server = describe(set_on_server[0] if set_on_server else None, "idle_in_transaction_session_timeout", "0")
        size = model.value("default_pool_size")
        wait = model.value("query_wait_timeout")
        queued = (f"up to {source(model, 'query_wait_timeout', 's')}, then failing" if is_known(wait) and wait
                  else f"for as long as they stay ({source(model, 'query_wait_timeout', 's')}: no limit)")
        everywhere = model.value("pool_mode") == "transaction"
        mode = "transaction pooling" if everywhere else "transaction pooling (pool_mode = transaction of a database or user)"
        # (the pool size is default_pool_size where the mode is global; a database's own pool_size otherwise)
        pins = (f"as many such clients as {written(model, 'default_pool_size')} (per database and user) leave every "
                f"other client of that pool queuing, {queued}" if everywhere and is_known(size) and size else "")
        mode_span = [setting_span(transaction[0])] if transaction[0] is not None else []
        yield RULE.finding(
            where(doc, model, "idle_transaction_timeout"),
            f"{source(model, 'idle_transaction_timeout', 's')} and {server} on its server "
            f"({names}): in {mode} a client idle inside a transaction keeps one of the pool's server connections "
            f"(and the transaction's locks) for as long as it stays connected" + (f"; {pins}" if pins else ""),
            assignment(doc, model, "idle_transaction_timeout", 600),
            tuple(dict.fromkeys(mode_span + ([setting_span(s) for s in set_on_server]
                                             or [Span(pg.path, 1, 1) for pg in servers[id(doc)]]))),
        )


RULE = Rule(
    code="PGB014",
    name="pgbouncer-idle-transaction-timeout",
    severity=Severity.INFO,
    summary="Transaction pooling with idle_transaction_timeout = 0: idle transactions pin server connections",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
