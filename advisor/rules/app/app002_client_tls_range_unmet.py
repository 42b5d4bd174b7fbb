"""A client's TLS version range that the server in the run cannot meet.

## What it checks
For libpq-family clients (libpq, psycopg, Django, SQLAlchemy with psycopg, psycopg_pool) with
`sslmode` other than `disable`: the client range `ssl_min_protocol_version` (default TLSv1.2)
to `ssl_max_protocol_version` (default: no limit) against each PostgreSQL server configuration
in the same run (`ssl_min_protocol_version`, default TLSv1.2 since PostgreSQL 13;
`ssl_max_protocol_version`, default no limit). Both ranges must overlap.

## Why it matters
With `sslmode=require` or stronger the connection fails (lab row S1: `SSL error: tlsv1 alert
protocol version`, hint "server does not support any SSL protocol version between TLSv1.2 and
TLSv1.2"): an **error**. With `sslmode=prefer` or `allow` the connection succeeds, but libpq
silently falls back to a connection **without TLS** every time (lab row S3: the server sees no
TLS): nothing fails, so it is an **info**, like every exposure (APP001), tagged security; what
the client asked for is never used.

Ranges that meet only below TLS 1.2 (a client or server capped at TLSv1.1) meet on paper only:
OpenSSL 3.0 and later, which current libpq and PostgreSQL packages use, refuse TLS 1.0 and 1.1
at their default security level (`SSL error: tlsv1 alert internal error`, the server logs `no
suitable signature algorithm`; a client whose OpenSSL refuses them itself says `SSL error: no
protocols available`): a **warning** with `require` and stronger (it still works where
both ends run OpenSSL 1.1), an **info** with `prefer`/`allow` (plaintext).

## Fix
Remove the client's `ssl_max_protocol_version` (or raise it to the server's minimum), or lower
the server's `ssl_min_protocol_version` only if every client really needs an old version.

## References
- libpq ssl_min_protocol_version / ssl_max_protocol_version: https://www.postgresql.org/docs/current/libpq-connect.html
- PostgreSQL ssl_min_protocol_version: https://www.postgresql.org/docs/current/runtime-config-connection.html
- lab-observations.md rows S1, S2, S3
"""

from advisor.findings import Severity
from advisor.rules.app.common import is_libpq_family, unix_only, where
from advisor.rules.rule import Rule

ORDER = {"tlsv1": 0, "tlsv1.1": 1, "tlsv1.2": 2, "tlsv1.3": 3}


def _rank(value) -> int | None:
    if value is None or not isinstance(value, str):
        return None
    return ORDER.get(value.strip().lower())


def _servers_of(ctx):
    """(client endpoint, the PostgreSQL it negotiates TLS with) on each path: the first PostgreSQL
    after the client with no PgBouncer between (an HAProxy in TCP mode passes TLS through)."""
    for path in ctx.paths:
        for i, hop in path.hops_of("client"):
            for later in path.hops[i + 1:]:
                if later.kind == "pgbouncer":
                    break
                if later.kind == "postgres" and later.doc is not None:
                    yield hop.detail, later.doc
                    break


def check(ctx):
    for ep, server in _servers_of(ctx):
        if not is_libpq_family(ep) or unix_only(ep):
            continue
        mode = ep.sslmode
        if mode is None or not mode.known or mode.value == "disable":
            continue
        cmin, cmax = ep.ssl_min_protocol_version, ep.ssl_max_protocol_version
        if (cmin is not None and cmin.unknown) or (cmax is not None and cmax.unknown):
            continue
        c_lo = _rank(cmin.value) if cmin is not None and cmin.known else 2
        c_hi = _rank(cmax.value) if cmax is not None and cmax.known and cmax.value else 3
        if c_lo is None or c_hi is None:
            continue
        s_min_setting = server.get("ssl_min_protocol_version")
        s_max_setting = server.get("ssl_max_protocol_version")
        s_lo = _rank(s_min_setting.value) if s_min_setting is not None else 2
        s_hi = _rank(s_max_setting.value) if s_max_setting is not None and s_max_setting.value else 3
        if s_lo is None or s_hi is None:
            continue
        names = {v: k for k, v in ORDER.items()}

        def show(rank: int) -> str:
            return {"tlsv1": "TLSv1", "tlsv1.1": "TLSv1.1", "tlsv1.2": "TLSv1.2", "tlsv1.3": "TLSv1.3"}[names[rank]]
        client_range = f"{show(c_lo)}..{show(c_hi)}"
        server_range = f"{show(s_lo)}..{show(s_hi)}"
        related = [s.span for s in (s_min_setting, s_max_setting) if s is not None] or [ep.span]
        if c_hi >= s_lo and c_lo <= s_hi:
            if min(c_hi, s_hi) < ORDER["tlsv1.2"]:
                yield _old_versions_only(ep, mode, cmax if c_hi < ORDER["tlsv1.2"] else None, server,
                                         f"{show(max(c_lo, s_lo))}..{show(min(c_hi, s_hi))}", client_range,
                                         server_range, related)
            continue
        severity = None
        if mode.value in ("prefer", "allow"):
            # the connection works, in plaintext: an exposure, not a failure (the severity contract)
            effect = (f"with sslmode={mode.value} every connection falls back to plaintext: libpq silently connects "
                      "WITHOUT TLS (lab S3)")
            severity = Severity.INFO
        else:
            effect = (f"with sslmode={mode.value} the connection fails: SSL error: tlsv1 alert protocol version "
                      f"(lab S1)")
        if c_hi < s_lo:
            span = where(cmax, ep)
            fix = f"remove ssl_max_protocol_version from the client, or set ssl_max_protocol_version={show(s_lo)}"
        else:
            span = where(cmin, ep)
            fix = f"set the client's ssl_min_protocol_version={show(s_hi)} or lower"
        yield RULE.finding(span, f"{ep.who()}: client TLS range {client_range} and server range {server_range} "
                                 f"({server.path}) do not overlap; {effect}", fix, related=related,
                           severity=severity)


def _old_versions_only(ep, mode, cmax, server, common, client_range, server_range, related):
    """Ranges that meet only below TLS 1.2: OpenSSL 3.0 and later refuse TLS 1.0 and 1.1 at their
    default security level (connection-timeouts.md §0 item 5; lab: tlsv1 alert internal error)."""
    span = where(cmax, ep) if cmax is not None else related[-1]
    capped = "the client's" if cmax is not None else "the server's"
    fix = f"allow TLSv1.2: remove {capped} ssl_max_protocol_version, or set it to TLSv1.2 or higher"
    head = (f"{ep.who()}: client TLS range {client_range} and server range {server_range} ({server.path}) meet "
            f"only at {common}, which OpenSSL 3.0 and later (current libpq and PostgreSQL packages) refuse at "
            "their default security level")
    if mode.value in ("prefer", "allow"):
        return RULE.finding(span, f"{head}: with sslmode={mode.value} every connection falls back to plaintext",
                            fix, related=related, severity=Severity.INFO)
    return RULE.finding(span, f"{head}: with sslmode={mode.value} the connection fails (SSL error: tlsv1 alert "
                              "internal error, the server logging no suitable signature algorithm; or, where the "
                              "client's OpenSSL refuses them itself, SSL error: no protocols available), unless both "
                              "ends still run OpenSSL 1.1", fix, related=related, severity=Severity.WARNING)


RULE = Rule(
    code="APP002",
    name="client-tls-range-unmet",
    severity=Severity.ERROR,
    summary="The client's TLS version range and the server's do not overlap",
    needs=("client", "postgresql"),
    check=check,
    doc=__doc__,
    security=True,
)
