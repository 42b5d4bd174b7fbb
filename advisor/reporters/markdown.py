"""GitHub-flavoured Markdown, for a pull-request comment (or a job summary).

A heading with the verdict, a summary table (one row per rule with findings: severity, count,
what it finds), then the findings grouped by file: location, severity, rule (linked to its
documentation), the message with its arithmetic, the fix and the related places. Text from the
files is escaped so that it renders literally. With `review=True` (`pgpath report -o x.md`) the
inputs read and skipped and the assumptions of the run follow.
"""

from __future__ import annotations

from advisor.reporters import notices, summary_line
from advisor.findings import EXPLAIN_HINT
from advisor.reporters._common import by_file, rules_by_code

_SPECIAL = set("\\`*_[]<>|~$")
ICONS = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def md(text: str) -> str:
    """Text rendered literally by GFM (backslash before punctuation Markdown uses; & as entity)."""
    out = []
    for c in str(text):
        if c == "&":
            out.append("&amp;")
        elif c in _SPECIAL:
            out.append("\\" + c)
        elif c in "\r\n":
            out.append(" ")
        else:
            out.append(c)
    return "".join(out)


def code(text: str) -> str:
    """An inline code span that holds any text (a fence longer than any run of backticks in it)."""
    text = str(text).replace("\n", " ")
    longest = run = 0
    for c in text:
        run = run + 1 if c == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _where(span) -> str:
    if span.line is None:
        return span.key or "(file)"
    return f"{span.line}:{span.col or 1}"


def render(report, review: bool = False, title: str = "pgpath", **_: object) -> str:
    from advisor.reporters import review as rv

    rules = rules_by_code(report)
    counts = report.counts()
    verdict = "fails" if report.exit_code == 1 else ("cannot read every input" if report.exit_code == 2 else "passes")
    lines = [f"## {md(title)}: {md(summary_line(report))}", "",
             f"The check **{verdict}** (fails on {report.settings.fail_on} and above).", ""]
    lines += ["| Severity | Findings |", "|---|---:|"]
    for sev in ("error", "warning", "info"):
        lines.append(f"| {ICONS[sev]} {sev} | {counts[sev]} |")
    lines.append("")
    if report.findings:
        per_rule: dict[str, list] = {}
        for f in report.findings:
            per_rule.setdefault(f.code, []).append(f)
        lines += ["| Rule | Severity | Findings | What it finds |", "|---|---|---:|---|"]
        for c, fs in sorted(per_rule.items(), key=lambda kv: (-max(f.severity for f in kv[1]), kv[0])):
            info = rules.get(c)
            label = (f"[{c}]({info.help_uri})" if info and info.help_uri else c) + (f" {code(info.name)}" if info else "")
            sev = str(max(f.severity for f in fs))
            lines.append(f"| {label} | {sev} | {len(fs)} | {md(info.summary) if info else ''} |")
        lines.append("")
        if not any(info.help_uri for info in rules.values()):
            lines += [EXPLAIN_HINT[0].upper() + EXPLAIN_HINT[1:] + ".", ""]
    for file, findings in by_file(report.findings).items():
        lines += [f"### {code(file)}", ""]
        for f in findings:
            info = rules.get(f.code)
            rule = f"[{f.code}]({info.help_uri})" if info and info.help_uri else f.code
            sev = str(f.severity)
            lines.append(f"- {ICONS[sev]} **{sev}** {rule} `{f.name}` at {_where(f.span)}: {md(f.message)}")
            if f.fix:
                lines.append(f"  - fix: {code(f.fix)}")
            for r in f.related:
                lines.append(f"  - see: {code(str(r))}")
        lines.append("")
    unread = notices(report)
    if unread:
        lines += ["### Not read (made where the files are deployed)", ""]
        for span, message in unread:
            lines.append(f"- {code(str(span))}: {md(message)}")
        lines.append("")
    if report.input_errors:
        lines += ["### Unreadable inputs", ""]
        for e in report.input_errors:
            where = f"{e.path}:{e.line}" if e.line else e.path
            lines.append(f"- {code(where)}: {md(e.message)}")
        lines.append("")
    if review:
        lines += rv.markdown_sections(report)
    return "\n".join(lines).rstrip("\n") + "\n"
