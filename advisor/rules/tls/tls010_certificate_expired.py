"""A certificate in the tree has expired, or expires within `--cert-warn-days` (default 30).

## What it checks
Every certificate in a PEM file read in the run (server certificates named by `ssl_cert_file`
or PgBouncer's `client_tls_cert_file`, CA files, `sslrootcert` roots, HAProxy `crt` bundles):
its `notAfter` against the current time (injectable: `now` option) and the warning window
(`--cert-warn-days N`, `cert-warn-days:` in the configuration).

Severity: an **error** when it has expired and a client that verifies certificates (libpq
`sslmode=verify-ca`/`verify-full`, PgBouncer `server_tls_sslmode = verify-*`) meets it on its
connection path — as the certificate of the PgBouncer or PostgreSQL it connects to, or as its own
root: those connections certainly fail. A **warning** when it has expired but no verifying client
on a path meets it (clients with `sslmode=require` still connect: the failure comes with the first
client that verifies), or when it expires within the window.

## Why it matters
An expired server certificate makes every verifying client fail the handshake (`certificate
verify failed: certificate has expired`); an expired root does the same to every certificate it
signed.

## Fix
Renew the certificate (and reload the server: `pg_reload_conf()`, `RELOAD` on PgBouncer).

## References
- PostgreSQL: Secure TCP/IP Connections with SSL — https://www.postgresql.org/docs/current/ssl-tcp.html
- libpq: SSL Support, certificate verification — https://www.postgresql.org/docs/current/libpq-ssl.html
"""

from datetime import timedelta

from advisor.findings import Severity
from advisor.rules.rule import Rule
from advisor.rules.tls.certs import days_text, now, utc, verified_on_a_path, warn_days


def check(ctx):
    moment = now(ctx)
    window = timedelta(days=warn_days(ctx))
    for doc in ctx.of_kind("certificate"):
        verifying = None
        for cert in doc.model.certs:
            left = utc(cert.not_after) - moment
            if left <= timedelta(0):
                if verifying is None:
                    verifying = verified_on_a_path(ctx, doc)
                severity = Severity.ERROR if verifying else Severity.WARNING
                who = ("clients that verify certificates (sslmode=verify-ca/verify-full) fail the handshake"
                       if verifying else "a client that verifies certificates will fail the handshake")
                yield RULE.finding(
                    cert.span,
                    f"certificate {cert.subject} expired {days_text(-left)} ago (notAfter "
                    f"{utc(cert.not_after):%Y-%m-%d %H:%M} UTC): {who}",
                    "issue a new certificate for the same names and reload the server", severity=severity)
            elif left <= window:
                yield RULE.finding(
                    cert.span,
                    f"certificate {cert.subject} expires in {days_text(left)} (notAfter "
                    f"{utc(cert.not_after):%Y-%m-%d %H:%M} UTC), within the {window.days}-day warning window",
                    "renew it before then (and reload the server)", severity=Severity.WARNING)


RULE = Rule(
    code="TLS010",
    name="certificate-expired",
    severity=Severity.ERROR,
    summary="A certificate has expired (error when a client verifies) or expires soon (warning)",
    needs=("certificate",),
    check=check,
    doc=__doc__,
)
