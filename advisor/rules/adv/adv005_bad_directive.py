"""A `# pgpath:` comment that pgpath cannot read.

## What it checks
Comments addressed to pgpath inside configuration files (`# pgpath: ignore[PG010] reason`,
`# pgpath: ram=64GB`) must be readable: a RAM size that is not a size (`ram=lots`), zero, or
above 1 EiB (the largest pgpath reads), an `ignore` without its bracketed codes
(`pgpath: ignore PG010`) or with an empty bracket, and a directive pgpath does not know
(`pgpath: disable`) are reported at the comment's line and column. A value filled in by a
template (`ram={{ ram }}`) is not checked.

## Why it matters
pgpath would otherwise skip such a comment without a word: the memory rules would run without
the server's RAM the author declared, and a suppression the author believes in would silence
nothing (or the finding it meant to silence would still fail the build, with no hint why).

## Fix
Write the directive as documented: `# pgpath: ram=64GB` (B, kB, MB, GB, TB, or KiB...TiB), and
`# pgpath: ignore[CODE, ...] reason`.

## References
- pgpath: suppressing findings — docs/suppressions.md
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "bad-directive")


RULE = Rule(
    code="ADV005",
    name="bad-directive",
    severity=Severity.ERROR,
    summary="A `# pgpath:` comment (ram=, ignore[...]) that pgpath cannot read",
    needs=(),
    check=check,
    doc=__doc__,
)
