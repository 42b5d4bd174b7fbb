"""A PostgreSQL backend whose servers have no health check.

## What it checks
A `backend` or `listen` that leads to PostgreSQL or PgBouncer — a server on port 5432 or 6432
(or on a template placeholder named for them, `{{ postgresql_port }}`), `option pgsql-check`,
`option httpchk` on a Patroni health check (`/primary`, `/replica?lag=...`), a name containing
postgres, pg, pgbouncer or patroni, or a frontend bound to 5432/6432 routing to it; the same
decision says which proxies `pgpath path` shows as PostgreSQL paths — whose `server` lines have no `check` (neither on the line nor from
`default-server`, which `defaults` may also provide).

## Why it matters
Without `check` HAProxy considers every server up: when PostgreSQL is down, restarting or
demoted after a failover, new connections are still sent to it and fail, and with several
servers the load is not moved to the healthy ones.

## Fix
Add `check` to each server. For plain PostgreSQL add `option pgsql-check user <role>` so the
check speaks the PostgreSQL protocol; with Patroni use `option httpchk GET /primary` (or
`/replica`) and `check port 8008` on the servers.

## References
- HAProxy configuration manual: server check, option pgsql-check — https://docs.haproxy.org/2.6/configuration.html#4-option%20pgsql-check
- Patroni HAProxy template — https://github.com/patroni/patroni/blob/master/haproxy.cfg
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.rule import Rule


def check(ctx):
    for doc in haproxy_docs(ctx):
        for proxy in doc.model.proxies:
            if not proxy.has_server_side() or not proxy.servers or not is_postgres(proxy, doc.model):
                continue
            unchecked = [s for s in proxy.servers if s.check is None or (is_known(s.check.value) and not s.check.value)]
            if not unchecked:
                continue
            names = ", ".join(s.name for s in unchecked)
            checker = "option pgsql-check" if proxy.option("pgsql-check") else None
            fix = f"server {unchecked[0].name} {unchecked[0].address} check"
            if not any(proxy.option(o) for o in ("pgsql-check", "httpchk", "tcp-check")):
                fix += " (and option pgsql-check user <role>, or option httpchk + check port 8008 with Patroni)"
            yield RULE.finding(
                unchecked[0].span,
                f"{proxy.label}: {len(unchecked)} of {len(proxy.servers)} PostgreSQL server(s) have no `check` ({names})"
                + (f" although {checker} is set" if checker else "")
                + ": HAProxy keeps sending new connections to a server that is down",
                fix,
                related=[s.span for s in unchecked[1:]] + [proxy.span],
            )


RULE = Rule(
    code="HAP003",
    name="haproxy-pg-backend-without-health-check",
    severity=Severity.WARNING,
    summary="A PostgreSQL backend whose servers have no health check",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
