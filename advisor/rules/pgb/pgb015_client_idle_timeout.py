"""PgBouncer `client_idle_timeout` with transaction or statement pooling closes idle clients.

## What it checks
`client_idle_timeout` > 0 while any pool runs in `transaction` or `statement` mode (the global
`pool_mode`, or a `pool_mode=` in `[databases]` or `[users]`). In session pooling the setting is
reported only when no pool can be affected.

## Why it matters
PgBouncer's janitor closes a client that has been idle longer than `client_idle_timeout` only
when the client holds no server connection. In transaction and statement pooling that is every
client between transactions: an application pool that keeps connections idle longer than the
timeout finds them closed, and its next query fails with `08P01 client_idle_timeout` (lab row
B1t; TLS makes no difference, B2t). In session pooling the client keeps its server connection,
so it is never closed by this setting (lab rows B1, B2). Client TCP keepalives do not help: they
carry no data.

A central PgBouncer whose every assembled path comes through another PgBouncer in transaction
pooling (an application-side pooler) is not reported: its clients are that pooler's server
connections, and it drops a closed one and opens another without the application seeing it
(checked with PgBouncer 1.18 on both levels: `closing because: SV_IDLE server got dirty`, then a
new server connection, and no error for the client).

A PgBouncer whose every assembled path starts at a client whose pool pgpath read (a persistent
pool with a known lifetime: HikariCP, SQLAlchemy, psycopg_pool, Django persistent connections,
pgxpool, pg-pool) is left to PATH002, which judges each pool against this very timer: a warning
for a pool that lends the closed connection unchecked, an info for one that validates on borrow
and replaces it (HikariCP; pgx v5's pgxpool, which pings a connection idle for more than 1 s when
it is acquired and destroys it when the ping fails — checked against PgBouncer 1.18 in the lab:
the closed client connection fails such a check at once and a new one is served), nothing when
the pool retires connections first (pgx v4's pgxpool, which checks nothing on Acquire, gets a
warning there; the go.mod beside the client says the major). Otherwise the clients on its paths
that hold no pool pgpath read are named as related places.

## Fix
Make every client pool retire idle connections before PgBouncer does (e.g. HikariCP
`idleTimeout`/`maxLifetime`, SQLAlchemy `pool_recycle`, psycopg_pool `max_idle` below the
timeout), let pools validate connections on borrow, or set `client_idle_timeout = 0`.

## References
- PgBouncer: client_idle_timeout — https://www.pgbouncer.org/config.html#client_idle_timeout
- PgBouncer source: src/janitor.c (the client_idle_timeout loop skips clients with a server link)
- pgpath lab observations, rows B1, B1t, B2, B2t; tests/lab/test_lab_validating_pool.py
- pgx v5 pgxpool: Pool.Acquire pings a connection idle for more than 1 s (ShouldPing's default)
  and destroys it when the ping fails (v5.0-v5.3: CheckConn, a read until it would block)
  — https://github.com/jackc/pgx/blob/master/pgxpool/pool.go
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import assignment, bouncers, source, where
from advisor.rules.rule import Rule


def _behind_poolers(ctx) -> set[int]:
    """id() of the PgBouncer documents that every assembled path through them reaches through a
    PgBouncer in transaction or statement pooling before them (their clients are that pooler's
    server connections), as the path's timers judge it (advisor.path.timers)."""
    from advisor.path.timers import transaction_pooler_index

    through: dict[int, list[bool]] = {}
    for path in ctx.paths:
        pooled_from = transaction_pooler_index(path)
        for i, hop in path.hops_of("pgbouncer"):
            if hop.doc is not None:
                through.setdefault(id(hop.doc), []).append(pooled_from is not None and i > pooled_from)
    return {doc_id for doc_id, flags in through.items() if flags and all(flags)}


def _left_to_path002(ctx) -> tuple[set[int], dict[int, list]]:
    """(id() of the PgBouncer documents whose every assembled path starts at a client pool that
    PATH002 judges against this very timer, advisor.rules.path.pool_judged; for the others, the
    client hops on their paths that it does not judge: a bare connection string, a client with no
    pool, whose next query after the timer is what this rule says)."""
    from advisor.rules.path import hop_span, pool_judged

    judged: dict[int, list[bool]] = {}
    others: dict[int, list] = {}
    for path in ctx.paths:
        ok = pool_judged(path)
        for _i, hop in path.hops_of("pgbouncer"):
            if hop.doc is None:
                continue
            judged.setdefault(id(hop.doc), []).append(ok)
            if not ok and path.hops and path.hops[0].kind == "client":
                others.setdefault(id(hop.doc), []).append(hop_span(path.hops[0]))
    return {doc_id for doc_id, flags in judged.items() if flags and all(flags)}, others


def check(ctx):
    behind = None
    left = None
    for doc, model in bouncers(ctx):
        timeout = model.value("client_idle_timeout")
        if not is_known(timeout) or timeout <= 0:
            continue
        if behind is None:
            behind = _behind_poolers(ctx)
        if id(doc) in behind:
            continue  # its clients are a transaction pooler's server connections: it reconnects (lab)
        if left is None:
            left = _left_to_path002(ctx)
        if id(doc) in left[0]:
            continue  # PATH002 judges each client's pool against this very timer, with its own wording
        pooled = [(mode, s) for mode, s in model.pool_modes() if mode in ("transaction", "statement")]
        if not pooled:
            continue
        mode, setting = pooled[0]
        where_mode = "" if setting is None or setting.section == "pgbouncer" else " (in [{}] {})".format(*setting.section.split(".", 1))
        related = [s.value_span or s.span for _, s in pooled if s is not None]
        related += [sp for sp in dict.fromkeys(left[1].get(id(doc), ())) if sp is not None]  # clients without a pool
        yield RULE.finding(
            where(doc, model, "client_idle_timeout"),
            f"{source(model, 'client_idle_timeout', 's')} with pool_mode = {mode}{where_mode}: a client idle between "
            f"transactions for more than {timeout:g} s holds no server connection, so PgBouncer closes it and its "
            "next query fails with 08P01 client_idle_timeout (keepalives do not count as activity)",
            f"{assignment(doc, model, 'client_idle_timeout', 0)}, or make every client pool retire idle connections in less than {timeout:g} s",
            related,
        )


RULE = Rule(
    code="PGB015",
    name="pgbouncer-client-idle-timeout",
    severity=Severity.WARNING,
    summary="client_idle_timeout closes idle clients in transaction/statement pooling",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
