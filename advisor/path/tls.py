"""Where TLS ends on a path's legs, where an HAProxy is a TLS endpoint.

A PostgreSQL client negotiates TLS inside the PostgreSQL protocol: it sends an 8-byte plaintext
SSLRequest and starts TLS only after the one-byte answer `S` (libpq's default,
`sslnegotiation=postgres`; every driver does this). An HAProxy in mode tcp without `ssl` on its
bind passes those bytes through, so TLS runs between the client and PostgreSQL (or PgBouncer), and
the path says nothing of it here. With `bind ... ssl crt ...` HAProxy is the TLS end of the
client's leg: it expects a TLS ClientHello as the first bytes, and the SSLRequest is not one; only
a client that starts TLS at once (libpq 17+ `sslnegotiation=direct`, which also requires the
server to select ALPN `postgresql`, so the bind needs `alpn postgresql`) gets through. Behind such
a bind HAProxy forwards the decrypted stream: plaintext to the server unless its `server` line has
`ssl`. A `server ... ssl` line makes HAProxy the TLS client of PostgreSQL, which accepts TLS
without an SSLRequest only from PostgreSQL 17 and then only with ALPN `postgresql`.

Facts: lab rows HTLS (tests/lab/test_lab_haproxy_tls.py, HAProxy 2.6, libpq 15 and 18, PostgreSQL
15); PostgreSQL 17+ backend_startup.c ProcessSSLStartup (direct TLS without ALPN is rejected).
HAP013 reports what fails; this module only says, per leg, where TLS ends (`pgpath path`).
"""

from __future__ import annotations

import os

from advisor.path.model import DeploymentPath


def _where(span) -> str:
    return f"{os.path.basename(span.file)}:{span.line}" if span is not None and span.file else ""


def _client_port(path: DeploymentPath, i: int):
    """The port the hop before HAProxy `i` connects to, when it is a client with one known port."""
    prev = path.hops[i - 1] if i > 0 else None
    ports = getattr(getattr(prev, "detail", None), "ports", None) if prev is not None and prev.kind == "client" else None
    if ports and len(ports) == 1 and ports[0].known and isinstance(ports[0].value, int):
        return ports[0].value
    return None


def haproxy_tls_binds(path: DeploymentPath, i: int) -> list:
    """The `ssl` binds of HAProxy hop `i` that the connection arriving at it can reach."""
    from advisor.model.haproxy import binds_used

    route = path.hops[i].detail
    if route is None:
        return []
    return [b for b in binds_used(route.front, _client_port(path, i)) if b.ssl]


def describe(path: DeploymentPath) -> None:
    """Set `leg.tls` on each leg that ends or starts at an HAProxy that terminates or originates
    TLS (left "" elsewhere: TLS there is negotiated end to end through HAProxy in mode tcp).
    (HAProxy's model is imported only for a path with an HAProxy: a pgbouncer.ini check loads none.)"""
    if not any(h.kind == "haproxy" for h in path.hops):
        return
    from advisor.model.haproxy import offers_alpn

    for leg in path.legs:
        if leg.open_end is None and path.hops[leg.b].kind == "haproxy":
            binds = haproxy_tls_binds(path, leg.b)
            if binds:
                bind = binds[0]
                alpn = offers_alpn(bind.alpn)
                said = f"bind {bind.address} ssl ({_where(bind.span)})"
                if alpn:
                    said += (f" with alpn {bind.alpn.value}: only a client that starts TLS at once connects "
                             "(libpq 17+ sslnegotiation=direct); a client's SSLRequest fails (HAP013)")
                elif alpn is None:
                    said += f" with alpn {bind.alpn.value} (not known here)"
                else:
                    said += (", no alpn: it expects a TLS ClientHello, a PostgreSQL client sends an SSLRequest "
                             "first, and libpq's direct TLS needs ALPN postgresql: no libpq client connects (HAP013)")
                leg.tls = f"TLS ends at {path.hops[leg.b].label}, {said}"
        if path.hops[leg.a].kind == "haproxy" and leg.a != leg.b:
            route = path.hops[leg.a].detail
            if route is None:
                continue
            servers = [s for s in route.back.servers if s.ssl]
            if servers:
                server = servers[0]
                alpn = offers_alpn(server.alpn)
                said = (f"HAProxy starts TLS itself (server {server.name} ssl, {_where(server.span)}"
                        + (f", alpn {server.alpn.value}" if server.alpn is not None else ", no alpn") + ")")
                if not alpn:
                    said += ("; PostgreSQL reads no TLS without an SSLRequest before 17, nor without ALPN "
                             "postgresql from 17 (HAP013)")
                else:
                    said += "; PostgreSQL 17 or later accepts it (direct TLS with ALPN postgresql)"
                leg.tls = said
            elif haproxy_tls_binds(path, leg.a):
                leg.tls = ("no TLS: HAProxy ended the client's TLS and sends the decrypted stream in plaintext "
                           "(no ssl on its server lines)")
