"""The PostgreSQL server does not offer TLS.

## What it checks
`ssl = off` in postgresql.conf (warning), or `ssl` not set at all, which means off (info).

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


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        setting = doc.get("ssl")
        if setting is None:
            if doc.template:
                continue  # a template may get ssl from elsewhere; only an explicit off counts
            yield RULE.finding(
                where(doc, None),
                "ssl not set: the server's default is off, so connections are not encrypted",
                "ssl = on  (with ssl_cert_file and ssl_key_file)",
                severity=Severity.INFO,
            )
        elif setting.value is False:
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
