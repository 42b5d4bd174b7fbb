"""A value systemd refuses in a PostgreSQL unit's memory or OOM setting.

## What it checks
`OOMScoreAdjust=` must be an integer from -1000 to 1000; `MemoryMax=`, `MemoryHigh=` and
`MemoryLimit=` a size in bytes with an optional `K`, `M`, `G` or `T` suffix (powers of 1024), a
percentage, or `infinity`.

## Why it matters
systemd logs the bad line and ignores it: the unit starts without the OOM protection or the
memory limit it was meant to have, and nothing else tells.

## Fix
Write the value in systemd's syntax: `OOMScoreAdjust=-1000`, `MemoryMax=4G`.

## References
- systemd.exec(5): OOMScoreAdjust= — https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html
- systemd.resource-control(5): MemoryMax= — https://www.freedesktop.org/software/systemd/man/latest/systemd.resource-control.html
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "systemd-invalid-value", ("systemd",))


RULE = Rule(
    code="SYS004",
    name="systemd-invalid-value",
    severity=Severity.WARNING,
    summary="An OOMScoreAdjust= or Memory*= value systemd ignores",
    needs=("systemd",),
    check=check,
    doc=__doc__,
)
