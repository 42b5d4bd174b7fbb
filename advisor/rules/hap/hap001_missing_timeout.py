"""A proxy without `timeout client`, `timeout server` or `timeout connect`: infinite.

## What it checks
After inheritance from its `defaults` section (the one named with `from`, or else the last one
before it), every `frontend` and `listen` needs `timeout client`, and every `backend` and
`listen` needs `timeout server` and `timeout connect`. A missing timeout, or one set to `0`, is
infinite. Values that come from a template placeholder or an environment variable are unknown
and not flagged.

## Why it matters
Without these timeouts HAProxy never closes a connection whose peer went away without a FIN
(a crashed client, a NAT or firewall that dropped the flow): sessions and their server-side
PostgreSQL connections pile up until `maxconn` is reached. HAProxy itself warns about it
(`missing timeouts for proxy ...`), and with `zero-warning` that warning stops it from starting.

## Fix
Set the timeouts once in `defaults`: `timeout connect 5s`, and for a PostgreSQL proxy equal
`timeout client` and `timeout server` at least as long as clients keep connections idle (or a
`timeout tunnel`, see HAP005).

## References
- HAProxy configuration manual: timeout client, timeout server, timeout connect — https://docs.haproxy.org/2.6/configuration.html#4-timeout%20client
"""

from advisor.findings import Severity
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.rule import Rule
from advisor.model import is_known


def check(ctx):
    for doc in haproxy_docs(ctx):
        for proxy in doc.model.proxies:
            if proxy.effective_mode() != "tcp" or not _carries_postgres(proxy, doc.model):
                continue  # pgpath judges the proxies that carry PostgreSQL connections
            wanted = []
            if proxy.has_client_side():
                wanted.append("client")
            if proxy.has_server_side():
                wanted += ["server", "connect"]
            missing, zero = [], []
            for name in wanted:
                val = proxy.timeout(name)
                if val is None:
                    missing.append(name)
                elif is_known(val.value) and val.value == 0:
                    zero.append((name, val))
            if not missing and not zero:
                continue
            parts = []
            if missing:
                where = (f"neither here nor in {proxy.defaults}" if proxy.defaults else
                         f"and no defaults section sets {'it' if len(missing) == 1 else 'them'}")
                parts.append(f"{_names(missing)} {'is' if len(missing) == 1 else 'are'} not set ({where})")
            for name, val in zero:
                parts.append(f"timeout {name} is 0 (set in {val.origin})")
            names = missing + [n for n, _ in zero]
            fix = " and ".join(f"timeout {n} {_value(n, proxy, doc.model)}" for n in names)
            # in this section (where a 0 it sets must be replaced); or, for what it lacks, in its defaults
            own_zero = any(val.origin == proxy.label for _, val in zero)
            also = "" if own_zero else (
                f" (or in {proxy.defaults.split(' at ')[0]} at {proxy.defaults_span}, for every section that uses it)"
                if proxy.defaults else " (or in a defaults section, for every section that uses it)")
            yield RULE.finding(
                proxy.span,
                f"{proxy.label}: {'; '.join(parts)}: infinite, so connections whose peer vanished are never closed "
                "(haproxy warns 'missing timeouts')",
                f"{fix} in {proxy.label}{also}",
                related=[v.span for _, v in zero if v.span] + ([proxy.defaults_span] if proxy.defaults_span else []),
            )


def _value(name: str, proxy, model) -> str:
    """The value to propose: 5s for connect; for client or server, the other side's timer when it is
    set (HAP002: in TCP mode the shorter of the two closes an idle session, so they should be
    equal), the longest over the routes of a frontend or backend; else 30m."""
    if name == "connect":
        return "5s"
    other = "server" if name == "client" else "client"
    values = []
    for route in model.routes():
        if route.front is proxy or route.back is proxy:
            val = (route.back if other == "server" else route.front).timeout(other)
            if val is not None and is_known(val.value) and val.value:
                values.append(val)
    if not values:
        return "30m"
    return max(values, key=lambda v: v.value).shown()


def _names(names):
    return " and ".join(f"timeout {n}" for n in names)


RULE = Rule(
    code="HAP001",
    name="haproxy-missing-timeout",
    severity=Severity.WARNING,
    summary="A proxy without timeout client/server/connect (infinite)",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)


def _carries_postgres(proxy, model) -> bool:
    """A backend/listen leading to PostgreSQL, or a frontend routing to one."""
    if proxy.kind == "frontend":
        return any(r.front is proxy and is_postgres(r.back, model) for r in model.routes())
    return is_postgres(proxy, model)

