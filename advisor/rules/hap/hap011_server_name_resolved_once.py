"""A PostgreSQL server given by host name, resolved only when HAProxy starts.

## What it checks
A `server` (or `server-template`) line of a PostgreSQL backend whose address is a DNS name
(not an IP address, a UNIX socket or `localhost`):

- without `resolvers` (on the line or its `default-server`): a **warning** — the name is looked
  up once, at start, and never again. One finding per backend names every such server (at the
  first server line, the others as related lines), since one `default-server` line fixes them all;
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
HAProxy keeps sending connections to the old server, which is down or read-only (with `check`,
the old address fails its health check and the server stays DOWN: connections go to the other
servers, or are refused when none is up, until HAProxy is reloaded). And a name that
does not resolve at start is a fatal error: `could not resolve address 'db.internal'`, HAProxy
refuses to start — unless `init-addr` ends in `none`, with which HAProxy starts but leaves that
server disabled, without an address, until it is reloaded (`haproxy -c`: `could not resolve address
'db', disabling server.`): a container or host not up yet when HAProxy starts is enough, and the
finding says so, naming the line (often a `default-server` of another file) that sets it.

## Fix
Declare a `resolvers` section and use it on the server, letting HAProxy start while the name
cannot be resolved yet:

```
resolvers dns
    parse-resolv-conf         # the nameservers of /etc/resolv.conf (or: nameserver ns1 10.0.0.2:53)
    hold valid 10s
backend pg
    server pg1 db.internal:5432 check resolvers dns init-addr last,libc,none
```

With several servers given by name in one backend, put the same words on its `default-server`
line once (`default-server resolvers dns init-addr last,libc,none`) instead of on each server.

## References
- HAProxy configuration manual: resolvers, server init-addr — https://docs.haproxy.org/2.6/configuration.html#5.3
"""

import ipaddress

from advisor.findings import Severity
from advisor.model import Unknown, is_known
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.rule import Rule, listed

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
            # servers resolved once: (server, name, init-addr methods, whether the methods are the default)
            once: list[tuple] = []
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
                if resolvers is None:
                    once.append((server, name, None if may_start_unresolved else ",".join(methods), init_addr is None))
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
            if once:
                yield _resolved_once(proxy, once)


def _then(servers) -> str:
    """What HAProxy does once the address behind a name moved: with health checks the old address
    fails them and the server stays DOWN (its connections go to the other servers, or are refused
    when none is up); without, connections keep going to the old address and fail there."""
    checked = [s for s in servers if s.check is not None and is_known(s.check.value) and s.check.value]
    if len(checked) == len(servers):
        it = "the server" if len(servers) == 1 else "each such server"
        return (f"its health check fails at the old address and {it} stays DOWN, never reaching the new one: "
                "PostgreSQL connections go to the other servers, or are refused when none is up, until HAProxy "
                "is reloaded")
    return "it keeps sending PostgreSQL connections to the old address, where they fail, until HAProxy is reloaded"


def _resolved_once(proxy, once: list[tuple]):
    """One finding for every server of one backend that is resolved only at start (one fix serves them all)."""
    stuck = [(name, methods, default) for _, name, methods, default in once if methods is not None]
    start = ""
    disabled = [server for server, _, methods, _ in once if methods is None]
    if disabled:
        # init-addr ending in none without resolvers: HAProxy starts, but a name that does not resolve
        # then leaves its server disabled until a reload (haproxy -c: "could not resolve address
        # 'x', disabling server."); a container or host not up yet when HAProxy starts is the common
        # case (corpus audit 19: harisekhon's default-server init-addr last,libc,none)
        said = {str(s.init_addr.value) for s in disabled if s.init_addr is not None}
        how = f"init-addr {said.pop()}" if len(said) == 1 else "their init-addr"
        names = listed(list(dict.fromkeys(host_name(s.address) for s in disabled)), "or")
        start = (f"; and if {names} does not resolve when HAProxy starts (a container or host not up yet), {how} "
                 "lets HAProxy start with that server disabled, without an address, until HAProxy is reloaded "
                 "(`could not resolve address ..., disabling server`)")
    if stuck:
        kinds = {(methods, default) for _, methods, default in stuck}
        if len(kinds) == 1:
            methods, default = kinds.pop()
            why = f"init-addr {methods}{', the default,' if default else ''} has no `none`"
        else:
            why = "their init-addr has no `none`"
        names = list(dict.fromkeys(name for name, _, _ in stuck))
        start += (f"; and if {listed(names, 'or')} does not resolve when HAProxy starts, HAProxy refuses to start "
                  f"({why})")
    section = ("`resolvers dns` section: parse-resolv-conf (the nameservers of the host's or container's "
               "/etc/resolv.conf; or nameserver ns1 <resolver ip>:53), hold valid 10s")
    first = once[0][0]
    if len(once) == 1:
        server, name = once[0][0], once[0][1]
        return RULE.finding(
            server.span,
            f"{proxy.label}: server {server.name} {server.address}: HAProxy resolves {name} once, at start, "
            "and never again (no `resolvers` on the server): when the address behind the name changes (a "
            f"DNS-based failover, a recreated container) {_then([server])}{start}",
            f"server {server.name} {server.address} check resolvers dns init-addr last,libc,none  (with a {section})",
            related=_init_addr_spans(once),
        )
    servers = listed([server.name if server.name == name else f"{server.name} ({name})" for server, name, _, _ in once])
    return RULE.finding(
        first.span,
        f"{proxy.label}: HAProxy resolves the names of servers {servers} once, at start, and never again "
        "(no `resolvers` on them): when the address behind a name changes (a DNS-based failover, a recreated "
        f"container) {_then([server for server, _, _, _ in once])}{start}",
        f"default-server resolvers dns init-addr last,libc,none in {proxy.label} (or resolvers dns init-addr "
        f"last,libc,none on each of its server lines), with a {section}",
        related=list(dict.fromkeys([server.span for server, _, _, _ in once[1:]] + _init_addr_spans(once))),
    )


def _init_addr_spans(once) -> list:
    """Where the `init-addr ... none` of servers that may start without an address is written (a
    `default-server` line, possibly of another file), when it is not on the server line itself."""
    return [s.init_addr.span for s, _, methods, _ in once
            if methods is None and s.init_addr is not None and s.init_addr.span is not None
            and (s.init_addr.span.file, s.init_addr.span.line) != (s.span.file, s.span.line)]


RULE = Rule(
    code="HAP011",
    name="haproxy-server-name-resolved-once",
    severity=Severity.WARNING,
    summary="A PostgreSQL server given by host name that HAProxy resolves only at start",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
