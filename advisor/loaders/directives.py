"""`pgpath:` comments inside configuration files.

    work_mem = 1GB   # pgpath: ignore[MEM001] analytics box, 8 connections at most
    # pgpath: ignore[PG010] the batch role needs it; reviewed 2026-11
    statement_timeout = 0
    # pgpath: ram=64GB

An `ignore[...]` comment at the end of a line applies to that line; on a line of its own it
applies to the next line. Codes or rule names may be listed, separated by commas; the text
after the bracket is the reason. `ram=` declares the server's memory for the memory rules.

A `pgpath:` comment that cannot be read (a RAM size that is no size or is above 1 EiB, an
`ignore` without its bracket, a directive pgpath does not know) is never skipped silently: it
becomes a `bad-directive` diagnostic (rule ADV005) at the comment's line and column.
"""

from __future__ import annotations

import re

from advisor import lazy_re
from advisor.model import ConfigDoc, Diagnostic, Span, Suppression
from advisor.units import parse_size

_IGNORE = lazy_re.compile(r"pgpath:\s*ignore\[([^\]]*)\]\s*[:\-—]*\s*(.*)$", re.IGNORECASE)
# the size, with its unit when a blank separates them (`ram=16 GB` is 16 GB, not 16 bytes)
_RAM = lazy_re.compile(r"pgpath:\s*ram\s*=\s*(\S+(?:[ \t]+(?:[KMGT]i?B|kB|B)\b)?)", re.IGNORECASE)
# `pgpath:` at the start of a comment, or anywhere followed by `word=` / `word[`: a directive
_DIRECTIVE = lazy_re.compile(r"^[ \t#;/!*-]*pgpath\s*:\s*(.*)$|pgpath\s*:\s*([A-Za-z_-]+\s*[=\[].*)$", re.IGNORECASE)
_TEMPLATE_MARKS = ("{{", "${", "{%", "<%", "@@", "%(")
KIND = "bad-directive"


def read_comment(doc: ConfigDoc, comment: str, span: Span, trailing: bool, body_col: int | None = None) -> None:
    """Record a suppression or directive found in a comment (text after the comment sign).

    `span` is the comment's (its column the comment sign's); `body_col`, the 1-based column of the
    comment's first character when it is not the one after `span.col` (a two-character sign)."""
    if "pgpath" not in comment.lower():
        return
    base = body_col if body_col is not None else (span.col or 0) + 1
    m = _IGNORE.search(comment)
    if m:
        codes = tuple(c.strip() for c in m.group(1).split(",") if c.strip())
        if not codes:
            _bad(doc, span, base + m.start(), f"`{_shorten(m.group(0).split(']')[0])}]` names no rule to ignore",
                 "name the codes: # pgpath: ignore[PG010] reason (see `pgpath rules`)")
            return
        target = span.line if trailing else (span.line or 0) + 1
        doc.suppressions.append(Suppression(codes=codes, reason=m.group(2).strip(), span=span, applies_to_line=target))
        return
    m = _RAM.search(comment)
    if m:
        written = m.group(1)
        if any(mark in written for mark in _TEMPLATE_MARKS):
            return  # a template fills it in at deploy time
        size = parse_size(written)
        if size:
            doc.meta["ram_bytes"] = size
            doc.meta["ram_span"] = span.to_dict()
            return
        col = base + m.start(1)
        if size == 0:
            _bad(doc, span, col, f"pgpath: ram={_shorten(written)} is no memory at all; the directive is ignored and "
                 "the memory rules run without the server's RAM", "ram=<the server's memory>, e.g. # pgpath: ram=64GB")
        elif _is_number_with_unit(written):
            _bad(doc, span, col, f"pgpath: ram={_shorten(written)} is above 1 EiB, the largest RAM size pgpath "
                 f"reads; the directive is ignored and the memory rules run without the server's RAM",
                 "ram=<the server's memory>, e.g. # pgpath: ram=64GB")
        else:
            _bad(doc, span, col, f"pgpath: ram={_shorten(written)} is not a size; the directive is ignored and the "
                 "memory rules run without the server's RAM", "write a size: # pgpath: ram=64GB (or 64GiB, 512MB)")
        return
    m = _DIRECTIVE.search(comment)
    if m is None:
        return
    group = 1 if m.group(1) is not None else 2
    text = m.group(group).strip()
    if any(mark in text for mark in _TEMPLATE_MARKS):
        return
    word = re.match(r"[A-Za-z_-]*", text).group(0).lower()
    col = base + m.start(group)
    if word == "ignore":
        message = (f"pgpath: {_shorten(text)} is not an ignore directive (the codes go in brackets: "
                   f"ignore[CODE, ...]); nothing is suppressed")
        fix = "# pgpath: ignore[PG010] reason"
    elif word == "ram":
        message = f"pgpath: {_shorten(text)} is not a RAM directive (ram=<size>); the directive is ignored"
        fix = "# pgpath: ram=64GB"
    else:
        message = (f"pgpath: {_shorten(text) or '(nothing)'} is no directive pgpath knows (it reads ignore[...] "
                   f"and ram=); the comment is ignored")
        fix = "# pgpath: ignore[CODE] reason, or # pgpath: ram=64GB; or drop `pgpath:` from the comment"
    _bad(doc, span, col, message, fix)


def _bad(doc: ConfigDoc, span: Span, col: int, message: str, fix: str) -> None:
    doc.diagnostics.append(Diagnostic(KIND, Span(span.file, span.line, col, span.line, span.end_col), message, fix))


def _is_number_with_unit(text: str) -> bool:
    """A size written as pgpath reads sizes, refused only for its value (above 1 EiB, or zero)."""
    from advisor.units import _SIZE_RE

    return _SIZE_RE.match(text) is not None


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
