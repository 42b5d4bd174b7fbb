"""A client that verifies the server would reject the server's certificate.

## What it checks
A client with `sslmode=verify-ca` or `verify-full` and an `sslrootcert` file in the tree (or a
PgBouncer with `server_tls_sslmode = verify-*` and `server_tls_ca_file`), and the server
certificate it meets on a connection path (`ssl_cert_file` of a postgresql.conf,
`client_tls_cert_file` of a PgBouncer): the next PgBouncer or PostgreSQL on that path, per URL
(a `.env` with one URL to PgBouncer and one to PostgreSQL has each checked against its own):

- the root file must sign the server certificate (directly or through the intermediates that
  follow it in the server's file), as libpq's OpenSSL check does;
- with `verify-full`, the certificate's names (SAN DNS or IP entries; the CN only when there are
  none) must cover the host the client connects to; for a PgBouncer, the `host=` of each
  `[databases]` entry on a path to that server (PgBouncer passes it to the handshake only with
  `verify-full`).

`advisor.model.certs.verify_server` does the check; the path calls it for the hops it assembles.

## Why it matters
The handshake fails on every connection: `certificate verify failed` or `server certificate for
"db.internal" does not match host name "10.0.1.15"`. Behind a PgBouncer, every server login fails
(PgBouncer logs `TLS handshake error`) and its clients wait until `query_wait_timeout`.

## Fix
Give the client the CA that issued the server certificate, issue the server certificate with the
name the clients use (SAN), or connect by a name the certificate has.

## References
- libpq: SSL Support, certificate verification — https://www.postgresql.org/docs/current/libpq-ssl.html
"""

from advisor.findings import Severity
from advisor.model.certs import verify_server
from advisor.rules.rule import Rule
from advisor.rules.tls.certs import VERIFYING, pgbouncer_server_hosts, references, tls_legs


def check(ctx):
    refs = references(ctx)
    legs = tls_legs(ctx)  # a client's root is checked against the server its own URL meets on a path only
    bouncer_hosts = pgbouncer_server_hosts(ctx)
    servers = [r for r in refs if r.role == "server-cert" and r.cert_doc is not None and r.cert_doc.model.certs]
    for client in refs:
        if client.role != "root" or client.sslmode not in VERIFYING or client.cert_doc is None:
            continue
        for server in servers:
            if (client.connector, id(server.doc)) not in legs:
                continue
            if client.doc.kind == "client":
                hosts = [client.host]
            else:  # a PgBouncer: the host of each [databases] entry that reaches this server
                hosts = bouncer_hosts.get((client.connector, id(server.doc))) or [None]
            for host in hosts:
                problems = verify_server(server.cert_doc.model, client.cert_doc.model, host, client.sslmode)
                if not problems:
                    continue
                pooler = client.doc.kind == "pgbouncer"
                yield RULE.finding(
                    client.span,
                    f"{client.name} with {'server_tls_sslmode = ' if pooler else 'sslmode='}{client.sslmode}"
                    + (f" (to host={host})" if pooler and host else "") + ": " + "; ".join(problems)
                    + f" ({server.name} of {server.doc.path}): every "
                    + ("server login of PgBouncer" if pooler else "connection") + " fails the handshake",
                    "use the CA that issued the server certificate as root, or reissue the server certificate "
                    "(signed by this root" + (f", with {host} in its subjectAltName" if host else "") + ")"
                    + (", or connect by a name the certificate has (host= of the [databases] entry)"
                       if pooler and host else ""),
                    [server.span, server.cert_doc.model.certs[0].span])
                if not (pooler and host and all("not signed" not in p for p in problems)):
                    break  # an untrusted root fails whatever the host: said once


RULE = Rule(
    code="TLS012",
    name="server-certificate-untrusted",
    severity=Severity.ERROR,
    summary="The client's root does not sign the server certificate, or its names miss the host",
    needs=("certificate",),
    check=check,
    doc=__doc__,
)
