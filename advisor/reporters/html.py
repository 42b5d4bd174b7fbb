"""A self-contained HTML page (inline CSS, no script, nothing fetched from the network) for a
person reviewing a setup: the verdict and counts, a table of the rules with findings, the
findings grouped by file (place, severity, rule, the arithmetic, the fix, related places), the
connection paths when assembled, the inputs read and skipped, and the assumptions of the run.

`pgpath check --format html` and `pgpath report -o report.html` write it.
"""

from __future__ import annotations

from html import escape

from advisor import __version__
from advisor.reporters import review as rv
from advisor.reporters import notices, summary_line
from advisor.findings import EXPLAIN_HINT
from advisor.reporters._common import by_file, rules_by_code

CSS = """
:root{--err:#b42318;--warn:#b54708;--info:#175cd3;--ok:#067647;--line:#d0d5dd;--muted:#475467}
*{box-sizing:border-box}body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#101828;background:#f9fafb}main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:16px;margin:20px 0 6px}code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,
Consolas,monospace;background:#f2f4f7;padding:1px 4px;border-radius:4px;word-break:break-word}
.verdict{font-weight:600}.verdict.fail{color:var(--err)}.verdict.pass{color:var(--ok)}
.counts{display:flex;gap:12px;margin:16px 0}.count{background:#fff;border:1px solid var(--line);
border-radius:8px;padding:8px 16px;min-width:110px}.count b{display:block;font-size:22px}
.sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
.sev.error{background:var(--err)}.sev.warning{background:var(--warn)}.sev.info{background:var(--info)}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;vertical-align:top;padding:6px 10px;border-bottom:1px solid var(--line)}
th{background:#f2f4f7;font-size:13px}td.where{white-space:nowrap;font-family:ui-monospace,monospace;font-size:13px}
.fix,.see{color:var(--muted);font-size:13px;margin-top:4px}.fix code{background:#ecfdf3}
figure.path{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;margin:12px 0}
figure.path svg{max-width:100%;height:auto}ul{padding-left:20px}footer{color:var(--muted);font-size:12px;margin-top:40px}
"""


def _where(span) -> str:
    if span.line is None:
        return escape(span.key or "")
    return f"{span.line}:{span.col or 1}"


def render(report, review: bool = True, title: str = "pgpath report", paths=None, draw=None, **_: object) -> str:
    rules = rules_by_code(report)
    counts = report.counts()
    failed = report.exit_code == 1
    verdict = ("fails" if failed else "cannot read every input" if report.exit_code == 2 else "passes")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
           "img-src data:\">",
           f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>",
           f"<h1>{escape(title)}</h1>",
           f'<p id="summary">{escape(summary_line(report))}. The check '
           f'<span class="verdict {"fail" if report.exit_code else "pass"}">{verdict}</span> '
           f"(fails on {escape(str(report.settings.fail_on))} and above).</p>",
           '<div class="counts">']
    for sev in ("error", "warning", "info"):
        out.append(f'<div class="count" id="count-{sev}"><b>{counts[sev]}</b><span class="sev {sev}">{sev}</span></div>')
    out.append("</div>")
    paths = rv.report_paths(report) if paths is None else paths
    figures = rv.paths_html(paths, draw)
    if figures:
        out.append(figures)
    if report.findings:
        per_rule: dict[str, list] = {}
        for f in report.findings:
            per_rule.setdefault(f.code, []).append(f)
        out.append('<h2>Rules with findings</h2><table id="rules"><thead><tr><th>Rule</th><th>Severity</th>'
                   "<th>Findings</th><th>What it finds</th></tr></thead><tbody>")
        for code, fs in sorted(per_rule.items(), key=lambda kv: (-max(f.severity for f in kv[1]), kv[0])):
            info = rules.get(code)
            sev = str(max(f.severity for f in fs))
            link = (f'<a href="{escape(info.help_uri)}">{code}</a>' if info and info.help_uri else code) + \
                (f" <code>{escape(info.name)}</code>" if info else "")
            out.append(f'<tr><td>{link}</td><td><span class="sev {sev}">{sev}</span></td><td>{len(fs)}</td>'
                       f"<td>{escape(info.summary) if info else ''}</td></tr>")
        out.append("</tbody></table>")
        if not any(info.help_uri for info in rules.values()):
            hint = EXPLAIN_HINT[0].upper() + EXPLAIN_HINT[1:]
            parts = escape(hint).split("`")  # `pgpath explain CODE` as code
            out.append('<p class="hint">' + "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)) + ".</p>")
    out.append('<h2>Findings by file</h2>')
    if not report.findings:
        out.append("<p>No findings.</p>")
    for i, (file, findings) in enumerate(by_file(report.findings).items(), 1):
        out.append(f'<section class="file" id="file-{i}"><h3><code>{escape(file)}</code> '
                   f"({len(findings)})</h3><table><thead><tr><th>Line</th><th>Severity</th><th>Rule</th>"
                   "<th>Finding</th></tr></thead><tbody>")
        for f in findings:
            sev = str(f.severity)
            info = rules.get(f.code)
            rule = (f'<a href="{escape(info.help_uri)}">{f.code}</a>' if info and info.help_uri else f.code) + \
                f"<br><code>{escape(f.name)}</code>"
            body = f'<div class="msg">{escape(f.message)}</div>'
            if f.fix:
                body += f'<div class="fix">fix: <code>{escape(f.fix)}</code></div>'
            for r in f.related:
                body += f'<div class="see">see: <code>{escape(str(r))}</code></div>'
            out.append(f'<tr class="finding {sev}"><td class="where">{_where(f.span)}</td>'
                       f'<td><span class="sev {sev}">{sev}</span></td><td>{rule}</td><td>{body}</td></tr>')
        out.append("</tbody></table></section>")
    read, skipped, bad = rv.inputs(report)
    if review or bad:
        out.append('<h2>Inputs</h2><ul id="inputs">')
        for path, kind, files in read:
            extra = (" (with " + ", ".join(f"<code>{escape(x)}</code>" for x in files[1:]) + ")") if len(files) > 1 else ""
            out.append(f"<li><code>{escape(path)}</code>: {escape(kind)}{extra}</li>")
        out.append("</ul>")
        if skipped or bad:
            out.append('<h3>Skipped</h3><ul id="skipped">')
            out += [f"<li><code>{escape(p)}</code>: not a configuration file pgpath reads</li>" for p in skipped]
            out += [f"<li><code>{escape(p)}</code>: {escape(why)}</li>" for p, why in bad]
            out.append("</ul>")
    unread = notices(report)
    if unread:
        out.append('<h3>Not read (made where the files are deployed)</h3><ul id="not-read">')
        out += [f"<li><code>{escape(str(span))}</code>: {escape(message)}</li>" for span, message in unread]
        out.append("</ul>")
    if review:
        out.append('<h2>Assumptions</h2><ul id="assumptions">')
        out += [f"<li>{escape(a)}</li>" for a in rv.assumptions(report)]
        out.append("</ul>")
    out.append(f"<footer>pgpath {escape(__version__)}</footer></main></body></html>")
    return "\n".join(out) + "\n"
