"""Baselines: accept today's findings, fail only on new ones.

`pgpath check --write-baseline FILE` records the findings of the run; `--baseline FILE` drops
the findings it records and keeps the rest. A finding is keyed by its rule, its file and its
content (the message with line and column numbers masked, `findings.content_key`), never by
its line, so moving lines keeps it baselined while changing the value it is about does not.
Each key has a count, so two identical findings in one file need two entries' worth. Files are
stored relative to the baseline file's folder, so the baseline works from any working
directory. Entries that no finding of this run matched (a fixed problem) are *stale*: they
leave the baseline when it is rewritten, and `--baseline-stale` reports them and fails the
run. Only entries for files this run read and rules this run ran can be stale.

Format: schemas/baseline.schema.json.
"""

from __future__ import annotations

import json
import os
from typing import Any

from advisor.findings import Finding, content_key

VERSION = 1


class BaselineError(Exception):
    """An unreadable or invalid baseline file (exit code 2)."""


def _rel(path: str, base: str) -> str:
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, base)
    except ValueError:
        return full
    return rel.replace(os.sep, "/")


def _entry_key(code: str, file: str, message: str, key: str | None) -> tuple:
    return (code, file, key or "", message)


def _key_of(f: Finding, base: str) -> tuple:
    code, _, key, message = content_key(f).split("\x1f")
    return _entry_key(code, _rel(f.span.file, base), message, key)


def write(path: str, findings: list[Finding]) -> int:
    """Write the baseline of these findings; the number of entries."""
    base = os.path.dirname(os.path.abspath(path))
    counts: dict[tuple, int] = {}
    for f in findings:
        k = _key_of(f, base)
        counts[k] = counts.get(k, 0) + 1
    entries = []
    for (code, file, key, message), n in sorted(counts.items()):
        entry: dict[str, Any] = {"code": code, "file": file, "message": message, "count": n}
        if key:
            entry["key"] = key
        entries.append(entry)
    data = {"tool": "pgpath", "version": VERSION, "findings": entries}
    try:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, ensure_ascii=False)
            out.write("\n")
    except OSError as exc:
        raise BaselineError(f"cannot write {path}: {exc.strerror}") from None
    return len(entries)


def read(path: str) -> dict[tuple, int]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a pgpath baseline (invalid JSON: {exc})") from None
    except RecursionError:  # json's C scanner on `[[[[...` 1,000 deep
        raise BaselineError(f"{path}: not a pgpath baseline (invalid JSON: nested too deeply)") from None
    from advisor.schemas import validate

    problem = validate(data, "baseline.schema.json")
    if problem:
        raise BaselineError(f"{path}: not a pgpath baseline: {problem}")
    out: dict[tuple, int] = {}
    for e in data["findings"]:
        k = _entry_key(e["code"], e["file"], e["message"], e.get("key"))
        out[k] = out.get(k, 0) + e.get("count", 1)
    return out


class Stale:
    """A baseline entry no finding matched: the problem it recorded is gone."""

    __slots__ = ("code", "file", "message", "count")

    def __init__(self, code: str, file: str, message: str, count: int) -> None:
        self.code, self.file, self.message, self.count = code, file, message, count

    def __str__(self) -> str:
        times = f" ({self.count}×)" if self.count > 1 else ""
        return f"{self.file}: {self.code} baselined finding no longer reported{times}: {self.message}"


def apply(path: str, findings: list[Finding], files_read: set[str], rules_ran: set[str]) -> tuple[list[Finding], int, list[Stale]]:
    """(findings not in the baseline, how many were dropped, stale entries)."""
    remaining = read(path)
    base = os.path.dirname(os.path.abspath(path))
    kept: list[Finding] = []
    dropped = 0
    for f in findings:
        k = _key_of(f, base)
        if remaining.get(k, 0) > 0:
            remaining[k] -= 1
            dropped += 1
        else:
            kept.append(f)
    from advisor.rules import REDIRECTS

    seen = {_rel(p, base) for p in files_read}
    # an entry of a rule that ran and found nothing is fixed; one of a retired rule never matches
    # again (its risk is another rule's, with other messages): both are stale
    stale = [Stale(code, file, message, n) for (code, file, _key, message), n in sorted(remaining.items())
             if n > 0 and file in seen and (code in rules_ran or code in REDIRECTS)]
    return kept, dropped, stale
