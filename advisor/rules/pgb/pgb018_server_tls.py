"""PgBouncer connects to PostgreSQL without requiring TLS.

## What it checks
`server_tls_sslmode` set to `disable`, `allow` or `prefer` (the default is `prefer` since
1.20, `disable` before), unless every database in `[databases]` points at a loopback address
or a Unix socket directory (and there is no `*` fallback).

`server_tls_sslmode = require` with a `server_tls_ca_file` set is reported too: the file names a
CA to check the server with, but PgBouncer checks the server's certificate only from `verify-ca`
(src/sbuf.c `tls_setup`: below it, `tls_config_insecure_noverifycert`), so the CA file is read
and never used — the intent to verify is written, and nothing verifies.

## Why it matters
With `disable` the server connection is plain text. `allow` and `prefer` encrypt only when the
server offers TLS and never check its certificate, so an attacker on the path can downgrade the
connection or impersonate the server and read the passwords and data PgBouncer sends.

## Fix
`server_tls_sslmode = verify-full` with `server_tls_ca_file` naming the CA of the server
certificate (or at least `require`).

## References
- PgBouncer: server_tls_sslmode — https://www.pgbouncer.org/config.html#server_tls_sslmode
- PgBouncer NEWS 1.20.0: the default changed from disable to prefer
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import assignment, assignments, bouncers, server_over_network, source, where
from advisor.rules.rule import Rule

WEAK = ("disable", "allow", "prefer")


def check(ctx):
    for doc, model in bouncers(ctx):
        mode = model.value("server_tls_sslmode")
        if not is_known(mode) or mode not in WEAK + ("require",):
            continue
        if mode == "require":
            # the CA file says the server is to be verified: reported wherever a server may be remote
            # (a placeholder host too), not only where a [databases] host shows a network
            ca = model.value("server_tls_ca_file")
            if is_known(ca) and ca and not model.is_default("server_tls_ca_file") and not _all_local(model):
                own = model.value("client_tls_cert_file") == ca
                yield RULE.finding(
                    where(doc, model, "server_tls_sslmode"),
                    f"{source(model, 'server_tls_sslmode')} with server_tls_ca_file = {ca}: PgBouncer checks the "
                    "server's certificate only from verify-ca, so the CA file is never used and the certificate "
                    "is not checked (anyone on the path can pose as the server and read the passwords and data "
                    "PgBouncer sends)"
                    + ("; and that file is PgBouncer's own client_tls_cert_file, the certificate it shows its "
                       "clients, likely not the CA that signed the server's" if own else ""),
                    assignment(doc, model, "server_tls_sslmode", "verify-full")
                    + (", once server_tls_ca_file names the CA that signed the server's certificate" if own else
                       " (with the CA file it names, if that CA signed the server's certificate)")
                    + "; verify-ca when the certificate does not name the host PgBouncer connects to",
                    related=[where(doc, model, "server_tls_ca_file")]
                    + ([where(doc, model, "client_tls_cert_file")] if own else []),
                )
            continue
        # only a server reached over a network makes the mode matter
        if not server_over_network(model):
            continue
        what = {"disable": "server connections are never encrypted",
                "allow": "server connections are encrypted only if the server insists, and the certificate is not checked",
                "prefer": "TLS is used only if the server offers it (a downgrade is silent) and the certificate is not checked"}
        yield RULE.finding(
            where(doc, model, "server_tls_sslmode"),
            f"{source(model, 'server_tls_sslmode')}: {what[mode]}",
            assignments(doc, model, (("server_tls_sslmode", "verify-full"), ("server_tls_ca_file", "<CA file>")))
            + f"; or at least {assignment(doc, model, 'server_tls_sslmode', 'require')}",
        )


def _all_local(model) -> bool:
    """Every [databases] entry connects on this machine (a Unix socket or loopback), none unknown."""
    from advisor.model.host import loopback

    entries = model.effective_databases()
    for db in entries:
        host = db.value("host")
        if db.unknown or not is_known(host):
            return False
        if host is not None and not all(h.strip().startswith("/") or loopback(h.strip())
                                        for h in str(host).split(",")):
            return False
    return bool(entries)


RULE = Rule(
    code="PGB018",
    name="pgbouncer-server-tls-not-required",
    severity=Severity.INFO,
    summary="server_tls_sslmode disable/allow/prefer (or require beside a CA file it never uses): PgBouncer to PostgreSQL may be unencrypted or unverified",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
    security=True,
)
