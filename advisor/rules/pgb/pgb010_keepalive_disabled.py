"""PgBouncer with TCP keepalive turned off (`tcp_keepalive = 0`).

## What it checks
`tcp_keepalive = 0` in `[pgbouncer]`. The setting covers both of PgBouncer's sides: the
client sockets it accepts and the server connections it opens to PostgreSQL.

Only a PgBouncer with a leg over a network is judged: clients from a network (`listen_addr`
not loopback-only) or a server reached over one (a `[databases]` host with a domain or an IP
address that is not loopback; a bare name is a compose or Kubernetes service beside it, as for
PGB018). On loopback and Unix sockets no middlebox can drop the flow, and the kernel tells each
end at once when the other process dies.

When a leg at that end crosses a load balancer, NAT or firewall whose idle timer packets reset
(read from a file or declared in the topology), PATH001 judges that leg instead (its keepalives
against that timer), and this rule says nothing. Without one known on the path the risk is
hygiene: **info**, and the message says what to declare.

## Why it matters
Without keepalive, a connection whose peer vanished (a crashed client host, a failed-over
server, a NAT gateway or load balancer that dropped the idle flow) stays open until data is next
sent on it. Pooled server connections can sit idle for a long time, so the next client to borrow
one gets the error. Keepalive probes also keep L4 middleboxes (AWS NLB/NAT 350 s, Azure LB 4 min)
from expiring idle flows; they do not reset application-level idle timeouts.

## Fix
`tcp_keepalive = 1` (the default since 1.4.1), with `tcp_keepidle` below the shortest idle
timeout on the path, e.g. `tcp_keepidle = 300`, `tcp_keepintvl = 30`, `tcp_keepcnt = 3`.

## References
- PgBouncer: Configuration, tcp_keepalive — https://www.pgbouncer.org/config.html#tcp_keepalive
- tcp(7): tcp_keepalive_time, TCP_KEEPIDLE
"""

from advisor.findings import Severity
from advisor.rules.pgb import assignments, bouncers, clients_over_network, server_over_network, where
from advisor.rules.rule import NO_MIDDLEBOX, Rule


def check(ctx):
    for doc, model in bouncers(ctx):
        if model.value("tcp_keepalive") == 0 and (clients_over_network(model) or server_over_network(model)):
            crossed = ctx.keepalive_legs(lambda hop, doc=doc: hop.doc is doc)
            if crossed:
                continue  # PATH001 judges each leg against the middlebox it crosses
            yield RULE.finding(
                where(doc, model, "tcp_keepalive"),
                "tcp_keepalive = 0: PgBouncer's client and server sockets send no TCP keepalives, so a dead peer "
                "or a middlebox that dropped the idle flow is only noticed when data is next sent; " + NO_MIDDLEBOX,
                assignments(doc, model, (("tcp_keepalive", 1), ("tcp_keepidle", 300)), " and ".join)
                + " (below the shortest idle timeout on the path)",
            )


RULE = Rule(
    code="PGB010",
    name="pgbouncer-keepalive-disabled",
    severity=Severity.INFO,
    summary="tcp_keepalive = 0: no keepalives on PgBouncer's sockets",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
