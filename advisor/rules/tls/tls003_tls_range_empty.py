"""The server's TLS version range is empty: the minimum is above the maximum.

## What it checks
`ssl_min_protocol_version` higher than a non-empty `ssl_max_protocol_version`.

## Why it matters
With `ssl = on` PostgreSQL cannot set up TLS with such a range: it refuses to start (or, on
reload, keeps the old TLS context and logs an error), and no TLS client can connect.

## Fix
Raise `ssl_max_protocol_version` to at least the minimum, or leave it empty (no upper limit):
`ssl_max_protocol_version = ''`.

## References
- PostgreSQL: ssl_max_protocol_version — https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-MAX-PROTOCOL-VERSION
"""

from advisor.findings import Severity
from advisor.rules.pg.common import effective
from advisor.rules.rule import Rule

ORDER = {"TLSv1": 0, "TLSv1.1": 1, "TLSv1.2": 2, "TLSv1.3": 3}


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        low, low_setting = effective(doc, "ssl_min_protocol_version")
        high, high_setting = effective(doc, "ssl_max_protocol_version")
        if low not in ORDER or high not in ORDER or ORDER[low] <= ORDER[high]:
            continue
        if low_setting is None and high_setting is None:
            continue
        span_setting = high_setting or low_setting
        related = [s.value_span or s.span for s in (low_setting,) if s is not None and s is not span_setting]
        yield RULE.finding(
            span_setting.value_span or span_setting.span,
            f"ssl_min_protocol_version {low} > ssl_max_protocol_version {high}: no TLS version is allowed",
            f"ssl_max_protocol_version = '{low}'  (or '' for no upper limit)",
            related=related,
        )


RULE = Rule(
    code="TLS003",
    name="tls-range-empty",
    severity=Severity.ERROR,
    summary="Server TLS minimum above its maximum",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
