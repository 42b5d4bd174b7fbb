"""The report as JSON (schema: schemas/report.schema.json)."""

from __future__ import annotations

from advisor import __version__
from advisor.reporters import jsontext
from advisor.reporters import notices

# the keys of Setting.to_dict a document's settings show in the report
_SETTING_KEYS = ("name", "raw", "value", "unit", "applies", "section", "span")


def render_chunks(report, **_: object):
    """The report's text in pieces (one per finding, path and document), so the command line can
    write a large report without holding it all: the dicts of the findings, paths and documents
    are made as their turn comes. `render` joins the same pieces."""
    data = {
        "tool": "pgpath",
        "version": __version__,
        "pg_version": report.settings.pg_version,
        "pg_version_source": getattr(report.settings, "pg_version_source", None),
        "exit_code": report.exit_code,
        "summary": {"findings": len(report.findings), **report.counts(),
                    "files": sum(len(d.files) for d in report.docs),
                    "skipped": len(getattr(report, "skipped", None) or ())},
        "findings": jsontext.Items(f.to_dict() for f in report.findings),
        "paths": jsontext.Items(
            {"name": p.name, "source": p.source, "evidence": list(p.evidence),
             "hops": [{"kind": h.kind, "label": h.label, "file": h.file} for h in p.hops]}
            for p in getattr(report, "paths", ()) if len(p.hops) > 1
        ),
        "documents": jsontext.Items(
            {
                "path": d.path,
                "kind": d.kind,
                "template": d.template,
                "files": d.files,
                "settings": [
                    {k: v for k, v in s.to_dict().items() if k in _SETTING_KEYS}
                    for s in d.settings if s.effective
                ],
            }
            for d in report.docs
        ),
        "notices": [{"span": span.to_dict(), "message": message} for span, message in notices(report)],
        "input_errors": [
            {"path": e.path, **({"line": e.line} if e.line else {}), "message": e.message} for e in report.input_errors
        ],
    }
    yield from jsontext.chunks(data, default=str)
    yield "\n"


def render(report, **kwargs: object) -> str:
    return "".join(render_chunks(report, **kwargs))
