"""HAProxy terminates or originates TLS on PostgreSQL traffic, where PostgreSQL clients and servers negotiate TLS inside their own protocol.

## What it checks
A proxy that carries PostgreSQL (as HAP003 decides: a server on 5432/6432, `option pgsql-check`,
a Patroni health check, a PostgreSQL name) in mode tcp, with `ssl` on:

- **a `bind` line** (`bind :5443 ssl crt /etc/haproxy/db.pem`): HAProxy is the TLS end of the
  client's connection and expects a TLS ClientHello as its first bytes. A PostgreSQL client first
  sends an 8-byte plaintext SSLRequest and waits for a one-byte answer (libpq's default
  `sslnegotiation=postgres`; pgjdbc, node-postgres, PgBouncer toward its servers the same; with
  `sslmode=disable` a plaintext StartupMessage): HAProxy fails the handshake and closes, and the
  client sees `server closed the connection unexpectedly`. libpq 17+ with `sslnegotiation=direct`
  sends a ClientHello at once, but refuses a server that selects no ALPN protocol (`direct SSL
  connection was established without ALPN protocol negotiation extension`): it connects only when
  the bind has `alpn postgresql`, and libpq allows direct only with `sslmode` `require` or stricter.
  asyncpg's direct TLS (`direct_tls=True`, or `sslnegotiation=direct` from 0.30) offers ALPN but
  does not check it: it connects either way.
  - the paths through the bind show clients (or a PgBouncer): an **error** naming each one that
    cannot connect, with what it gets; nothing when every one can;
  - no client was read: an **error** without `alpn postgresql` (no libpq client connects: the
    default negotiation fails, and so does direct without ALPN); an **info** with it (only
    clients with `sslnegotiation=direct` connect).
- **a `server` line** (`server pg1 10.0.0.1:5432 ssl verify none`): HAProxy opens TLS toward
  PostgreSQL itself, without an SSLRequest. PostgreSQL before 17 reads the ClientHello as a
  startup packet (`LOG: invalid length of startup packet`) and closes; PostgreSQL 17 and later
  accept such direct TLS only when ALPN `postgresql` was negotiated (`received direct SSL
  connection request without ALPN protocol negotiation extension`). Without `alpn postgresql`
  on the server line: an **error**; with it, an **error** where the server behind it is known to
  be older than 17, nothing where it is 17 or later, and an **info** where its version is not known.

A bind or server whose `alpn` is a placeholder pgpath cannot read is not judged. `pgpath path`
says on each leg where HAProxy ends or starts TLS.

## Why it matters
Every connection through such a bind or server fails on the first attempt, whatever the
certificate, `sslmode` or `verify` setting: the two ends do not speak the same first bytes.
`haproxy -c` accepts the file, and HAProxy's `option pgsql-check` health check (plaintext) still
passes, so the servers look up while no client gets in. Measured (tests/lab/test_lab_haproxy_tls.py,
HAProxy 2.6, PostgreSQL 15): through `bind ... ssl crt` libpq 15 and 18 fail with `sslmode`
require, verify-full and disable; libpq 18 `sslnegotiation=direct` fails without ALPN and connects
once the bind has `alpn postgresql`; asyncpg 0.32 with `direct_tls=True` connects without it;
`server ... ssl` toward PostgreSQL 15 fails with and without `alpn postgresql`.

## Fix
Let PostgreSQL (or PgBouncer) terminate TLS: remove `ssl crt ...` from the bind; HAProxy in mode
tcp then passes the client's SSLRequest and the TLS session through, the client verifies the
server's certificate (`sslmode=verify-full`), and `ssl = on` in postgresql.conf serves it. Remove
`ssl` from a server line the same way: the client's own TLS reaches PostgreSQL through HAProxy.

Where TLS must end at HAProxy: `bind ... ssl crt <pem> alpn postgresql` and, in every client,
`sslnegotiation=direct` with `sslmode=require` or stricter (libpq 17 or later: psql 17+, psycopg
with a libpq 17+); toward the server, `server ... ssl alpn postgresql` and PostgreSQL 17 or later.

## References
- PostgreSQL protocol, SSL session encryption and direct SSL: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SSL
- libpq `sslnegotiation`: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-SSLNEGOTIATION
- HAProxy bind and server `alpn`, `ssl`: https://docs.haproxy.org/2.6/configuration.html#5.1-alpn
"""

from __future__ import annotations

from advisor.findings import Severity
from advisor.model import is_known
from advisor.model.haproxy import offers_alpn
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.rule import Rule, listed

WEAK = ("disable", "allow", "prefer")
CLOSED = "server closed the connection unexpectedly"
NO_ALPN = "direct SSL connection was established without ALPN protocol negotiation extension"
FIX_BIND = ("remove `ssl crt ...` from the bind line and let PostgreSQL (ssl = on) or PgBouncer terminate TLS: "
            "HAProxy in mode tcp then passes the client's SSLRequest and TLS session through; or, to keep TLS at "
            "HAProxy, add `alpn postgresql` to the bind and connect with sslnegotiation=direct and sslmode=require "
            "or stricter (libpq 17 or later)")


def negotiation(ep) -> tuple[str, str]:
    """(how a client starts TLS, as said): "sslrequest" (libpq's default and every driver's),
    "direct" (libpq 17+ sslnegotiation=direct: ALPN postgresql required), "direct-weak" (direct
    with a weak sslmode, which libpq refuses), "direct-unchecked" (asyncpg: ALPN offered, not
    checked), "direct-other" (another driver's direct mode), or "unknown" (a placeholder)."""
    from advisor.rules.app.common import is_libpq_family

    v = ep.param("sslnegotiation", "sslNegotiation")
    if v is not None and not v.known:
        return "unknown", ""
    direct = v is not None and str(v.value).lower() == "direct"
    said = f"sslnegotiation={v.raw or v.value}" if v is not None else "no sslnegotiation: an SSLRequest first"
    if ep.asyncpg:
        flag = ep.param("direct_tls")
        if flag is not None and not flag.known:
            return "unknown", ""
        if direct or (flag is not None and str(flag.value).lower() in ("true", "1")):
            return "direct-unchecked", (said if direct else f"direct_tls={flag.raw or flag.value}")
        return "sslrequest", "no direct_tls: an SSLRequest first"
    if not direct:
        return "sslrequest", said
    if not is_libpq_family(ep):
        return "direct-other", said
    mode = ep.sslmode
    if mode is not None and mode.known and str(mode.value).lower() in WEAK:
        return "direct-weak", f"{said} with sslmode={mode.value}"
    return "direct", said


def _connector_fails(hop, alpn: bool) -> tuple[str, str, str] | None:
    """(who connects, what it does, what it gets) when it cannot connect through the bind, None
    when it can or pgpath cannot tell."""
    if hop.kind == "pgbouncer":
        model = hop.doc.model
        mode = model.value("server_tls_sslmode")
        shown = f"server_tls_sslmode = {mode}" if is_known(mode) else "server_tls_sslmode"
        return hop.label, f"{shown}: an SSLRequest, or a plaintext StartupMessage, first", "its server login fails"
    ep = hop.detail
    how, said = negotiation(ep)
    from advisor.rules.app.common import is_libpq_family

    closed = CLOSED if is_libpq_family(ep) else "the connection is closed during its TLS negotiation"
    if how == "sslrequest":
        return ep.who(), said, closed
    if how == "direct-weak":
        return ep.who(), said, f'weak sslmode "{ep.sslmode.value}" may not be used with sslnegotiation=direct'
    if how == "direct" and not alpn:
        return ep.who(), said, NO_ALPN
    return None


def _before(path, i: int):
    """The TCP end before hop `i` (skipping middleboxes), or None."""
    for j in range(i - 1, -1, -1):
        if path.hops[j].ends_tcp:
            return path.hops[j]
    return None


def _after(path, i: int):
    for j in range(i + 1, len(path.hops)):
        if path.hops[j].ends_tcp:
            return path.hops[j]
    return None


def _through(ctx) -> tuple[dict, dict]:
    """id(bind) -> the hops that connect to it on a path (None: a path starting at HAProxy), and
    id(server) -> the hops after HAProxy on the paths through its backend."""
    from advisor.path.tls import haproxy_tls_binds

    binds: dict = {}
    servers: dict = {}
    for path in ctx.paths:
        for i, hop in enumerate(path.hops):
            if hop.kind != "haproxy" or hop.detail is None:
                continue
            for bind in haproxy_tls_binds(path, i):
                binds.setdefault(id(bind), []).append(_before(path, i))
            for server in hop.detail.back.servers:
                servers.setdefault(id(server), []).append(_after(path, i))
    return binds, servers


def check(ctx):
    binds_through, servers_through = _through(ctx)
    for doc in haproxy_docs(ctx):
        seen: set[int] = set()
        for route in doc.model.routes():
            mode = route.back.effective_mode()
            if (is_known(mode) and mode != "tcp") or not is_postgres(route.back, doc.model):
                continue
            for bind in route.front.binds:
                if bind.ssl and id(bind) not in seen:
                    seen.add(id(bind))
                    finding = _bind(doc, route, bind, binds_through.get(id(bind), []))
                    if finding is not None:
                        yield finding
            for server in route.back.servers:
                if server.ssl and id(server) not in seen:
                    seen.add(id(server))
                    finding = _server(route, server, servers_through.get(id(server), []))
                    if finding is not None:
                        yield finding


def _servers_said(route) -> str:
    names = [f"{s.name} {s.address}" for s in route.back.servers[:3]]
    more = f" and {len(route.back.servers) - 3} more" if len(route.back.servers) > 3 else ""
    return f"server{'s' if len(route.back.servers) > 1 else ''} {listed(names)}{more}" if names else "its servers"


def _bind(doc, route, bind, arriving: list):
    alpn = offers_alpn(bind.alpn)
    if alpn is None:
        return None
    alpn_said = f"alpn {bind.alpn.value}" if bind.alpn is not None else "no alpn"
    facts = (f"{route.label} ends TLS at `bind {bind.address} ssl` ({alpn_said}) in front of PostgreSQL "
             f"({_servers_said(route)}): it expects a TLS ClientHello as the first bytes")
    related = [s.span for s in route.back.servers[:3]]
    if bind.alpn is not None:
        related.append(bind.alpn.span)
    connectors = [h for h in arriving if h is not None and h.kind in ("client", "pgbouncer")]
    if connectors:
        failing = []
        for hop in connectors:
            got = _connector_fails(hop, alpn)
            if got is not None and got not in failing:  # (two paths from one client: said once)
                failing.append(got)
                if hop.kind == "client":
                    ep = hop.detail
                    for v in (ep.param("sslnegotiation", "sslNegotiation"), ep.sslmode):
                        if v is not None and v.span is not None:
                            related.append(v.span)
                    related.append(hop.span)
                elif hop.span is not None:
                    related.append(hop.span)
        if not failing:
            return None
        said = "; ".join(f"{who} ({how}) gets `{what}`" for who, how, what in failing)
        why = "a PostgreSQL client sends a plaintext SSLRequest first and waits for one byte"
        if not alpn:
            why += ", and libpq 17+ sslnegotiation=direct needs the server to select ALPN postgresql"
        fix = FIX_BIND
        if alpn:
            fix = (f"sslnegotiation=direct with sslmode=require or stricter in {listed([w for w, _, _ in failing])} "
                   "(libpq 17 or later; libpq refuses direct with a weaker sslmode), or remove `ssl crt ... alpn "
                   "postgresql` from the bind and let PostgreSQL (ssl = on) or PgBouncer terminate TLS")
        return RULE.finding(bind.span, f"{facts}; {why}: every connection fails: {said}", fix,
                            list(dict.fromkeys(related)))
    if alpn:
        return RULE.finding(
            bind.span,
            f"{facts}; with alpn postgresql only clients that start TLS at once connect (libpq 17+ "
            "sslnegotiation=direct with sslmode=require or stricter); a client that negotiates as PostgreSQL "
            f"does (libpq's default, pgjdbc, node-postgres, PgBouncer) sends an SSLRequest first and gets `{CLOSED}`; "
            "no client of this bind was read to tell",
            "make every client connect with sslnegotiation=direct and sslmode=require or stricter (libpq 17 or "
            "later), or " + FIX_BIND.split(" and let", 1)[0] + " and let PostgreSQL terminate TLS",
            list(dict.fromkeys(related)), severity=Severity.INFO)
    return RULE.finding(
        bind.span,
        f"{facts}; a PostgreSQL client sends a plaintext SSLRequest first (libpq's default "
        f"sslnegotiation=postgres, pgjdbc, node-postgres, PgBouncer) and gets `{CLOSED}`, and libpq 17+ "
        f"sslnegotiation=direct gets `{NO_ALPN}` (the bind offers no ALPN): no libpq client connects "
        "through it",
        FIX_BIND, list(dict.fromkeys(related)))


def _server(route, server, after: list):
    alpn = offers_alpn(server.alpn)
    if alpn is None:
        return None
    said = f"alpn {server.alpn.value}" if server.alpn is not None else "no alpn"
    facts = (f"{route.label}: `server {server.name} {server.address} ssl` ({said}) makes HAProxy start TLS "
             "toward PostgreSQL at once, without the SSLRequest PostgreSQL negotiates TLS with")
    fix = (f"remove `ssl` (and its verify/ca-file) from server {server.name}: the clients' own TLS "
           "(sslmode=verify-full) then reaches PostgreSQL (ssl = on) through HAProxy in mode tcp; or, with "
           f"PostgreSQL 17 or later, add `alpn postgresql` to server {server.name}")
    if not alpn:
        return RULE.finding(
            server.span,
            f"{facts}: PostgreSQL before 17 reads the ClientHello as a startup packet (`invalid "
            "length of startup packet` in its log), and PostgreSQL 17 and later accept direct TLS only with ALPN "
            f"postgresql (`received direct SSL connection request without ALPN protocol negotiation extension`): "
            f"every connection through it fails (clients get `{CLOSED}`)", fix)
    versions = []
    for hop in after:
        version = hop.pg_version() if hop is not None and hop.kind == "postgres" else None
        versions.append(version if version is not None and version["source"] != "default" else None)
    old = [v for v in versions if v is not None and v["major"] < 17]
    if old:
        v = old[0]
        return RULE.finding(
            server.span,
            f"{facts}; the server is PostgreSQL {v['major']} ({v['reason']}), "
            "which accepts TLS only after an SSLRequest (direct TLS is PostgreSQL 17+): it reads the ClientHello "
            f"as a startup packet (`invalid length of startup packet`) and every connection fails (`{CLOSED}`)",
            f"remove `ssl` from server {server.name} and let the clients' TLS reach PostgreSQL through HAProxy, or "
            f"upgrade the server to PostgreSQL 17 or later")
    if versions and all(v is not None for v in versions):
        return None
    return RULE.finding(
        server.span,
        f"{facts}; this works only with PostgreSQL 17 or later (before 17 the ClientHello "
        "is read as a startup packet and every connection fails); the server's version is not known here",
        f"check that the servers run PostgreSQL 17 or later (declare version: on the postgres hop in pgpath.yaml), "
        f"or remove `ssl` from server {server.name}", severity=Severity.INFO)


RULE = Rule(
    code="HAP013",
    name="haproxy-tls-breaks-postgres-negotiation",
    severity=Severity.ERROR,
    summary="HAProxy ends or starts TLS on PostgreSQL traffic, whose clients and servers negotiate TLS "
            "with an SSLRequest",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
