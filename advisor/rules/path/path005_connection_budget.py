"""The clients on the paths to a PgBouncer or PostgreSQL can open more connections than it accepts.

## What it checks
For every PgBouncer and every PostgreSQL server reached by assembled paths, the sum over the
clients whose connections end there (the first PgBouncer or PostgreSQL after the client; an
HAProxy in TCP mode passes them through) of pool size × replicas (topology `replicas:`; else, for
a client whose connection string is in a Kubernetes container's environment, the `replicas` of
its Deployment, StatefulSet or ReplicaSet — the `maxReplicas` of a HorizontalPodAutoscaler that
scales it, the most pods and so the most connections —; for one in a docker compose service's
environment, its `deploy.replicas` or `scale` — the override file's, which `docker compose up`
merges over the base file —; for the configuration of a Rails config/database.yml that the
containers run (RAILS_ENV), those of the compose service built from the application's root
(`build: .` beside config/), each service a client of its own when several are (a puma `web` and
a sidekiq `worker`: `web: production (pool 5) × 3 replicas + worker: production (pool 10) × 2
replicas`, each pool the service's RAILS_MAX_THREADS, or the file's default of it, said as such);
else 1; a count the file gives but pgpath cannot know, a template or
shell variable, or `scale` and `deploy.replicas` set to different numbers, which docker compose
refuses, is counted as 1 and the finding says so):

- against PgBouncer's `max_client_conn` (in each of its processes or pods: autobase's
  `pgbouncer_processes`, a CloudNativePG Pooler's `instances`, a Crunchy or Percona cluster's
  `proxy.pgBouncer.replicas` — the `minReplicas` of a HorizontalPodAutoscaler that scales
  `<cluster>-pgbouncer` —, the `replicas` of the Kubernetes
  workload that mounts its ConfigMap — the `minReplicas` of a HorizontalPodAutoscaler that scales
  it, the fewest pods the clients may find —, the `deploy.replicas` or `scale` of the docker
  compose service that runs it, a pgbouncer hop's `replicas:` in pgpath.yaml);
- against PostgreSQL's `max_connections` − `superuser_reserved_connections` −
  `reserved_connections` (16+) for clients that reach it without a pooler;
- in session pooling, against the pool the clients share at PgBouncer: one per `[databases]`
  entry and user (the entry's `user=`, else the client's; a client whose user no file shows has a
  pool of its own), of `pool_size` (else `default_pool_size`) + `reserve_pool` (else
  `reserve_pool_size`) server connections, or `max_db_connections` / `max_user_connections` when
  lower, in each process or pod. A client connection holds one of them from login to disconnect.
  Not with `query_wait_timeout = 0`: the others then wait as long as it takes, and do not fail.

The clients that pass through an HAProxy route on the way (TCP mode) count against its limits
too (HAProxy 2.6 configuration manual, `maxconn` in the global section, the proxies and the
server options):

- `maxconn` in `global`: connections the process accepts at once, over all its frontends;
- `maxconn` of the `frontend` or `listen` (or inherited from its `defaults`; 0, the default,
  means the global value);
- `maxconn` on the backend's server lines (not `backup` ones): connections sent to the servers
  at once, added up over the servers.

The global `maxconn` HAProxy computes when it is not set depends on the process's file
descriptor limit (`ulimit -n`), which no file shows: not judged.

A PgBouncer whose server connections go to another PgBouncer (two-level pooling) is a client of
that one: its server pool (`pool_capacity`: pool_size + reserve, or the cap, in each copy) counts
against the second one's `max_client_conn`.

A client counts the most connections its pool opens at once, as the library bounds it, and the
finding says the arithmetic (`engine (pool_size 20 + max_overflow 10 = 30) × 4 replicas = 120`):
HikariCP `maximumPoolSize` (default 10; below 1, 10); SQLAlchemy's QueuePool `pool_size` +
`max_overflow` (defaults 5 and 10: 15; `pool_size=0` or `max_overflow=-1` set no limit, and the
client is not counted); psycopg_pool `max_size` (default: `min_size`, default 4); pgxpool
`pool_max_conns` (default max(4, NumCPU): counted as 4, at least); pg-pool `max` (default 10);
asyncpg's `create_pool()` `max_size` (default 10).
Django's own persistent connections are one per process or thread, whose number no file read
shows: counted once per replica, and said. Clients without a pool count once per replica. A
client whose pool size is not known (a SQLAlchemy URL in an environment variable: the engine's
options are in code; a placeholder) is not counted, and a finding on the same limit names it;
when the run shows the one module that reads that variable, the two are one client, counted with
the module's pool and the container's replicas (docs/clients.md).
PgBouncer's own server-side budget against `max_connections` is PGB016.

## Why it matters
When every replica fills its pool (a deploy, a traffic peak, a slow database that makes pools
grow), connections beyond the limit are refused: PgBouncer answers `no more connections allowed
(max_client_conn)`, PostgreSQL `sorry, too many clients already`. In session pooling the
connections beyond the pool wait `query_wait_timeout` (120 s by default) for a server connection
that another client holds until it disconnects; then PgBouncer closes them with `FATAL:
query_wait_timeout` (SQLSTATE 08P01; its log: `closing because: query_wait_timeout`): an
application pool such as HikariCP keeps its connections open, so they are never freed. pgpath's
lab (PgBouncer 1.18, `default_pool_size = 1`, `query_wait_timeout = 2`): while one client holds the
pool's connection, a second one logs in at once, its first query waits, and after 2.3 s it gets
that error and its connection is closed.

Beyond HAProxy's global or proxy `maxconn` the listeners stop accepting: new connections complete
the TCP handshake but wait unanswered in the kernel's listen queue, so the client's login hangs
until a connection closes or its connect/login timeout fires (pgpath's lab with HAProxy 2.6.12:
with `maxconn 3` a fourth psycopg login fails with `connection timeout expired` after its
`connect_timeout`). Beyond the servers' `maxconn` connections wait in HAProxy's queue for
`timeout queue` (else `timeout connect`), then HAProxy closes them (the lab: `server closed the
connection unexpectedly` after `timeout queue 1s`).

## Fix
Raise the limit (`max_client_conn` is cheap in PgBouncer, a connection costs HAProxy about 33 kB),
lower the pool sizes, or put a pooler
in front of the server; the finding gives the numbers. For a session pool: `pool_mode =
transaction` when the applications keep no session state, else a pool as large as its clients'
sum, with the server's `max_connections` to match (PGB016).

## References
- PgBouncer max_client_conn: https://www.pgbouncer.org/config.html#max_client_conn
- PostgreSQL max_connections: https://www.postgresql.org/docs/current/runtime-config-connection.html
- HAProxy 2.6 maxconn (global, proxies, server): https://docs.haproxy.org/2.6/configuration.html#4-maxconn
- pgpath lab: tests/lab/test_lab_haproxy_maxconn.py
"""

from typing import Any, Iterator

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.model import is_known
from advisor.path.discover import database_entry
from advisor.rules.path import hop_span
from advisor.rules.pgb import assignment, copies, pool_capacity, source
from advisor.rules.rule import Rule


# what a client waiting past query_wait_timeout gets, as pgpath's lab saw it from PgBouncer 1.18
# (tests/lab/test_lab_session_pool.py): an ErrorResponse, then the connection closed
QUERY_WAIT_ERROR = "FATAL query_wait_timeout (SQLSTATE 08P01)"


def _pool_size(hop) -> tuple[int | None, str]:
    """The most connections one copy of the client opens (advisor.model.client.Pool.most), said
    with its arithmetic (`(pool_size 20 + max_overflow 10 = 30)`); None with why when not known. A
    client run by a compose service built from its root opens that service's pool (its
    RAILS_MAX_THREADS: advisor.loaders.clients.rails_build), and a size that is the default of a
    variable the service does not set is said so."""
    run_by = hop.run_by
    pool = run_by["pool"] if run_by is not None else getattr(hop.detail, "pool", None)
    if pool is None:
        return 1, "1 connection"
    most, said, _at_least = pool.most()
    if most is None:
        return None, said
    if run_by is not None and run_by["note"]:
        return most, f"({said}: {run_by['note']})"
    return most, said if most == 1 else f"({said})"


def _key(hop) -> tuple:
    """One client: its endpoint, in the containers of one compose service when several run it."""
    return id(hop.detail), hop.run_by["service"] if hop.run_by is not None else ""


def _who(hop) -> str:
    """Who opens the connections: the client (`worker: production` when several compose services
    run it), or the PgBouncer in front of another one."""
    if hop.kind == "pgbouncer":
        return f"PgBouncer {hop.doc.path}" + (f" [{hop.detail.name}]" if hop.detail is not None else "")
    if hop.run_by is not None and hop.run_by["service"]:
        return f"{hop.run_by['service']}: {hop.detail.who()}"
    return hop.detail.who()


def _times(hop) -> str:
    """` × 15 replicas (replicas: 15 of Deployment api)`: how many copies of a client run, and
    which file says so when one does (a Kubernetes workload's pods, a compose service's containers:
    advisor.path.model.client_hop); a count the file gives but pgpath cannot know (a template or
    shell variable) is counted once, and said."""
    unknown = getattr(hop, "replicas_unknown", None)
    if hop.replicas <= 1:
        return f" × 1 (replicas not known: {unknown[0]}; counted once)" if unknown else ""
    said = getattr(hop, "replicas_from", None)
    return f" × {hop.replicas} replicas" + (f" ({said[0]})" if said else "")


def _related(clients) -> list:
    """The clients' places, and the line that gives each one's replicas when a file does."""
    out = []
    for hop, _, _ in clients:
        out.append(hop_span(hop))
        said = getattr(hop, "replicas_from", None) if hop.replicas > 1 else getattr(hop, "replicas_unknown", None)
        if said:
            out.append(said[1])
    # (a client run by several compose services is one place, said once)
    return [s for i, s in enumerate(out) if s not in out[:i]]


def _session_pool(end, client) -> tuple[Any, Any, str] | None:
    """The PgBouncer pool that a client's connections share in session pooling, as (key, its
    [databases] entry, name): one pool per entry and user (the entry's forced `user=`, else the
    client's), or None when the pool mode is not session."""
    if end.kind != "pgbouncer":
        return None
    ep = client.detail
    model = end.doc.model
    entry = end.detail or database_entry(model, ep.dbname.value if ep.dbname is not None and ep.dbname.known
                                          else None)
    forced = entry.value("user") if entry is not None else None
    user = forced if is_known(forced) and forced else (ep.user.value if ep.user is not None and ep.user.known else None)
    if model.pool_mode_of(entry, user) != "session":  # (the user's own pool_mode in [users] first)
        return None
    db = entry.name if entry is not None else "(fallback)"
    if user is None:
        return (id(end.doc), db, id(ep)), entry, f"database {db}"  # a user no file shows: a pool of its own
    return (id(end.doc), db, user), entry, f"database {db} and user {user}"


def check(ctx):
    budgets: dict[int, dict] = {}
    pools: dict[Any, dict] = {}
    proxies: dict[int, dict] = {}  # HAProxy documents: the clients through each of its routes
    for path in ctx.paths:
        for i, hop in path.hops_of("client"):
            end = next((h for h in path.hops[i + 1:] if h.kind in ("pgbouncer", "postgres")), None)
            size, text = _pool_size(hop)
            if size is None:
                if end is not None and end.doc is not None:
                    b = budgets.setdefault(id(end.doc), {"hop": end, "clients": {}})
                    b.setdefault("uncounted", {})[_key(hop)] = (hop, text)
                continue
            for h in path.hops[i + 1:]:
                if h is end:
                    break
                if h.kind == "haproxy" and h.doc is not None and h.detail is not None:
                    px = proxies.setdefault(id(h.doc), {"doc": h.doc, "routes": {}})
                    r = px["routes"].setdefault(id(h.detail.front), {"route": h.detail, "hop": h, "clients": {},
                                                                    "backs": {}})
                    r["clients"][_key(hop)] = (hop, size, text)
                    r["backs"].setdefault(id(h.detail.back), (h.detail.back, {}))[1][_key(hop)] = (hop, size, text)
            if end is None or end.doc is None:
                continue
            b = budgets.setdefault(id(end.doc), {"hop": end, "clients": {}})
            b["clients"][_key(hop)] = (hop, size, text)
            pool = _session_pool(end, hop)
            if pool is not None:
                p = pools.setdefault(pool[0], {"hop": end, "entry": pool[1], "name": pool[2], "clients": {}})
                p["clients"][_key(hop)] = (hop, size, text)
        for i, hop in path.hops_of("pgbouncer"):
            # a PgBouncer whose server connections go to another PgBouncer is that one's client: its
            # pools (one per database entry and user, in each copy) are the connections it opens
            end = next((h for h in path.hops[i + 1:] if h.kind in ("pgbouncer", "postgres")), None)
            if end is None or end.kind != "pgbouncer" or end.doc is None or hop.doc is None:
                continue
            capacity, cap_text, _bound = pool_capacity(hop.doc.model, hop.detail)
            count, count_said, _ = copies(hop.doc)
            if capacity is None or count is None:
                continue
            text = f"(its server pool: {cap_text}" + (f"{count_said} = {capacity * count}" if count > 1 else "") + ")"
            b = budgets.setdefault(id(end.doc), {"hop": end, "clients": {}})
            b["clients"][id(hop)] = (hop, capacity * count, text)
    yield from _session_pools(pools)
    yield from _haproxy_budgets(proxies.values())
    for b in budgets.values():
        end = b["hop"]
        clients = list(b["clients"].values())
        total = sum(size * hop.replicas for hop, size, _ in clients)
        if end.kind == "pgbouncer":
            model = end.doc.model
            limit = model.value("max_client_conn")
            count, count_said, _ = copies(end.doc, least=True)  # (an autoscaler's fewest pods: its minReplicas)
            if not is_known(limit) or count is None:
                continue
            limit_text = source(model, "max_client_conn")
            if count > 1 or count_said:  # each process or pod admits max_client_conn of them (said for 1 an
                # autoscaler may scale down to)
                limit, limit_text = limit * count, f"{limit_text}{count_said} = {limit * count}"
            span = model.span_of("max_client_conn") or hop_span(end)
            headroom = max(100, total // 5)
            want = total + headroom
            each = f" in each of the {count} copies ({-(-want // count) * count} in all: " if count > 1 else " ("
            fix = (assignment(end.doc, model, "max_client_conn", -(-want // count))
                   + f"{each}{total} for the clients + {headroom} of headroom: the connections a rolling deploy or a "
                   "restart opens before the old ones close, admin and monitoring; a client connection costs "
                   "PgBouncer little memory)")
        else:
            mc, mc_s = value_or_default(end.doc, "max_connections")
            su, _ = value_or_default(end.doc, "superuser_reserved_connections")
            rc, _ = value_or_default(end.doc, "reserved_connections")
            if not isinstance(mc, int) or not isinstance(su, int):
                continue
            limit = mc - su - (rc if isinstance(rc, int) else 0)
            limit_text = (f"max_connections {mc}{'' if mc_s is not None else ' (default)'} − reserved {limit and mc - limit}"
                          f" = {limit}")
            span = (mc_s.value_span or mc_s.span) if mc_s is not None else end.doc.anchor()
            # the clients' connections, the reserved slots, and 10 for the operators, migrations and
            # monitoring that connect beside the pools
            need = total + mc - limit
            fix = (f"max_connections = {need + 10} ({total} + {mc - limit} reserved + 10 for admin and monitoring "
                   "connections), or a pooler (PgBouncer) in front of the server")
        if total <= limit:
            continue
        parts = " + ".join(f"{_who(hop)} {text}{_times(hop)}" for hop, _size, text in clients)
        yield RULE.finding(
            span,
            f"clients can open {parts} = {total} connections to {end.label} > {limit_text}: connections beyond "
            f"{limit} are refused at peak{_uncounted(b)}",
            fix,
            related=_related(clients) + [hop_span(hop) for hop, _ in b.get("uncounted", {}).values()],
        )


def _uncounted(budget) -> str:
    """`; not counted: DATABASE_URL (its engine options are ... not in this file)`: the clients on the
    way to the same limit whose pool size is not known, which would only add to the total."""
    uncounted = budget.get("uncounted")
    if not uncounted:
        return ""
    return "; not counted, as their pool size is not known (they only add to the total): " + ", ".join(f"{_who(hop)} ({why})" for hop, why in uncounted.values())


def _headroom(total: int) -> int:
    return max(100, total // 5)


def _parts(clients) -> str:
    return " + ".join(f"{_who(hop)} {text}{_times(hop)}" for hop, _size, text in clients)


def _limit(val) -> int | None:
    """A maxconn that limits: a known number above 0 (0, HAProxy's default, means no limit of its own)."""
    return val.value if val is not None and isinstance(val.value, int) and not isinstance(val.value, bool) \
        and val.value > 0 else None


def _haproxy_budgets(proxies) -> Iterator:
    """HAProxy's connection limits on the clients' way (HAProxy 2.6 configuration.txt):

    - `maxconn` in `global`: the process accepts that many connections at once, over all its
      frontends; beyond it every proxy stops accepting, and new connections wait unanswered in the
      kernel's listen queue (pgpath's loopback lab: they complete the TCP handshake and get no
      answer) until a connection closes or the client gives up;
    - `maxconn` of a frontend or listen (or its defaults): the same for that proxy's listeners;
      0 (the default) means the global value;
    - `maxconn` on the backend's servers: at most that many connections are sent to each, the
      others wait in the backend's queue for `timeout queue` (else `timeout connect`) and are then
      closed. Backup servers take connections only when no other server is up: not counted.

    The global maxconn's own default depends on the process's file-descriptor limit (`ulimit -n`),
    which no file shows: not judged."""
    for px in proxies:
        doc = px["doc"]
        model = doc.model
        glob = model.global_settings.get("maxconn")
        glimit = _limit(glob)
        everyone: dict = {}
        reported = False
        for r in px["routes"].values():
            route, hop, clients = r["route"], r["hop"], list(r["clients"].values())
            everyone.update(r["clients"])
            total = sum(size * h.replicas for h, size, _ in clients)
            front = route.front
            own = _limit(front.maxconn)
            over = []
            if own is not None and total > own:
                where = front.maxconn.origin if front.maxconn.origin == front.label else \
                    f"{front.label}, from {front.maxconn.origin}"
                over.append((own, f"maxconn {front.maxconn.raw or own} ({where})", front.maxconn.span,
                             f"maxconn {{}} in {front.maxconn.origin.split(' at ')[0]}"))
            if glimit is not None and total > glimit:
                over.append((glimit, f"maxconn {glob.raw or glimit} (global)", glob.span, "maxconn {} in global"))
            if over:
                reported = True
                yield _refused(doc, hop, clients, total, over)
            for back, users in r["backs"].values():
                yield from _server_queue(doc, hop, back, list(users.values()))
        total = sum(size * h.replicas for h, size, _ in everyone.values())
        if not reported and glimit is not None and total > glimit and len(px["routes"]) > 1:
            hop = next(iter(px["routes"].values()))["hop"]
            yield _refused(doc, hop, list(everyone.values()), total,
                           [(glimit, f"maxconn {glob.raw or glimit} (global, over all its frontends)", glob.span,
                             "maxconn {} in global")])


def _refused(doc, hop, clients, total, over):
    over.sort(key=lambda o: o[0])
    limit, _said, span, _ = over[0]
    want = total + _headroom(total)
    said = " and ".join(o[1] for o in over)
    fix = ", ".join(o[3].format(want) for o in over)
    return RULE.finding(
        span or hop_span(hop),
        f"clients can open {_parts(clients)} = {total} connections through HAProxy {hop.detail.label} > {said}: "
        f"HAProxy accepts {limit} at once; at peak the others complete the TCP handshake but wait unanswered in "
        "the kernel's listen queue until a connection closes: their login hangs until then, or fails at the "
        "client's connect/login timeout (pgjdbc loginTimeout, libpq connect_timeout)",
        f"{fix} ({total} for the clients + {_headroom(total)} of headroom: the connections a rolling deploy or a "
        f"restart opens before the old ones close; a connection costs HAProxy about 33 kB), or smaller pools; the "
        f"server behind it must accept them too (this rule checks its max_connections)",
        related=_related(clients) + ([hop_span(hop)] if span is not None else []),
    )


def _server_queue(doc, hop, back, clients) -> Iterator:
    servers = [sv for sv in back.servers if not sv.backup]
    limits = [_limit(sv.maxconn) for sv in servers]
    if not servers or None in limits:
        return  # a server without maxconn takes any number
    capacity = sum(limits)
    total = sum(size * h.replicas for h, size, _ in clients)
    if total <= capacity:
        return
    queue = back.timeout("queue") or back.timeout("connect")
    waits = (f"timeout {'queue' if back.timeout('queue') is not None else 'connect'} {queue.shown()}"
             if queue is not None and is_known(queue.value) else "timeout queue (not set: timeout connect)")
    each = -(-(total + _headroom(total)) // len(servers))
    servers_said = " + ".join(f"server {sv.name} maxconn {sv.maxconn.raw or _limit(sv.maxconn)}" for sv in servers)
    yield RULE.finding(
        servers[0].span,
        f"clients can open {_parts(clients)} = {total} connections through HAProxy {hop.detail.label} > "
        f"{servers_said}" + (f" = {capacity}" if len(servers) > 1 else "") + f" in {back.label}: HAProxy sends "
        f"{capacity} to the servers at once; the others wait in its queue for {waits}, then HAProxy closes them "
        "and their login fails, at peak",
        f"maxconn {each} on each server line of {back.label} ({total} for the clients + {_headroom(total)} of "
        "headroom), or smaller pools; the server must accept them too (this rule checks its max_connections)",
        related=_related(clients) + [sv.span for sv in servers[1:]],
    )


def _session_pools(pools: dict) -> Iterator:
    """In session pooling a client connection holds a server connection of its pool from login
    to disconnect: the clients sharing one pool can hold at most what it has, in each copy of
    PgBouncer (pgbouncer.pool_capacity, pgbouncer.copies)."""
    for p in pools.values():
        end, clients = p["hop"], list(p["clients"].values())
        model, entry = end.doc.model, p["entry"]
        capacity, cap_text, bound = pool_capacity(model, entry)
        count, count_said, count_spans = copies(end.doc, least=True)
        wait = model.value("query_wait_timeout")
        if capacity is None or count is None or (is_known(wait) and not wait):
            continue  # unknown; or query_wait_timeout = 0: the others wait as long as it takes, and do not fail
        capacity *= count
        total = sum(size_ * hop.replicas for hop, size_, _ in clients)
        if total <= capacity:
            continue
        parts = " + ".join(f"{_who(hop)} {text}{_times(hop)}" for hop, _size, text in clients)
        cap_text = f"({cap_text}){count_said} = {capacity}" if count > 1 else cap_text
        waits = (source(model, "query_wait_timeout", "s") if is_known(wait)
                 else "query_wait_timeout (not in this file; PgBouncer's default is 120 s)")
        span = ((entry.params[bound].span if entry is not None and bound in entry.params else None)
                or model.span_of(bound) or (entry.span if entry is not None else None) or hop_span(end))
        need = -(-total // count)
        if bound == "pool_size":
            grow = f"pool_size={need} in the [databases] entry {entry.name}"
        elif bound in ("max_db_connections", "max_user_connections"):
            grow = (f"{assignment(end.doc, model, bound, need)} (it caps the pool) with a pool_size or "
                    f"default_pool_size of {need}")
        else:
            grow = assignment(end.doc, model, "default_pool_size", need)
        yield RULE.finding(
            span,
            f"in session pooling each client connection holds one of its pool's server connections until it "
            f"disconnects: clients can open {parts} = {total} connections to {end.label} > {cap_text} server "
            f"connections for {p['name']}, so at peak {total - capacity} of them wait {waits} for one to be freed, "
            f"then PgBouncer closes them: {QUERY_WAIT_ERROR}",
            f"{assignment(end.doc, model, 'pool_mode', 'transaction')} if the applications keep no session state "
            f"(SET, advisory locks, LISTEN; prepared statements need max_prepared_statements); otherwise {grow}"
            + (" in each copy" if count > 1 else "") + ", with the server's max_connections to match (PGB016 checks it)",
            related=_related(clients) + count_spans,
        )


RULE = Rule(
    code="PATH005",
    name="connection-budget",
    severity=Severity.WARNING,
    summary="Client pools × replicas exceed what the PgBouncer, PostgreSQL or HAProxy on their path accepts",
    needs=("path",),
    check=check,
    doc=__doc__,
)
