"""Findings: what a rule says about a place in a file, and how bad it is."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from advisor.model import Record, Span


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None

    def __str__(self) -> str:
        return self.name.lower()


class Finding(Record):
    """One problem at one place.

    `message` states the arithmetic behind the verdict; `fix` is a concrete change
    (`set tcp_keepalives_idle = 300`); `related` lists every other place that takes part.
    """

    __slots__ = ("code", "name", "severity", "message", "span", "fix", "related")

    def __init__(self, code: str, name: str, severity: Severity, message: str, span: Span, fix: str | None = None,
                 related: tuple[Span, ...] = ()) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.message = message
        self.span = span
        self.fix = fix
        self.related = related

    def __hash__(self) -> int:
        return hash(self._field_values())

    def with_severity(self, severity: Severity) -> "Finding":
        return Finding(self.code, self.name, severity, self.message, self.span, self.fix, self.related)

    def sort_key(self) -> tuple:
        s = self.span
        return (s.file, s.line or 0, s.col or 0, s.key or "", self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "message": self.message,
            "span": self.span.to_dict(),
        }
        if self.fix:
            out["fix"] = self.fix
        if self.related:
            out["related"] = [r.to_dict() for r in self.related]
        return out
