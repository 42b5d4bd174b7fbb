"""An inline `pgpath: ignore[...]` comment that suppresses nothing.

## What it checks
Every `pgpath: ignore[CODE]` comment must silence at least one finding of the named rule on its
line (or, for a comment on a line of its own, the next line). One that silences nothing is
reported, as is a code that names no rule.

## Why it matters
Stale suppressions hide the next real problem on that line, and they tell a reviewer something
is wrong where nothing is.

## Fix
Delete the comment, or correct the code it names.

## References
- pgpath: suppressing findings — docs/suppressions.md
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule


def check(ctx):
    # The engine decides which suppressions were used; it reports them under this rule.
    return ()


RULE = Rule(
    code="ADV002",
    name="unused-suppression",
    severity=Severity.WARNING,
    summary="An inline suppression that silences nothing",
    needs=(),
    check=check,
    doc=__doc__,
)
