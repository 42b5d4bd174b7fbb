"""Client TCP keepalives left at the operating system's timers.

## What it checks
Client endpoints whose socket has keepalive enabled but whose idle time is the kernel default
(`net.ipv4.tcp_keepalive_time`, 7200 s on Linux, then 9 probes 75 s apart): libpq without
`keepalives_idle`, pgjdbc with `tcpKeepAlive=true` (it has no timers of its own),
node-postgres `keepAlive: true` without `keepAliveInitialDelayMillis`. pgx is not reported: Go's
dialer uses 15 s. Unix sockets are not reported.

## Why it matters
Two hours is far longer than the idle timeout of every NAT gateway and cloud load balancer
(AWS NLB/NAT 350 s, Azure LB 4 min, GCP Cloud NAT 20 min): the first probe comes long after the
middlebox has forgotten the flow. Keepalives only protect the connection when the idle time is
below the shortest idle timeout on the path. Note that keepalives have no PG* environment
variable: they must be in the connection string. They do not help against application-level
idle timeouts (HAProxy `timeout client/server`, PgBouncer `client_idle_timeout`).

## Fix
libpq: `keepalives_idle=60 keepalives_interval=10 keepalives_count=6` (or anything below the
shortest middlebox idle timeout); pgjdbc: lower `net.ipv4.tcp_keepalive_time` on the host;
node-postgres: `keepAliveInitialDelayMillis: 60000`.

## References
- libpq keepalives_idle: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-KEEPALIVES-IDLE
- tcp(7): tcp_keepalive_time — https://man7.org/linux/man-pages/man7/tcp.7.html
- reference: connection-timeouts.md §0.2, §2, §5
"""

from advisor.findings import Severity
from advisor.rules.app.common import endpoints, unix_only, where
from advisor.rules.rule import Rule

FIXES = {
    "pgjdbc": "pgjdbc has no per-connection keepalive timers: set net.ipv4.tcp_keepalive_time=60 (and "
              "tcp_keepalive_intvl=10, tcp_keepalive_probes=6) on the application host",
    "node-postgres": "keepAliveInitialDelayMillis: 60000",
}


def check(ctx):
    for doc, ep in endpoints(ctx):
        ka = ep.keepalive
        if ka is None or not ka.honours_libpq_keys or unix_only(ep) or ep.driver == "pgx":
            continue
        if not (ka.enabled.known and ka.enabled.value is True):
            continue
        if ka.idle.origin != "os-default":
            continue
        enabled = "keepalives on by default" if ka.enabled.origin == "default" else "keepalives on"
        extra = " (keepalives have no PG* environment variable)" if ep.form == "env" else ""
        yield RULE.finding(where(ka.idle, ep) if ka.idle.span else where(ka.enabled, ep),
                           f"{ep.name} ({ep.driver}): {enabled} with the OS idle time: first probe after "
                           f"{ka.idle.value:g} s idle (then {ka.count.value} probes {ka.interval.value:g} s apart), longer than "
                           f"any NAT or load-balancer idle timeout{extra}",
                           FIXES.get(ep.driver, "keepalives_idle=60 keepalives_interval=10 keepalives_count=6 in the "
                                                "connection string (below the shortest idle timeout on the path)"))


RULE = Rule(
    code="APP011",
    name="client-keepalive-os-default",
    severity=Severity.INFO,
    summary="Client TCP keepalives at the OS default idle time (7200 s)",
    needs=("client",),
    check=check,
    doc=__doc__,
)
