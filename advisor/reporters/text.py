"""`path:line:col: CODE severity message`, then the fix, one finding per block.

The first line is the form every editor and CI log understands (flake8's). Colour only when
writing to a terminal.
"""

from __future__ import annotations

from advisor.reporters import notices, summary_line, unread_counts

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render(report, colour: bool = False, show_fix: bool = True) -> str:
    lines: list[str] = []
    for f in report.findings:
        sev = str(f.severity)
        if colour:
            head = f"{_BOLD}{f.span}{_RESET}: {_COLOURS[sev]}{f.code}{_RESET} {_COLOURS[sev]}{sev}{_RESET} {f.message}"
        else:
            head = f"{f.span}: {f.code} {sev} {f.message}"
        lines.append(head)
        if show_fix and f.fix:
            lines.append(f"    {_DIM if colour else ''}fix: {f.fix}{_RESET if colour else ''}")
        for r in f.related:
            lines.append(f"    {_DIM if colour else ''}see: {r}{_RESET if colour else ''}")
    for e in report.input_errors:
        where = f"{e.path}:{e.line}" if e.line else e.path
        lines.append(f"{where}: cannot read: {e.message}")
    unread = notices(report)
    for span, message in unread:
        lines.append(f"{span}: note, not read: {message}")
    stale = getattr(report, "stale", None) or []
    if stale and report.settings.baseline_stale:
        lines.extend(f"{entry}" for entry in stale)
    summary = summary_line(report)
    majors = pg_version_lines(report)
    if len(majors) == 1:
        summary += f"; {majors[0]}"
    if getattr(report, "baselined", 0):
        summary += f"; {report.baselined} in the baseline"
    if stale:
        summary += f"; {sum(e.count for e in stale)} baselined finding{'s' if len(stale) != 1 else ''} fixed (stale"
        summary += ")" if report.settings.baseline_stale else ": --baseline-stale to fail on them)"
    files, keys = unread_counts(report) if unread else (0, 0)
    if files:
        summary += (f"; {files} file{'s' if files != 1 else ''} not read (includes or mounted configuration "
                    "made where the files are deployed: the settings they hold are unknown)")
    if keys:
        summary += (f"; {keys} private key{'s' if keys != 1 else ''} not in the checked files (named beside a "
                    "certificate that is: the software fails where the key is missing)")
    from advisor.pgbversion import summary_lines as pgbouncer_lines

    bouncers = pgbouncer_lines(report.docs)
    if len(bouncers) == 1:
        summary += f"; {bouncers[0]}"
    held = getattr(report, "held_back", None) or []
    if held:
        n = sum(h.count for h in held)
        summary += (f"; {n} info finding{'s' if n != 1 else ''} on {len(held)} file{'s' if len(held) != 1 else ''} "
                    "for development or tests held back (--include-development reports them)")
    lines.append(summary)
    for h in held:
        lines.append(f"  held back: {h.file} ({h.count}: {', '.join(sorted(set(h.codes)))}): {h.reason}")
    if len(majors) > 1:  # files on different majors: one line per major, with its count and why
        lines.extend(f"  {line}" for line in majors)
    if len(bouncers) > 1:  # PgBouncer files checked as different versions: one line per version
        lines.extend(f"  {line}" for line in bouncers)
    from advisor.path import connection_paths

    shared = connection_paths(list(getattr(report, "paths", ())))
    if shared:
        assumed = sum(p.source != "topology" for p in shared)
        note = f"{len(shared)} connection path{'s' if len(shared) != 1 else ''}"
        if assumed:
            note += f" ({assumed} assumed from the files; `pgpath path` shows them, `pgpath init` writes them down)"
        else:
            note += " (declared in the topology)"
        bare = sum(not any(h.detail is not None and hasattr(h.detail, "keepalive_resets") for h in p.hops)
                   for p in shared)
        if bare == len(shared):
            note += "; no middlebox known, so keepalives were not checked: declare load balancers and NATs"
        elif bare:
            note += (f"; {bare} of them cross{'es' if bare == 1 else ''} no middlebox known, so "
                     f"{'its' if bare == 1 else 'their'} keepalives were not checked: declare load balancers and NATs")
        lines.append(note)
    from advisor.path import unpaired_note

    alone = unpaired_note(list(getattr(report, "paths", ())))
    if alone:
        lines.append(alone if shared else f"0 connection paths; {alone}")
    return "\n".join(lines) + "\n"


def pg_version_lines(report) -> list[str]:
    """`PostgreSQL 15 assumed (image postgres:15 in docker-compose.yml:4)` when one major covers
    every PostgreSQL document; else one line per major with its file count and reasons."""
    from advisor.pgversion import summary_lines

    return summary_lines(report.docs)
