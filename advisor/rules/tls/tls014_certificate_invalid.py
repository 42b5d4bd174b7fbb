"""A certificate or private key file in the tree that cannot be read.

## What it checks
Every PEM block (`-----BEGIN CERTIFICATE-----`, `-----BEGIN ... PRIVATE KEY-----`) of a file read
as a certificate must parse as X.509 or as a private key (cryptography, the same OpenSSL
formats). The message never quotes key material.

## Why it matters
The software that loads it fails: PostgreSQL does not start with `ssl = on`, PgBouncer cannot
set up TLS, a client with that root cannot verify anything.

## Fix
Replace the file with a valid PEM certificate or key (a truncated copy or a Windows line-ending
conversion of the base64 body are the usual causes).

## References
- RFC 7468: Textual Encodings of PKIX structures — https://www.rfc-editor.org/rfc/rfc7468
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "certificate-invalid", ("certificate",))


RULE = Rule(
    code="TLS014",
    name="certificate-invalid",
    severity=Severity.ERROR,
    summary="A PEM certificate or key that cannot be read",
    needs=("certificate",),
    check=check,
    doc=__doc__,
)
