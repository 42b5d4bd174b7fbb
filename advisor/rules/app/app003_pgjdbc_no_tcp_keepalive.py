"""pgjdbc without `tcpKeepAlive=true`.

## What it checks
Every pgjdbc connection (JDBC URL, Spring `spring.datasource.url`, `hikari.properties`
`jdbcUrl`, plus `data-source-properties`/`dataSource.` properties) whose `tcpKeepAlive` is
false: the default when it is not set. A URL that is a placeholder is not guessed. Only a
connection to a host reached over a network is reported (an IP address or a name with a domain, as
APP001 judges it): over loopback, a Unix socket or to a bare service name (a compose service beside
it) no NAT or load balancer sits in between.

When a leg at that end crosses a load balancer, NAT or firewall whose idle timer packets reset
(read from a file or declared in the topology), PATH001 judges that leg instead (its keepalives
against that timer), and this rule says nothing. Without one known on the path the risk is
hygiene: **info**, and the message says what to declare.

## Why it matters
pgjdbc does not enable SO_KEEPALIVE by default, so an idle pooled connection sends nothing
at all. A NAT gateway, load balancer or firewall that drops idle flows (AWS NLB/NAT 350 s,
Azure 4 min) forgets the connection silently; the next query waits for TCP retransmissions
(minutes) or for `socketTimeout`. pgjdbc has only the on/off switch: with it on, the timers are
the kernel's (`net.ipv4.tcp_keepalive_time`, 7200 s by default), so lower those on the host too.

## Fix
Add `tcpKeepAlive=true` to the JDBC URL (or `spring.datasource.hikari.data-source-properties.tcpKeepAlive=true`),
and set `net.ipv4.tcp_keepalive_time` below the shortest idle timeout on the path.

## References
- pgjdbc connection parameters (tcpKeepAlive): https://jdbc.postgresql.org/documentation/use/
- reference: connection-timeouts.md §0.2 and §6.2 (pgjdbc)
"""

from advisor.findings import Severity
from advisor.rules.app.common import crosses_a_network, endpoints, where
from advisor.rules.rule import NO_MIDDLEBOX, Rule


def check(ctx):
    for doc, ep in endpoints(ctx):
        if ep.driver != "pgjdbc" or ep.keepalive is None:
            continue
        enabled = ep.keepalive.enabled
        if not enabled.known or enabled.value:
            continue
        if not crosses_a_network(ep):
            continue  # loopback, a socket or a bare service name: no NAT or load balancer in between (as APP001)
        crossed = ctx.keepalive_legs(lambda hop, ep=ep: hop.kind == "client" and hop.detail is ep)
        if crossed:
            continue  # PATH001 judges the leg against the middlebox it crosses
        how = "tcpKeepAlive not set (pgjdbc default false)" if enabled.origin == "default" else f"tcpKeepAlive={enabled.raw}"
        yield RULE.finding(where(enabled, ep),
                           f"{ep.who()} to {ep.target()}: {how}: the socket sends no TCP keepalives, so an idle "
                           "connection dropped by a NAT, load balancer or firewall is noticed only when it is next used; "
                           + NO_MIDDLEBOX,
                           "add tcpKeepAlive=true to the JDBC URL (and lower net.ipv4.tcp_keepalive_time below the "
                           "shortest idle timeout on the path; pgjdbc has no per-connection timers)")


RULE = Rule(
    code="APP003",
    name="pgjdbc-no-tcp-keepalive",
    severity=Severity.INFO,
    summary="pgjdbc connection without tcpKeepAlive=true",
    needs=("client",),
    check=check,
    doc=__doc__,
)
