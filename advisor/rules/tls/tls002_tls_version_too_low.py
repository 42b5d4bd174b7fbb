"""The server accepts TLS versions older than 1.2.

## What it checks
`ssl_min_protocol_version` set to `TLSv1` or `TLSv1.1`.

Not reported when an include that PostgreSQL reads after that line was not read (made at deploy
time, or in a template): a later line wins, and that file may set it again.

## Why it matters
TLS 1.0 and 1.1 are deprecated (RFC 8996). With OpenSSL 3 they do not even work at the default
security level: the handshake fails with `tlsv1 alert internal error` on the client and `no
suitable signature algorithm` on the server, so the setting only adds confusion. Since
PostgreSQL 13 the default floor is TLSv1.2.

## Fix
`ssl_min_protocol_version = 'TLSv1.2'` (the default), or `'TLSv1.3'` when every client supports it.

## References
- PostgreSQL: ssl_min_protocol_version — https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-MIN-PROTOCOL-VERSION
- OpenSSL 3.0 migration guide (security levels) — https://docs.openssl.org/3.0/man7/migration_guide/
"""

from advisor.findings import Severity
from advisor.model.pg_parameters import assignment
from advisor.rules.pg.common import read_later_unread
from advisor.rules.rule import Rule


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        setting = doc.get("ssl_min_protocol_version")
        if setting is None or setting.value not in ("TLSv1", "TLSv1.1"):
            continue
        if read_later_unread(doc, setting) is not None:
            continue  # an include read after it, not read here, may set it again
        yield RULE.finding(
            setting.value_span or setting.span,
            f"ssl_min_protocol_version = {setting.raw} allows {setting.value}, below TLSv1.2 "
            "(deprecated by RFC 8996; refused by OpenSSL 3 at its default security level)",
            assignment(doc, "ssl_min_protocol_version", "'TLSv1.2'"),
        )


RULE = Rule(
    code="TLS002",
    name="tls-version-too-low",
    severity=Severity.INFO,
    summary="Server TLS floor below TLSv1.2",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
    security=True,
)
