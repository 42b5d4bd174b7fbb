"""The private key does not belong to the certificate it is configured with.

## What it checks
`ssl_cert_file` and `ssl_key_file` of a postgresql.conf, PgBouncer's `client_tls_cert_file` /
`client_tls_key_file` and `server_tls_cert_file` / `server_tls_key_file`, and a PEM file holding
both a certificate and a key (an HAProxy `crt` bundle): the public key of the key file must be
the public key of the (first) certificate. Only files present in the tree are compared, by the
SHA-256 of their public keys; private keys are never printed.

## Why it matters
PostgreSQL refuses to start (or to reload its SSL configuration): `private key file does not
match certificate`. PgBouncer fails its TLS setup the same way, and HAProxy rejects the bundle.

## Fix
Point the key setting at the key the certificate was issued for, or reissue the certificate for
the key in use.

## References
- PostgreSQL: ssl_cert_file, ssl_key_file — https://www.postgresql.org/docs/current/runtime-config-connection.html#RUNTIME-CONFIG-CONNECTION-SSL
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule
from advisor.rules.tls.certs import references

PAIRS = {"server-key": "server-cert", "client-key": "client-cert"}


def check(ctx):
    refs = references(ctx)
    for key_ref in refs:
        cert_role = PAIRS.get(key_ref.role)
        if cert_role is None or key_ref.cert_doc is None:
            continue
        cert_ref = next((r for r in refs if r.doc is key_ref.doc and r.role == cert_role), None)
        if cert_ref is None or cert_ref.cert_doc is None or not cert_ref.cert_doc.model.certs:
            continue
        keys = [k for k in key_ref.cert_doc.model.keys if k.key_id]
        if not keys:
            continue
        cert = cert_ref.cert_doc.model.certs[0]
        if all(k.key_id != cert.key_id for k in keys):
            yield RULE.finding(
                key_ref.span,
                f"{key_ref.name} is not the key of {cert_ref.name} ({cert.subject}): their public keys differ, so "
                f"{'PostgreSQL' if key_ref.doc.kind == 'postgresql' else 'PgBouncer'} refuses to start TLS "
                "(private key does not match certificate)",
                f"set {key_ref.name} to the key the certificate was issued for, or reissue the certificate",
                [cert_ref.span, cert.span])
    seen = set()
    for doc in ctx.of_kind("certificate"):
        model = doc.model
        if not model.certs or not [k for k in model.keys if k.key_id] or doc.path in seen:
            continue
        seen.add(doc.path)
        if all(k.key_id != model.certs[0].key_id for k in model.keys if k.key_id):
            yield RULE.finding(
                model.keys[0].span,
                f"the private key in this bundle does not belong to its certificate {model.certs[0].subject}: "
                "HAProxy (crt) and other software that load the bundle refuse it",
                "put the certificate's own key in the bundle", [model.certs[0].span])


RULE = Rule(
    code="TLS011",
    name="key-certificate-mismatch",
    severity=Severity.ERROR,
    summary="A private key that does not belong to its certificate",
    needs=("certificate",),
    check=check,
    doc=__doc__,
)
