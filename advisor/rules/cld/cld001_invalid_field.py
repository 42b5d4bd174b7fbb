"""A cloud CLI/API output, ARM template or Terraform value the cloud would not accept or pgpath cannot read.

## What it checks
Each cloud JSON file is checked against the JSON Schema of its shape (`schemas/cloud/`, one per
command: `elbv2 describe-listener-attributes`, `rds describe-db-proxies`, `az network lb show`,
...): a field of the wrong type (`"IdleClientTimeout": "1800"` where the API returns an integer,
an object where it returns a list), an idle timeout outside the range the API accepts (NLB
listener `tcp.idle_timeout.seconds` 60-6000 s, ALB `idle_timeout.timeout_seconds` 1-4000 s,
Classic ELB 1-3600 s, RDS Proxy `IdleClientTimeout` 1-28800 s, Azure LB
`idleTimeoutInMinutes` 4-100, Azure NAT gateway 4-120), and an ELB attribute whose string
value is not the integer or boolean the attribute holds. Terraform values are checked against
the same ranges. The finding names the JSON path and the line.

## Why it matters
The API refuses such a value (the change is not applied, or `terraform apply` fails), or the
file is not what the command prints and the timer pgpath would compare with is unknown: every
path check then runs on the documented default instead of the real value.

## Fix
Write the field as the cloud prints it (integers unquoted in RDS and GCP output, ELB attribute
values as strings) and within the documented range.

## References
- AWS ELB API: ListenerAttribute, LoadBalancerAttribute — https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ListenerAttribute.html
- AWS RDS API: DBProxy — https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBProxy.html
- Azure: Load Balancer TCP idle timeout — https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout
- pgpath: docs/cloud.md (every shape and its schema)
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "cloud-invalid-field")


RULE = Rule(
    code="CLD001",
    name="cloud-invalid-field",
    severity=Severity.ERROR,
    summary="A cloud CLI/API or Terraform field of the wrong type or out of the accepted range",
    needs=(),
    check=check,
    doc=__doc__,
)
