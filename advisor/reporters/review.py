"""What a review report adds to the findings: the inputs read and skipped, the assumptions of
the run, and (when the connection path is assembled) one figure per path.

Shared by the `html` and `markdown` reporters (`pgpath report`, or `--format html`). Nothing
here prints a setting's value: only file names, setting names and the run's own settings, so
no secret a file holds can reach the page.

Connection paths: `paths_html(paths, draw)` / `paths_markdown(paths)` take a list of assembled
paths (objects from `advisor.path`, or anything with a `name`/`str()`), and `draw(path)` returns
an inline SVG string for one path. `report_paths(report)` is the one place that asks the engine
for the paths: it returns `report.paths` when the engine put them there, else an empty list.
"""

from __future__ import annotations

import html
from typing import Any, Callable, Iterable

from advisor.model import is_known


def report_paths(report) -> list:
    return list(getattr(report, "paths", None) or [])


def default_draw() -> Callable[[Any], str] | None:
    """The project's SVG drawing of a path (advisor.reporters.path_svg.svg)."""
    from advisor.reporters.path_svg import svg

    return svg


def inputs(report) -> tuple[list[tuple[str, str, list[str]]], list[str], list[tuple[str, str]]]:
    """(document path, kind, files read for it), files skipped as not configuration pgpath reads,
    and unreadable inputs (path, why)."""
    read = [(d.path, d.kind, list(d.files or [d.path])) for d in report.docs]
    included = {f for d in report.docs for f in (d.files or [d.path])}
    skipped = [p for p in (getattr(report, "skipped", None) or []) if p not in included]
    bad = [((f"{e.path}:{e.line}" if e.line else e.path), e.message) for e in report.input_errors]
    return read, skipped, bad


def assumptions(report) -> list[str]:
    """What the run took as given: defaults used for what no file says, unknowns, scope."""
    s = report.settings
    out = []
    if s.config_file:
        out.append(f"Settings read from {s.config_file}.")
    for held in getattr(report, "held_back", None) or ():
        out.append(f"Held back as a file for development or tests ({held.reason}): {held.count} info "
                   f"finding{'s' if held.count != 1 else ''} ({', '.join(sorted(set(held.codes)))}) on {held.file}; "
                   "--include-development reports them.")
    kinds = {d.kind for d in report.docs}
    if "postgresql" in kinds:
        from advisor.pgversion import summary_lines

        majors = summary_lines(report.docs)
        out.append("PostgreSQL catalog that types the values: " + ("; ".join(majors) if majors else
                   "18 (the default; --pg-version or a deployment's version: to change)") + ".")
        in_files = sorted({d.meta.get("ram_bytes") for d in report.docs if d.meta.get("ram_bytes")})
        if s.ram_bytes:
            out.append(f"Server memory: {s.ram_bytes / 2**30:g} GiB (given on the command line or in the settings).")
        elif in_files:
            out.append("Server memory: " + ", ".join(f"{b / 2**30:g} GiB" for b in in_files)
                       + " (from a pgpath: ram= comment in postgresql.conf).")
        else:
            out.append("Server memory: unknown, so the peak memory rule (MEM001) had nothing to compare with "
                       "(--ram, ram: in the settings, or a '# pgpath: ram=64GB' comment).")
    if "pgbouncer" in kinds:
        from advisor.pgbversion import summary_lines as pgbouncer_lines

        out.append("PgBouncer version whose keys and defaults apply: " + "; ".join(pgbouncer_lines(report.docs))
                   + " (--pgbouncer-version to change).")
    if kinds & {"postgresql", "pgbouncer", "client", "haproxy"}:
        out.append("Where a file leaves TCP keepalives to the OS, Linux defaults are assumed: first probe after "
                   "7200 s idle, then 9 probes 75 s apart.")
    for d in report.docs:
        unknown = sorted({st.name for st in d.settings if st.value is not None and not is_known(st.value)})
        if d.template or unknown:
            names = ", ".join(unknown[:12]) + (f" and {len(unknown) - 12} more" if len(unknown) > 12 else "")
            what = "a template; its placeholders" if d.template else "placeholders such as ${VAR}"
            out.append(f"{d.path}: {what} are unknown values, neither flagged nor computed with"
                       + (f" ({names})." if names else "."))
    if s.select != ["ALL"]:
        out.append(f"Only these rules ran: {', '.join(s.select)}.")
    if s.ignore:
        out.append(f"Rules ignored: {', '.join(s.ignore)}.")
    return out


def paths_html(paths: Iterable, draw: Callable[[Any], str] | None = None) -> str:
    """One figure per assembled path (its SVG from `draw`), or nothing when there are none."""
    paths = list(paths)
    if not paths:
        return ""
    draw = draw or default_draw()
    parts = ['<section id="paths"><h2>Connection paths</h2>']
    for i, p in enumerate(paths, 1):
        name = html.escape(str(getattr(p, "name", None) or p))
        label = getattr(p, "label", None)
        caption = name + (f": {html.escape(str(label))}" if label and str(label) != str(name) else "")
        first = p.first_close() if hasattr(p, "first_close") else None
        if first is not None:
            caption += (f". First to close an idle connection: {html.escape(str(first.name))} after "
                        f"{first.seconds:g} s ({html.escape(str(first.effect))})")
        svg = draw(p) if draw else ""
        parts.append(f'<figure class="path" id="path-{i}">{svg}<figcaption>{caption}</figcaption></figure>')
    parts.append("</section>")
    return "\n".join(parts)


def paths_markdown(paths: Iterable) -> list[str]:
    paths = list(paths)
    if not paths:
        return []
    from advisor.reporters.markdown import md

    lines = ["### Connection paths", ""]
    for p in paths:
        text = md(str(getattr(p, "label", None) or getattr(p, "name", None) or p))
        first = p.first_close() if hasattr(p, "first_close") else None
        if first is not None:
            text += f" — first to close an idle connection: {md(first.name)} after {first.seconds:g} s"
        lines.append(f"- {text}")
    return lines + [""]


def markdown_sections(report) -> list[str]:
    from advisor.reporters.markdown import code, md

    read, skipped, bad = inputs(report)
    lines = paths_markdown(report_paths(report))
    lines += ["### Inputs read", ""]
    for path, kind, files in read:
        extra = f" (with {', '.join(code(f) for f in files[1:])})" if len(files) > 1 else ""
        lines.append(f"- {code(path)}: {kind}{extra}")
    if not read:
        lines.append("- none")
    lines.append("")
    if skipped or bad:
        lines += ["### Inputs skipped", ""]
        lines += [f"- {code(p)}: not a configuration file pgpath reads" for p in skipped]
        lines += [f"- {code(p)}: {md(why)}" for p, why in bad]
        lines.append("")
    lines += ["### Assumptions", ""] + [f"- {md(a)}" for a in assumptions(report)] + [""]
    return lines
