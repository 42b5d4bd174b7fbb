"""TLS between two hops of a path: a side that requires it facing one that does not offer it, or
verification that ends at a pooler.

## What it checks
TLS is negotiated per leg between the hops that terminate it: the client and the first PgBouncer
or PostgreSQL after it (an HAProxy in TCP mode passes TLS through), then PgBouncer and the server
behind it. For each such pair on an assembled path:

- the connecting side requires TLS (`sslmode` `require`, `verify-ca`, `verify-full`; PgBouncer
  `server_tls_sslmode` the same) and the accepting side does not offer it (PostgreSQL `ssl = off`,
  its default; PgBouncer `client_tls_sslmode = disable`, its default): every connection fails
  (`server does not support SSL, but SSL was required`) — **error**;
- the client verifies the server (`verify-ca`/`verify-full`) but talks to a PgBouncer whose own
  connection to PostgreSQL is not verified (`server_tls_sslmode` below `verify-ca`): the client
  believes it verified the database, while the leg behind the pooler can be intercepted or is
  plaintext — **info** (nothing fails: an exposure, like PGB018's, said from the client's side).

## Why it matters
The first case is a connection that certainly fails on deploy. The second is a security
expectation the path does not meet: verification ends where TLS ends.

## Fix
Offer TLS where it is required (`ssl = on` with `ssl_cert_file`/`ssl_key_file`; PgBouncer
`client_tls_sslmode = require` with `client_tls_key_file`/`client_tls_cert_file`), or stop
requiring it on that leg; and verify behind the pooler (`server_tls_sslmode = verify-full` with
`server_tls_ca_file`).

## References
- libpq SSL modes: https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION
- PgBouncer TLS settings: https://www.pgbouncer.org/config.html#tls-settings
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
    for j in range(start + 1, len(path.hops)):
        hop = path.hops[j]
        if hop.kind in ("pgbouncer", "postgres"):
            return j, hop
    return None, None


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


def check(ctx):
    for path in ctx.paths:
        for i, hop in enumerate(path.hops):
            if hop.kind == "client":
                ep = hop.detail
                mode = ep.sslmode
                if mode is None or not mode.known or getattr(ep, "driver", "") == "node-postgres":
                    continue
                wants = str(mode.value).lower()
                want_text = f"{ep.who()} sslmode={mode.value}" + (" (default)" if mode.origin == "default" else "")
                want_span = mode.span if mode.span is not None else hop_span(hop)
            elif hop.kind == "pgbouncer":
                model = hop.doc.model
                mode = model.value("server_tls_sslmode")
                if not is_known(mode):
                    continue
                wants = str(mode).lower()
                want_text = f"PgBouncer server_tls_sslmode = {mode}"
                want_span = model.span_of("server_tls_sslmode") or hop_span(hop)
            else:
                continue
            j, peer = _next_tls_end(path, i)
            if peer is None:
                continue
            offers, offer_text, offer_span = _offers(peer)
            if wants in REQUIRES and offers is False:
                yield RULE.finding(
                    want_span,
                    f"{want_text} requires TLS, but {peer.label} does not offer it ({offer_text}): every "
                    "connection on this path fails (server does not support SSL, but SSL was required)",
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
