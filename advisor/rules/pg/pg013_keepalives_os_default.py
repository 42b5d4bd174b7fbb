"""Server TCP keepalives left at the operating system's default: first probe after 2 hours.

## What it checks
`tcp_keepalives_idle` unset or 0 in postgresql.conf. PostgreSQL then uses the kernel's
`net.ipv4.tcp_keepalive_time`, 7200 s on Linux, with 9 probes 75 s apart: a vanished client is
noticed after 7200 + 9 × 75 = 7875 s at the earliest.

## Why it matters
Every cloud middlebox drops idle flows long before that: AWS NLB and NAT Gateway after 350 s,
Azure Load Balancer after 4 minutes, GCP Cloud NAT after 20 minutes. Keepalive probes reset
those timers; without them an idle connection through such a hop is dropped silently and the
next query fails (`server closed the connection unexpectedly`, `SSL SYSCALL error: EOF
detected`), and the server keeps the dead backend for two hours. Reported as info until the
path (which hops are on the way) is known; path rules make it precise.

## Fix
`tcp_keepalives_idle = 120`, `tcp_keepalives_interval = 30`, `tcp_keepalives_count = 4`: below
every common cloud idle timeout, and a dead peer is found within 4 minutes.

## References
- PostgreSQL: tcp_keepalives_idle — https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-TCP-KEEPALIVES-IDLE
- tcp(7): tcp_keepalive_time — https://man7.org/linux/man-pages/man7/tcp.7.html
- connection-timeouts.md sections 0, 2 and 5
"""

from advisor.findings import Severity
from advisor.rules.pg.common import effective, where
from advisor.rules.rule import Rule

LINUX_KEEPALIVE_TIME = 7200
LINUX_KEEPALIVE_INTVL = 75
LINUX_KEEPALIVE_PROBES = 9


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        idle, setting = effective(doc, "tcp_keepalives_idle")
        if idle is None or idle != 0:
            continue
        interval, _ = effective(doc, "tcp_keepalives_interval")
        count, _ = effective(doc, "tcp_keepalives_count")
        interval = interval or LINUX_KEEPALIVE_INTVL
        count = count or LINUX_KEEPALIVE_PROBES
        stated = "tcp_keepalives_idle = 0" if setting else "tcp_keepalives_idle not set"
        detect = LINUX_KEEPALIVE_TIME + interval * count
        yield RULE.finding(
            where(doc, setting),
            f"{stated}: keepalive idle {LINUX_KEEPALIVE_TIME} s (Linux default) > AWS NLB/NAT idle timeout 350 s "
            f"and Azure LB 240 s; a dead peer is detected after {LINUX_KEEPALIVE_TIME} + {count} × {interval} = "
            f"{detect} s",
            "tcp_keepalives_idle = 120, tcp_keepalives_interval = 30, tcp_keepalives_count = 4",
        )


RULE = Rule(
    code="PG013",
    name="keepalives-os-default",
    severity=Severity.INFO,
    summary="Server keepalives at the OS default (first probe after 7200 s)",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
