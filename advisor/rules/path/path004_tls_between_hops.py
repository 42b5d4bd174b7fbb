"""TLS between two hops of a path: a side that requires it facing one that does not offer it, or
verification that ends at a pooler.

## What it checks
TLS is negotiated per leg between the hops that terminate it: the client and the first PgBouncer,
RDS Proxy or PostgreSQL after it (an HAProxy in TCP mode passes TLS through), then PgBouncer and
the server behind it. A leg through an HAProxy that ends or starts TLS itself (`ssl` on its bind or server
lines) is HAP013's: PostgreSQL's own negotiation does not reach across it. For each such pair
on an assembled path:

- the connecting side requires TLS (`sslmode` `require`, `verify-ca`, `verify-full`; PgBouncer
  `server_tls_sslmode` the same; node-postgres `ssl: true` or any `ssl` object, `{
  rejectUnauthorized: false }` included, a connection string's `sslmode` other than `disable`, or
  the `PGSSLMODE` it reads when its options have no `ssl`: every mode but `disable` and `allow`)
  and the accepting side does not offer it (PostgreSQL `ssl = off`, its default; PgBouncer
  `client_tls_sslmode = disable`, its default): every connection fails (libpq: `server does not
  support SSL, but SSL was required`; node-postgres ends the socket on the server's `N` and emits
  `The server does not support SSL connections`) — **error**;
- the connecting side never uses TLS (`sslmode=disable`; PgBouncer `server_tls_sslmode = disable`,
  its default; node-postgres without `ssl`, its default, or `ssl: false`) and the accepting side
  requires it (PgBouncer `client_tls_sslmode` `require` or
  stricter: `FATAL: SSL required`; RDS `rds.force_ssl = 1`, the default from PostgreSQL 15, and
  Azure flexible server's `require_secure_transport = on`, its default: `no pg_hba.conf entry
  for host ..., no encryption`; an RDS Proxy with `RequireTLS` true (Terraform `require_tls =
  true`; the API's default is false): `FATAL: This RDS Proxy requires TLS connections`): every
  connection fails — **error** (`prefer` and `allow` retry with TLS and connect; an RDS Proxy
  always offers TLS, so a client that requires it is served);
- the client verifies the server (`verify-ca`/`verify-full`) but talks to a PgBouncer whose own
  connection to PostgreSQL is not verified (`server_tls_sslmode` below `verify-ca`): the client
  believes it verified the database, while the leg behind the pooler can be intercepted or is
  plaintext — **info** (nothing fails: an exposure, like PGB018's, said from the client's side).

## Why it matters
The first case is a connection that certainly fails on deploy. The second is a security
expectation the path does not meet: verification ends where TLS ends.

## Fix
Use TLS where the other side requires it (`sslmode=verify-full` with the CA; PgBouncer
`server_tls_sslmode = verify-full` with `server_tls_ca_file`, e.g. RDS's global bundle). Offer TLS where it is required (`ssl = on` with `ssl_cert_file`/`ssl_key_file`; PgBouncer
`client_tls_sslmode = require` with `client_tls_key_file`/`client_tls_cert_file`), or stop
requiring it on that leg; and verify behind the pooler (`server_tls_sslmode = verify-full` with
`server_tls_ca_file`).

## References
- libpq SSL modes: https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION
- Amazon RDS API, CreateDBProxy `RequireTLS` ("whether Transport Layer Security (TLS) encryption is
  required for connections to the proxy"): https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBProxy.html;
  the refusal a client without TLS gets, as users report it:
  https://github.com/aws-samples/aws-secrets-manager-rotation-lambdas/issues/103,
  https://github.com/oban-bg/oban/issues/869
- PgBouncer TLS settings: https://www.pgbouncer.org/config.html#tls-settings
- node-postgres `Connection.connect` (the server's `N` to the SSLRequest) and
  `readSSLConfigFromEnvironment`: https://github.com/brianc/node-postgres/blob/master/packages/pg/lib/connection.js,
  https://github.com/brianc/node-postgres/blob/master/packages/pg/lib/connection-parameters.js
"""

import os

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.model import Span, is_known
from advisor.rules.path import hop_span, related
from advisor.rules.pgb import CLIENT_TLS, assignments as pgbouncer_assignments
from advisor.rules.rule import Rule

REQUIRES = ("require", "verify-ca", "verify-full")
VERIFIES = ("verify-ca", "verify-full")


def _next_tls_end(path, start: int):
    """(index, hop) of the next hop that terminates TLS: PgBouncer, PostgreSQL, or an RDS Proxy
    (which negotiates TLS with the client itself, and always offers it: only its `RequireTLS` is
    judged here; its own connection to the database is not modelled)."""
    from advisor.path.tls import haproxy_tls_binds

    for j in range(start + 1, len(path.hops)):
        hop = path.hops[j]
        if hop.kind in ("pgbouncer", "postgres", "aws-rds-proxy"):
            return j, hop
        if hop.kind == "haproxy" and hop.detail is not None and (
                haproxy_tls_binds(path, j) or any(s.ssl for s in hop.detail.back.servers)):
            return None, None  # HAProxy ends or starts TLS itself: HAP013 judges that leg
    return None, None


# what a managed server that requires TLS answers a connection without it (its pg_hba.conf has
# only hostssl lines)
NO_ENCRYPTION = 'FATAL: no pg_hba.conf entry for host "...", user "...", database "...", no encryption'
# and what an RDS Proxy with RequireTLS answers one (SQLSTATE 28000), as users report it:
# aws-samples/aws-secrets-manager-rotation-lambdas#103, oban-bg/oban#869 (Postgrex: FATAL 28000
# (invalid_authorization_specification)), cweijan/vscode-database-client#808
PROXY_REFUSES = "FATAL: This RDS Proxy requires TLS connections"


def _requires(hop) -> tuple[str, str, Span] | None:
    """(how it says so, what it answers, where) when the accepting side of a leg refuses a
    connection without TLS: an RDS Proxy's RequireTLS (Terraform require_tls), PgBouncer's
    client_tls_sslmode require or stricter, RDS's rds.force_ssl, Azure flexible server's
    require_secure_transport."""
    if hop.kind == "aws-rds-proxy":
        box = hop.detail
        tls = box.facts.get("require_tls") if box is not None else None
        if tls is None or not tls.known or tls.value is not True or hop.doc is None:
            return None
        from advisor.rules.cld.common import fact_span, field_name

        name = field_name(hop.doc, tls, "RequireTLS", "require_tls")  # as the file writes it
        return f"{name} = {tls.display}", PROXY_REFUSES, fact_span(box, "require_tls")
    if hop.kind == "pgbouncer":
        model = hop.doc.model
        mode = model.value("client_tls_sslmode")
        if is_known(mode) and str(mode).lower() in REQUIRES:
            return f"client_tls_sslmode = {mode}", "FATAL: SSL required", \
                model.span_of("client_tls_sslmode") or hop_span(hop)
        return None
    if hop.doc is None:
        return None
    managed = hop.doc.meta.get("managed")
    if managed in ("aws-rds", "aws-aurora"):
        setting = hop.doc.get("rds.force_ssl")
        if setting is None or str(setting.raw).strip("'").lower() not in ("1", "on", "true"):
            return None
        default = " (default)" if "rds.force_ssl" in hop.doc.meta.get("platform_defaults", ()) else ""
        return f"rds.force_ssl = {setting.raw}{default}", NO_ENCRYPTION, setting.value_span or setting.span
    if managed == "azure-flexible":
        entry = (hop.doc.meta.get("platform") or {}).get("require_secure_transport")
        if entry is None or str(entry.get("value")).lower() not in ("on", "1", "true"):
            return None
        span = Span(**entry["span"]) if entry.get("span") else hop_span(hop)
        default = " (default)" if "require_secure_transport" in hop.doc.meta.get("platform_defaults", ()) else ""
        return f"require_secure_transport = {entry['value']}{default}", NO_ENCRYPTION, span
    return None


def _offers(hop) -> tuple[bool | None, str, Span]:
    """(offers TLS, how it says so, where) of the accepting side of a leg."""
    if hop.kind == "postgres":
        if hop.doc is None:
            return None, "", hop_span(hop)
        value, setting = value_or_default(hop.doc, "ssl")
        if value is None:
            return None, "", hop_span(hop)
        text = f"ssl = {setting.raw}" if setting is not None else "ssl not set (default off)"
        return bool(value), text, (setting.value_span or setting.span) if setting is not None else hop_span(hop)
    model = hop.doc.model
    mode = model.value("client_tls_sslmode")
    if not is_known(mode):
        return None, "", hop_span(hop)
    text = (f"client_tls_sslmode = {mode}" + (" (default)" if model.is_default("client_tls_sslmode") else ""))
    return str(mode).lower() != "disable", text, model.span_of("client_tls_sslmode") or hop_span(hop)


def _offer_fix(peer) -> str:
    """TLS turned on where the accepting side is configured: postgresql.conf, a container's command
    line, an operator's parameters; PgBouncer's ini or its image's variables."""
    if peer.kind == "postgres":
        from advisor.model.pg_parameters import assignment

        text = assignment(peer.doc, "ssl", "on")
        if " in " not in text:  # a configuration file's own line
            text += f" in {os.path.basename(peer.doc.path)}"
        return f"{text}, with ssl_cert_file and ssl_key_file"
    from advisor.rules.rule import listed

    return pgbouncer_assignments(peer.doc, peer.doc.model, CLIENT_TLS, listed)


NODE_TLS_FIX = "ssl: { ca: <CA certificate> } in the options (ssl: { rejectUnauthorized: false } at least)"


def _node_ssl(mode) -> str:
    """node-postgres' `ssl` as written: `ssl: { rejectUnauthorized: false }`, `ssl: true`, or the
    PGSSLMODE it was read from (pg's readSSLConfigFromEnvironment)."""
    if mode.origin == "default":
        return "without ssl (pg's default, with no PGSSLMODE: no TLS)"
    raw = mode.raw or str(mode.value)
    if mode.key == "sslmode":  # in its connection string (pg-connection-string)
        return f"sslmode={raw} in its connection string (read by pg as an ssl object)"
    if raw.startswith("PGSSLMODE="):
        return f"{raw} (read by pg as ssl: {'true' if mode.value in VERIFIES else '{ rejectUnauthorized: false }'})"
    return f"ssl: {raw}"


def check(ctx):
    for path in ctx.paths:
        for i, hop in enumerate(path.hops):
            if hop.kind == "client":
                ep = hop.detail
                mode = ep.sslmode
                if mode is None or not mode.known:
                    continue
                wants = str(mode.value).lower()
                want_text = f"{ep.who()} {mode.key if mode.key == 'ssl' else 'sslmode'}={mode.value}" + (" (default)" if mode.origin == "default" else "")
                if getattr(ep, "driver", "") == "node-postgres":
                    want_text = f"{ep.who()} (node-postgres) {_node_ssl(mode)}"
                want_span = mode.span if mode.span is not None else hop_span(hop)
            elif hop.kind == "pgbouncer":
                model = hop.doc.model
                mode = model.value("server_tls_sslmode")
                if not is_known(mode):
                    continue
                wants = str(mode).lower()
                want_text = f"PgBouncer server_tls_sslmode = {mode}" + (
                    " (default)" if model.is_default("server_tls_sslmode") else "")
                want_span = model.span_of("server_tls_sslmode") or hop_span(hop)
            else:
                continue
            j, peer = _next_tls_end(path, i)
            if peer is None:
                continue
            required = _requires(peer) if wants == "disable" else None
            if required is not None:
                req_text, answer, req_span = required
                yield RULE.finding(
                    want_span,
                    f"{want_text} never uses TLS, but {peer.label} requires it ({req_text}): every connection on "
                    f"this path is refused ({answer})",
                    NODE_TLS_FIX if getattr(hop.detail, "driver", "") == "node-postgres" else
                    "sslmode=verify-full and sslrootcert=<CA file> (sslmode=require at least)" if hop.kind == "client"
                    else pgbouncer_assignments(hop.doc, hop.doc.model, (("server_tls_sslmode", "verify-full"),
                                                                        ("server_tls_ca_file", "<CA file>"))),
                    related=[req_span] + related(path, want_span, req_span),
                    severity=Severity.ERROR,
                )
                continue
            if peer.kind == "aws-rds-proxy":
                continue  # it offers TLS to every client: one that requires TLS is served
            offers, offer_text, offer_span = _offers(peer)
            if wants in REQUIRES and offers is False:
                said = ("The server does not support SSL connections" if getattr(hop.detail, "driver", "") ==
                        "node-postgres" else "server does not support SSL, but SSL was required")
                yield RULE.finding(
                    want_span,
                    f"{want_text} requires TLS, but {peer.label} does not offer it ({offer_text}): every "
                    f"connection on this path fails ({said})",
                    _offer_fix(peer),
                    related=[offer_span] + related(path, want_span, offer_span),
                    severity=Severity.ERROR,
                )
            if hop.kind == "client" and wants in VERIFIES and peer.kind == "pgbouncer":
                model = peer.doc.model
                behind = model.value("server_tls_sslmode")
                if is_known(behind) and str(behind).lower() not in VERIFIES:
                    default = " (default)" if model.is_default("server_tls_sslmode") else ""
                    span = model.span_of("server_tls_sslmode") or hop_span(peer)
                    yield RULE.finding(
                        span,
                        f"{want_text} verifies the server it talks to, but that is {peer.label}; its own connection "
                        f"to PostgreSQL uses server_tls_sslmode = {behind}{default}, which does not verify the "
                        "server: the client's verification ends at the pooler",
                        pgbouncer_assignments(peer.doc, model, (("server_tls_sslmode", "verify-full"),
                                                                ("server_tls_ca_file", "<CA file>"))),
                        related=[want_span] + related(path, span, want_span),
                        severity=Severity.INFO,
                    )


RULE = Rule(
    code="PATH004",
    name="tls-between-hops",
    severity=Severity.ERROR,
    summary="TLS required on a leg whose other side does not offer it, or verification ending at a pooler",
    needs=("path",),
    check=check,
    doc=__doc__,
)
