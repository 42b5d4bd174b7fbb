"""The server's memory at one work_mem per connection exceeds the machine's RAM or its container's limit.

## What it checks
The memory PostgreSQL needs when every allowed connection and parallel worker runs a query with
one `work_mem`, summed from postgresql.conf (defaults where a parameter is not set):

    shared_buffers + wal_buffers
    + autovacuum_max_workers × (autovacuum_work_mem, or maintenance_work_mem when it is -1)
    + (max_connections + max_parallel_workers (at most max_worker_processes, whose slots they take)) × work_mem

This *floor* is what is compared with the memory; the rule reports only when it is above it.
Beside it the message gives, as context, the *busy-server bound*: every connection and worker
running one sort node and one hash node at once, `work_mem` × (1 + `hash_mem_multiplier`) each.
That bound is not reported on its own: the PostgreSQL documentation defines `work_mem` as the
limit of one sort or hash operation ("several running sessions could be doing such operations
concurrently", "a complex query might perform several sort and hash operations at the same
time"), so neither figure is a ceiling, and every backend of a server running a sort and a hash
at the same moment is not ordinary use — PostgreSQL's defaults in CloudNativePG's
cluster-example-full (1Gi) reach 2.0 GB that way and 984 MB at one `work_mem` each, and run.
Autovacuum memory is capped at 1 GB per worker before PostgreSQL 17.

The memory that counts is the document's own host facts when the file states them: a container's
or cgroup's memory limit (CloudNativePG / Zalando / PGO `resources.limits.memory`, a Kubernetes
container limit, compose `mem_limit` or `deploy.resources.limits.memory`, a bitnami/postgresql
chart's `primary.resources.limits.memory` or, with `resources` empty, the limit its
`resourcesPreset` sets (the chart's default preset, nano, is 192Mi), the systemd `MemoryMax=` of
the unit that runs the server — a unit or drop-in beside postgresql.conf or in the same copy of the
host's /etc (`etc/systemd/system/postgresql@16-main.service.d/` for `etc/postgresql/16/main/`,
`postgresql-16.service` for `var/lib/pgsql/16/data/`; a unit of another cluster does not count):
the OOM killer acts at the limit, whatever the machine's RAM, and a topology's `hosts:` RAM does
not replace it), or the memory of a managed server's instance class (an RDS
`db.r6g.large` described in the same run, a Cloud SQL tier, an Azure SKU). Otherwise it is the
machine's RAM, from `--ram 64GB`, `ram:` in pgpath.yaml, or a `# pgpath: ram=64GB` comment in
postgresql.conf. A managed server's unset parameters take the platform's own defaults where they
differ from PostgreSQL's (docs/cloud.md): RDS `shared_buffers` {DBInstanceClassMemory/32768} (a
quarter of the memory) and its `max_connections` formula, Cloud SQL `shared_buffers` 33 % of the
tier's memory, Aurora PostgreSQL `shared_buffers` SUM({DBInstanceClassMemory/12038},-50003) (about
65 %), `max_connections`, `maintenance_work_mem`, `autovacuum_work_mem` and `autovacuum_max_workers`
formulas, Azure flexible server's `shared_buffers` (25 % of the SKU's memory above 2 GiB),
`max_connections` (859 on 8 GiB, 5000 from 48 GiB) and `maintenance_work_mem`. A floor made of the platform's defaults alone, with no parameter the file sets, is the
platform's own sizing and is not reported (Aurora's defaults on a db.r6g.large reach 19.1 GB of
16 GB). Without any memory figure the rule says nothing. SYS005 compares the same floor, computed by
the same code (advisor/rules/memory.py), with a strict overcommit limit.

Severity follows what is certain:

- a **warning** when the fixed part alone — `shared_buffers` + `wal_buffers` + autovacuum's
  memory, reached whatever the queries do — is above the memory: the server starts (its shared
  memory is touched only as the buffer cache fills, and autovacuum's `maintenance_work_mem` is a
  cap each worker reaches only on a large table: checked in a cgroup of 128 MB with
  `shared_buffers = 256MB`, which started and ran queries until `pg_prewarm` filled the buffers),
  then the OOM killer strikes under ordinary use; not an error, which is kept for a server that
  refuses to start or a connection that certainly fails;
- a **warning** when the floor is above the memory and fewer than 10 queries of one sort and one
  hash each fit beside the fixed part: ten queries at once is ordinary load (a server that cannot
  take them is no server, as the fix's floor of 10 connections says);
- an **info** otherwise: the floor needs every connection the server allows to be running a query
  at once, which is saturation, not ordinary use. The operating system, the page cache PostgreSQL
  relies on (`effective_cache_size`), per-backend overhead of a few MB each and other processes
  need the rest.

When Patroni refused the `max_connections` written (below its minimum of 25: PG014 reports it
and proposes the least Patroni accepts) and runs its default, the finding is left to PG014 when
the floor fits at the value PG014 proposes: one cause, one finding.

Options (`rule-options: {MEM001: {...}}` in the configuration): `safe-share` (the share of the
memory the proposed values fit the floor into, default 0.8), `sort-nodes` and `hash-nodes`
(work_mem-sized sort and hash nodes per query in the busy-server bound and the ten-queries test,
default 1 each).

## Why it matters
When the sum is reached, the Linux OOM killer kills a backend with SIGKILL; the postmaster then
terminates every session and reinitialises. All clients see `server closed the connection
unexpectedly` (or `SSL SYSCALL error: EOF detected` over TLS) at the same moment.

## Fix
Every proposal fits the floor (one `work_mem` per connection and parallel worker) within 80 % of
the memory, and says so with its arithmetic. The message proposes the largest `work_mem` that
does. When that `work_mem` would be below 4MB (absurd for a real server: its sorts spill to
disk), it leads with the `max_connections` that fits at the current `work_mem`, with a pooler
such as PgBouncer in front (and fewer `max_parallel_workers` when they alone take the room; at
`work_mem = 4MB` when fewer than 10 connections fit at the current one), then the `work_mem`
alternative, and for a container, when the fix lowers the connections, the memory limit under
which the floor fits (`or a memory limit of 1Gi (now 500Mi)`, in whole 256 MiB, in the file's
unit style): fewer connections is a redesign, a container's limit one line. When autovacuum's
workers reserve more than a quarter of the memory (the Zalando operator's Spilo image starts 5,
each allowed `maintenance_work_mem` = 64MB: 320 MB of a 500Mi container), it first proposes a
smaller `autovacuum_work_mem` (a tenth of the memory shared among the workers). A value the file
does not set but its operator or image does is named so: `autovacuum_max_workers 5 (the
operator's default)`. When the fixed part alone is too big, it proposes `shared_buffers` at about
25 % of the memory and a smaller `autovacuum_work_mem`. Other levers: a lower
`hash_mem_multiplier`, and `vm.overcommit_memory = 2` so allocations fail instead of the OOM
killer striking.

## References
- PostgreSQL: Resource Consumption, work_mem and hash_mem_multiplier — https://www.postgresql.org/docs/current/runtime-config-resource.html
- PostgreSQL: Linux Memory Overcommit — https://www.postgresql.org/docs/current/kernel-resources.html#LINUX-MEMORY-OVERCOMMIT
"""

from advisor.findings import Severity
from advisor.catalog import value_or_default
from advisor.model.patroni import PATRONI_MINIMUMS, refused_values
from advisor.model.pg_parameters import assignment
from advisor.rules.pg.common import assignments, where
from advisor.rules.pg.common import said as said_as_written
from advisor.rules.memory import floor_of
from advisor.rules.rule import Rule
from advisor.units import format_bytes, pg_memory_literal

SAFE_SHARE = 0.8
SORT_NODES = 1
HASH_NODES = 1
MIN_WORK_MEM = 64 * 1024
SANE_WORK_MEM = 4 * 1024**2  # below it a real server's sorts spill to disk: connections give way first
def _int(text) -> int | None:
    """A refused value as written (Patroni reads integers its own way: an unparsable one is None)."""
    try:
        return int(str(text).strip())
    except ValueError:
        return None


MIN_CONNECTIONS = 10  # fewer than this behind a pooler is not a server: lower the fixed part instead


def _memory(ctx, doc):
    """(bytes, what they are, where they were set, where the figure comes from when the file does
    not write it): the file's own container/cgroup memory limit (doc.host, e.g. a CloudNativePG
    `resources.limits.memory`, a bitnami chart's `resourcesPreset`) first, else the declared RAM."""
    host = getattr(doc, "host", None)
    fact = host.memory_bytes() if host is not None else None
    if fact is not None and fact.known and fact.value:
        return (fact.value, "memory limit" if host.get("memory_limit") is fact else "RAM", fact.span,
                getattr(fact, "hint", None))
    return ctx.declared_ram(doc), "RAM", None, None


def check(ctx):
    safe_share = ctx.rule_option("MEM001", "safe-share", SAFE_SHARE)
    sort_nodes = ctx.rule_option("MEM001", "sort-nodes", SORT_NODES)
    hash_nodes = ctx.rule_option("MEM001", "hash-nodes", HASH_NODES)
    for doc in ctx.of_kind("postgresql"):
        ram, label, limit_span, limit_note = _memory(ctx, doc)
        if not ram:
            continue
        terms = floor_of(doc)  # the floor's terms, as SYS005 reads them (advisor.rules.memory)
        hash_mult, s_hash = value_or_default(doc, "hash_mem_multiplier")
        if terms is None or terms.shared is None or hash_mult is None:
            continue  # a placeholder or invalid value: the sum is unknown
        st = terms.settings
        shared, work_mem, connections, workers = terms.shared, terms.work_mem, terms.connections, terms.workers
        av_workers, av_each, av_name = terms.av_workers, terms.av_each, terms.av_name
        s_shared, s_work, s_conn, s_workers = (st["shared_buffers"], st["work_mem"], st["max_connections"],
                                               st["max_parallel_workers"])
        s_maint, s_av_mem, s_av, s_wal = (st["maintenance_work_mem"], st["autovacuum_work_mem"],
                                          st["autovacuum_max_workers"], st["wal_buffers"])
        s_processes, capped = st["max_worker_processes"], terms.capped
        op = doc.meta.get("operator_settings", ())
        by = doc.meta.get("defaults_by", "the operator")
        parallel = said_as_written("max_parallel_workers", s_workers, str(terms.workers_set), op, by=by)
        if capped:
            # parallel workers are taken from max_worker_processes: no more of them run at once
            slots = said_as_written("max_worker_processes", s_processes, str(workers), op, by=by)
            parallel = f"max_parallel_workers {terms.workers_set} capped by {slots}"
        wal_bytes = terms.wal_bytes(shared)
        factor = sort_nodes + hash_nodes * hash_mult
        per_query = work_mem * factor
        fixed = shared + wal_bytes + av_workers * av_each
        # the floor: one work_mem per connection and parallel worker (work_mem is a limit per sort
        # or hash operation; a query running one of them is the least a busy backend uses)
        floor = fixed + (connections + workers) * work_mem
        total = fixed + (connections + workers) * per_query  # the busy-server bound: context only

        if floor <= ram:
            continue
        if doc.meta.get("managed") and all(v is None or v.name in doc.meta.get("platform_defaults", ())
                                           for v in st.values()):
            # the platform's own sizing, nothing the file chose: Aurora's default parameter group
            # gives a db.r6g.large shared_buffers of 65 % of its memory beside max_connections 1802
            # (19.1 GB at one 4MB work_mem each, of 16 GB); no parameter of the file takes part
            continue

        refused = refused_values(doc.meta)
        if "max_connections" in refused:
            # Patroni refused the max_connections written (PG014 says so, and proposes the least it
            # accepts): one cause, one finding, unless the floor is above the memory at that value too
            # (at most PostgreSQL's 262,143 backends: a value of 400 digits times work_mem is past a float)
            accepted = max(PATRONI_MINIMUMS["max_connections"], min(_int(refused["max_connections"]) or 0, 262_143))
            if fixed + (accepted + workers) * work_mem <= ram:
                continue

        def said(name, setting, figure):
            return said_as_written(name, setting, figure, op, refused, by)

        av_term = (f"{said('autovacuum_max_workers', s_av, str(av_workers))} × "
                   f"{said(av_name, s_maint if av_name == 'maintenance_work_mem' else s_av_mem, format_bytes(av_each))} = "
                   f"{format_bytes(av_workers * av_each)}")
        terms = (
            f"{said('shared_buffers', s_shared, format_bytes(shared))} + "
            f"{said('wal_buffers', s_wal, format_bytes(wal_bytes))} + {av_term}"
            f" + ({said('max_connections', s_conn, str(connections))} + {parallel}) × "
            f"{said('work_mem', s_work, format_bytes(work_mem))} = {format_bytes((connections + workers) * work_mem)}"
        )
        message = (f"peak memory estimate {format_bytes(floor)} > {label} {format_bytes(ram)}"
                   f"{f' ({limit_note})' if limit_note else ''}, at one work_mem per "
                   f"connection and parallel worker: {terms}")
        nodes = ("one sort and one hash" if (sort_nodes, hash_nodes) == (1, 1) else
                 f"{sort_nodes} sort and {hash_nodes} hash nodes")
        bound = (f"with every connection and worker running {nodes} at once ({sort_nodes} sort + {hash_nodes} hash × "
                 f"{said('hash_mem_multiplier', s_hash, f'{hash_mult:g}')} = {format_bytes(per_query)} each) it would "
                 f"be {format_bytes(total)} (work_mem is per sort or hash operation: a complex query can run several, "
                 "so neither figure is a ceiling)")
        if fixed > ram:
            # reached whatever the queries do, as the buffer cache fills and autovacuum works: the
            # server starts, and is killed under ordinary use (a warning, not a refusal to start)
            severity = Severity.WARNING
            message += (f"; its fixed part alone, shared_buffers + wal_buffers + autovacuum = {format_bytes(fixed)}, "
                        f"is above the {label}, before any query's work_mem; {bound}")
            fix = _fixed_fix(doc, ram, label, shared + wal_bytes, av_workers, av_each, av_name)
        else:
            # one work_mem per connection needs every connection the server allows running a query
            # at once: saturation, hygiene (an info), unless fewer than MIN_CONNECTIONS busy queries
            # (one sort and one hash each) fit beside the fixed part: ordinary load is then enough
            fit = int((ram - fixed) // per_query) if per_query > 0 else connections
            severity = Severity.WARNING if fit < MIN_CONNECTIONS else Severity.INFO
            message += f"; {bound}"
            if severity is Severity.WARNING:
                message += (f"; beside its fixed part ({format_bytes(fixed)}) only {max(fit, 0)} queries of "
                            f"{format_bytes(per_query)} fit, fewer than {MIN_CONNECTIONS}: ordinary load reaches it")
            least = PATRONI_MINIMUMS["max_connections"] if "_patroni_rejected" in doc.meta else MIN_CONNECTIONS
            # autovacuum's reservation may be most of the fixed part (a small container beside
            # Spilo's 5 workers × 64 MB): then it is lowered first, and every proposal includes that
            first, fixed_for, why = [], fixed, ""
            lowered = _autovacuum_each(ram, av_workers, av_each)
            if lowered is not None:
                fixed_for = fixed - av_workers * (av_each - lowered)
                first = [("autovacuum_work_mem", pg_memory_literal(lowered))]
                why = (f"autovacuum_max_workers × autovacuum_work_mem: {format_bytes(av_workers * lowered)}, instead of "
                       f"{av_name} {format_bytes(av_each)} each")
            # the proposals fit the same floor (one work_mem per connection and worker) within
            # safe_share of the memory, leaving the rest to the OS, the page cache and each backend
            lowered_floor = fixed_for + (connections + workers) * work_mem
            if first and lowered_floor <= ram * safe_share:
                fix, pooled = (f"{assignments(doc, first)} ({why}): {format_bytes(fixed_for)} + "
                               f"({connections} + {workers}) × {format_bytes(work_mem)} = {format_bytes(lowered_floor)}"
                               f" ≤ {safe_share:.0%} of {format_bytes(ram)}"), False
            else:
                fix, pooled = _fix(doc, ram, label, safe_share, fixed_for, work_mem, 1, work_mem, connections,
                                   workers, shared, first, least)
                fix += f"; ({why})" if why else ""
            if label == "memory limit" and pooled:
                # fewer connections is a redesign; a container's limit is one line
                fix += "; " + _raised_limit(doc.host.memory_bytes(), floor, safe_share)
        if fixed > ram:
            # the fixed part alone is above the memory: the finding sits on its largest term, which
            # the fix lowers (shared_buffers, else autovacuum's reservation), not on work_mem
            av_setting = s_maint if av_name == "maintenance_work_mem" else s_av_mem
            largest = s_shared if shared >= av_workers * av_each else (av_setting or s_av)
            primary = largest or s_shared or s_work or s_conn
        else:
            primary = s_work or s_conn or s_shared
        related = [s.value_span or s.span for s in (s_work, s_shared, s_conn, s_maint, s_av_mem, s_workers,
                                                    s_processes if capped else None, s_av, s_hash, s_wal)
                   if s is not None and s is not primary]
        if limit_span is not None:
            related.append(limit_span)
        at = where(doc, primary)
        # each place once, and not the finding's own (operator defaults share the manifest's `kind:`)
        related = [sp for sp in dict.fromkeys(related) if (sp.file, sp.line, sp.col) != (at.file, at.line, at.col)]
        yield RULE.finding(at, message, fix, related, severity=severity)


def _work_mem_literal(n: float) -> str:
    mb = int(n // (1024 * 1024))
    return f"{mb}MB" if mb >= 1 else pg_memory_literal(n)


def _slots(budget: float, per_query: float, connections: int, workers: int,
           least: int = MIN_CONNECTIONS) -> tuple[int, int] | None:
    """(max_connections, max_parallel_workers) whose queries fit `budget` at `per_query` each, at
    most the current values; parallel workers give way first (to a quarter of what fits) when
    the connections would fall below `least`. None when fewer than `least` fit (MIN_CONNECTIONS,
    or Patroni's minimum of 25, below which it runs its default of 100)."""
    slots = int(budget // per_query) if per_query > 0 and budget > 0 else 0
    p = workers if slots - workers >= least else min(workers, slots // 4)
    if least > MIN_CONNECTIONS and slots - p < least:
        # Patroni runs 100 below its minimum: the parallel workers give way entirely first
        p = max(0, min(p, slots - least))
    c = min(connections, slots - p)
    if c == connections:
        p = min(workers, slots - connections)
    if c < least and c < connections:
        return None
    return c, p


def _raised_limit(limit, total: float, safe_share: float) -> str:
    """The memory limit under which the estimate fits `safe_share`, in whole 256 MiB, written as
    the file writes the limit: Kubernetes `Mi`/`Gi`, compose `m`/`g`, systemd `MemoryMax=` with
    `M`/`G` (base 1024, systemd.resource-control)."""
    raw = limit.raw
    mib = -(-total / safe_share // (256 * 1024**2)) * 256
    key = getattr(limit, "key", None)
    if key in ("MemoryMax", "MemoryLimit"):
        size = f"{int(mib // 1024)}G" if mib % 1024 == 0 else f"{int(mib)}M"
        return f"or {key}={size} (now {key}={raw}), where the floor fits {safe_share:.0%}"
    compose = bool(raw) and raw.strip().lower() == raw.strip() and raw.strip()[-1:] in "mgbk"
    if mib % 1024 == 0:
        size = f"{int(mib // 1024)}{'g' if compose else 'Gi'}"
    else:
        size = f"{int(mib)}{'m' if compose else 'Mi'}"
    return f"or a memory limit of {size} (now {raw}), where the floor fits {safe_share:.0%}"


def _autovacuum_each(ram, av_workers, av_each) -> int | None:
    """A smaller autovacuum_work_mem when autovacuum's workers reserve more than a quarter of the
    memory: a tenth of it shared among them (whole MB, at least 1MB, PostgreSQL's minimum)."""
    if av_workers * av_each <= ram / 4:
        return None
    each = max(1024**2, int(ram / 10 / max(av_workers, 1)) // 1024**2 * 1024**2)
    return each if each < av_each else None


def _fix(doc, ram, label, safe_share, fixed, work_mem, factor, per_query, connections, workers, shared,
         first=(), least=MIN_CONNECTIONS) -> tuple[str, bool]:
    """The work_mem that fits; when it would be absurd for a real server (below 4MB), first the
    connections (and parallel workers) that fit at the current work_mem, behind a pooler. Written
    as the file that configures the server writes it (advisor.model.pg_parameters.assignment).
    `first`: (name, value) changes `fixed` already counts (a smaller autovacuum_work_mem), written
    into every proposal, which works only with them. (text, whether it lowers the connections)."""
    budget = ram * safe_share - fixed
    fitting = budget / ((connections + workers) * factor) if budget > 0 else 0
    fits = f"fits {safe_share:.0%} of {format_bytes(ram)}"
    first = list(first)
    work_mem_fix = (assignments(doc, first + [("work_mem", _work_mem_literal(fitting))])
                    if fitting >= MIN_WORK_MEM else None)
    if fitting >= SANE_WORK_MEM:
        return f"{work_mem_fix}  ({fits}); or fewer max_connections behind a pooler", False
    # at the current work_mem; else (too few connections fit) at 4MB, never at a larger work_mem
    for at_work_mem in [work_mem] + ([SANE_WORK_MEM] if work_mem > SANE_WORK_MEM else []):
        query = at_work_mem * factor
        found = _slots(budget, query, connections, workers, least)
        if found is None:
            continue
        c, p = found
        parts = list(first)
        if at_work_mem != work_mem:
            parts.append(("work_mem", _work_mem_literal(at_work_mem)))
        if c < connections:
            parts.append(("max_connections", c))
        if p < workers:
            parts.append(("max_parallel_workers", p))
        pooled = " behind a pooler such as PgBouncer" if c < connections else ""
        changes = assignments(doc, parts)
        lead = (f"{changes}{pooled} (fixed {format_bytes(fixed)} + ({c} + {p}) × {format_bytes(query)} = "
                f"{format_bytes(fixed + (c + p) * query)} ≤ {safe_share:.0%} of {format_bytes(ram)})")
        return lead + (f"; or {work_mem_fix} at the current connections" if work_mem_fix else ""), c < connections
    if shared > ram / 4:
        # too few connections fit beside this shared_buffers: a quarter of the memory may leave room
        fixed_quarter = fixed - shared + ram / 4
        need = (connections + workers) * work_mem * factor
        if fixed_quarter + need <= ram * safe_share:
            parts = first + [("shared_buffers", pg_memory_literal(ram / 4))]
            return (f"{assignments(doc, parts)} (about 25% of {label}: fixed {format_bytes(fixed_quarter)} + "
                    f"({connections} + {workers}) × {format_bytes(work_mem * factor)} = "
                    f"{format_bytes(fixed_quarter + need)} ≤ {safe_share:.0%} of {format_bytes(ram)})"
                    + (f"; or {work_mem_fix}" if work_mem_fix else "")), False
    lower = "lower max_connections (a pooler such as PgBouncer in front)"
    if least > MIN_CONNECTIONS:
        lower = f"lower max_connections, not below {least}, Patroni's minimum (a pooler such as PgBouncer in front)"
    if shared > ram / 4:
        lower += f" or shared_buffers (about 25% of {label} = {pg_memory_literal(ram / 4)})"
    if first:
        lower = f"{assignments(doc, first)}, and {lower}"
    return lower + (f"; or {work_mem_fix}" if work_mem_fix else "; no work_mem >= 64kB fits"), True


def _fixed_fix(doc, ram, label, shared_wal, av_workers, av_each, av_name) -> str:
    """Lower what is reserved whatever the queries do: shared_buffers, autovacuum's memory."""
    parts = []
    if shared_wal > ram / 2:
        parts.append(f"{assignment(doc, 'shared_buffers', pg_memory_literal(ram / 4))} (about 25% of {label})")
    each = _autovacuum_each(ram, av_workers, av_each)
    if each is not None:
        parts.append(f"{assignment(doc, 'autovacuum_work_mem', pg_memory_literal(each))} (autovacuum_max_workers × it: "
                     f"{format_bytes(av_workers * each)}, instead of {av_name} {format_bytes(av_each)} each)")
    return "; and ".join(parts)


RULE = Rule(
    code="MEM001",
    name="worst-case-memory",
    severity=Severity.WARNING,
    summary="Memory at one work_mem per connection and parallel worker above the RAM or container limit",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
