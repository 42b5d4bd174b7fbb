"""A managed PostgreSQL server that accepts connections without TLS.

## What it checks
The parameter that makes a managed server refuse plaintext connections: `rds.force_ssl` on
Amazon RDS for PostgreSQL (parameter groups, `describe-db-parameters`, Terraform
`aws_db_parameter_group`) and in an Aurora PostgreSQL DB cluster parameter group
(`aws_rds_cluster_parameter_group`, or the default one of an `aws_rds_cluster` that names none),
and `require_secure_transport` on Azure Database for PostgreSQL flexible server
(`az postgres flexible-server parameter list`, Terraform
`azurerm_postgresql_flexible_server_configuration`). Set to off, or not set at all where the
platform's default is 0: RDS before PostgreSQL 15 (from 15 on the default is 1), and Aurora
PostgreSQL (0 in its default DB cluster parameter group). An Aurora instance's DB parameter group
cannot hold `rds.force_ssl` (a cluster-level parameter) and is not checked for it.

## Why it matters
The server still offers TLS, but accepts clients that do not ask for it: a client with
libpq's default `sslmode=prefer` (or pgjdbc's) connects in plaintext whenever the TLS
handshake fails, and nothing tells anyone.

## Fix
`rds.force_ssl = 1` in a custom DB parameter group attached to the instance (a default group
cannot be changed), or on Aurora in a custom DB cluster parameter group attached to the cluster;
`require_secure_transport = on` on Azure.

## References
- Amazon RDS: Using SSL with a PostgreSQL DB instance (rds.force_ssl; default 1 from PostgreSQL 15) — https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html
- Aurora PostgreSQL parameters (default DB cluster parameter group: rds.force_ssl 0) — https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Reference.ParameterGroups.html
- Azure Database for PostgreSQL flexible server: secure connectivity with TLS — https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-ssl-tls
"""

from advisor.findings import Severity
from advisor.rules.pg.common import where
from advisor.rules.rule import Rule

_OFF = ("0", "off", "false", "no")
_PARAM = {"aws-rds": "rds.force_ssl", "aws-aurora": "rds.force_ssl", "azure-flexible": "require_secure_transport"}


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        platform = doc.meta.get("managed")
        name = _PARAM.get(platform)
        if name is None:
            continue
        setting = doc.get(name)
        if setting is not None:
            if not isinstance(setting.value, str) or setting.value.strip().lower() not in _OFF:
                continue
            span = where(doc, setting)
            shown = f"{name} = {setting.raw}"
            if setting.span.line is None and setting.span.key and setting.span.key.startswith("(default"):
                shown = (f"{name} not set (default {setting.raw} on Aurora PostgreSQL)" if platform == "aws-aurora"
                         else f"{name} not set (default {setting.raw} before PostgreSQL 15)")
                span = where(doc, None)
        else:
            found = doc.meta.get("platform", {}).get(name)
            if found is None or str(found["value"]).strip().lower() not in _OFF:
                continue
            from advisor.model import Span

            span = Span(**found["span"])
            shown = f"{name} = {found['value']}"
            if span.line is None and (span.key or "").startswith("(default"):
                continue
        fix = f"{name} = on"
        if platform == "aws-aurora":
            fix = f"{name} = 1 in a custom DB cluster parameter group attached to the cluster"
        elif name == "rds.force_ssl":
            fix = f"{name} = 1 in a custom parameter group attached to the instance"
        yield RULE.finding(
            span,
            f"{shown}: the server accepts connections without TLS; clients with sslmode=prefer (libpq's and pgjdbc's "
            "default) or disable connect in plaintext",
            fix,
        )


RULE = Rule(
    code="CLD003",
    name="managed-ssl-not-forced",
    severity=Severity.INFO,
    summary="A managed PostgreSQL server that does not require TLS (rds.force_ssl / require_secure_transport off)",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
    security=True,
)
