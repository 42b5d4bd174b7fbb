"""Session pooling admits far more clients (`max_client_conn`) than its pools can serve at once.

## What it checks
A PgBouncer whose pool mode is `session` (the default, or written) for its databases, and whose
`max_client_conn` is written and larger than the server connections its pools hold:
`pool_size` (else `default_pool_size`) + `reserve_pool` (else `reserve_pool_size`), capped by
`max_db_connections` / `max_user_connections`, summed over the pools the file shows (one per
`[databases]` entry and user: the entry's `user=`, else each user `[users]` lists, else one). A
`*` fallback or users known only to `auth_file`/`auth_query` add pools the file does not show:
the message says how many database/user pairs it would take to serve every client admitted.

It is `info`: how many clients connect at once, and as which database and user, is in no file
here. When the clients are on an assembled path (a topology, or a client file beside it), PATH005
compares their pool sizes × replicas with the pool, as a warning, and this rule says nothing.

## Why it matters
In session pooling a client holds one of its pool's server connections from login to disconnect.
Application pools keep their connections open (HikariCP keeps `maximumPoolSize` of them by
default), so once as many clients of one database and user as the pool has connections are
connected, the next ones wait `query_wait_timeout` (120 s by default) and fail with
`query_wait_timeout`: pgpath's lab shows it with a one-connection pool (refused at 2.3 s with
`query_wait_timeout = 2`). `max_client_conn` admits them, so nothing refuses them early.

## Fix
`pool_mode = transaction` when the applications keep no session state (`SET`, advisory locks,
`LISTEN`, temporary tables; prepared statements need `max_prepared_statements`). Otherwise a pool
as large as the clients of one database and user connected at once, with the server's
`max_connections` to match (PGB016 checks it).

## References
- PgBouncer: pool_mode, default_pool_size, max_client_conn, query_wait_timeout — https://www.pgbouncer.org/config.html
- PgBouncer: Features (session pooling) — https://www.pgbouncer.org/features.html
"""

from advisor.catalogs.pgbouncer import BY_NAME
from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import assignment, bouncers, copies, pool_capacity, source, where, written
from advisor.rules.rule import Rule


def _with_clients(ctx) -> set[int]:
    """id() of the documents on a path that has a client (one pass over the paths: linear)."""
    out: set[int] = set()
    for path in ctx.paths:
        if any(h.kind == "client" for h in path.hops):
            out.update(id(h.doc) for h in path.hops if h.doc is not None)
    return out


def check(ctx):
    with_clients = None
    for doc, model in bouncers(ctx):
        limit = model.value("max_client_conn")
        default = BY_NAME["max_client_conn"].default(model.version)
        if not is_known(limit) or str(limit) == default:
            continue  # PgBouncer's own default (written or not) is no choice to admit more clients
        if with_clients is None:
            with_clients = _with_clients(ctx)
        if id(doc) in with_clients:
            continue  # PATH005 weighs the clients' pools
        wait = model.value("query_wait_timeout")
        if is_known(wait) and not wait:
            continue  # query_wait_timeout = 0: they wait for as long as it takes, and do not fail
        entries = model.effective_databases() or [None]
        modes = [model.pool_mode_of(e) for e in entries]
        if any(m != "session" for m in modes):
            continue  # some pool by transaction (clients spread over pools we cannot weigh), or not known
        users = max(1, len(model.effective_users()))
        shown, open_ended, first = 0, False, None
        for entry in entries:
            capacity, text, _bound = pool_capacity(model, entry)
            if capacity is None:
                break
            first = first or (capacity, text)
            if entry is None or entry.name == "*" or entry.unknown:
                open_ended = True
                shown += capacity
            else:
                shown += capacity * (1 if entry.value("user") else users)
        else:
            # (both are per PgBouncer: each process or pod of several admits max_client_conn and has its pools)
            if first is None or limit <= shown:
                continue
            capacity, text = first
            count, _said, count_spans = copies(doc)
            # each copy (process, pod) admits max_client_conn and has its own pools: the same ratio, said
            n = count if count and count > 1 else 1
            per_pool = f"{text} server connections per database and user"
            admits = f"{written(model, 'max_client_conn')} admits {limit}"
            if n > 1:  # each copy (process, pod) admits max_client_conn and has its own pools: the same ratio
                copy = doc.meta["processes"]
                per_pool += f" in each of its {n} {copy.get('what', 'processes')} ({copy['variable']}: {copy['raw']})"
                admits += f" in each ({limit * n} in all)"
            if open_ended or not model.is_default("auth_query") or not model.is_default("auth_file"):
                pairs = -(-limit // capacity)
                serve = (f"unless {pairs} database/user pairs share the clients, those of one pair beyond "
                         f"{capacity * n} connected at once")
            else:
                serve = f"the pools the file shows serve {shown * n} clients at once, and the others"
            waits = (source(model, "query_wait_timeout", "s") if is_known(wait)
                     else "query_wait_timeout (not in this file; PgBouncer's default is 120 s)")
            yield RULE.finding(
                where(doc, model, "max_client_conn"),
                f"{source(model, 'pool_mode')}: each client holds one of its pool's server connections until it "
                f"disconnects, and the pools have {per_pool}, while {admits}: {serve} wait {waits} for one to be "
                "freed, then fail (query_wait_timeout)",
                f"{assignment(doc, model, 'pool_mode', 'transaction')} if the applications keep no session state "
                "(SET, advisory locks, LISTEN; prepared statements need max_prepared_statements); otherwise pools as "
                "large as the clients of one database and user connected at once, with the server's "
                "max_connections to match (PGB016)",
                [model.span_of(n) for n in ("pool_mode", "default_pool_size", "reserve_pool_size")
                 if not model.is_default(n) and model.span_of(n) is not None] + count_spans,
            )


RULE = Rule(
    code="PGB021",
    name="pgbouncer-session-pool-too-small",
    severity=Severity.INFO,
    summary="Session pooling admits more clients (max_client_conn) than its pools serve at once",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
