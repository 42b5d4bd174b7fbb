"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding,
which the runner turns into annotations on the pull request's changed lines.

`::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE name::message`. The message
is escaped as the runner expects (`%` `\\r` `\\n` as %25 %0D %0A, so the fix and related places
stay in one annotation on separate lines); property values additionally escape `:` and `,`.
Chosen by default when GITHUB_ACTIONS=true and no --format is given.
"""

from __future__ import annotations

from advisor.reporters import notices, summary_line

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _properties(span, title: str) -> str:
    props = [("file", span.file)]
    if span.line:
        props.append(("line", str(span.line)))
        if span.col:
            props.append(("col", str(span.col)))
        if span.end_line:
            props.append(("endLine", str(max(span.end_line, span.line))))
            if span.end_col and span.end_line == span.line and span.col and span.end_col > span.col:
                props.append(("endColumn", str(span.end_col)))
    props.append(("title", title))
    return ",".join(f"{k}={escape_property(v)}" for k, v in props)


def render(report, **_: object) -> str:
    lines = []
    for f in report.findings:
        body = f.message
        if f.span.key:
            body = f"{f.span.key}: {body}"
        if f.fix:
            body += f"\nfix: {f.fix}"
        for r in f.related:
            body += f"\nsee: {r}"
        lines.append(f"::{COMMANDS[str(f.severity)]} {_properties(f.span, f'{f.code} {f.name}')}::{escape_data(body)}")
    for e in report.input_errors:
        props = f"file={escape_property(e.path)}" + (f",line={e.line}" if e.line else "")
        lines.append(f"::error {props},title=pgpath::{escape_data('cannot read: ' + e.message)}")
    for span, message in notices(report):
        lines.append(f"::warning {_properties(span, 'pgpath: not read')}::{escape_data(message)}")
    if report.settings.baseline_stale:
        for entry in getattr(report, "stale", None) or []:
            lines.append(f"::error file={escape_property(entry.file)},title=pgpath baseline::"
                         f"{escape_data(str(entry) + ' (remove it: pgpath check --write-baseline)')}")
    lines.append(f"pgpath: {summary_line(report)}")
    return "\n".join(lines) + "\n"
