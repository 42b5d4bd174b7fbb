"""Findings: what a rule says about a place in a file, and how bad it is."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from advisor.model import Span


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


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place.

    `message` states the arithmetic behind the verdict; `fix` is a concrete change
    (`set tcp_keepalives_idle = 300`); `related` lists every other place that takes part.
    """

    code: str
    name: str
    severity: Severity
    message: str
    span: Span
    fix: str | None = None
    related: tuple[Span, ...] = ()

    def with_severity(self, severity: Severity) -> "Finding":
        return replace(self, severity=severity)

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
