"""PgBouncer accepts clients without TLS on a network-facing listener.

## What it checks
`client_tls_sslmode` weaker than `require` (`disable`, the default, `allow` or `prefer`)
while `listen_addr` is not loopback-only (`*`, `0.0.0.0`, `::` or any non-loopback address).
With `listen_addr` empty PgBouncer listens on its Unix socket only and nothing is reported.

## Why it matters
Clients then send passwords (or md5/SCRAM exchanges) and all query traffic in clear text across
the network; with `allow`/`prefer` a client that asks for TLS gets it, but nothing forces clients
(or an attacker in the middle) to ask.

## Fix
`client_tls_sslmode = require` (or `verify-ca`/`verify-full` to demand client certificates),
with `client_tls_key_file` and `client_tls_cert_file`; or listen on loopback only.

## References
- PgBouncer: client_tls_sslmode — https://www.pgbouncer.org/config.html#client_tls_sslmode
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import bouncers, is_loopback, source, where
from advisor.rules.rule import Rule

WEAK = ("disable", "allow", "prefer")


def check(ctx):
    for doc, model in bouncers(ctx):
        mode, addr = model.value("client_tls_sslmode"), model.value("listen_addr")
        if not is_known(mode) or not is_known(addr) or mode not in WEAK:
            continue
        addrs = [a.strip() for a in addr.split(",") if a.strip()]
        public = [a for a in addrs if not is_loopback(a)]
        if not public:
            continue
        yield RULE.finding(
            where(doc, model, "client_tls_sslmode"),
            f"{source(model, 'client_tls_sslmode')} while listen_addr = {addr} accepts network clients: "
            "passwords and queries can cross the network unencrypted",
            "client_tls_sslmode = require (with client_tls_key_file and client_tls_cert_file)",
            [where(doc, model, "listen_addr")],
        )


RULE = Rule(
    code="PGB017",
    name="pgbouncer-client-tls-not-required",
    severity=Severity.WARNING,
    summary="client_tls_sslmode weaker than require on a non-loopback listen_addr",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
