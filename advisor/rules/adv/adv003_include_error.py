"""An include that cannot be followed: missing file, loop, or nesting too deep.

## What it checks
`include` of a file that does not exist, `include_dir` of a missing directory, a chain of
includes that leads back to a file already being read, nesting deeper than the software allows
(PostgreSQL: 10 levels), and included files that cannot be read (binary, too large, no
permission). `include_if_exists` of a missing file is not a problem. A `terraform.tfvars` or
`*.auto.tfvars` beside checked Terraform files that cannot be read (not HCL, binary, UTF-16, too
large, a folder) is one too: Terraform loads it for every plan, which fails, and it may set any
variable, so no `var.x` of the folder is known (a variable's default is not taken for it). So is
an Ansible variable file every host of a role template's project loads (a role's
`defaults/main.yml` or `vars/main.yml`, `group_vars/all.yml`) that cannot be read: the play fails
on it, and the template is not rendered with the values it may override.

An include whose target is made where the file is deployed — in a template, or a path outside
the files given to check (`/etc/pgbouncer-custom/overrides.ini`) — is not a finding: pgpath
cannot know whether the deploy creates it. Every report lists it as a warning of what was not
read (text: `note, not read:`; SARIF: a tool execution notification; JSON: `notices`), and
such warnings do not change the exit code.

## Why it matters
PostgreSQL refuses to start when an `include` target is missing; an include loop is reported by
PostgreSQL as "maximum nesting depth exceeded". Either way the server does not come up after the
next restart.

## Fix
Create the file or correct the path; use `include_if_exists` for optional files; break the loop.

## References
- PostgreSQL: Managing Configuration File Contents — https://www.postgresql.org/docs/current/config-setting.html#CONFIG-INCLUDES
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "include-error")


RULE = Rule(
    code="ADV003",
    name="include-error",
    severity=Severity.ERROR,
    summary="An include that is missing, loops, or nests too deep",
    needs=(),
    check=check,
    doc=__doc__,
)
