"""What `haproxy -c` itself says about the configuration (only with `--haproxy-binary`).

## What it checks
When `pgpath check` is given `--haproxy-binary PATH` (or `haproxy_binary` in pgpath.yaml), pgpath
runs `PATH -c -f <file> [-f <file> ...]` on each HAProxy configuration, with the files of
a numbered group (`10-global.cfg` before `postgres.cfg`) in HAProxy's read order, and turns
every `[ALERT]` (error) and `[WARNING]` (warning) line into a finding at the file and line
HAProxy names (`parsing [file:line]`). Messages without a location are reported on the file.
Templates are skipped: their placeholders are not valid HAProxy syntax. Without the option the
rule does nothing.

The program runs at load time (running a program is I/O, which rules never do), only when a
binary is named: `pgpath dump` and checks without the option never start a process.

## Why it matters
pgpath models the keywords and values that matter for the connection path; HAProxy checks
everything else too: certificate files, ACL pattern files, resolvable server addresses, maps,
Lua, and the rules of the exact version you run.

## Fix
Follow HAProxy's message.

## References
- HAProxy management guide: 3 Starting HAProxy (`-c`, `-f`) — https://docs.haproxy.org/2.6/management.html#3
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "haproxy-check")


RULE = Rule(
    code="HAP010",
    name="haproxy-check",
    severity=Severity.ERROR,
    summary="What `haproxy -c` reports (with --haproxy-binary)",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
