"""The one list of every rule pgpath has.

Adding a rule: write `advisor/rules/<family>/<code>_<slug>.py` (copy a neighbour), add it to the
list below, and add `tests/rules/<CODE>/` with bad and good cases. A test checks that every rule
module is listed here, that codes and names are unique, and that each has its fixtures and docs.
"""

from __future__ import annotations

from advisor.rules.adv import adv001_syntax_error, adv002_unused_suppression, adv003_include_error
from advisor.rules.pg import pg001_unknown_parameter, pg002_invalid_value, pg003_out_of_range
from advisor.rules.rule import Context, Rule

ALL_RULES: list[Rule] = [
    # ADV: the tool's own
    adv001_syntax_error.RULE,
    adv002_unused_suppression.RULE,
    adv003_include_error.RULE,
    # PG: PostgreSQL server
    pg001_unknown_parameter.RULE,
    pg002_invalid_value.RULE,
    pg003_out_of_range.RULE,
    # TLS
    # MEM
    # PGB: PgBouncer
    # HAP: HAProxy
    # APP: client drivers and pools
]

# Codes of renamed or merged rules -> the code that replaced them (codes are never reused).
REDIRECTS: dict[str, str] = {}


def find_rule(code_or_name: str) -> Rule | None:
    """A rule by code (`PG001`, any case) or name (`unknown-parameter`)."""
    key = code_or_name.strip()
    key = REDIRECTS.get(key.upper(), key)
    for rule in ALL_RULES:
        if rule.code.lower() == key.lower() or rule.name == key.lower():
            return rule
    return None


__all__ = ["ALL_RULES", "REDIRECTS", "Context", "Rule", "find_rule"]
