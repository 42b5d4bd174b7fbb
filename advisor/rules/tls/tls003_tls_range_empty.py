"""The server's TLS version range is empty: the minimum is above the maximum.

## What it checks
`ssl_min_protocol_version` higher than a non-empty `ssl_max_protocol_version`.

## Why it matters
With `ssl = on` PostgreSQL cannot set up TLS with such a range: it refuses to start (or, on
reload, keeps the old TLS context and logs an error), and no TLS client can connect: an error.
With `ssl = off` (the default) the range is never used and the server starts: the finding is a
an info finding (latent) that names the `ssl` line: turning TLS on later stops the server.

## Fix
Raise `ssl_max_protocol_version` to at least the minimum, or leave it empty (no upper limit):
`ssl_max_protocol_version = ''`.

## References
- PostgreSQL: ssl_max_protocol_version — https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-MAX-PROTOCOL-VERSION
"""

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.rules.rule import Rule

ORDER = {"TLSv1": 0, "TLSv1.1": 1, "TLSv1.2": 2, "TLSv1.3": 3}


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        low, low_setting = value_or_default(doc, "ssl_min_protocol_version")
        high, high_setting = value_or_default(doc, "ssl_max_protocol_version")
        if low not in ORDER or high not in ORDER or ORDER[low] <= ORDER[high]:
            continue
        if low_setting is None and high_setting is None:
            continue
        span_setting = high_setting or low_setting
        related = [s.value_span or s.span for s in (low_setting,) if s is not None and s is not span_setting]
        ssl, ssl_setting = value_or_default(doc, "ssl")
        if ssl_setting is not None:
            related.append(ssl_setting.value_span or ssl_setting.span)
        said = (f"ssl = {ssl_setting.raw}" if ssl_setting is not None else
                "ssl not set (default off)" if ssl is False else "ssl not set in the files read")
        if ssl is True:
            message = (f"ssl_min_protocol_version {low} > ssl_max_protocol_version {high}: no TLS version is allowed, "
                       f"and with {said} PostgreSQL refuses to start")
            severity = None
        elif ssl is False:
            # be_tls_init runs only with ssl = on: the server starts and the range is never used
            message = (f"ssl_min_protocol_version {low} > ssl_max_protocol_version {high}: no TLS version is allowed; "
                       f"latent while {said} (PostgreSQL starts and offers no TLS), but turning ssl on makes it "
                       f"refuse to start")
            severity = Severity.INFO
        else:  # ssl is a placeholder or invalid: the outcome depends on it
            message = (f"ssl_min_protocol_version {low} > ssl_max_protocol_version {high}: no TLS version is allowed; "
                       f"PostgreSQL refuses to start whenever ssl is on ({said})")
            severity = None
        yield RULE.finding(
            span_setting.value_span or span_setting.span,
            message,
            f"ssl_max_protocol_version = '{low}'  (or '' for no upper limit)",
            related=related,
            severity=severity,
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
