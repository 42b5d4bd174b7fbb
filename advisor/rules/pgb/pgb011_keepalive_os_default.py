"""PgBouncer keepalive left at the OS default: first probe after 7200 s on Linux.

## What it checks
`tcp_keepalive = 1` (the default) with `tcp_keepidle = 0` (the default, "use the OS value"):
on Linux the first probe is sent after `net.ipv4.tcp_keepalive_time` = 7200 s, then every
`tcp_keepintvl` (OS default 75 s) up to `tcp_keepcnt` (OS default 9) times. The message gives
the total time to detect a dead peer.

## Why it matters
Two hours is far longer than the idle timeout of the middleboxes a database connection often
crosses (AWS NLB and NAT gateway 350 s, Azure load balancer 4 min, GCP Cloud NAT 20 min). An idle
pooled server connection is then dropped by the middlebox without either end knowing, and the
next client to use it waits for TCP retransmissions to fail.

## Fix
Set `tcp_keepidle` below the shortest idle timeout on the path, and a short interval and count:
`tcp_keepidle = 300`, `tcp_keepintvl = 30`, `tcp_keepcnt = 3`.

## References
- PgBouncer: Configuration, tcp_keepidle — https://www.pgbouncer.org/config.html#tcp_keepidle
- tcp(7): tcp_keepalive_time (7200), tcp_keepalive_intvl (75), tcp_keepalive_probes (9)
- AWS: NAT gateway and NLB idle timeout 350 s
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import bouncers, where
from advisor.rules.rule import Rule

LINUX_IDLE, LINUX_INTVL, LINUX_CNT = 7200, 75, 9


def check(ctx):
    for doc, model in bouncers(ctx):
        idle, intvl, cnt = (model.value(n) for n in ("tcp_keepidle", "tcp_keepintvl", "tcp_keepcnt"))
        if model.value("tcp_keepalive") in (0, None) or not all(is_known(v) for v in (idle, intvl, cnt)):
            continue
        if idle > 0:
            continue
        intvl_s = intvl if intvl > 0 else LINUX_INTVL
        cnt_n = cnt if cnt > 0 else LINUX_CNT
        total = LINUX_IDLE + intvl_s * cnt_n
        parts = [f"tcp_keepidle = 0 uses the OS default {LINUX_IDLE} s (Linux)"]
        parts.append(f"{intvl_s} s interval{' (OS default)' if intvl <= 0 else ''}")
        parts.append(f"{cnt_n} probes{' (OS default)' if cnt <= 0 else ''}")
        yield RULE.finding(
            where(doc, model, "tcp_keepidle"),
            ", ".join(parts) + f": a dead peer is detected after {LINUX_IDLE} + {intvl_s} × {cnt_n} = {total} s, "
            "and the first probe comes long after cloud idle timeouts (350 s NLB/NAT, 240 s Azure LB)",
            "tcp_keepidle = 300, tcp_keepintvl = 30, tcp_keepcnt = 3",
        )


RULE = Rule(
    code="PGB011",
    name="pgbouncer-keepalive-os-default",
    severity=Severity.WARNING,
    summary="tcp_keepidle unset: PgBouncer's first keepalive probe after the OS default 7200 s",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
