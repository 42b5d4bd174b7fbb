"""A PostgreSQL server given by host name, resolved only when HAProxy starts.

## What it checks
A `server` (or `server-template`) line of a PostgreSQL backend whose address is a DNS name
(not an IP address, a UNIX socket or `localhost`):

- without `resolvers` (on the line or its `default-server`): a **warning** — the name is looked
  up once, at start, and never again;
- with `resolvers` and an `init-addr` without `none`: an **info** — the name must still resolve
  when HAProxy starts (with `resolvers` and no `init-addr`, HAProxy 2.6 starts with the server
  disabled until the name resolves).

pgpath never resolves names itself (it opens no network connection), so it cannot tell whether
a name resolves; it reports what HAProxy will do with it.

## Why it matters
HAProxy resolves server names with the system resolver while it parses the configuration
(`init-addr last,libc` is the default). Without a `resolvers` section the address found then is
used until HAProxy is restarted or reloaded: after a DNS-based failover (a Patroni/Consul DNS
name, a cloud database endpoint such as an RDS or Cloud SQL host name moving to the new primary)
HAProxy keeps sending connections to the old server, which is down or read-only. And a name that
does not resolve at start is a fatal error: `could not resolve address 'db.internal'`, HAProxy
refuses to start — unless `init-addr` ends in `none`.

## Fix
Declare a `resolvers` section and use it on the server, letting HAProxy start while the name
cannot be resolved yet:

```
resolvers dns
    nameserver ns1 10.0.0.2:53
    hold valid 10s
backend pg
    server pg1 db.internal:5432 check resolvers dns init-addr last,libc,none
```

## References
- HAProxy configuration manual: resolvers, server init-addr — https://docs.haproxy.org/2.6/configuration.html#5.3
"""

import ipaddress

from advisor.findings import Severity
from advisor.model import Unknown, is_known
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.rule import Rule

_NOT_NAMES = ("localhost", "*")


def host_name(address: str) -> str | None:
    """The DNS name of a server address (`db.internal:5432` -> `db.internal`), None for IPs and sockets."""
    if not address or address.startswith(("/", "unix@", "abns@", "fd@", "sockpair@", "${", "@")):
        return None
    for prefix in ("ipv4@", "ipv6@"):
        if address.startswith(prefix):
            address = address[len(prefix):]
    if address.startswith("[") or address.count(":") > 1:
        return None  # an IPv6 address
    host = address.partition(":")[0]
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if not host or host.lower() in _NOT_NAMES or "$" in host or "{" in host:
        return None
    return host


def check(ctx):
    for doc in haproxy_docs(ctx):
        for proxy in doc.model.proxies:
            if not proxy.has_server_side() or not proxy.servers or not is_postgres(proxy, doc.model):
                continue
            for server in proxy.servers:
                if isinstance(server.port, Unknown):
                    continue
                name = host_name(server.address)
                if name is None:
                    continue
                resolvers = server.resolvers
                init_addr = server.init_addr
                if (resolvers is not None and not is_known(resolvers.value)) or (
                        init_addr is not None and not is_known(init_addr.value)):
                    continue
                methods = init_addr.value.split(",") if init_addr is not None else ["last", "libc"]
                may_start_unresolved = "none" in methods or any(m not in ("last", "libc", "none") for m in methods)
                start = ("" if may_start_unresolved else
                         f"; and if {name} does not resolve when HAProxy starts, HAProxy refuses to start "
                         f"(init-addr {','.join(methods)}{'' if init_addr else ', the default'} has no `none`)")
                if resolvers is None:
                    yield RULE.finding(
                        server.span,
                        f"{proxy.label}: server {server.name} {server.address}: HAProxy resolves {name} once, at start, "
                        f"and never again (no `resolvers` on the server): after a DNS-based failover it keeps sending "
                        f"PostgreSQL connections to the old address{start}",
                        f"server {server.name} {server.address} check resolvers dns init-addr last,libc,none  (with a "
                        "`resolvers dns` section: nameserver ns1 <resolver ip>:53, hold valid 10s)",
                    )
                elif init_addr is not None and not may_start_unresolved:
                    # (with resolvers and no init-addr, HAProxy 2.6 disables an unresolvable server and starts)
                    yield RULE.finding(
                        server.span,
                        f"{proxy.label}: server {server.name} {server.address} is re-resolved with resolvers "
                        f"{resolvers.value}, but {name} must resolve when HAProxy starts (init-addr "
                        f"{init_addr.value} has no `none`): an unresolvable name at start stops HAProxy",
                        f"add init-addr last,libc,none to server {server.name}",
                        severity=Severity.INFO,
                    )


RULE = Rule(
    code="HAP011",
    name="haproxy-server-name-resolved-once",
    severity=Severity.WARNING,
    summary="A PostgreSQL server given by host name that HAProxy resolves only at start",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
