"""A leg crosses a middlebox whose idle timer fires before either end sends a keepalive probe.

## What it checks
For every leg of an assembled path (one TCP connection: client to PgBouncer, PgBouncer to
PostgreSQL, ...) that crosses a middlebox with a packet-reset idle timer (AWS NLB and NAT gateway
350 s, Azure Load Balancer 4 min, GCP Cloud NAT 20 min, a firewall, a Kubernetes Service's
conntrack), the longest silence the leg's keepalives allow must be below the middlebox's timer.
For each end that sends probes that silence is max(keepalive idle, keepalive interval): the first
probe follows `idle` seconds without data, and once answered the next follows `interval` later
(each value the end's own setting, else its host's `net.ipv4.tcp_keepalive_time`/`_intvl`, else
Linux's 7200 s / 75 s). Probes from either end refresh the flow, so one end suffices. A value
the end's software refuses (PgBouncer's `tcp_keepintvl = 75.0`, reported by PGB002/PG002) leaves
that end unknown, never replaced by the OS default; the message then says that end may keep the flow. Only legs whose loss reaches the
application are reported: behind a PgBouncer in transaction pooling, PgBouncer replaces a dead
server connection itself.

## Why it matters
A middlebox forgets a flow that stays silent longer than its timer. The next query on that
connection then draws a RST (`server closed the connection unexpectedly`, AWS) or vanishes
(Azure's default, a firewall: the query hangs until TCP gives up, about 15 minutes). Pools keep
connections idle for minutes as a matter of course, so this happens under ordinary use.
Keepalive probes are the only thing that keeps an idle flow alive in such a middlebox
(pgpath's lab reproduces it with network namespaces and conntrack).

## Fix
Set the keepalive idle and interval of one end of the leg below the shortest packet-reset timer on
the path (pgpath proposes half of it, at most 300 s, and an interval below that), e.g. for libpq
`keepalives_idle=170 keepalives_interval=30 keepalives_count=3`, for PgBouncer
`tcp_keepidle = 170`, for PostgreSQL `tcp_keepalives_idle = 170`.

## References
- AWS NLB idle timeout: https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html
- AWS NAT gateway troubleshooting: https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html
- Azure Load Balancer TCP idle timeout: https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout
- libpq keepalives: https://www.postgresql.org/docs/current/libpq-connect.html
"""

from advisor.findings import Severity
from advisor.rules.path import hop_span, keepalive_fix, keepalive_target, related, secs
from advisor.rules.rule import Rule


def check(ctx):
    for path in ctx.paths:
        for t in path.timers:
            if t.resets_on != "packets" or t.defeated or not t.closes_client or t.seconds is None:
                continue
            leg = path.legs[t.leg]
            a, b = path.hops[leg.a], path.hops[leg.b]
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
            fixed_end = next((path.hops[e.hop] for e in leg.ends if path.hops[e.hop].doc is not None), a)
            end_plan = next((e for e in leg.ends if e.hop == path.hops.index(fixed_end)), None)
            span = end_plan.span if end_plan is not None and end_plan.span is not None else hop_span(fixed_end)
            target = keepalive_target(path)
            to = b.label if leg.b != leg.a else "the next hop"
            yield RULE.finding(
                span,
                f"{a.label} -> {to} crosses {t.name}: {ka} ≥ {secs(t.seconds)}, so the flow of a connection idle "
                f"for {secs(t.seconds)} is dropped; {t.effect}{caveat}",
                keepalive_fix(fixed_end, target),
                related=related(path, span),
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
