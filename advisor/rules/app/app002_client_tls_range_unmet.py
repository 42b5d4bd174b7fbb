"""The TLS version ranges of the two ends of a TLS leg do not overlap: a client and the PostgreSQL
or PgBouncer it connects to, or a PgBouncer and the PostgreSQL behind it.

## What it checks
TLS is negotiated per leg between the hops that end it (an HAProxy in TCP mode passes it
through). On each assembled path:

- a libpq-family client (libpq, psycopg, Django, SQLAlchemy with psycopg, psycopg_pool) with
  `sslmode` other than `disable`: its range `ssl_min_protocol_version` (default TLSv1.2) to
  `ssl_max_protocol_version` (default: no limit), against the next PostgreSQL
  (`ssl_min_protocol_version`, default TLSv1.2 since PostgreSQL 13; `ssl_max_protocol_version`,
  default no limit) or the next PgBouncer with TLS on its client side (`client_tls_sslmode` other
  than `disable`): the versions `client_tls_protocols` allows;
- a PgBouncer with `server_tls_sslmode` other than `disable` whose `[databases]` entry reaches
  the server over TCP: the versions `server_tls_protocols` allows, against the PostgreSQL behind
  it when that server has `ssl = on`, or against the `client_tls_protocols` of a second
  PgBouncer behind it (two-level pooling) with client TLS on.

PgBouncer's `*_tls_protocols` is a list (`,` or `:` between words): `tlsv1.0` to `tlsv1.3`,
`all` (and `tlsv1`, libtls' name for every TLS 1.x, unlike PostgreSQL's `TLSv1`, which is TLS
1.0), `secure`/`default` (1.2 and 1.3; the default since PgBouncer 1.13, `all` before), `legacy`
(`all`, up to 1.20), `!word` to remove versions. Both ends' versions must have one in common.

## Why it matters
- A client with `sslmode=require` or stronger: the connection fails (lab row S1: `SSL error:
  tlsv1 alert protocol version`, hint "server does not support any SSL protocol version between
  TLSv1.2 and TLSv1.2"; the same from a PgBouncer): an **error**.
- A client with `sslmode=prefer` or `allow`: libpq falls back to a connection **without TLS**
  (lab row S3: the server sees no TLS). Against PostgreSQL, or a PgBouncer with
  `client_tls_sslmode = allow`/`prefer`, nothing fails: an **info**, like every exposure (APP001),
  tagged security. A PgBouncer with `client_tls_sslmode = require` or stronger refuses that
  plaintext connection (`SSL required`): every connection fails, an **error**.
- PgBouncer to PostgreSQL: PgBouncer asks for TLS whatever its `server_tls_sslmode` (`allow` and
  `prefer` too) and, once the server accepts, a failed handshake closes the server connection:
  it never retries in plaintext (PgBouncer src/sbuf.c, handle_tls_handshake; src/server.c,
  handle_sslchar). PgBouncer logs `TLS handshake error: ... tlsv1 alert protocol version` at
  every login, no server connection is ever made, and its clients wait for one until they give
  up: an **error**.

Ranges that meet only below TLS 1.2 (a client or server capped at TLSv1.1) meet on paper only:
OpenSSL 3.0 and later, which current libpq, PostgreSQL and PgBouncer packages use, refuse TLS
1.0 and 1.1 at their default security level (`SSL error: tlsv1 alert internal error`, the server
logs `no suitable signature algorithm`; a client whose OpenSSL refuses them itself says `SSL
error: no protocols available`): a **warning** where TLS is required (it still works where both
ends run OpenSSL 1.1), an **info** where the client falls back to plaintext.

## Fix
Remove the client's `ssl_max_protocol_version` (or raise it to the server's minimum); let
PgBouncer offer what its neighbours use (`client_tls_protocols = secure`, `server_tls_protocols
= secure`); or lower the server's `ssl_min_protocol_version` only if every client really needs
an old version.

## References
- libpq ssl_min_protocol_version / ssl_max_protocol_version: https://www.postgresql.org/docs/current/libpq-connect.html
- PostgreSQL ssl_min_protocol_version: https://www.postgresql.org/docs/current/runtime-config-connection.html
- PgBouncer client_tls_protocols, server_tls_protocols: https://www.pgbouncer.org/config.html#tls-settings
- libusual tls_config_parse_protocols (the list PgBouncer reads): https://github.com/libusual/libusual/blob/master/usual/tls/tls_config.c
- lab-observations.md rows S1, S2, S3
"""

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.app.common import is_libpq_family, unix_only, where
from advisor.rules.pgb import assignment_in
from advisor.rules.rule import Rule

ORDER = {"tlsv1": 0, "tlsv1.1": 1, "tlsv1.2": 2, "tlsv1.3": 3}
NAMES = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")  # as libpq and PostgreSQL spell them
REQUIRES = ("require", "verify-ca", "verify-full")


def _rank(value) -> int | None:
    if value is None or not isinstance(value, str):
        return None
    return ORDER.get(value.strip().lower())


def show(versions) -> str:
    """`TLSv1.2..TLSv1.3` for a range, `TLSv1, TLSv1.3` for a set with holes."""
    ranks = sorted(versions)
    if not ranks:
        return "none"
    if ranks == list(range(ranks[0], ranks[-1] + 1)):
        return f"{NAMES[ranks[0]]}..{NAMES[ranks[-1]]}"
    return ", ".join(NAMES[r] for r in ranks)


class End:
    """One end of a TLS leg: the versions it allows, how to say so, and where it is written.
    `low`/`high`: the settings that bound it (a libpq or PostgreSQL minimum and maximum; the one
    PgBouncer list for both), None when left at the default."""

    __slots__ = ("versions", "text", "low", "high", "kind", "doc")

    def __init__(self, versions, text, low=None, high=None, kind="", doc=None):
        self.versions = frozenset(versions)
        self.text = text
        self.low = low
        self.high = high
        self.kind = kind  # client | postgres | pgbouncer
        self.doc = doc


def _client_end(ep):
    cmin, cmax = ep.ssl_min_protocol_version, ep.ssl_max_protocol_version
    if (cmin is not None and cmin.unknown) or (cmax is not None and cmax.unknown):
        return None
    lo = _rank(cmin.value) if cmin is not None and cmin.known else 2
    hi = _rank(cmax.value) if cmax is not None and cmax.known and cmax.value else 3
    if lo is None or hi is None:
        return None
    return End(range(lo, hi + 1), "", cmin, cmax, "client")


def _postgres_end(doc):
    s_min, s_max = doc.get("ssl_min_protocol_version"), doc.get("ssl_max_protocol_version")
    lo = _rank(s_min.value) if s_min is not None else 2
    hi = _rank(s_max.value) if s_max is not None and s_max.value else 3
    if lo is None or hi is None:
        return None
    return End(range(lo, hi + 1), f"server range {{}} ({doc.path})", s_min, s_max, "postgres", doc)


def _pgbouncer_end(doc, side):
    from advisor.model.pgbouncer import tls_protocol_versions

    model = doc.model
    name = f"{side}_tls_protocols"
    value = model.value(name)
    versions = tls_protocol_versions(value, model.version)
    if versions is None:
        return None  # refused by PgBouncer (PGB002) or a placeholder
    default = " (default)" if model.is_default(name) else ""
    setting = None if model.is_default(name) else model.setting(name)
    return End(versions, f"PgBouncer's {{}} ({name} = {value}{default}, {doc.path})", setting, setting,
               "pgbouncer", doc)


def _next_tls_end(path, i):
    for later in path.hops[i + 1:]:
        if later.kind in ("pgbouncer", "postgres"):
            return later
    return None


def _tcp_entry(hop) -> bool:
    """Whether PgBouncer reaches the server of this hop's [databases] entry over TCP (it asks for
    TLS only there, never on a Unix socket: no host, or a host that is a directory)."""
    entry = hop.detail
    host = entry.value("host") if entry is not None else None
    if host is None or not is_known(host):
        return False
    return not any(h.strip().startswith("/") for h in str(host).split(","))


def _fragment(doc) -> bool:
    """A PgBouncer file that is not a whole configuration (an include), or was not modelled."""
    return doc.model is None or doc.model.fragment


def _legs(ctx):
    """(path, connecting hop, accepting hop) of each TLS leg, once each."""
    seen = set()
    for path in ctx.paths:
        for i, hop in enumerate(path.hops):
            if hop.kind not in ("client", "pgbouncer") or hop.doc is None:
                continue
            peer = _next_tls_end(path, i)
            if peer is None or peer.doc is None or (peer.kind == "pgbouncer" and _fragment(peer.doc)):
                continue
            if hop.kind == "pgbouncer" and _fragment(hop.doc):
                continue
            key = (id(hop.detail) if hop.kind == "client" else id(hop.doc), id(peer.doc))
            if key not in seen:
                seen.add(key)
                yield path, hop, peer


def check(ctx):
    for _path, hop, peer in _legs(ctx):
        if hop.kind == "client":
            yield from _client_leg(hop.detail, peer)
        else:
            yield from _pgbouncer_leg(hop, peer)


def _client_leg(ep, peer):
    if not is_libpq_family(ep) or unix_only(ep):
        return
    mode = ep.sslmode
    if mode is None or not mode.known or mode.value == "disable":
        return
    client = _client_end(ep)
    if client is None:
        return
    accepts_plaintext = True
    if peer.kind == "postgres":
        server = _postgres_end(peer.doc)
    else:
        model = peer.doc.model
        pgb_mode = model.value("client_tls_sslmode")
        if not is_known(pgb_mode) or str(pgb_mode).lower() == "disable":
            return  # PgBouncer answers the SSL request with N: no TLS on this leg (PATH004's concern)
        server = _pgbouncer_end(peer.doc, "client")
        accepts_plaintext = str(pgb_mode).lower() not in REQUIRES
    if server is None:
        return
    head = f"{ep.who()}: client TLS range {show(client.versions)} and " + server.text.format(
        ("range " if server.kind == "pgbouncer" else "") + show(server.versions))
    fallback = mode.value in ("prefer", "allow")
    if fallback and accepts_plaintext:
        severity = Severity.INFO  # the connection works, in plaintext: an exposure, not a failure
        effect = (f"with sslmode={mode.value} every connection falls back to plaintext: libpq silently connects "
                  "WITHOUT TLS (lab S3)")
    elif fallback:
        severity = None
        effect = (f"with sslmode={mode.value} libpq tries TLS and plaintext, and PgBouncer refuses plaintext "
                  f"(client_tls_sslmode = {peer.doc.model.value('client_tls_sslmode')}): every connection fails "
                  "(SSL error: tlsv1 alert protocol version, and FATAL: SSL required)")
    else:
        severity = None
        effect = f"with sslmode={mode.value} the connection fails: SSL error: tlsv1 alert protocol version (lab S1)"
    common = client.versions & server.versions
    if common:
        if max(common) >= ORDER["tlsv1.2"]:
            return
        yield _old_versions_only(ep, mode, client, server, common, head, fallback and accepts_plaintext)
        return
    span, fix, related = _blame(client, server, ep)
    yield RULE.finding(span, f"{head} do not overlap; {effect}", fix, related=related, severity=severity)


def _pgbouncer_leg(hop, peer):
    doc, model = hop.doc, hop.doc.model
    mode = model.value("server_tls_sslmode")
    if not is_known(mode) or str(mode).lower() == "disable" or not _tcp_entry(hop):
        return
    if peer.kind == "postgres":
        ssl, _setting = value_or_default(peer.doc, "ssl")
        if ssl is not True:
            return  # the server answers N (or is not known to answer S): no TLS on this leg
        server = _postgres_end(peer.doc)
    else:  # a second PgBouncer (two-level pooling): its client side
        peer_mode = peer.doc.model.value("client_tls_sslmode")
        if not is_known(peer_mode) or str(peer_mode).lower() == "disable":
            return
        server = _pgbouncer_end(peer.doc, "client")
    bouncer = _pgbouncer_end(doc, "server")
    if bouncer is None or server is None:
        return
    default = " (default)" if model.is_default("server_tls_sslmode") else ""
    shown = model.value("server_tls_protocols")
    head = (f"{hop.label}: server_tls_protocols = {shown}{' (default)' if bouncer.low is None else ''} "
            f"({show(bouncer.versions)}) and "
            + server.text.format(("range " if server.kind == "pgbouncer" else "") + show(server.versions)))
    common = bouncer.versions & server.versions
    no_fallback = (f" (server_tls_sslmode = {mode}{default} does not fall back to plaintext after a failed "
                   "handshake)" if str(mode).lower() in ("allow", "prefer") else "")
    wait = model.value("query_wait_timeout")
    waits = ("its clients wait for one and fail at query_wait_timeout = "
             f"{wait:g} s{' (default)' if model.is_default('query_wait_timeout') else ''} (FATAL: query_wait_timeout), "
             "unless their own connect timeout gives up first" if isinstance(wait, (int, float)) and wait > 0
             else "its clients wait for one until their own connect timeout gives up (query_wait_timeout = 0)")
    span, fix, related = _blame(bouncer, server, None, hop)
    if common:
        if max(common) >= ORDER["tlsv1.2"]:
            return
        yield RULE.finding(
            span, f"{head} meet only at {show(common)}, which OpenSSL 3.0 and later (current PgBouncer and "
                  "PostgreSQL packages) refuse at their default security level: every server login fails the TLS "
                  f"handshake{no_fallback}, unless both ends still run OpenSSL 1.1",
            fix, related=related, severity=Severity.WARNING)
        return
    yield RULE.finding(
        span, f"{head} do not overlap; every server login fails the TLS handshake{no_fallback}: PgBouncer logs "
              f"TLS handshake error: ... tlsv1 alert protocol version, never gets a server connection, and {waits}",
        fix, related=related)


def _written(end, value) -> bool:
    """Whether a bound of an end is written in its file (a client value from the URL or the
    environment; a PostgreSQL or PgBouncer setting in the file), not a default."""
    if value is None:
        return False
    if end.kind == "client":
        return value.span is not None and value.origin in ("set", "env")
    return True


def _bounds(end) -> list:
    """The settings that bound an end, once each (a PgBouncer list is both bounds)."""
    return [v for i, v in enumerate((end.low, end.high)) if v is not None and not (i == 1 and v is end.low)]


def _blame(a, b, ep=None, hop=None):
    """(primary span, fix, related spans) of a leg whose ends `a` (connecting) and `b` (accepting)
    share no version: the fix of each end whose written setting stands in the way, the
    connecting end's first."""
    too_low = max(a.versions, default=0) < min(b.versions, default=3)  # a tops out below b's minimum
    if a.kind == "client" and b.kind == "postgres":
        # the client's own setting is the odd one out: its fix alone (lab S1)
        if too_low:
            span = where(a.high, ep)
            fix = f"remove ssl_max_protocol_version from the client, or set ssl_max_protocol_version={NAMES[min(b.versions)]}"
        else:
            span = where(a.low, ep)
            fix = f"set the client's ssl_min_protocol_version={NAMES[max(b.versions)]} or lower"
        return span, fix, [s.span for s in (b.low, b.high) if s is not None] or [ep.span]
    too_high = min(a.versions, default=3) > max(b.versions, default=0)  # a starts above b's maximum
    usable_a = {r for r in a.versions if r >= ORDER["tlsv1.2"]}
    usable_b = {r for r in b.versions if r >= ORDER["tlsv1.2"]}
    fixes = []  # (span, text) of each end that can give way
    if a.kind == "client":
        if too_low and _written(a, a.high):
            fixes.append((a.high.span, "remove ssl_max_protocol_version from the client, or set "
                                       f"ssl_max_protocol_version={NAMES[min(usable_b or b.versions)]}"))
        elif too_high and _written(a, a.low) and usable_b:
            fixes.append((a.low.span, f"set the client's ssl_min_protocol_version={NAMES[max(usable_b)]} or lower"))
    elif usable_b:  # PgBouncer's server side
        fixes.append((a.low.span if a.low is not None else None,
                      assignment_in(a.doc, a.doc.model, "server_tls_protocols", "secure")))
    if b.kind == "pgbouncer":
        if usable_a:
            fixes.append((b.low.span if b.low is not None else None,
                          assignment_in(b.doc, b.doc.model, "client_tls_protocols", "secure")))
    elif too_low and b.low is not None and usable_a:
        fixes.append((b.low.span, f"ssl_min_protocol_version = '{NAMES[min(usable_a)]}' in {b.doc.path}"))
    elif too_high and b.high is not None and usable_a:
        fixes.append((b.high.span, f"remove ssl_max_protocol_version from {b.doc.path}, or set it to "
                                   f"'{NAMES[max(usable_a)]}'"))
    written = [v.span for end in (a, b) for v in _bounds(end) if _written(end, v)]
    fallback = ep.span if ep is not None else hop.span
    primary = next((s for s, _ in fixes if s is not None), written[0] if written else fallback)
    related = []
    for span in written:
        if span != primary and span not in related:
            related.append(span)
    fix = "; or ".join(text for _, text in fixes) or "let both ends allow TLSv1.2 or TLSv1.3"
    return primary, fix, related


def _old_versions_only(ep, mode, client, server, common, head, plaintext):
    """Ranges that meet only below TLS 1.2: OpenSSL 3.0 and later refuse TLS 1.0 and 1.1 at their
    default security level (connection-timeouts.md §0 item 5; lab: tlsv1 alert internal error)."""
    cmax = client.high if max(client.versions) < ORDER["tlsv1.2"] else None
    related = [s.span for s in _bounds(server)] or [ep.span]
    span = where(cmax, ep) if cmax is not None else related[-1]
    if cmax is not None:
        fix = "allow TLSv1.2: remove the client's ssl_max_protocol_version, or set it to TLSv1.2 or higher"
    elif server.kind == "pgbouncer":
        fix = assignment_in(server.doc, server.doc.model, "client_tls_protocols", "secure")
    else:
        fix = "allow TLSv1.2: remove the server's ssl_max_protocol_version, or set it to TLSv1.2 or higher"
    text = (f"{head} meet only at {show(common)}, which OpenSSL 3.0 and later (current libpq and "
            f"{'PgBouncer' if server.kind == 'pgbouncer' else 'PostgreSQL'} packages) refuse at their default "
            "security level")
    if plaintext:
        return RULE.finding(span, f"{text}: with sslmode={mode.value} every connection falls back to plaintext",
                            fix, related=related, severity=Severity.INFO)
    return RULE.finding(span, f"{text}: with sslmode={mode.value} the connection fails (SSL error: tlsv1 alert "
                              "internal error, the server logging no suitable signature algorithm; or, where the "
                              "client's OpenSSL refuses them itself, SSL error: no protocols available), unless both "
                              "ends still run OpenSSL 1.1", fix, related=related, severity=Severity.WARNING)


RULE = Rule(
    code="APP002",
    name="client-tls-range-unmet",
    severity=Severity.ERROR,
    summary="The TLS version ranges of a leg's two ends (client, PgBouncer, PostgreSQL) do not overlap",
    needs=("path",),
    check=check,
    doc=__doc__,
    security=True,
)
