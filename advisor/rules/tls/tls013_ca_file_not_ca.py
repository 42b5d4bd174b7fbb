"""A file used as a CA holds no CA certificate.

## What it checks
Files named as trust anchors or client CAs (`sslrootcert`, `ssl_ca_file`, PgBouncer's
`client_tls_ca_file` and `server_tls_ca_file`) that are in the tree: at least one certificate in
them must be a CA (basicConstraints `CA:TRUE`, or a self-signed certificate without the
extension, which OpenSSL accepts as a root).

Severity: an **error** when a verifying client uses the file as its root (the handshake fails for
certain), a **warning** otherwise (the first certificate check that uses it fails).

## Why it matters
A leaf certificate with `CA:FALSE` cannot anchor a chain: OpenSSL reports `invalid CA
certificate` or `unable to get local issuer certificate`, and the connection fails.

## Fix
Put the issuing CA's certificate in the file (not the server's own certificate).

## References
- libpq: SSL Support (root.crt) — https://www.postgresql.org/docs/current/libpq-ssl.html
- PostgreSQL: ssl_ca_file — https://www.postgresql.org/docs/current/ssl-tcp.html
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule
from advisor.rules.tls.certs import VERIFYING, references


def check(ctx):
    seen = set()
    for ref in references(ctx):
        if ref.role not in ("root", "ca") or ref.cert_doc is None or not ref.cert_doc.model.certs:
            continue
        certs = ref.cert_doc.model.certs
        if any(c.is_ca or (c.is_ca is None and c.self_signed) for c in certs):
            continue
        key = (ref.doc.path, ref.name, ref.target)
        if key in seen:
            continue
        seen.add(key)
        verifying = ref.role == "root" and ref.sslmode in VERIFYING
        yield RULE.finding(
            ref.span,
            f"{ref.name} names a file with no CA certificate ({', '.join(c.subject for c in certs[:3])}: "
            f"{'CA:FALSE' if certs[0].is_ca is False else 'not self-signed, no basicConstraints'}): "
            + ("every verifying connection fails" if verifying else "certificate checks that use it fail"),
            "put the certificate of the CA that issues the peer's certificates in this file",
            [certs[0].span], severity=Severity.ERROR if verifying else Severity.WARNING)


RULE = Rule(
    code="TLS013",
    name="ca-file-not-ca",
    severity=Severity.WARNING,
    summary="A CA or root file that holds no CA certificate",
    needs=("certificate",),
    check=check,
    doc=__doc__,
)
