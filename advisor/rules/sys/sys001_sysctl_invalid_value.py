"""A sysctl value the kernel refuses for a key on the connection path.

## What it checks
In sysctl files (`/etc/sysctl.conf`, `/etc/sysctl.d/*.conf`, the `[sysctl]` section of a tuned
profile or saptune note), the keys pgpath reads as host facts must be integers in the range the
kernel accepts: `net.ipv4.tcp_keepalive_time` and `net.ipv4.tcp_keepalive_intvl` (seconds) and
`net.ipv4.tcp_retries2` non-negative integers, `net.ipv4.tcp_keepalive_probes` 0..255 (a byte),
`vm.overcommit_memory` 0..2, `vm.overcommit_ratio` >= 0. Units (`300s`) are not accepted.

## Why it matters
The write fails: `systemd-sysctl` logs an error (silently, with a leading `-` on the key) and the
kernel keeps its default, e.g. a first keepalive probe after 7200 s instead of the value meant to
stay under a load balancer's idle timeout.

## Fix
Write a plain integer in the key's unit (seconds for the keepalive timers).

## References
- sysctl.d(5) — https://man7.org/linux/man-pages/man5/sysctl.d.5.html
- tcp(7): tcp_keepalive_time, tcp_keepalive_intvl, tcp_keepalive_probes, tcp_retries2 — https://man7.org/linux/man-pages/man7/tcp.7.html
- Linux: overcommit accounting — https://www.kernel.org/doc/html/latest/mm/overcommit-accounting.html
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "sysctl-invalid-value", ("sysctl",))


RULE = Rule(
    code="SYS001",
    name="sysctl-invalid-value",
    severity=Severity.WARNING,
    summary="A sysctl value on the connection path that the kernel refuses",
    needs=("sysctl",),
    check=check,
    doc=__doc__,
)
