"""Which major version of pgx a Go application uses, from its go.mod: the evidence beside a DSN.

pgx's majors read the same DSN differently (advisor.loaders.clients.build: pgx_endpoint,
pgxpool_plan, pgx_prepares). A Go module's `go.mod` names the one it builds with: a `require` of
`github.com/jackc/pgx/v5` or `/v4` (or `github.com/jackc/pgx` with no `/vN`: v3, whose module
path had no major suffix). The module a file belongs to is the nearest folder at or above it
that holds a go.mod, as Go decides it; pgpath looks from the client file's folder up to the
repository's root (the folder holding `.git`), or, outside a repository, up to the folder being
checked, and never further. The nearest go.mod decides: one that requires no pgx says nothing
(nor does a parent's, which is another module). A `go.sum` beside it is read only when the
go.mod names no pgx (a module before Go 1.17 lists only its direct dependencies): one major
whose code was downloaded (an `h1:` line that is not `/go.mod`) decides, two say nothing.

Without evidence pgx v5 is assumed (the current major), and the findings that depend on it say so.
"""

from __future__ import annotations

import os
import re

from advisor import lazy_re
from advisor.model import Record

NEWEST = 5

# `github.com/jackc/pgx/v5 v5.5.0`, in a `require` line or block (a `replace` or `exclude` line
# does not choose the major: its module path is the required one's); `// indirect` allowed
_REQUIRE = lazy_re.compile(r"^\s*(?:require\s+)?github\.com/jackc/pgx(/v(\d+))?\s+(v[0-9][^\s/]*)", re.M)
_BLOCK = lazy_re.compile(r"^\s*(replace|exclude|retract)\s*\(.*?^\s*\)", re.M | re.S)
_LINE = lazy_re.compile(r"^\s*(replace|exclude|retract)\b[^\n]*", re.M)
# a module whose code was downloaded (`h1:` of its zip); a `/go.mod` line only says that its
# go.mod was read while resolving the module graph
_SUM = lazy_re.compile(r"^github\.com/jackc/pgx(/v(\d+))?\s+(v[0-9][^\s/]*)\s+h1:", re.M)
MAX_BYTES = 1 << 20  # a larger go.mod is not read


class PgxVersion(Record):
    """The pgx major a client is read as: `major` (3, 4, 5), `version` (`v4.18.1`, "" when not
    known), `source` (the go.mod or go.sum as shown in messages, with its line; "" when assumed),
    `assumed` True when no file said it, and `reason` (why, for messages: `github.com/jackc/pgx/v4
    v4.18.1 in go.mod:5`, or why v5 is assumed)."""

    __slots__ = ("major", "version", "source", "assumed", "reason", "files")

    def __init__(self, major: int, version: str = "", source: str = "", assumed: bool = False,
                 reason: str = "", files: list[str] | None = None) -> None:
        self.major = major
        self.version = version
        self.source = source
        self.assumed = assumed
        self.reason = reason
        self.files = [] if files is None else files  # the go.mod (and go.sum) read, as found

    def minor(self) -> tuple[int, int] | None:
        """(major, minor) of the required version (`v5.3.1` -> (5, 3)), None when not known."""
        m = re.match(r"v(\d+)\.(\d+)", self.version)
        return (int(m.group(1)), int(m.group(2))) if m else None

    def said(self) -> str:
        """`pgx v4 (github.com/jackc/pgx/v4 v4.18.1 in app/go.mod:5)`, or `pgx v5 assumed (...)`."""
        if self.assumed:
            return f"pgx v{self.major} assumed ({self.reason})"
        return f"pgx v{self.major} ({self.reason})"

    def to_dict(self) -> dict:
        return {"major": self.major, "version": self.version, "source": self.source, "assumed": self.assumed,
                "reason": self.reason}


def assumed(why: str) -> PgxVersion:
    return PgxVersion(NEWEST, assumed=True, reason=why)


def required(text: str) -> list[tuple[int, str, int]]:
    """(major, version, line) of each pgx module a go.mod requires, in file order."""
    blanked = _LINE.sub(lambda m: " " * len(m.group(0)), _BLOCK.sub(_blank, text))
    out = []
    for m in _REQUIRE.finditer(blanked):
        major = int(m.group(2)) if m.group(2) else 3
        out.append((major, m.group(3), text.count("\n", 0, m.start(3)) + 1))
    return out


def _blank(m: re.Match) -> str:
    """A block replaced by blanks, its line breaks kept (line numbers stay right)."""
    return re.sub(r"[^\n]", " ", m.group(0))


def summed(text: str) -> set[int]:
    """The pgx majors a go.sum lists."""
    return {int(m.group(2)) if m.group(2) else 3 for m in _SUM.finditer(text)}


def _read(path: str) -> str | None:
    """The text of a go.mod or go.sum (advisor.loaders.source.read_text, at most MAX_BYTES), or None
    when it cannot be read as text."""
    from advisor.loaders.source import InputError, read_text

    try:
        return read_text(path, MAX_BYTES)
    except InputError:
        return None


def _shown(path: str) -> str:
    from advisor.pgversion import shown

    return shown(path)


def pgx_version(path: str, options: dict | None = None) -> PgxVersion:
    """The pgx major of the client file `path`, from the nearest go.mod (module) at or above its
    folder within the repository or the checked folder; v5 assumed without one. Each folder's
    answer is kept in options["go_modules"] for the run."""
    options = options or {}
    cache = options.get("go_modules")
    folder = os.path.dirname(os.path.abspath(path))
    if cache is not None and folder in cache:
        return cache[folder]
    found = _decide(folder, options.get("check_roots") or [])
    if not os.path.isabs(path):  # the files read, in the form the client file was named (relative)
        from advisor.loaders.git_ignored import relative

        found.files = [relative(f) for f in found.files]
    if cache is not None:
        cache[folder] = found
    return found


def _decide(folder: str, roots: list[str]) -> PgxVersion:
    from advisor.loaders.git_ignored import nearest_file

    gomod = nearest_file(folder, ("go.mod",), roots)
    return _from_module(gomod) if gomod else assumed("no go.mod found at or above the file")


def _from_module(gomod: str) -> PgxVersion:
    found = _module(gomod)
    found.files = [gomod] + found.files
    return found


def _module(gomod: str) -> PgxVersion:
    text = _read(gomod)
    shown = _shown(gomod)
    if text is None:
        return assumed(f"{shown} could not be read")
    found = required(text)
    majors = sorted({major for major, _, _ in found})
    if len(majors) == 1:
        major, version, line = next(x for x in found if x[0] == majors[0])
        module = "github.com/jackc/pgx" + (f"/v{major}" if major > 3 else "")
        return PgxVersion(major, version, f"{shown}:{line}", reason=f"{module} {version} in {shown}:{line}")
    if majors:
        listed = " and ".join(f"v{m}" for m in majors)
        return assumed(f"{shown} requires pgx {listed}: which one reads this DSN is in the code")
    gosum = os.path.join(os.path.dirname(gomod), "go.sum")
    sums = summed(_read(gosum) or "") if os.path.isfile(gosum) else set()
    if len(sums) == 1:
        major = sums.pop()
        return PgxVersion(major, "", _shown(gosum), reason=f"the only pgx major in {_shown(gosum)}", files=[gosum])
    out = assumed(f"{shown} does not require github.com/jackc/pgx")
    out.files = [gosum] if sums else []
    if len(sums) > 1:
        out.reason = f"{shown} does not require github.com/jackc/pgx and {_shown(gosum)} lists several majors"
    return out
