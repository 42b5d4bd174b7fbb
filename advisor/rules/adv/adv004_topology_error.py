"""A deployment in pgpath.yaml that names something the files do not have.

## What it checks
Each hop of a `deployments:` entry in pgpath.yaml must match what pgpath read: the named file
must exist and be of the hop's kind, a client `variable:` must be one of the file's connection
settings, an HAProxy `proxy:` a frontend or listen that routes to a backend, a PgBouncer
`database:` one of its `[databases]` entries, a `host:` one of the `hosts:` entries, and a
middlebox declared by kind without a file needs an `idle_timeout:` when its kind has no
documented default (a `firewall`); a middlebox hop whose file describes several of its kind (two
NLB listeners) must say which with `name:`, since taking the first by position would judge the
path against a timer it may not cross. That `name:` is the middlebox's name in its file, in
either form: a Terraform resource's address (`azurerm_lb_rule.pg`) or its own `name` attribute
(`name = "postgres"`); a name that fits none, or several (two load balancers each with a rule
named `postgres`), is reported with the names the file has. A name that does not resolve is
given with the one it most likely meant, when one is close (difflib's ratio 0.75 or more, as
`advisor.suggest.closest` does for parameters): a missing `postgresql.con` beside
`postgresql.conf`, a host `db-01` when `hosts:` has `db01`, a variable, proxy, database or
middlebox name; a missing file is said to be missing, a file read as another kind says which.
The finding points at the hop's line in pgpath.yaml.

## Why it matters
A hop that cannot be resolved leaves its deployment without a path, so none of the path rules
(keepalives against middleboxes, pools against idle timeouts, statement timeouts against proxies,
TLS between hops) can check it: the deployment would silently go unchecked.

## Fix
Correct the file name (relative to pgpath.yaml), the variable, proxy or database name; `pgpath
path` lists what pgpath found, and `pgpath init` writes a topology from it to start from.

## References
- docs/path.md (topology format)
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule


def check(ctx):
    for d in ctx.topology_problems:
        if d.kind == "topology-error":
            yield RULE.from_diagnostic(d)


RULE = Rule(
    code="ADV004",
    name="topology-error",
    severity=Severity.ERROR,
    summary="A pgpath.yaml deployment hop that matches no file, setting or section read",
    needs=(),
    check=check,
    doc=__doc__,
)
