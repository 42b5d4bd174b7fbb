"""`pgpath:` comments inside configuration files.

    work_mem = 1GB   # pgpath: ignore[MEM001] analytics box, 8 connections at most
    # pgpath: ignore[PG010] the batch role needs it; reviewed 2026-11
    statement_timeout = 0
    # pgpath: ram=64GB

An `ignore[...]` comment at the end of a line applies to that line; on a line of its own it
applies to the next line. Codes or rule names may be listed, separated by commas; the text
after the bracket is the reason. `ram=` declares the server's memory for the memory rules.
"""

from __future__ import annotations

import re

from advisor import lazy_re
from advisor.model import ConfigDoc, Span, Suppression
from advisor.units import parse_size

_IGNORE = lazy_re.compile(r"pgpath:\s*ignore\[([^\]]*)\]\s*[:\-—]*\s*(.*)$", re.IGNORECASE)
_RAM = lazy_re.compile(r"pgpath:\s*ram\s*=\s*(\S+)", re.IGNORECASE)


def read_comment(doc: ConfigDoc, comment: str, span: Span, trailing: bool) -> None:
    """Record a suppression or directive found in a comment (text after the comment sign)."""
    if "pgpath" not in comment.lower():
        return
    m = _IGNORE.search(comment)
    if m:
        codes = tuple(c.strip() for c in m.group(1).split(",") if c.strip())
        target = span.line if trailing else (span.line or 0) + 1
        doc.suppressions.append(Suppression(codes=codes, reason=m.group(2).strip(), span=span, applies_to_line=target))
        return
    m = _RAM.search(comment)
    if m:
        size = parse_size(m.group(1))
        if size:
            doc.meta["ram_bytes"] = size
            doc.meta["ram_span"] = span.to_dict()
