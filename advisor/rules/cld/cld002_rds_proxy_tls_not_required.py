"""An RDS Proxy that accepts clients without TLS.

## What it checks
RDS Proxy `RequireTLS` (`aws rds describe-db-proxies`, Terraform `aws_db_proxy.require_tls`)
false or not set: the API's default is false.

## Why it matters
With `RequireTLS` false the proxy accepts plaintext connections from clients: passwords (the
proxy authenticates clients itself, often with a password sent in clear text to it) and query
results cross the VPC unencrypted, and a client left at libpq's default `sslmode=prefer` falls
back to plaintext silently. The proxy's own connections to the database are a separate setting.

## Fix
`require_tls = true` on the `aws_db_proxy` (or `aws rds modify-db-proxy --require-tls`), and
`sslmode=verify-full` with the Amazon root CA in the clients.

## References
- Amazon RDS API: DBProxy.RequireTLS — https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBProxy.html
- Amazon RDS User Guide: Using TLS/SSL with RDS Proxy — https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls
"""

from advisor.findings import Severity
from advisor.rules.cld.common import fact_span, field_name, middleboxes
from advisor.rules.rule import Rule


def check(ctx):
    for doc, box in middleboxes(ctx, "aws-rds-proxy"):
        tls = box.facts.get("require_tls")
        if tls is None or not tls.known or tls.value is not False:
            continue
        name = field_name(doc, tls, "RequireTLS", "require_tls")  # as the file writes it
        how = f"{name} = {tls.display}" if tls.origin == "set" else f"{name} not set (default false)"
        yield RULE.finding(
            fact_span(box, "require_tls"),
            f"{box.label}: {how}: the proxy accepts clients without TLS, so passwords and queries can cross the "
            f"network in clear text and sslmode=prefer clients fall back to plaintext",
            "require_tls = true on the aws_db_proxy (aws rds modify-db-proxy --require-tls), and sslmode=verify-full "
            "in the clients",
        )


RULE = Rule(
    code="CLD002",
    name="rds-proxy-tls-not-required",
    severity=Severity.INFO,
    summary="An RDS Proxy that accepts clients without TLS (RequireTLS false)",
    needs=("cloud|terraform",),
    check=check,
    doc=__doc__,
    security=True,
)
