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


class RuleInfo(Record):
    """What a reporter may say about a rule (SARIF rule metadata, help links, report legends).

    The engine fills `Report.rules` with one for every rule that ran or has a finding, so
    reporters never import `advisor.rules`. `severity` is the effective one (after overrides).
    """

    __slots__ = ("code", "name", "severity", "summary", "doc", "needs", "security", "help_uri")

    def __init__(self, code: str, name: str, severity: Severity, summary: str, doc: str = "",
                 needs: tuple[str, ...] = (), security: bool = False, help_uri: str | None = None) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.summary = summary
        self.doc = doc
        self.needs = needs
        self.security = security  # an exposure, not a failure (advisor.rules.rule.Rule.security)
        # where the rule's page is published (pgpath.yaml's rule-docs-url), or None: pgpath has no
        # site of its own, so reports link nowhere unless a team says where it keeps the pages
        self.help_uri = help_uri


# How a report tells a reader where a rule's documentation is when no rule-docs-url is set.
EXPLAIN_HINT = "each rule's documentation: `pgpath explain CODE` (or docs/rules/CODE.md in pgpath's source)"

_POSITIONS = None


def content_key(finding: Finding) -> str:
    """What identifies a finding apart from where its lines are: rule, file and message with
    line/column positions masked (`haproxy.cfg:4` -> `haproxy.cfg:#`, `line 12` -> `line #`).

    Moving a block of lines keeps the key; changing a value the message quotes changes it.
    Used by the baseline and by the fingerprints of SARIF and GitLab reports.
    """
    global _POSITIONS
    if _POSITIONS is None:
        import re

        _POSITIONS = re.compile(r"(\.[A-Za-z][\w-]*):\d+(?::\d+)?\b|\b(lines? )\d+(?:[-–]\d+)?\b")
    span = finding.span
    return "\x1f".join((finding.code, span.file, span.key or "", _POSITIONS.sub(_mask, finding.message)))


def _mask(m) -> str:
    return f"{m.group(1)}:#" if m.group(1) else f"{m.group(2)}#"


def fingerprints(findings) -> list[str]:
    """A stable hex fingerprint per finding: the hash of its content key and its ordinal among
    findings with the same key (so two identical findings in one file stay distinct)."""
    import hashlib

    seen: dict[str, int] = {}
    out = []
    for f in findings:
        key = content_key(f)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(hashlib.sha256(f"{key}\x1e{n}".encode("utf-8", "surrogateescape")).hexdigest()[:32])
    return out
