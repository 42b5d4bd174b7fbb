"""A `.if` block whose condition pgpath cannot decide without the running HAProxy.

## What it checks
`.if`/`.elif` conditions are evaluated when they do not depend on the process: integers,
`streq`/`strneq` of literal strings, `version_atleast`/`version_before` of versions up to 2.4
(the first with conditional blocks). `defined(VAR)`, `feature(X)`, later versions and values
from environment variables depend on the environment, the build and the version HAProxy runs
with; pgpath says so instead of guessing — in configurations that carry PostgreSQL connections
(a file whose proxies are all HTTP or other services is not pgpath's to judge). Give `haproxy_version`, `haproxy_env` (a mapping) or
`haproxy_features` (a list) under `extra` in pgpath.yaml to decide them.

## Why it matters
Settings inside such a block may or may not apply: pgpath reads them as unknown, and the
timeout and keepalive rules skip what depends on them. This finding tells you which parts of
the file were not fully checked.

## Fix
Nothing is wrong. Declare the target in pgpath.yaml to have the block decided, or suppress
the finding with `# pgpath: ignore[HAP009] reason` on the `.if` line.

## References
- HAProxy configuration manual: 2.4 Conditional blocks — https://docs.haproxy.org/2.6/configuration.html#2.4
"""

from advisor.findings import Severity
from advisor.rules.hap._common import is_postgres
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    for finding in report_diagnostics(RULE, ctx, "haproxy-undecided-condition"):
        doc = next((d for d in ctx.docs if finding.span.file in (d.files or [d.path])), None)
        model = getattr(doc, "model", None)
        if model is not None and hasattr(model, "proxies") and not any(
                is_postgres(p, model) for p in model.proxies if p.kind != "defaults"):
            continue  # no proxy here carries PostgreSQL connections
        yield finding


RULE = Rule(
    code="HAP009",
    name="haproxy-undecided-condition",
    severity=Severity.INFO,
    summary="A .if condition that cannot be decided statically",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
