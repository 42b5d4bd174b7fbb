"""An RDS parameter group that applies a static parameter immediately: AWS refuses it.

## What it checks
Each `parameter` block of a Terraform `aws_db_parameter_group` or
`aws_rds_cluster_parameter_group` (a `.tf` file or a `terraform show -json` plan) whose parameter
PostgreSQL takes only at a restart (context `postmaster` in the catalog of the group's family:
`shared_buffers`, `max_connections`, `shared_preload_libraries`, `wal_level`...; and RDS's
`rds.logical_replication`) while its `apply_method` is `immediate`, written or left to the
provider's default (`immediate`).

## Why it matters
RDS applies a static parameter only at a reboot; asked to apply one immediately, the API answers
`InvalidParameterCombination: cannot use immediate apply method for static parameter` and
`terraform apply` fails on the parameter group, so nothing of the change reaches the database.
The default `apply_method` is `immediate`, so a static parameter written without one fails.

## Example
```hcl
resource "aws_db_parameter_group" "orders" {
  family = "postgres16"
  parameter {
    name  = "shared_preload_libraries"
    value = "pg_stat_statements"
  }
}
```

## Fix
`apply_method = "pending-reboot"` in that parameter block; the instance takes the value at its
next reboot (`aws rds reboot-db-instance`, or the maintenance window).

## References
- Terraform AWS provider, aws_db_parameter_group, `apply_method`: "immediate" (default) or "pending-reboot" — https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/db_parameter_group
- Amazon RDS, Working with parameter groups (static parameters need a reboot) — https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html
- The API's refusal, as Terraform users met it: https://github.com/hashicorp/terraform/issues/8018
"""

from advisor.findings import Severity
from advisor.model import Span
from advisor.rules.rule import Rule

# static parameters of RDS that are not PostgreSQL's own (so not in the catalog)
RDS_STATIC = ("rds.logical_replication",)


def check(ctx):
    for tf in ctx.of_kind("terraform"):
        groups = tf.meta.get("rds_apply_methods")
        if not groups:
            continue
        for doc in ctx.of_kind("postgresql"):  # the parameter groups of that file, typed
            if doc.path != tf.path or doc.meta.get("managed") not in ("aws-rds", "aws-aurora"):
                continue
            for address in doc.meta.get("parameter_group") or ():
                if address in groups:
                    yield from _static_immediate(doc, groups[address])


def _static_immediate(doc, methods: dict):
    for setting in doc.settings:
        method = methods.get(setting.name.lower()) or methods.get((setting.spelling or "").lower())
        if method is None or method["value"] != "immediate":
            continue
        if setting.applies != "restart" and setting.name.lower() not in RDS_STATIC:
            continue
        written = "apply_method not set (the provider's default: immediate)" if method["default"] \
            else "apply_method = \"immediate\""
        yield RULE.finding(
            Span(**method["span"]),
            f"{setting.name} is static (RDS applies it only at a reboot), but its parameter block has {written}: "
            "AWS refuses the parameter group (InvalidParameterCombination: cannot use immediate apply method for "
            "static parameter) and terraform apply fails",
            f'apply_method = "pending-reboot" in the parameter block of {setting.name} '
            "(the instance takes it at its next reboot)",
            related=[setting.span],
        )


RULE = Rule(
    code="CLD006",
    name="static-parameter-applied-immediately",
    severity=Severity.ERROR,
    summary="An RDS parameter group applies a static parameter immediately: the API refuses it",
    needs=("postgresql", "terraform"),
    check=check,
    doc=__doc__,
)
