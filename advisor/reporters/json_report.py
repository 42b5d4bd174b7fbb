"""The report as JSON (schema: schemas/report.schema.json)."""

from __future__ import annotations

from advisor import __version__
from advisor.reporters import jsontext
from advisor.reporters import files_read, notices


def render_chunks(report, **_: object):
    """The report's text in pieces (one per finding, path and document), so the command line can
    write a large report without holding it all: the dicts of the findings, paths and documents
    are made as their turn comes. `render` joins the same pieces."""
    from advisor.path import connection_paths
    from advisor.model import pg_version_of
    from advisor.pgbversion import by_version, version_of
    from advisor.pgversion import by_major

    majors = by_major(report.docs)
    bouncers = by_version(report.docs)
    data = {
        "tool": "pgpath",
        "version": __version__,
        # the major of every PostgreSQL document when they share one (else null: see pg_versions)
        "pg_version": majors[0]["major"] if len(majors) == 1 else None,
        "pg_version_source": majors[0]["reasons"][0][0] if len(majors) == 1 and len(majors[0]["reasons"]) == 1
        else None,
        "pg_versions": [{"major": m["major"], "files": m["files"], "sources": m["sources"],
                         "reasons": [{"source": s, "reason": r} for r, s in m["reasons"]]} for m in majors],
        # the version each PgBouncer file was checked as, and why (given, its container's image, the
        # compose file that mounts it, the files beside it, or the newest assumed)
        "pgbouncer_versions": [{"version": b["version"], "files": b["files"], "sources": b["sources"],
                                "reasons": [{"source": s, "reason": r} for r, s in b["reasons"]]} for b in bouncers],
        "exit_code": report.exit_code,
        "summary": {"findings": len(report.findings), **report.counts(),
                    "files": len(files_read(report)),
                    "skipped": len(getattr(report, "skipped", None) or ()),
                    "held_back": sum(h.count for h in getattr(report, "held_back", None) or ()),
                    **_unpaired(report)},
        "findings": jsontext.Items(f.to_dict() for f in report.findings),
        # info findings not reported because their file is for development or tests (advisor.development)
        "held_back": [h.to_dict() for h in getattr(report, "held_back", None) or ()],
        "paths": jsontext.Items(
            {"name": p.name, "source": p.source, "evidence": list(p.evidence),
             "hops": [{"kind": h.kind, "label": h.label, "file": h.file,
                       **({"pg_version": version} if (version := h.pg_version()) else {})}
                      for h in p.hops]}
            for p in connection_paths(list(getattr(report, "paths", ())))
        ),
        "documents": jsontext.Items(
            {
                "path": d.path,
                "kind": d.kind,
                "template": d.template,
                "files": d.files,
                **({"pg_version": version} if (version := pg_version_of(d)) is not None else {}),
                **({"pgbouncer_version": bv} if (bv := version_of(d)) is not None else {}),
                "settings": [s.summary_dict() for s in d.settings if s.effective],
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


def _unpaired(report) -> dict:
    """The clients and servers read that are on no path (advisor.path.unpaired), when any is."""
    from advisor.path import unpaired

    clients, servers = unpaired(list(getattr(report, "paths", ())))
    return {"unpaired_clients": len(clients), "unpaired_servers": len(servers)} if clients or servers else {}


def render(report, **kwargs: object) -> str:
    return "".join(render_chunks(report, **kwargs))
