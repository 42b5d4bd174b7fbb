"""The report as JSON (schema: schemas/report.schema.json)."""

from __future__ import annotations

import json

from advisor import __version__


def render(report, **_: object) -> str:
    data = {
        "tool": "pgpath",
        "version": __version__,
        "pg_version": report.settings.pg_version,
        "pg_version_source": getattr(report.settings, "pg_version_source", None),
        "exit_code": report.exit_code,
        "summary": {"findings": len(report.findings), **report.counts(),
                    "files": sum(len(d.files) for d in report.docs),
                    "skipped": len(getattr(report, "skipped", None) or ())},
        "findings": [f.to_dict() for f in report.findings],
        "paths": [
            {"name": p.name, "source": p.source, "evidence": list(p.evidence),
             "hops": [{"kind": h.kind, "label": h.label, "file": h.file} for h in p.hops]}
            for p in getattr(report, "paths", ()) if len(p.hops) > 1
        ],
        "documents": [
            {
                "path": d.path,
                "kind": d.kind,
                "template": d.template,
                "files": d.files,
                "settings": [
                    {k: v for k, v in s.to_dict().items() if k in ("name", "raw", "value", "unit", "applies", "section", "span")}
                    for s in d.settings if s.effective
                ],
            }
            for d in report.docs
        ],
        "input_errors": [
            {"path": e.path, **({"line": e.line} if e.line else {}), "message": e.message} for e in report.input_errors
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
