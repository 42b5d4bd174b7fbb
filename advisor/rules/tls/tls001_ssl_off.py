"""The PostgreSQL server does not offer TLS.

## What it checks
`ssl = off` written in postgresql.conf, unless `listen_addresses` is set to loopback addresses
only. A file that leaves `ssl` unset (off by default) is not reported on its own: most published
configurations leave TLS to the image or the platform. Where a client on the same path requires
TLS from this server, the connection certainly fails, and PATH004 reports that as an error.

## Why it matters
Without TLS, passwords hashed with md5, queries and results cross the network in clear text, and
clients asking for `sslmode=require` or stricter cannot connect at all. Clients left at libpq's
default `sslmode=prefer` silently fall back to plain text.

## Fix
`ssl = on` with `ssl_cert_file` and `ssl_key_file` pointing at a certificate and a key readable
only by the server (mode 0600), and `ssl_min_protocol_version = 'TLSv1.2'`.

## References
- PostgreSQL: Secure TCP/IP Connections with SSL — https://www.postgresql.org/docs/current/ssl-tcp.html
"""

from advisor.findings import Severity
from advisor.rules.pg.common import where
from advisor.rules.rule import Rule


LOOPBACK = ("localhost", "127.0.0.1", "::1", "")


def _listens(doc) -> bool | None:
    """True when listen_addresses names a network address (or '*'), False when only loopback,
    None when the file does not say (or a template placeholder)."""
    listen = doc.get("listen_addresses")
    if listen is None or not isinstance(listen.value, str):
        return None
    return any(a.strip() not in LOOPBACK for a in listen.value.split(","))


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        network = _listens(doc)
        if network is False:
            continue  # local connections only
        setting = doc.get("ssl")
        if setting is not None and setting.value is False:
            yield RULE.finding(
                where(doc, setting),
                f"ssl = {setting.raw}: connections are not encrypted, and clients with sslmode=require cannot connect",
                "ssl = on  (with ssl_cert_file and ssl_key_file)",
            )


RULE = Rule(
    code="TLS001",
    name="ssl-off",
    severity=Severity.WARNING,
    summary="The server does not offer TLS",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
