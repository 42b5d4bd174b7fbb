"""Files that say they are for development or tests, whose hygiene findings are held back.

A finding an operator would not act on is a defect. TLS off on a port a developer's compose file
publishes, or a pooler without an idle-transaction timeout in a test fixture, are true and
nobody's to fix: the file is not what runs in production. So `info` findings (hygiene, no failure
shown) on such files are not reported; the summary says how many were held back, on which files
and why, and `--include-development` (or `include-development: true` in pgpath.yaml) reports them.
Errors and warnings are always reported: a development setup that does not start, or a connection
that fails, is worth knowing wherever it is.

A file is for development or tests by evidence only, which the summary quotes:
- a folder or a word of its name, relative to the folder checked, says so: `dev`, `test`, `tests`,
  `fixtures`, `e2e`, `ci`, `quickstart`, `demo`, ... (`docker-compose.dev.yml`,
  `src/test/resources/pg_service.conf`). Not `example` or `sample`: examples are what users copy
  into production, and their findings are for those users;
- its loader found a development credential written in it (a compose file whose PostgreSQL
  password is its user name or a well-known default, `advisor.model.DEVELOPMENT_PASSWORDS`):
  nothing it protects is secret, so its TLS and exposure findings protect nothing;
- pgpath.yaml lists it under `development:` (globs).

A section of a file is for development by the same kind of evidence: a document of a multi-document
Spring `application.yml` that only development profiles activate (`spring.config.activate.on-profile:
local`, or `spring.profiles: dev`; every profile named one of DEVELOPMENT_PROFILES, none negated)
holds back the info findings on its lines, the rest of the file being checked as usual.

Never held back: a file named on the command line (asked about by name), a file that a declared
deployment of pgpath.yaml names, and a file matching `production:` (globs) of pgpath.yaml.
"""

from __future__ import annotations

import os

from advisor import lazy_re
from advisor.model import within

# words of a path (folders, and the parts of a file name split at - _ .) that say development or tests
DEVELOPMENT_WORDS = frozenset({
    "dev", "devel", "development", "test", "tests", "testing", "testdata", "fixture", "fixtures", "e2e", "ci",
    "quickstart", "demo", "demos", "playground", "sandbox", "mock", "mocks",
})
_WORD = lazy_re.compile(r"[^-_.\s]+")
# Spring profile names that say development or tests (a document of application.yml that only
# such a profile activates is a development section): the words above, and `local`, Spring's
# usual name for a developer's own machine (not a path word: /usr/local is no development folder)
DEVELOPMENT_PROFILES = DEVELOPMENT_WORDS | {"local"}


def path_words(relative: str) -> list[str]:
    """The lower-case words of a relative path: each folder's, and its file name's parts."""
    words: list[str] = []
    for part in relative.replace("\\", "/").split("/"):
        if part in ("", ".", ".."):
            continue
        words.extend(w.lower() for w in _WORD.findall(part))
    return words


def reason_from_path(relative: str) -> str | None:
    """Why the path says development or tests (`its path says test`), or None."""
    for word in path_words(relative):
        if word in DEVELOPMENT_WORDS:
            return f"its path says {word!r}"
    return None


class DevelopmentFiles:
    """Which files read are for development or tests, and why (real path -> reason)."""

    def __init__(self, roots: list[str], named: set[str], declared: set[str],
                 development: list[tuple[str, str]], production: list[tuple[str, str]]) -> None:
        # roots: the folders checked (real paths); named: files named on the command line or by a
        # declared deployment (real paths); development/production: pgpath.yaml's globs (absolute,
        # as written)
        self.roots = sorted(roots, key=len, reverse=True)
        self.named = named | declared
        self.development = development
        self.production = production

    def exempt(self, path: str) -> bool:
        """Named on the command line or by a declared deployment, or listed under production:."""
        return os.path.realpath(path) in self.named or _listed(path, self.production)

    def reason(self, path: str, doc_reason: str | None) -> str | None:
        real = os.path.realpath(path)
        if real in self.named or _listed(path, self.production):
            return None
        if _listed(path, self.development):
            return "pgpath.yaml lists it under development:"
        root = next((r for r in self.roots if within(real, r)), None)
        relative = os.path.relpath(real, root) if root else os.path.basename(real)
        return reason_from_path(relative) or doc_reason


def _listed(path: str, globs: list[tuple[str, str]]) -> bool:
    """The file matches one of pgpath.yaml's globs (absolute, as written), as per-file-ignores
    match: fnmatch on the absolute path, and a glob without / on the file's name alone."""
    import fnmatch

    full, name = os.path.abspath(path), os.path.basename(path)
    return any(fnmatch.fnmatch(full, absolute) or ("/" not in written and fnmatch.fnmatch(name, written))
               for absolute, written in globs)


class HeldBack:
    """The info findings held back on one file: its path (as findings show it), why it is for
    development or tests, and the codes of its findings (one entry per finding)."""

    __slots__ = ("file", "reason", "codes")

    def __init__(self, file: str, reason: str, codes: list[str]) -> None:
        self.file = file
        self.reason = reason
        self.codes = codes

    @property
    def count(self) -> int:
        return len(self.codes)

    def to_dict(self) -> dict:
        return {"file": self.file, "reason": self.reason, "findings": self.count, "codes": sorted(set(self.codes))}


def hold_back(findings: list, files: DevelopmentFiles, docs: list) -> tuple[list, list[HeldBack]]:
    """(the findings to report, what was held back by file): an info finding whose file is for
    development or tests is held back; errors and warnings never are."""
    from advisor.findings import Severity

    doc_reasons: dict[str, str] = {}
    sections: dict[str, list[dict]] = {}  # a file's development sections (a Spring `local` profile's document)
    for doc in docs:
        reason = doc.meta.get("development")
        if reason:
            doc_reasons.setdefault(os.path.realpath(doc.path), reason)
        if doc.meta.get("development_sections"):
            sections.setdefault(os.path.realpath(doc.path), []).extend(doc.meta["development_sections"])
    reasons: dict[str, str | None] = {}
    kept: list = []
    held: dict[tuple[str, str], HeldBack] = {}
    for finding in findings:
        path = finding.span.file
        if finding.severity != Severity.INFO or not path:
            kept.append(finding)
            continue
        if path not in reasons:
            reasons[path] = files.reason(path, doc_reasons.get(os.path.realpath(path)))
        reason = reasons[path]
        if reason is None and finding.span.line is not None and not files.exempt(path):
            line = finding.span.line
            reason = next((s["reason"] for s in sections.get(os.path.realpath(path), ())
                           if s["from"] <= line <= s["to"]), None)
        if reason is None:
            kept.append(finding)
            continue
        held.setdefault((path, reason), HeldBack(path, reason, [])).codes.append(finding.code)
    return kept, sorted(held.values(), key=lambda h: (h.file, h.reason))
