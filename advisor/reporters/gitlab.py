"""GitLab Code Quality report (a JSON array, the `codequality` artifact of a job).

Each issue: `description` (code, message, fix), `check_name` (the rule code), `fingerprint`
(from the finding's content, stable when lines move), `severity` (info -> info,
warning -> major, error -> critical), `location.path` (relative to the working directory, as
GitLab expects paths relative to the repository root) and `location.lines.begin`.
"""

from __future__ import annotations

import json

from advisor.findings import fingerprints
from advisor.reporters._common import relative

SEVERITIES = {"info": "info", "warning": "major", "error": "critical"}


def render(report, **_: object) -> str:
    issues = []
    for f, fp in zip(report.findings, fingerprints(report.findings)):
        text = f"{f.code} {f.message}" + (f" (fix: {f.fix})" if f.fix else "")
        if f.span.key:
            text = f"{f.span.key}: {text}"
        issue = {
            "type": "issue",
            "check_name": f.code,
            "description": text,
            "categories": ["Bug Risk" if f.severity >= 2 else "Style"],
            "fingerprint": fp,
            "severity": SEVERITIES[str(f.severity)],
            "location": {
                "path": relative(f.span.file) or f.span.file,
                "lines": {"begin": f.span.line or 1, "end": max(f.span.end_line or 0, f.span.line or 1)},
            },
        }
        if f.fix:
            issue["content"] = {"body": f"fix: {f.fix}"}
        issues.append(issue)
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
