"""PgBouncer TLS protocols that allow TLS 1.0 or 1.1.

## What it checks
`client_tls_protocols` and `server_tls_protocols` (for each side whose sslmode is not
`disable`) that allow TLS 1.0 or 1.1: `tlsv1.0`, `tlsv1.1`, `all`, `tlsv1` (every TLS 1.x in
PgBouncer's list), `legacy` (up to 1.20), or a removal such as `!tlsv1.3` (which starts from
all). The default `secure` (TLS 1.2 and 1.3) is the default since 1.13; before it was `all`.

## Why it matters
TLS 1.0 and 1.1 are deprecated (RFC 8996) and weak. With OpenSSL 3 they do not even work at the
default security level (`no suitable signature algorithm`), so allowing them buys no
compatibility, only an older protocol for a downgrade to aim at.

## Fix
`client_tls_protocols = secure` and `server_tls_protocols = secure` (or `tlsv1.2,tlsv1.3`).

## References
- PgBouncer: client_tls_protocols — https://www.pgbouncer.org/config.html#client_tls_protocols
- RFC 8996: Deprecating TLS 1.0 and TLS 1.1
- OpenSSL 3.0 migration guide (security level 1 disables TLS 1.0/1.1 signatures)
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import assignment, bouncers, source, where
from advisor.rules.rule import Rule

OLD = {0: "1.0", 1: "1.1"}


def check(ctx):
    from advisor.model.pgbouncer import tls_protocol_versions

    for doc, model in bouncers(ctx):
        for side in ("client", "server"):
            name = f"{side}_tls_protocols"
            value, mode = model.value(name), model.value(f"{side}_tls_sslmode")
            if not is_known(value) or not is_known(mode) or mode == "disable":
                continue
            versions = tls_protocol_versions(value, model.version)  # None: refused (PGB002)
            old = [OLD[r] for r in sorted(versions or ()) if r in OLD]
            if old:
                yield RULE.finding(
                    where(doc, model, name),
                    f"{source(model, name)} allows TLS {' and '.join(old)} on the {side} side "
                    f"({side}_tls_sslmode = {mode}): deprecated protocols (RFC 8996), refused by OpenSSL 3 at its "
                    "default security level anyway",
                    assignment(doc, model, name, "secure"),
                )


RULE = Rule(
    code="PGB019",
    name="pgbouncer-tls-legacy-protocols",
    severity=Severity.INFO,
    summary="client/server_tls_protocols allowing TLS 1.0 or 1.1",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
    security=True,
)
