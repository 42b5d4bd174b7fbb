"""HikariCP `keepaliveTime` not below `maxLifetime`.

## What it checks
A HikariCP pool whose `keepaliveTime` (ms, 0 = off) is set and is greater than or equal to its
`maxLifetime` (default 1800000 ms; 0 = never).

## Why it matters
HikariCP's keepalive pings idle connections every `keepaliveTime` so that middleboxes see
traffic; it must be shorter than `maxLifetime` to ever run, and HikariCP treats a larger value
as a configuration mistake: it logs `keepaliveTime is greater than or equal to maxLifetime,
disabling it` and resets it (to 0, or to its default in newer releases). The application then
believes idle connections are kept alive when they are not.

## Fix
`keepaliveTime` well below `maxLifetime` and below the shortest idle timeout on the path, at
least 30000 ms: for example `keepaliveTime=120000` with `maxLifetime=1800000`.

## References
- HikariCP configuration (keepaliveTime): https://github.com/brettwooldridge/HikariCP#frequently-used
- reference: connection-timeouts.md §6.2 (HikariCP)
"""

import math

from advisor.findings import Severity
from advisor.rules.app.common import endpoints, said, where
from advisor.rules.rule import Rule


def check(ctx):
    for doc, ep in endpoints(ctx):
        pool = ep.pool
        if pool is None or pool.library != "hikaricp" or pool.keepalive_time is None:
            continue
        keep, life = pool.keepalive_time, pool.max_lifetime
        if not (keep.known and life.known) or keep.value <= 0 or math.isinf(life.value):
            continue
        if keep.value < life.value:
            continue
        suggestion = max(30000, min(120000, int(life.value * 1000 / 2)))
        yield RULE.finding(where(keep, ep),
                           f"{ep.who()}: HikariCP {said(keep, 'keepaliveTime')} >= {said(life, 'maxLifetime')}: "
                           "the keepalive must be shorter than the lifetime to ever run",
                           f"{pool.key('keepaliveTime')}={suggestion} (ms)", related=[where(life, ep)])


RULE = Rule(
    code="APP006",
    name="hikari-keepalive-not-below-lifetime",
    severity=Severity.WARNING,
    summary="HikariCP keepaliveTime not shorter than maxLifetime",
    needs=("client",),
    check=check,
    doc=__doc__,
)
