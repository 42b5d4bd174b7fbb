"""TCP keepalive on one side of the proxy only (`clitcpka` without `srvtcpka`, or the reverse).

## What it checks
For every `listen`, and every `frontend` -> `backend` pair it routes to: keepalive is enabled on
the client side (`option clitcpka` or `option tcpka` in the frontend/listen, inherited from
`defaults` unless `no option clitcpka`) but not on the server side (`option srvtcpka` or
`option tcpka` in the backend/listen), or the reverse. `option tcpka` in a frontend only
affects the client side, in a backend only the server side.

When a leg at that end crosses a load balancer, NAT or firewall whose idle timer packets reset
(read from a file or declared in the topology), PATH001 judges that leg instead (its keepalives
against that timer), and this rule says nothing. Without one known on the path the risk is
hygiene: **info**, and the message says what to declare.

## Why it matters
HAProxy does not forward keepalive probes: each side is its own TCP connection, and only a side
with keepalive enabled sends probes. A NAT gateway, cloud load balancer or firewall between
HAProxy and PostgreSQL (or between the client and HAProxy) drops the idle flow on the side
without probes, and the next query fails.

**TCP keepalives do not reset HAProxy's own timeouts.** Probes carry no data; HAProxy's
`timeout client`, `timeout server` and `timeout tunnel` count only real traffic. In the lab
(HAProxy 2.6, rows H3/H4 of lab-observations.md) a session with `timeout client/server 2s` was
closed at the timeout even with 1 s keepalives on both sides. Keepalives keep middleboxes
open; only real traffic, `timeout tunnel` or a longer timeout keeps an idle session alive in
HAProxy (see HAP005).

## Fix
Enable keepalive on both sides: `option tcpka` in a `listen` or `defaults` section, or
`option clitcpka` in the frontend and `option srvtcpka` in the backend; set
`clitcpka-idle`/`srvtcpka-idle` below the shortest middlebox idle timeout (e.g. 300 s for AWS
NLB/NAT at 350 s).

## References
- HAProxy configuration manual: option clitcpka, option srvtcpka, option tcpka, clitcpka-idle — https://docs.haproxy.org/2.6/configuration.html#4-option%20tcpka
- pgpath reference: connection-timeouts.md §0 and §4; lab-observations.md rows H3, H4
"""

from advisor.findings import Severity
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.rule import NO_MIDDLEBOX, Rule

NOTE = ("note: TCP keepalives do not reset HAProxy's timeout client/server/tunnel (lab H3/H4: closed at the 2 s "
        "timeout despite 1 s keepalives on both sides); only real traffic, timeout tunnel or a longer timeout keeps "
        "an idle session")


def check(ctx):
    for doc in haproxy_docs(ctx):
        for route in doc.model.routes():
            if not is_postgres(route.back, doc.model):
                continue  # pgpath judges the proxies that carry PostgreSQL connections
            cli = route.front.keepalive("client")["enabled"]
            srv = route.back.keepalive("server")["enabled"]
            on_cli = cli is not None and cli.value is True
            on_srv = srv is not None and srv.value is True
            off_cli = cli is None or cli.value is False
            off_srv = srv is None or srv.value is False
            if on_cli and off_srv:
                have, have_val, lack, fix = "client", cli, "server", "option srvtcpka"
            elif on_srv and off_cli:
                have, have_val, lack, fix = "server", srv, "client", "option clitcpka"
            else:
                continue
            where = route.back.label if lack.startswith("server") else route.front.label
            crossed = ctx.keepalive_legs(
                lambda hop, doc=doc, route=route: hop.doc is doc and getattr(hop.detail, "label", None) == route.label,
                side=lack)
            if crossed:
                continue  # PATH001 judges that leg against the middlebox it crosses
            # the option line that turns keepalive on for one side (the other side's fix goes beside it)
            yield RULE.finding(
                have_val.span or route.front.span,
                f"{route.label}: TCP keepalive is on for the {have} side ({have_val.origin}) but off for the {lack} "
                f"side: HAProxy does not forward probes, so an idle flow on that side can be dropped by a NAT or "
                f"load balancer; {NO_MIDDLEBOX}; {NOTE}",
                f"{fix} in {where} (or option tcpka in a listen/defaults section for both sides)",
                related=[route.front.span] if have_val.span else [],
            )


RULE = Rule(
    code="HAP004",
    name="haproxy-one-sided-tcp-keepalive",
    severity=Severity.INFO,
    summary="TCP keepalive enabled on only one side of the proxy",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
