"""A `timeout` name HAProxy does not know (`timeout clinet`, `timeout idle`).

## What it checks
The word after `timeout` must be one of HAProxy's timeouts: `check`, `client`, `client-fin`,
`client-hs`, `connect`, `http-keep-alive`, `http-request`, `queue`, `server`, `server-fin`,
`tarpit`, `tunnel`. A near miss gets a did-you-mean.

## Why it matters
HAProxy refuses to start (`'timeout' supports 'client', 'server', ... (got 'clinet')`). There
is no `timeout idle`: the idle time of a TCP session is governed by `timeout client`,
`timeout server` and `timeout tunnel` (see HAP005).

## Fix
Use the intended timeout name.

## References
- HAProxy configuration manual: timeout — https://docs.haproxy.org/2.6/configuration.html#4-timeout%20client
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "haproxy-unknown-timeout")


RULE = Rule(
    code="HAP007",
    name="haproxy-unknown-timeout",
    severity=Severity.ERROR,
    summary="A timeout name HAProxy does not know",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
