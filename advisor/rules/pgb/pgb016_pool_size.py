"""PgBouncer pools that can open more server connections than PostgreSQL accepts.

## What it checks
When a PostgreSQL configuration is in the run, the connections PgBouncer may open are added up
and compared with what the server accepts from ordinary roles,
`max_connections − superuser_reserved_connections − reserved_connections` (the last one PG16+).
Each `[databases]` entry gets one pool per user (one pool when the entry forces a `user=`),
of `pool_size` (or `default_pool_size`) plus `reserve_pool` (or `reserve_pool_size`),
capped by `max_db_connections`. The number of users is the number of `[users]` entries
when there are any, otherwise one user is assumed and the message says so. The fallback
database `*` and users not listed can only add to the total. `max_db_connections` above the
server's limit is reported as well when the pools the files show (one user's, or those of the
users `[users]` lists) reach the limit under it; a cap that only more users than the files show
would reach is the same as no cap (PgBouncer's default, `0`), which is not reported either. A PgBouncer
run as several processes on one port (autobase's `pgbouncer_processes`, with `so_reuseport`) or
as several pods (a CloudNativePG Pooler's `instances`, a Crunchy or Percona cluster's
`proxy.pgBouncer.replicas` — the `maxReplicas` of a HorizontalPodAutoscaler of its folder that
scales the Deployment the operator makes, `<cluster>-pgbouncer` —, the `replicas` of a Kubernetes
Deployment or StatefulSet that mounts its ConfigMap — the `maxReplicas` of a HorizontalPodAutoscaler that scales it —, the
`deploy.replicas` or `scale` of the docker compose service that runs it — the override file's, which `docker compose up`
merges over the base file —, a pgbouncer hop's `replicas:` in pgpath.yaml) has each copy's pools: the sums are multiplied by the number of
copies, and the proposed values divided by it. The files operators and roles generate are read as
they write them: an operator's `*` fallback alone, autobase's `reserve_pool_size = 1` and its
`pgbouncer_pools`.

## Why it matters
When the pools grow past the server's limit, new server connections fail with `FATAL: sorry,
too many clients already` (53300) or `remaining connection slots are reserved`; PgBouncer
retries with `server_login_retry` and clients wait, then fail with `query_wait_timeout`.

## Fix
Lower `default_pool_size`/`pool_size`, cap each database with `max_db_connections`, or raise
`max_connections` on the server (each backend costs memory; see the MEM rules). The proposed
values bound the sum: `default_pool_size` alone when the databases that follow it can absorb the
excess (those with their own `pool_size` keep it); when every database sets its own
`pool_size`, the largest of them lowered to one size (the finding then stands at the largest,
not at a `default_pool_size` no database uses); otherwise one size for every pool, with the
`pool_size` (and `reserve_pool`) of the databases above it removed, since theirs override the
default. A `max_db_connections` is shared among the databases, as each may reach it at once.

## References
- PgBouncer: default_pool_size, max_db_connections — https://www.pgbouncer.org/config.html
- PostgreSQL: max_connections, superuser_reserved_connections, reserved_connections —
  https://www.postgresql.org/docs/current/runtime-config-connection.html
"""

from typing import NamedTuple

from advisor.findings import Severity
from advisor.model import is_known
from advisor.catalog import value_or_default
from advisor.rules.pgb import assignment, copies, where, written
from advisor.rules.rule import Rule, listed, setting_span


def _server_limit(pg):
    parts, related = [], []
    total = None
    for name, sign in (("max_connections", 1), ("superuser_reserved_connections", -1), ("reserved_connections", -1)):
        value, setting = value_or_default(pg, name)
        if value is None and name == "reserved_connections":
            continue  # before PostgreSQL 16
        if not is_known(value):
            return None, "", []
        total = value if total is None else total + sign * value
        if sign < 0 and value == 0:
            continue
        parts.append(f"{'' if sign > 0 else '− '}{name} {value}{' (default)' if setting is None else ''}")
        if setting is not None:
            related.append(setting_span(setting))
    return total, " ".join(parts), related


def check(ctx):
    for doc, pg, _path in ctx.on_one_path("pgbouncer", "postgresql", direct=True):
        limit, limit_text, pg_related = _server_limit(pg)
        if limit is None:
            continue
        yield from _check_one(doc, doc.model, limit, limit_text, pg_related)


def _check_one(doc, model, limit, limit_text, pg_related):
    dps, rps, mdb = model.value("default_pool_size"), model.value("reserve_pool_size"), model.value("max_db_connections")
    procs, procs_said, procs_span = copies(doc)
    if procs is None:
        return  # how many processes share the pools is a template value: every sum is unknown
    pg_related = list(pg_related) + procs_span
    users = model.effective_users()
    # a cap above the server's limit is judged by the pools the files show: one user's, or those
    # of the users [users] lists; a cap that only more users would reach is no cap at all, as
    # PgBouncer's default 0 is, and neither is reported; nor is a cap the file does not write
    # (autobase's role default): lowering the pools (below) is what the file can do
    if (is_known(mdb) and mdb * procs > limit and is_known(dps) and dps > 0
            and "max_db_connections" not in doc.meta.get("operator_settings", ())):
        per_pool = (dps + rps if is_known(rps) else dps) * procs
        needed = -(-limit // per_pool)
        if needed <= max(1, len(users)):
            reach = (f" (its pools of {written(model, 'default_pool_size')}"
                     f"{' + ' + written(model, 'reserve_pool_size') if is_known(rps) and rps else ''} per user"
                     f"{' in each process' if procs > 1 else ''} reach {limit} with {needed} user{'s' if needed > 1 else ''})")
            shown = f"{written(model, 'max_db_connections')}{procs_said}" + (f" = {mdb * procs}" if procs > 1 else "")
            yield RULE.finding(
                where(doc, model, "max_db_connections"),
                f"{shown} > PostgreSQL {limit_text} = {limit}: one database alone can exhaust the server{reach}",
                _cap_fix(doc, model, limit, procs),
                pg_related,
            )
    if not (is_known(dps) and is_known(rps)):
        return
    n_users = len(users) or 1
    terms, total, related, n_pools = [], 0, list(pg_related), 0
    pools_of: list[_Pools] = []
    for db in model.effective_databases():
        if db.name == "*" or db.unknown:
            continue
        size, reserve, cap = db.value("pool_size", dps), db.value("reserve_pool", rps), db.value("max_db_connections", mdb)
        if not all(is_known(v) for v in (size, reserve, cap)):
            terms = None  # one unknown term leaves the sum unknown
            break
        pools = 1 if db.value("user") else n_users
        count = pools * (size + reserve)
        n_pools += pools
        text = f"{db.name} {pools} × ({size} + {reserve})" if pools > 1 else f"{db.name} {size} + {reserve}"
        capped = bool(cap and cap > 0 and count > cap)
        if capped:
            count, text = cap, f"{db.name} {cap} (max_db_connections)"
        terms.append((text, count))
        pools_of.append(_Pools(db.name, pools, size, reserve, count,
                               db.value("pool_size") is not None or capped, db.value("reserve_pool") is not None))
        total += count
        related.append(db.span)
    user_note = "" if users else "; one user assumed per database without user=, each further user adds a pool"
    if terms and total * procs > limit:
        shown = " + ".join(t for t, _ in terms[:8]) + (" + ..." if len(terms) > 8 else "")
        if procs > 1:
            shown = f"({shown}){procs_said}"
        anchor = where(doc, model, "default_pool_size")
        if all(p.own for p in pools_of):
            # no database uses default_pool_size: the finding stands at the largest pool_size written
            own = [db for db in model.effective_databases()
                   if db.name in {p.name for p in pools_of} and "pool_size" in db.params]
            if own:
                anchor = max(own, key=lambda db: db.value("pool_size", 0)).params["pool_size"].span or anchor
        yield RULE.finding(
            anchor,
            f"PgBouncer can open {shown} = {total * procs} server connections > PostgreSQL {limit_text} = {limit}"
            f" (pool_size + reserve per database × user{user_note})",
            _sum_fix(doc, model, pools_of, limit, procs),
            related,
        )
    if terms is None or not is_known(mdb) or (mdb > 0 and mdb < dps + rps):
        return  # a pool through * is capped by max_db_connections too
    if not terms and any(db.name == "*" for db in model.effective_databases()) and (dps + rps) * procs > limit:
        yield RULE.finding(
            where(doc, model, "default_pool_size"),
            f"{written(model, 'default_pool_size')} + {written(model, 'reserve_pool_size')} = {dps + rps}{procs_said}"
            + (f" = {(dps + rps) * procs}" if procs > 1 else "")
            + f" > PostgreSQL {limit_text} = {limit}: a single database × user pool through * can exhaust the server",
            assignment(doc, model, "default_pool_size", max(1, limit // procs - rps)),
            pg_related,
        )


class _Pools(NamedTuple):
    """The pools of one [databases] entry: how many (one per user), their size and reserve, the
    connections they open (`count`, after the entry's cap), and whether that count stays put
    when default_pool_size changes (`own`: the entry sets pool_size, or its cap bounds it)."""
    name: str
    pools: int
    size: int
    reserve: int
    count: int
    own: bool
    own_reserve: bool  # the entry sets reserve_pool


def _sum_fix(doc, model, pools_of: list[_Pools], limit: int, procs: int) -> str:
    """Values under which every pool together stays within the server's limit: default_pool_size
    alone when the entries that follow it can be made small enough; otherwise one size for every
    pool, with the pool_size of the entries above it removed (theirs overrides the default)."""
    budget = limit // procs
    follow = [p for p in pools_of if not p.own]
    fixed = sum(p.count for p in pools_of if p.own)
    n_follow = sum(p.pools for p in follow)
    if follow:
        size = (budget - fixed) // n_follow - max(p.reserve for p in follow)
        if size >= 1:
            kept = f"; the pools of {listed([p.name for p in pools_of if p.own])} keep theirs" if fixed else ""
            pools = f"{n_follow * procs} pool{'s' if n_follow * procs > 1 else ''} follow{'' if n_follow * procs > 1 else 's'}"
            return (f"{assignment(doc, model, 'default_pool_size', size)} ({pools} it{kept}: "
                    f"the sum stays within {limit})")
    if not follow:
        lowered = _lower_own_sizes(pools_of, budget)
        if lowered is not None:
            size, names = lowered
            return (f"pool_size={size} in the [databases] line{'s' if len(names) > 1 else ''} of {listed(names)} "
                    f"(the sum stays within {limit})")
    n_all = sum(p.pools for p in pools_of)
    reserve = max(p.reserve for p in pools_of)
    size = budget // n_all - reserve
    if size < 1:
        size, reserve = budget // n_all, 0
    if size < 1:
        return (f"max_db_connections per database so that their sum stays within {limit}: the {n_all * procs} "
                f"pools outnumber the connections the server accepts")
    parts = [assignment(doc, model, "default_pool_size", size)]
    if reserve == 0 and any(p.reserve for p in pools_of):
        parts.append(assignment(doc, model, "reserve_pool_size", 0))
    fix = (f"{listed(parts)} ({n_all * procs} pool{'s' if n_all * procs > 1 else ''} of {size} + {reserve}: "
           f"the sum stays within {limit})")
    # a database's own pool_size (reserve_pool) overrides default_pool_size (reserve_pool_size)
    for key, names in (("pool_size", [p.name for p in pools_of if p.own and p.size > size]),
                       ("reserve_pool", [p.name for p in pools_of if p.own_reserve and p.reserve > reserve])):
        if names:
            fix += (f", and remove {key} from the [databases] line{'s' if len(names) > 1 else ''} of {listed(names)}"
                    f" (it overrides {'default_pool_size' if key == 'pool_size' else 'reserve_pool_size'})")
    return fix


def _lower_own_sizes(pools_of: list[_Pools], budget: int) -> tuple[int, list[str]] | None:
    """(size, names) when every entry sets its own pool_size: the largest size that, given to the
    entries above it (the others keep theirs), keeps the sum within `budget`; None when no size
    of at least 1 does, or when an entry is bounded by its cap instead."""
    if any(p.count != p.pools * (p.size + p.reserve) for p in pools_of):
        return None  # a max_db_connections bounds one: lowering its pool_size may change nothing
    def fits(size: int) -> bool:
        return sum(p.pools * (min(p.size, size) + p.reserve) for p in pools_of) <= budget

    # the sum grows with the size: the largest size that fits, by bisection (counting down from a
    # pool_size of 99999999999999999999 one by one was a hang)
    low, high = 1, max(p.size for p in pools_of) - 1  # fits(low) holds; high is the largest candidate
    if high < 1 or not fits(1):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low, [p.name for p in pools_of if p.size > low]


def _cap_fix(doc, model, limit: int, procs: int) -> str:
    """max_db_connections, which caps each database on its own: every [databases] entry may reach
    it at once, so the server's limit is shared among them (the fallback `*` counts as one)."""
    n_db = max(1, len([d for d in model.effective_databases() if not d.unknown]))
    cap = max(1, limit // (procs * n_db))
    return assignment(doc, model, "max_db_connections", cap) + (
        f" ({n_db} databases{' × ' + str(procs) + ' processes' if procs > 1 else ''} at it together stay within "
        f"{limit})" if n_db > 1 else "")


RULE = Rule(
    code="PGB016",
    name="pgbouncer-pool-exceeds-max-connections",
    severity=Severity.WARNING,
    summary="PgBouncer pools add up to more connections than PostgreSQL's max_connections allows",
    needs=("pgbouncer", "postgresql"),
    check=check,
    doc=__doc__,
)
