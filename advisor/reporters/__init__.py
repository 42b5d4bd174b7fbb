"""Reporters: pure functions `Report -> str`, one module per output format.

Each module is imported only when its format is chosen (`pgpath check` stays fast). Reporters
read the Report only (findings, documents, input errors, settings, rules' metadata), never
`advisor.rules`, and print nothing a finding does not already carry (secrets are redacted there).
"""

from __future__ import annotations

import os

import importlib

FORMATS = {
    "text": "advisor.reporters.text",
    "json": "advisor.reporters.json_report",
    "sarif": "advisor.reporters.sarif",
    "github": "advisor.reporters.github",
    "junit": "advisor.reporters.junit",
    "gitlab": "advisor.reporters.gitlab",
    "markdown": "advisor.reporters.markdown",
    "html": "advisor.reporters.html",
}

# the formats that print documents' settings (JSON lists them; the review sections of Markdown and
# HTML name unknown values); the others get documents without settings from the redaction layer
PRINT_SETTINGS = ("json", "markdown", "html")


def render(report, fmt: str, **kwargs) -> str:
    """The report in a format, after the one redaction layer (advisor.redact): every format
    prints only cleaned strings, and no absolute path of the machine for what was named on the
    command line outside the working directory (shown relative to what was checked)."""
    redactor = _redactor(report)
    clean = redactor.report(report, with_settings=fmt in PRINT_SETTINGS)
    return redactor.relative(importlib.import_module(FORMATS[fmt]).render(clean, **kwargs))


def render_chunks(report, fmt: str, **kwargs):
    """The same text as `render`, in pieces to write one after the other: a format whose module
    has `render_chunks` (JSON) hands out a large report piece by piece instead of one string.
    The report goes through the same redaction layer."""
    module = importlib.import_module(FORMATS[fmt])
    redactor = _redactor(report)
    clean = redactor.report(report, with_settings=fmt in PRINT_SETTINGS)
    if hasattr(module, "render_chunks"):
        return (redactor.relative(chunk) for chunk in module.render_chunks(clean, **kwargs))
    return (redactor.relative(module.render(clean, **kwargs)),)


def _redactor(report):
    from advisor.redact import Redactor

    settings = getattr(report, "settings", None)
    return Redactor(report.docs, roots=getattr(settings, "paths", None) or (),
                    plain=getattr(settings, "topology", None))


def files_read(report) -> list[str]:
    """Every file the documents were read from (includes too), in read order, once each: a file
    that holds several configurations (a compose file's PgBouncer and PostgreSQL) counts once."""
    seen: dict[str, None] = {}
    for d in report.docs:
        for name in d.files or [d.path]:
            seen.setdefault(name, None)
    return list(seen)


def summary_line(report) -> str:
    """`N findings (e error, w warning, i info) in F files`, with the files skipped and unreadable."""
    c = report.counts()
    n = len(report.findings)
    files = len(files_read(report))
    text = (f"{n} finding{'s' if n != 1 else ''} ({c['error']} error, {c['warning']} warning, {c['info']} info) "
            f"in {files} file{'s' if files != 1 else ''}")
    skipped = len(getattr(report, "skipped", None) or ())
    if skipped:
        text += f" ({skipped} other file{'s' if skipped != 1 else ''} skipped, not configuration pgpath reads)"
    if report.input_errors:
        text += f"; {len(report.input_errors)} unreadable"
    return text


def notices(report) -> list[tuple]:
    """What pgpath could not see, as (Span, message), in file order: includes whose targets are
    made where the file is deployed (a template's, or one outside the checked tree), and private
    keys named beside a certificate in the checked files but absent from them. Warnings about the
    run, not findings about the configuration: they do not change the exit code."""
    return [(span, message) for span, message, _kind in _notices(report)]


def unread_counts(report) -> tuple[int, int]:
    """(files not read: includes and mounted configuration, private keys not in the checked files)."""
    kinds = [kind for _span, _message, kind in _notices(report)]
    return kinds.count("unresolved_includes"), kinds.count("unread_keys")


def _notices(report) -> list[tuple]:
    from advisor.model import Span

    out = []
    scope = getattr(report, "scope", None)
    for d in report.docs:
        if scope is not None and not scope.intersection(os.path.realpath(f) for f in (d.files or [d.path])):
            continue  # read only to assemble a path (--hook's neighbours, a topology's other files)
        for kind, default in (("unresolved_includes", "include not read"), ("unread_keys", "key not read")):
            for n in d.meta.get(kind, ()):
                span = Span(n["file"], n.get("line"), n.get("col"), n.get("end_line"), n.get("end_col"))
                out.append((span, n.get("message") or default, kind))
    out.sort(key=lambda item: (item[0].file, item[0].line or 0, item[0].col or 0))
    return out
