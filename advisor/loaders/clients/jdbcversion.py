"""Which pgjdbc (`org.postgresql:postgresql`) a Java application builds with: its Maven or Gradle
build file, the evidence beside a JDBC URL.

pgjdbc's releases differ in what they send at connect time (PATH007): up to 42.7.4 every
StartupMessage carries `extra_float_digits` (2, or 3 with assumeMinServerVersion >= 9.0;
ConnectionFactoryImpl.getParametersForStartup); from 42.7.5 (pgjdbc#3476) none does, and the
driver runs `SET extra_float_digits` after connecting, to servers before 12 only.

The build file a client file belongs to is the nearest `pom.xml`, `build.gradle` or
`build.gradle.kts` at or above its folder, looked for as pgpath looks for a go.mod (up to the
repository's root, or outside one the folder being checked). It decides when it names the
version:

- Maven: a `<dependency>` of groupId `org.postgresql`, artifactId `postgresql`, with a literal
  `<version>` or a `${property}` the same pom's `<properties>` defines; without a `<version>`, the
  `postgresql.version` property of that pom (what Spring Boot's dependency management reads);
- Gradle: the string `org.postgresql:postgresql:<version>`, or `ext['postgresql.version'] =
  '<version>'` / `extra["postgresql.version"] = "<version>"` (Spring Boot's plugin again).

A build file that names the dependency without a version pgpath can read (a BOM, a parent pom,
a version catalog) leaves it unknown, as does having no build file: the findings that depend on
it say so.
"""

from __future__ import annotations

import os

from advisor import lazy_re
from advisor.model import Record

FIRST_WITHOUT_STARTUP_EFD = (42, 7, 5)  # pgjdbc#3476: extra_float_digits no longer in the StartupMessage
BUILD_FILES = ("pom.xml", "build.gradle", "build.gradle.kts")
MAX_BYTES = 1 << 20

_GRADLE = lazy_re.compile(r"""["']org\.postgresql:postgresql:([^"'$\s:@]+)""")
_GRADLE_PROPERTY = lazy_re.compile(r"""(?:ext|extra)\s*\[\s*["']postgresql\.version["']\s*\]\s*=\s*["']([^"']+)["']""")
_VERSION = lazy_re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_NOT_NEWLINE = lazy_re.compile(r"[^\n]")
_PROPERTY = lazy_re.compile(r"<([\w.-]+)>([^<]*)</\1>")
_PROPERTIES = lazy_re.compile(r"<properties>(.*?)</properties>", 16)  # re.S
_REFERENCE = lazy_re.compile(r"\$\{([\w.-]+)\}")


class PgjdbcVersion(Record):
    """The pgjdbc a client is built with: `version` ("42.7.4"; "" when not known), `source` (the
    build file and line, as shown in messages; "" when not known) and `reason` (why, for
    messages: `org.postgresql:postgresql 42.7.4 in pom.xml:14`, or why it is not known)."""

    __slots__ = ("version", "source", "reason", "files", "line", "span")

    def __init__(self, version: str = "", source: str = "", reason: str = "", files: list[str] | None = None,
                 line: int = 0) -> None:
        self.version = version
        self.source = source
        self.reason = reason
        self.files = [] if files is None else files
        self.line = line  # the build file's line that names the version (0: none)
        self.span = None  # that line as a Span (files[0] as the client file was named), for findings

    def parts(self) -> tuple[int, ...] | None:
        m = _VERSION.match(self.version)
        return tuple(int(g) for g in m.groups("0")) if m else None

    def sends_extra_float_digits(self) -> bool | None:
        """True for a release that puts extra_float_digits in its StartupMessage (up to 42.7.4),
        False for one that does not, None when the version is not known."""
        parts = self.parts()
        return None if parts is None else parts < FIRST_WITHOUT_STARTUP_EFD

    def said(self) -> str:
        return f"pgjdbc {self.version} ({self.reason})" if self.version else f"pgjdbc of no known version ({self.reason})"

    def to_dict(self) -> dict:
        return {"version": self.version, "source": self.source, "reason": self.reason}


def pgjdbc_version(path: str, options: dict | None = None) -> PgjdbcVersion:
    """The pgjdbc version of the client file `path`, from the nearest build file at or above its
    folder; each folder's answer is kept in options["java_builds"] for the run."""
    from advisor.loaders.git_ignored import nearest_file, relative

    options = options or {}
    cache = options.get("java_builds")
    folder = os.path.dirname(os.path.abspath(path))
    if cache is not None and folder in cache:
        return cache[folder]
    build = nearest_file(folder, BUILD_FILES, options.get("check_roots") or [])
    found = _from_build(build) if build else PgjdbcVersion(reason="no pom.xml or build.gradle found at or above the file")
    if not os.path.isabs(path):
        found.files = [relative(f) for f in found.files]
    if found.line and found.files:
        from advisor.model import Span

        found.span = Span(found.files[0], found.line, 1)
    if cache is not None:
        cache[folder] = found
    return found


def _from_build(build: str) -> PgjdbcVersion:
    from advisor.pgversion import shown

    from advisor.loaders.source import InputError, read_text

    try:
        text = read_text(build, MAX_BYTES)
    except InputError as exc:  # too large, binary, unreadable: said in the reason
        return PgjdbcVersion(reason=f"{shown(build)} could not be read ({exc.message})", files=[build])
    found = maven(text) if build.endswith(".xml") else gradle(text)
    name = shown(build)
    if found is None:
        return PgjdbcVersion(reason=f"{name} names no org.postgresql:postgresql version", files=[build])
    version, offset = found
    line = text.count("\n", 0, offset) + 1
    return PgjdbcVersion(version, f"{name}:{line}", f"org.postgresql:postgresql {version} in {name}:{line}", [build],
                         line)


def maven(text: str) -> tuple[str, int] | None:
    """(version, offset of it) of the org.postgresql:postgresql dependency of a pom, or None."""
    blanked = "".join(_NOT_NEWLINE.sub(" ", part) if i % 2 else part
                      for i, part in enumerate(_split(text, "<!--", "-->")))
    props = {m.group(1): (m.group(2).strip(), m.start(2)) for m in _PROPERTY.finditer(_properties(blanked))}
    offset_props = blanked.find("<properties>")
    for start, body in _elements(blanked, "<dependency>", "</dependency>"):
        if _tag(body, "groupId") != "org.postgresql" or _tag(body, "artifactId") != "postgresql":
            continue
        version = _tag(body, "version")
        if version is None:
            version = "${postgresql.version}"
        m = _REFERENCE.fullmatch(version)
        if m:
            if m.group(1) not in props:
                return None
            value, at = props[m.group(1)]
            return value, offset_props + len("<properties>") + at
        return version, start + body.find(version)
    return None


def _properties(text: str) -> str:
    m = _PROPERTIES.search(text)
    return m.group(1) if m else ""


def _split(text: str, opener: str, closer: str) -> list[str]:
    """text cut into outside, element, outside, element, ...: each element from an opener to the
    first closer after it (as `opener.*?closer` finds them, re.S). Linear: that regex scans to
    the end of the text from every opener without a closer (20,000 unclosed `<dependency>` took
    minutes); once one opener has no closer after it, no later one has."""
    parts, pos = [], 0
    while True:
        i = text.find(opener, pos)
        j = text.find(closer, i + len(opener)) if i >= 0 else -1
        if j < 0:
            parts.append(text[pos:])
            return parts
        parts += [text[pos:i], text[i:j + len(closer)]]
        pos = j + len(closer)


def _elements(text: str, opener: str, closer: str):
    """(offset of the body, body) of each `opener body closer` (see _split)."""
    offset = 0
    for i, part in enumerate(_split(text, opener, closer)):
        if i % 2:
            yield offset + len(opener), part[len(opener):-len(closer)]
        offset += len(part)


def _tag(body: str, name: str) -> str | None:
    """The text of the first `<name> text </name>` without markup inside, stripped (what
    `<name>\\s*([^<]*?)\\s*</name>` finds, in linear time: that regex took quadratic time over
    a long run of blanks)."""
    opener, closer = f"<{name}>", f"</{name}>"
    pos = 0
    while True:
        i = body.find(opener, pos)
        if i < 0:
            return None
        start = i + len(opener)
        end = body.find("<", start)
        if end < 0:
            return None
        if body.startswith(closer, end):
            return body[start:end].strip()
        pos = start


def gradle(text: str) -> tuple[str, int] | None:
    m = _GRADLE.search(text) or _GRADLE_PROPERTY.search(text)
    return (m.group(1), m.start(1)) if m else None
