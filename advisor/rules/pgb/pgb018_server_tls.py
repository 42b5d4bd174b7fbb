"""PgBouncer connects to PostgreSQL without requiring TLS.

## What it checks
`server_tls_sslmode` set to `disable`, `allow` or `prefer` (the default is `prefer` since
1.20, `disable` before), unless every database in `[databases]` points at a loopback address
or a Unix socket directory (and there is no `*` fallback).

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
        if not is_known(mode) or mode not in WEAK:
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


RULE = Rule(
    code="PGB018",
    name="pgbouncer-server-tls-not-required",
    severity=Severity.INFO,
    summary="server_tls_sslmode disable/allow/prefer: PgBouncer to PostgreSQL may be unencrypted",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
    security=True,
)
