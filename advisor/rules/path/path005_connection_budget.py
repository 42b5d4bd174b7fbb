"""The clients on the paths to a PgBouncer or PostgreSQL can open more connections than it accepts.

## What it checks
For every PgBouncer and every PostgreSQL server reached by assembled paths, the sum over the
clients whose connections end there (the first PgBouncer or PostgreSQL after the client; an
HAProxy in TCP mode passes them through) of pool size × replicas (topology `replicas:`, else 1):

- against PgBouncer's `max_client_conn`;
- against PostgreSQL's `max_connections` − `superuser_reserved_connections` −
  `reserved_connections` (16+) for clients that reach it without a pooler.

Pool sizes are the libraries' own (HikariCP `maximumPoolSize`, default 10; SQLAlchemy
`pool_size` + `max_overflow`; psycopg_pool `max_size`; pgxpool `pool_max_conns`; pg-pool `max`).
Clients without a pool count once per replica. PgBouncer's own server-side budget against
`max_connections` is PGB016.

## Why it matters
When every replica fills its pool (a deploy, a traffic peak, a slow database that makes pools
grow), connections beyond the limit are refused: PgBouncer answers `no more connections allowed
(max_client_conn)`, PostgreSQL `sorry, too many clients already`.

## Fix
Raise the limit (`max_client_conn` is cheap in PgBouncer), lower the pool sizes, or put a pooler
in front of the server; the finding gives the numbers.

## References
- PgBouncer max_client_conn: https://www.pgbouncer.org/config.html#max_client_conn
- PostgreSQL max_connections: https://www.postgresql.org/docs/current/runtime-config-connection.html
"""

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.model import Span, is_known
from advisor.rules.path import hop_span
from advisor.rules.pgb import source
from advisor.rules.rule import Rule


def _pool_size(ep) -> tuple[int | None, str]:
    pool = getattr(ep, "pool", None)
    if pool is None or pool.size is None:
        return 1, "1 connection"
    if not pool.size.known:
        return None, ""
    size = int(pool.size.value)
    default = " (default)" if pool.size.origin == "default" else ""
    return size, f"pool {size}{default}"


def check(ctx):
    budgets: dict[int, dict] = {}
    for path in ctx.paths:
        for i, hop in path.hops_of("client"):
            end = next((h for h in path.hops[i + 1:] if h.kind in ("pgbouncer", "postgres")), None)
            if end is None or end.doc is None:
                continue
            size, text = _pool_size(hop.detail)
            if size is None:
                continue
            b = budgets.setdefault(id(end.doc), {"hop": end, "clients": {}})
            b["clients"][id(hop.detail)] = (hop, size, text)
    for b in budgets.values():
        end = b["hop"]
        clients = list(b["clients"].values())
        total = sum(size * hop.replicas for hop, size, _ in clients)
        if end.kind == "pgbouncer":
            model = end.doc.model
            limit = model.value("max_client_conn")
            if not is_known(limit):
                continue
            limit_text = source(model, "max_client_conn")
            span = model.span_of("max_client_conn") or hop_span(end)
            fix = f"max_client_conn = {total + max(100, total // 5)}"
        else:
            mc, mc_s = value_or_default(end.doc, "max_connections")
            su, _ = value_or_default(end.doc, "superuser_reserved_connections")
            rc, _ = value_or_default(end.doc, "reserved_connections")
            if not isinstance(mc, int) or not isinstance(su, int):
                continue
            limit = mc - su - (rc if isinstance(rc, int) else 0)
            limit_text = (f"max_connections {mc}{'' if mc_s is not None else ' (default)'} − reserved {limit and mc - limit}"
                          f" = {limit}")
            span = (mc_s.value_span or mc_s.span) if mc_s is not None else Span(end.doc.path)
            fix = f"max_connections = {total + mc - limit + 10}, or a pooler (PgBouncer) in front of the server"
        if total <= limit:
            continue
        parts = " + ".join(f"{hop.detail.name} {text}" + (f" × {hop.replicas} replicas" if hop.replicas > 1 else "")
                           for hop, _size, text in clients)
        yield RULE.finding(
            span,
            f"clients can open {parts} = {total} connections to {end.label} > {limit_text}: connections beyond "
            f"{limit} are refused at peak",
            fix,
            related=[hop_span(hop) for hop, _, _ in clients],
        )


RULE = Rule(
    code="PATH005",
    name="connection-budget",
    severity=Severity.WARNING,
    summary="Client pools × replicas exceed what the PgBouncer or PostgreSQL they reach accepts",
    needs=("path",),
    check=check,
    doc=__doc__,
)
