"""`timeout client` and `timeout server` differ on a TCP proxy.

## What it checks
For every `listen` in `mode tcp`, and every `frontend` -> `backend` pair it routes to, the
`timeout client` (from the frontend) and `timeout server` (from the backend), after
inheritance, are both set and differ, while no `timeout tunnel` replaces them.

## Why it matters
In TCP mode HAProxy cannot tell which side is expected to talk: a PostgreSQL session that waits
for a long query result is idle on the client side, an idle pooled connection is idle on both
sides. The shorter timeout closes the session, so the longer one is never what happens, and the
configuration reads as if it were. The HAProxy manual advises equal client and server timeouts
in TCP mode.

## Fix
Give both the same value (the longer one if sessions must survive it), or set `timeout tunnel`,
which replaces both once the TCP session is established.

## References
- HAProxy configuration manual: timeout client ("in TCP mode ... set both to the same value") — https://docs.haproxy.org/2.6/configuration.html#4-timeout%20client
"""

from advisor.findings import Severity
from advisor.rules.hap._common import haproxy_docs, is_postgres, known_ms
from advisor.rules.rule import Rule
from advisor.units import hap_format_ms


def check(ctx):
    for doc in haproxy_docs(ctx):
        longest = _longest_per_group(doc.model)
        for route in doc.model.routes():
            if route.back.effective_mode() != "tcp" or not is_postgres(route.back, doc.model):
                continue  # pgpath judges the proxies that carry PostgreSQL connections
            tunnel = route.back.timeout("tunnel")
            if tunnel is not None and tunnel.value != 0:
                continue
            client, server = route.front.timeout("client"), route.back.timeout("server")
            c, s = known_ms(client), known_ms(server)
            if not c or not s or c == s:
                continue
            shorter, longer = ("client", "server") if c < s else ("server", "client")
            low, high = min(c, s), max(c, s)
            # the line of the timer that never applies: that is where the fix goes
            unused = client if longer == "client" else server
            yield RULE.finding(
                unused.span or route.front.span,
                f"{route.label}: timeout client {client.shown()} ({client.origin}) != timeout server "
                f"{server.shown()} ({server.origin}): in TCP mode an idle session is closed by timeout {shorter} "
                f"after {low / 1000:g} s, the {high / 1000:g} s of timeout {longer} never applies",
                _fix(route, hap_format_ms(max(high, longest.get(id(route.front), high)))),
                related=[v.span for v in (client, server) if v.span and v is not unused],
            )


def _longest_per_group(model) -> dict[int, int]:
    """For each frontend, the longest client or server timer over the PostgreSQL TCP routes that
    share a frontend or a backend with it, transitively: a frontend has one timeout client for
    all its backends and a backend one timeout server for all its frontends, so every route's fix
    in such a group proposes that one value and the fixes agree."""
    routes = [r for r in model.routes() if r.back.effective_mode() == "tcp" and is_postgres(r.back, model)]
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for r in routes:
        parent[find(id(r.front))] = find(id(r.back))
    longest: dict[int, int] = {}
    for r in routes:
        c, s = known_ms(r.front.timeout("client")), known_ms(r.back.timeout("server"))
        if c and s:
            root = find(id(r.front))
            longest[root] = max(longest.get(root, 0), c, s)
    return {id(r.front): longest[find(id(r.front))] for r in routes if find(id(r.front)) in longest}


def _fix(route, value: str) -> str:
    """Equal timers, each in the section HAProxy takes it from: timeout client from the
    frontend, timeout server and timeout tunnel from the backend (a listen is both)."""
    back = route.back.label
    if route.front is route.back:
        return f"timeout client {value} and timeout server {value} in {back} (equal values), or timeout tunnel {value}"
    return (f"timeout client {value} in {route.front.label} and timeout server {value} in {back} (equal values), "
            f"or timeout tunnel {value} in {back}")


RULE = Rule(
    code="HAP002",
    name="haproxy-client-server-timeout-mismatch",
    severity=Severity.WARNING,
    summary="timeout client and timeout server differ on a TCP proxy",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
