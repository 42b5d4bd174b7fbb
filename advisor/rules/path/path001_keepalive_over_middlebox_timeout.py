"""A leg crosses a middlebox whose idle timer fires before either end sends a keepalive probe.

## What it checks
For every leg of an assembled path (one TCP connection: client to PgBouncer, PgBouncer to
PostgreSQL, ...) that crosses a middlebox with a packet-reset idle timer (AWS NLB and NAT gateway
350 s, Azure Load Balancer 4 min, GCP Cloud NAT 20 min, a firewall, a Kubernetes Service's
conntrack), the longest silence the leg's keepalives allow must be below the middlebox's timer.
For each end that sends probes that silence is max(keepalive idle, keepalive interval): the first
probe follows `idle` seconds without data, and once answered the next follows `interval` later
(each value the end's own setting, else its host's `net.ipv4.tcp_keepalive_time`/`_intvl`, else
Linux's 7200 s / 75 s). Probes from either end refresh the flow, so one end suffices. So does
real traffic: HikariCP's `keepaliveTime` (Spring's `keepalive-time`) validates each connection
idle in the pool every keepaliveTime (less up to 10 %; HikariPool's KeepaliveTask, with pgjdbc's
isValid, an empty query), so a leg its queries cross (up to the first transaction pooler) is not
reported when keepaliveTime is below the timer. HikariCP disables a keepaliveTime below
30000 ms or not below `maxLifetime` (HikariConfig.validateNumerics), and never pings a
connection the application holds: `pgpath path` says so on the timer it keeps open. A value
the end's software refuses (PgBouncer's `tcp_keepintvl = 75.0`, reported by PGB002/PG002) leaves
that end unknown, never replaced by the OS default; the message then says that end may keep the flow. Only legs whose loss reaches the
application are reported: behind a PgBouncer in transaction pooling, PgBouncer replaces a dead
server connection itself. A load balancer in front of the first hop whose clients no file shows
(a Kubernetes Service of type LoadBalancer in front of a PgBouncer) makes a leg with one end: its
server side's keepalives are judged, and the message says the clients' own may keep the flow.

A Service of type LoadBalancer whose cloud no annotation (nor the `cloud:` option) names gets its
cloud's load balancer: on AKS one that resets a flow idle 4 min, on AWS an NLB (350 s) or, from
the in-tree controller, a Classic ELB that closes a connection idle 60 s whatever the keepalives;
on bare metal none. That leg is reported as an info, against Azure's 240 s (the shortest
default of the load balancers whose expiry ends the connection), saying to name the cloud: the
finding then becomes the cloud's own. Keepalive probes, or HikariCP's keepalive queries, more
often than that keep the leg unreported.

Google's passthrough load balancers (a backend service with `loadBalancingScheme` INTERNAL or
EXTERNAL and protocol TCP; a GKE Service of type LoadBalancer) are not reported: their connection
tracking entry expires after `connectionTrackingPolicy.idleTimeoutSec` (internal: 600 s, settable
up to 16 h only below 5-tuple tracking; external: 60 s), but Google documents that a packet
matching no entry goes through backend selection again, by consistent hashing, as a new connection
would: with the backends and their health unchanged it reaches the same backend and the connection
continues, whatever the session affinity. Only a change of the backend set while the connection
was idle (a backend added, removed or unhealthy, a failover) may send it to a backend that knows no
such connection and resets it; `pgpath path` says so on the hop. Proxy load balancers, which end the
TCP connection themselves, are not modelled.

## Why it matters
A middlebox forgets a flow that stays silent longer than its timer. The next query on that
connection then draws a RST (`server closed the connection unexpectedly`, AWS) or vanishes
(Azure's default, a firewall: the query hangs until TCP gives up, about 15 minutes). Pools keep
connections idle for minutes as a matter of course, so this happens under ordinary use: a
**warning**. Keepalive probes (or real traffic, such as HikariCP's keepalive queries) are the only
thing that keeps an idle flow alive in such a middlebox (pgpath's lab reproduces it with network
namespaces and conntrack).

A client pool that validates a connection when it lends it (HikariCP always, for a connection
unused more than 500 ms; SQLAlchemy `pool_pre_ping`, Django `CONN_HEALTH_CHECKS`, psycopg_pool
`check`, pgxpool's ping on acquire) meets the expired flow first, on the legs its queries cross.
The message then says what PATH002 says of the same pool:

- where the flow's next packet draws a RST (an NLB, a NAT gateway) or the middlebox resets it as
  it expires (an Azure Load Balancer with TCP reset), the check fails at once, the pool opens a
  new connection and the application sees no error: churn, an **info** (a connection the
  application itself holds idle that long still fails at its next query) — unless statements
  may run longer than the timer (the `statement_timeout` in force for the path's sessions is above
  it, or 0: no limit): a statement that returns no rows for that long is as silent as an idle
  connection, its flow expires while it runs, and no check on borrow reaches a connection in use:
  the client waits for a result that never comes. Keepalives fix both, so that is a **warning**;
- where the flow is dropped silently (an Azure Load Balancer without TCP reset, NAT gateways on
  Azure and GCP, a firewall, a Kubernetes Service's conntrack), the check gets no answer. HikariCP
  waits `validationTimeout` (5 s by default) per dead connection before trying the next, and a
  borrow fails once they add up to `connectionTimeout` (30 s: six dead connections); the other
  pools' checks have no timeout of their own and wait until TCP gives up. A **warning**.

## Fix
Set the keepalive idle and interval of one end of the leg below the shortest packet-reset timer on
the path (pgpath proposes half of it, at most 300 s, and an interval below that), e.g. for libpq
`keepalives_idle=170 keepalives_interval=30 keepalives_count=3`, written where the client keeps
libpq's keys (a Django database's `OPTIONS` dict: `"keepalives_idle": 170, ...`; a SQLAlchemy URL's
query: `keepalives_idle=170&...`; a service file's section; else the connection string), for PgBouncer
`tcp_keepidle = 170`, for PostgreSQL `tcp_keepalives_idle = 170`. asyncpg (`asyncpg.connect()`,
`create_pool()`, SQLAlchemy's asyncpg dialect) has no keepalive setting and sets no `SO_KEEPALIVE`:
its end sends no probes, and the fix is at the other end. pgjdbc has no per-connection
timers: its end takes the client host's `net.ipv4.tcp_keepalive_time` (and `tcp_keepalive_intvl`
below Linux's 75 s), with `tcpKeepAlive=true` only when the URL does not have it already.

The first fix is for the end whose keepalive line is written already, else the first end whose
own file takes it (not pgjdbc's, which needs its host). Probes from either end keep the flow, so
the other end's own setting follows as an alternative when its file was read (`; or at the other
end, in pgbouncer.ini: tcp_keepidle = 170, ...`), and, for a HikariCP client, a `keepaliveTime`
of that period (for the connections idle in the pool only). Each of them, applied alone, clears
the finding (tests/test_fixes_apply.py applies every one of them to the rule's fixtures).

## References
- AWS NLB idle timeout: https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html
- AWS NAT gateway troubleshooting: https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html
- Azure Load Balancer TCP idle timeout: https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout
- GCP passthrough load balancers, backend selection and connection tracking:
  https://cloud.google.com/load-balancing/docs/internal/int-netlb-traffic-distribution and
  https://cloud.google.com/load-balancing/docs/network/ext-netlb-traffic-distribution; Compute API
  BackendServiceConnectionTrackingPolicy.idleTimeoutSec
- libpq keepalives: https://www.postgresql.org/docs/current/libpq-connect.html
- HikariCP keepaliveTime: https://github.com/brettwooldridge/HikariCP#frequently-used (source @604d7d5:
  HikariPool.createPoolEntry and KeepaliveTask, HikariConfig.validateNumerics)
"""

import math

from advisor.findings import Severity
from advisor.model.middlebox import CLOUD_LB_CLASSIC, CLOUD_LB_SHORTEST, CLOUD_LB_TIMERS
from advisor.rules.path import (hop_span, keepalive_fix, keepalive_target, on_borrow, related, secs,
                                statement_limit)
from advisor.rules.rule import Rule


def check(ctx):
    for path in ctx.paths:
        for t in path.timers:
            if t.resets_on != "packets" or t.defeated or not t.closes_client:
                continue
            if t.seconds is None:
                if path.hops[t.hop].kind == "cloud-lb":
                    yield from _cloud_not_known(path, t)
                continue
            leg = path.legs[t.leg]
            a = path.hops[leg.a]
            best = leg.keepalive()
            if best is not None:
                ka = f"keepalives leave it silent up to {secs(best.probes_every)} ({best.text})"
                # an end whose plan is unknown (a template value, a value its software refuses) may
                # probe sooner: say so rather than let the known end stand for the leg
                unknown = [e for e in leg.ends if e.enabled is None or (e.enabled and e.idle is None)]
                caveat = "".join(f"; {path.hops[e.hop].label}'s own keepalives are unknown ({e.text}), and may "
                                 "keep the flow" for e in unknown)
            else:
                ka, caveat = "no keepalive probes on this leg (" + "; ".join(e.text for e in leg.ends) + ")", ""
            if leg.open_end == "client":
                caveat += ("; the clients' own keepalives are not known (no client file on this path), and may keep "
                           "the flow")
            fixed_end, span = _end_to_fix(path, leg, a)
            target = keepalive_target(path)
            start, to = leg.labels(path.hops)
            # a pool that validates on borrow meets the expired flow first (PATH002 says the same of it)
            clients = path.hops_of("client")
            pooled = on_borrow(path, t, getattr(clients[0][1].detail, "pool", None)) if clients else None
            effect, severity = pooled if pooled is not None else (t.effect, Severity.WARNING)
            if severity is Severity.INFO:
                # the pool's check meets an expired idle flow; a statement running that long is
                # silent too, and no check reaches a connection in use
                longest, said = statement_limit(path)
                if longest is not None and longest > t.seconds:
                    effect += (f"; and a statement that runs longer than {secs(t.seconds)} without returning rows "
                               f"({said}) loses its flow while it runs, which no check on borrow can catch: the "
                               "client waits for a result that never comes, until its own keepalive or read "
                               "timeout gives up")
                    severity = Severity.WARNING
            yield RULE.finding(
                span,
                f"{start} -> {to} crosses {t.name}: {ka} ≥ {secs(t.seconds)}, so the flow of a connection idle "
                f"for {secs(t.seconds)} is dropped; {effect}{caveat}",
                keepalive_fix(fixed_end, target) + _alternatives(path, t, fixed_end, target),
                related=related(path, span),
                severity=severity,
            )


def _in_its_file(hop) -> bool:
    """True when `hop`'s keepalive fix is an edit of its own file: not pgjdbc's (it has no
    per-connection timers: the client host's sysctl), nor a hop declared without a file."""
    if hop.doc is None:
        return False
    return not (hop.kind == "client" and (getattr(hop.detail, "driver", None) in ("pgjdbc", "pgx")
                                          or getattr(hop.detail, "asyncpg", False)))


def _end_to_fix(path, leg, default):
    """The end of a leg whose file can take the keepalive fix, and the span to point at: one whose
    keepalive setting is written already (changing that line is enough, since probes from either
    end refresh the flow), else the first end whose fix is an edit of its own file, else the first
    end read."""
    with_file = [e for e in leg.ends if path.hops[e.hop].doc is not None]
    written = [e for e in with_file if e.origin == "set" and e.span is not None and e.enabled is not False]
    own_file = [e for e in with_file if _in_its_file(path.hops[e.hop])]
    chosen = (written or own_file or with_file or [None])[0]
    fixed_end = path.hops[chosen.hop] if chosen is not None else default
    end_plan = next((e for e in leg.ends if e.hop == path.hops.index(fixed_end)), None)
    return fixed_end, end_plan.span if end_plan is not None and end_plan.span is not None else hop_span(fixed_end)


def _alternatives(path, t, fixed_end, target: int) -> str:
    """The other fixes that keep the flow, after the first: the other end's keepalives, in its own
    file (or, for pgjdbc, its host's sysctl), since probes from either end refresh the flow; and a
    HikariCP pool's keepalive query, for the connections idle in the pool, when HikariCP would run
    it at that period (at least 30 s, below maxLifetime)."""
    from advisor.path.timers import pooled_client, transaction_pooler_index

    leg = path.legs[t.leg]
    out = []
    for end in leg.ends:
        hop = path.hops[end.hop]
        if hop is fixed_end or hop.doc is None or getattr(hop.detail, "driver", None) == "pgx" \
                or getattr(hop.detail, "asyncpg", False):
            continue
        where = f", in {hop.doc.path}:" if _in_its_file(hop) else ":"
        out.append(f"; or at the other end{where} {keepalive_fix(hop, target)}")
    client = pooled_client(path, leg, transaction_pooler_index(path))
    pool = getattr(client.detail, "pool", None) if client is not None else None
    if pool is not None and pool.library == "hikaricp" and target >= 30:
        life = pool.max_lifetime
        if not (life.known and isinstance(life.value, (int, float))) or math.isinf(life.value) or target < life.value:
            out.append(f"; or, for the connections idle in the pool only, {pool.setting('keepaliveTime', target * 1000)} "
                       f"(ms: HikariCP validates each idle pooled connection every {target} s, which keeps its flow; "
                       "not a connection the application holds idle)")
    return "".join(out)


def _cloud_not_known(path, t):
    """A Kubernetes Service of type LoadBalancer whose cloud no annotation or option names: its
    load balancer's timer is the cloud's. Judged against the shortest default of the packet-reset
    ones (Azure's 4 min), as an info that says what to declare."""
    from advisor.path.timers import pooled_client, transaction_pooler_index

    leg = path.legs[t.leg]
    best = leg.keepalive()
    if best is not None and best.probes_every < CLOUD_LB_SHORTEST:
        return  # below every cloud's default packet-reset timer
    client = pooled_client(path, leg, transaction_pooler_index(path))
    every = client.detail.pool.keepalive_every() if client is not None else None
    if every is not None and every < CLOUD_LB_SHORTEST:
        return  # HikariCP's keepalive queries, as often: real traffic on the flow
    box = path.hops[t.hop]
    start, to = leg.labels(path.hops)
    ka = (f"keepalives leave the leg silent up to {secs(best.probes_every)} ({best.text})" if best is not None
          else "no keepalive probes on the leg (" + "; ".join(e.text for e in leg.ends) + ")")
    unless = " unless the clients' own keepalives (not read) probe sooner" if leg.open_end == "client" else ""
    fixed_end, _ = _end_to_fix(path, leg, path.hops[leg.a])
    span = box.span or hop_span(box)  # the Service: what names no cloud
    target = int(CLOUD_LB_SHORTEST // 2)
    yield RULE.finding(
        span,
        f"{start} -> {to} crosses the {box.label}, whose cloud no annotation (or `cloud` option) names: "
        f"{CLOUD_LB_TIMERS}, and {CLOUD_LB_CLASSIC}; {ka}, so a connection idle past its cloud's timer is lost at "
        f"its next query{unless}",
        f"{keepalive_fix(fixed_end, target)} (below Azure's and the NLB's timers; keepalives cannot keep a Classic "
        "ELB's connection: on AWS make it an NLB, service.beta.kubernetes.io/aws-load-balancer-type: nlb); and name "
        "the cloud to have it checked: cloud: azure (or aws, gcp) in pgpath.yaml, or the cloud's annotation on the "
        "Service",
        related=related(path, span),
        severity=Severity.INFO,
    )


RULE = Rule(
    code="PATH001",
    name="keepalive-over-middlebox-timeout",
    severity=Severity.WARNING,
    summary="A leg's keepalives leave it silent longer than a middlebox idle timeout on it",
    needs=("path",),
    check=check,
    doc=__doc__,
)
