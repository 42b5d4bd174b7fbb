"""A keyword or `option` HAProxy does not know in that section.

## What it checks
The first word of each line in `global`, `defaults`, `frontend`, `backend` and `listen`, and
the name after `option`, are looked up in HAProxy's own keyword lists (generated from the
HAProxy 2.6 manual and binary, plus the keywords of later versions that pgpath knows). So are
the options of `server`, `server-template` and `default-server` lines (`check`, `inter`,
`backup`, ...), read as HAProxy reads them: each option takes a fixed number of words, so
`check 3` makes `3` an unknown option, and the fix is the whole line corrected. A near miss
gets a did-you-mean. Lines whose keyword is a template placeholder are skipped, and
the contents of `userlist`, `peers`, `resolvers`, `cache`, `ring` and the other non-proxy
sections are not checked.

## Why it matters
HAProxy refuses to start on an unknown keyword (`unknown keyword 'tiemout' in 'listen'
section`, `'server pg/a' : unknown keyword 'chekc'; did you mean 'check' maybe ?`), and a
misspelled keepalive or health-check option means the behaviour you meant to configure does
not exist.

## Fix
Correct the spelling (see the did-you-mean), or remove a keyword your HAProxy version does not
have.

## References
- HAProxy configuration manual, 4.1 Proxy keywords matrix — https://docs.haproxy.org/2.6/configuration.html#4.1
- HAProxy configuration manual, 5.2 Server and default-server options — https://docs.haproxy.org/2.6/configuration.html#5.2
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "haproxy-unknown-keyword")


RULE = Rule(
    code="HAP006",
    name="haproxy-unknown-keyword",
    severity=Severity.ERROR,
    summary="A keyword or option HAProxy does not know",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
