"""Small helpers shared by the reporters (no third-party imports)."""

from __future__ import annotations

import os


def rules_by_code(report) -> dict:
    return {r.code: r for r in getattr(report, "rules", ())}


def by_file(findings) -> dict[str, list]:
    """Findings grouped by the file of their primary span, files in sorted order."""
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.span.file, []).append(f)
    return dict(sorted(out.items()))


def relative(path: str, base: str | None = None) -> str | None:
    """`path` relative to `base` (default: the working directory) with / separators, or None
    when it lies outside it."""
    base = os.path.abspath(base or os.getcwd())
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, base)
    except ValueError:  # another drive
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return rel.replace(os.sep, "/")


def first_line(text: str) -> str:
    return (text or "").strip().split("\n", 1)[0].strip()

