"""The document model every loader produces and every rule reads.

A `ConfigDoc` is one configuration file (with whatever it included) turned into a list of
`Setting` occurrences in read order. Each occurrence keeps its raw text, its typed value in the
parameter's base unit and the `Span` where it was written, so a finding can always point at a
file, line and column.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Span(NamedTuple):
    """Where something was written: 1-based line and column, end exclusive.

    Formats without lines (JSON from a cloud API) use `key`, a logical path such as
    `$.LoadBalancerAttributes[2].Value`, and leave the line and column empty.
    (A NamedTuple, not a dataclass: loaders make two for every setting, and a tuple is made
    several times faster.)
    """

    file: str
    line: int | None = None
    col: int | None = None
    end_line: int | None = None
    end_col: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}:{self.key}" if self.key else self.file
        return f"{self.file}:{self.line}:{self.col or 1}"

    def to_dict(self) -> dict[str, Any]:
        file, line, col, end_line, end_col, key = self
        out: dict[str, Any] = {"file": file}
        if line is not None:
            out["line"] = line
        if col is not None:
            out["col"] = col
        if end_line is not None:
            out["end_line"] = end_line
        if end_col is not None:
            out["end_col"] = end_col
        if key is not None:
            out["key"] = key
        return out


class Unknown:
    """A value that cannot be known before deploy: a template placeholder or `${VAR}`.

    Rules treat it as "could be anything": they neither flag it nor compute with it.
    """

    __slots__ = ("text",)

    def __init__(self, text: str = "") -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Unknown({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return hash(Unknown)


class RamShare(Unknown):
    """A memory setting written as a share of its host's RAM, known only where it is rendered:
    Ansible's `{{ (ansible_memtotal_mb * 0.25) | int }}MB` (autobase's shared_buffers). Unknown
    to every rule that computes in bytes; `share` (0.25) lets one that reasons over the RAM (SYS005:
    the least RAM the settings need) use it."""

    __slots__ = ("share",)

    def __init__(self, text: str, share: float) -> None:
        super().__init__(text)
        self.share = share

    def __repr__(self) -> str:
        return f"RamShare({self.text!r}, {self.share!r})"


class Record:
    """Base of pgpath's plain data classes: `==` and `repr` over the `__slots__` of the class.

    Not `@dataclass`: creating a dataclass compiles its generated methods with `exec` when its
    module is imported, 0.5-1.5 ms per class on every run, and `pgpath check` runs in pre-commit
    hooks. Subclasses write `__slots__` and `__init__`; classes used as keys define `__hash__`.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # mutable by default, as @dataclass(eq=True)

    def _field_values(self) -> tuple:
        return tuple(getattr(self, name) for name in _slot_names(type(self)))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._field_values() == other._field_values()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in _slot_names(type(self)))
        return f"{type(self).__name__}({fields})"


def _slot_names(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name in klass.__dict__.get("__slots__", ()):
            if name.startswith("_"):  # private, unless a property of the same name shows it
                name = name[1:]
                if not isinstance(getattr(cls, name, None), property):
                    continue
            names.append(name)
    return tuple(names)


def within(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or lies under it (both written the same way: absolute, or real
    paths)."""
    import os

    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def is_known(value: Any) -> bool:
    """True when the value is a real value (not a placeholder, not invalid)."""
    return value is not None and not isinstance(value, Unknown)


class Setting(Record):
    """One occurrence of `name = value` in a file.

    `value` is typed and in the parameter's base unit (`unit`), `None` when the raw text is
    invalid or was not typed, or an `Unknown` for a template placeholder. (A postgresql.conf
    line that a later line spelled the same way overrides is never read by PostgreSQL; the
    loader keeps it untyped unless asked, as `pgpath dump` does.) `effective` is False for
    occurrences that a later one overrides. `section` is the ini section or proxy the setting
    belongs to. `spelling` is the name as written when the format ignores case or knows
    aliases (postgresql.conf: `Work_Mem`), else None.

    `span` may be given as a plain tuple `(file, line, name_col, value_col, end_col)` of a
    setting written on one line: `span` and `value_span` are then made from it when first
    asked for. (The postgresql.conf loader does so: two Span objects fewer per line, a fifth of
    its time on a 200,000-line file.)
    """

    __slots__ = ("name", "raw", "value", "_span", "_value_span", "unit", "section", "effective", "secret", "applies",
                 "spelling")

    def __init__(self, name: str, raw: str, value: Any, span: Span | tuple, value_span: Span | None = None,
                 unit: str | None = None, section: str | None = None, effective: bool = True,
                 secret: bool = False, applies: str | None = None, spelling: str | None = None) -> None:
        self.name = name
        self.raw = raw
        self.value = value
        self._span = span
        self._value_span = value_span
        self.unit = unit
        self.section = section
        self.effective = effective
        self.secret = secret
        self.applies = applies  # what a change takes to apply: "restart", "reload", ...
        self.spelling = spelling

    def _spans_from_position(self) -> None:
        file, line, name_col, value_col, end_col = self._span
        self._span = Span(file, line, name_col, line, end_col)
        if self._value_span is None:
            self._value_span = Span(file, line, value_col, line, end_col)

    @property
    def span(self) -> Span:
        """Where the setting was written, from its name to the end of its value."""
        if self._span.__class__ is tuple:
            self._spans_from_position()
        return self._span

    @span.setter
    def span(self, where: Span) -> None:
        self._span = where

    @property
    def value_span(self) -> Span | None:
        """Where the value was written."""
        if self._span.__class__ is tuple:
            self._spans_from_position()
        return self._value_span

    @value_span.setter
    def value_span(self, where: Span | None) -> None:
        self._value_span = where

    @property
    def display_raw(self) -> str:
        return "***" if self.secret else self.raw

    def to_dict(self) -> dict[str, Any]:
        return self.summary_dict(full=True)

    def summary_dict(self, full: bool = False) -> dict[str, Any]:
        """`to_dict` without `effective` and `value_span` (what the JSON report shows of a
        document's settings), unless `full`: the same keys in the same order."""
        value = self.value
        if isinstance(value, Unknown):
            value = {"unknown": value.text}
        elif self.secret:
            value = "***"
        out: dict[str, Any] = {"name": self.name, "raw": "***" if self.secret else self.raw, "value": value,
                               "unit": self.unit}
        if full:
            out["effective"] = self.effective
        out["span"] = self.span.to_dict()
        if self.section is not None:
            out["section"] = self.section
        if full and self.value_span is not None:
            out["value_span"] = self.value_span.to_dict()
        if self.applies is not None:
            out["applies"] = self.applies
        return out


class Diagnostic(Record):
    """A problem a loader found while reading: the rule named by `kind` reports it.

    Loaders never raise on user input; they record what is wrong where, and the thin rule
    modules (ADV001 syntax-error, PG001 unknown-parameter, ...) turn these into findings, so
    every message the tool prints belongs to a documented, selectable rule.
    """

    __slots__ = ("kind", "span", "message", "fix", "related", "severity", "removed_in", "fix_parts")

    def __init__(self, kind: str, span: Span, message: str, fix: str | None = None,
                 related: tuple[Span, ...] = (), severity: str | None = None,
                 removed_in: float | None = None, fix_parts: tuple = ()) -> None:
        self.kind = kind
        self.span = span
        self.message = message
        self.fix = fix
        # the fix as settings to write or remove and the words between them (`FixParts`), for a
        # rule to word where the settings live (a PgBouncer image's environment variables, an
        # operator's parameters); `fix` is the same said in the file's own syntax
        self.fix_parts = fix_parts
        self.related = related
        self.severity = severity  # "error"/"warning"/"info" when not the reporting rule's default
        # an unknown parameter that an older PostgreSQL had: the major that removed (or renamed)
        # it; whether the server refuses it depends on the major the file is for (PG001 decides)
        self.removed_in = removed_in


class Suppression(Record):
    """An inline `pgpath: ignore[CODE, ...] reason` comment."""

    __slots__ = ("codes", "reason", "span", "applies_to_line", "used")

    def __init__(self, codes: tuple[str, ...], reason: str, span: Span, applies_to_line: int,
                 used: bool = False) -> None:
        self.codes = codes
        self.reason = reason
        self.span = span
        self.applies_to_line = applies_to_line
        self.used = used


class ConfigDoc(Record):
    """One loaded configuration file, its includes folded in, in read order."""

    __slots__ = ("path", "kind", "settings", "diagnostics", "suppressions", "files", "template", "meta", "model",
                 "host")

    def __init__(self, path: str, kind: str, settings: list[Setting] | None = None,
                 diagnostics: list[Diagnostic] | None = None, suppressions: list[Suppression] | None = None,
                 files: list[str] | None = None, template: bool = False, meta: dict[str, Any] | None = None,
                 model: Any = None, host: Any = None) -> None:
        self.path = path
        self.kind = kind
        self.settings = [] if settings is None else settings
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.suppressions = [] if suppressions is None else suppressions
        self.files = [] if files is None else files
        self.template = template
        self.meta = {} if meta is None else meta
        self.model = model
        # advisor.model.host.HostFacts of the machine or container this software runs on, when the
        # file itself says (a CloudNativePG memory limit, a compose mem_limit); else None
        self.host = host

    def effective(self) -> dict[str, Setting]:
        """The effective occurrence of each name (the last one read wins)."""
        return {s.name: s for s in self.settings if s.effective}

    def get(self, name: str, section: str | None = None) -> Setting | None:
        """The effective occurrence of `name`, or None when it is not set."""
        found = None
        for setting in self.settings:
            if setting.name == name and setting.effective and (section is None or setting.section == section):
                found = setting
        return found

    def anchor(self) -> Span:
        """Where a finding about the document as a whole points: a container's image line
        (meta["anchor"], from the loader), else the first setting written in the file itself
        (where its settings are, and a fix adds one: a CloudNativePG Cluster's
        spec.postgresql.parameters), else the file."""
        at = self.meta.get("anchor")
        if at:
            return Span(**at)
        for s in self.settings:
            if s.span is not None and s.span.line and s.span.file == self.path:
                return s.span
        return Span(self.path)

    def value(self, name: str, default: Any = None, section: str | None = None) -> Any:
        setting = self.get(name, section)
        return default if setting is None or setting.value is None else setting.value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "template": self.template,
            "files": list(self.files),
            "settings": [s.to_dict() for s in self.settings],
            "diagnostics": [
                {"kind": d.kind, "message": d.message, "span": d.span.to_dict()} for d in self.diagnostics
            ],
        }
        meta = {k: v for k, v in self.meta.items() if not k.startswith("_")}  # "_": pgpath's own bookkeeping
        if meta:
            out["meta"] = meta
        if self.model is not None and hasattr(self.model, "to_dict"):
            out["model"] = self.model.to_dict()
        if self.host is not None:
            out["host"] = self.host.to_dict()
        return out


# the ports PostgreSQL and PgBouncer listen on by default: a port that says a hop carries PostgreSQL
PG_PORTS = (5432, 6432)
# passwords that say a development setup when a file writes them (advisor.development): the user
# name itself, or one of these well-known defaults; nothing they protect is secret
DEVELOPMENT_PASSWORDS = frozenset({
    "postgres", "password", "passw0rd", "secret", "changeme", "change_me", "example", "test", "testing", "pass",
    "admin", "dev", "development", "pgbouncer", "root", "123456", "mysecretpassword",
    # (also read by APP013, a password written in a client's settings)
    "postgresql", "demo", "docker", "local", "tiger", "12345678",
})


def is_development_password(password: str, user: str | None) -> bool:
    """The password is the user name or a well-known default (compared case-insensitively)."""
    text = password.strip().lower()
    return bool(text) and (text == (user or "").strip().lower() or text in DEVELOPMENT_PASSWORDS)


# the Kubernetes objects whose pod template runs containers (a container's PostgreSQL server)
KUBERNETES_WORKLOADS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")


# why a file is checked as the newest major when nothing says which (advisor.pgversion decides)
DEFAULT_PG_VERSION_REASON = ("the newest supported; no version given or found in the files, set --pg-version or "
                             "pg_version in pgpath.yaml")


def pg_version_of(doc: ConfigDoc) -> dict[str, Any] | None:
    """{major, source, reason}: the PostgreSQL major a document was typed with, and why (decided
    by the run before loading: advisor/pgversion.py), or None for a document of no major."""
    major = doc.meta.get("pg_version")
    if major is None:
        return None
    return {"major": major, "source": doc.meta.get("pg_version_source") or "default",
            "reason": doc.meta.get("pg_version_reason") or DEFAULT_PG_VERSION_REASON}


def short_version_reason(version: dict[str, Any]) -> str:
    """Why a document has its major, for a finding: the reason without the notes on conflicting
    evidence that advisor/pgversion.py appends (the run's summary gives those)."""
    if version["source"] == "default":
        return "the default: no version given or found for it"
    return version["reason"].split(" (conflicting evidence")[0].split(" (the file says")[0].split(" (deployment ")[0]
