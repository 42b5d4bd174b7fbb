"""pgbouncer.ini, read exactly as PgBouncer reads it (lib/usual/cfparser.c, src/main.c, src/loader.c).

- Sections `[pgbouncer]`, `[databases]`, `[users]` and (1.19+) `[peers]`; any other section is
  fatal. Section and key names are case-sensitive. A `[pgbouncer]` header resets every setting
  to its default (PgBouncer fills the defaults at each header), so a second header silently
  drops everything set before it: the earlier settings are marked not effective and the header
  is reported (`pgbouncer-section-reset`).
- A comment is a line whose first non-blank character is `;` or `#`. Anywhere else `;` and `#`
  are part of the value: `server_idle_timeout = 30 ; note` is the invalid value `30 ; note`.
- `%include FILE` is followed where it stands; the current section carries on into the included
  file and back. A relative FILE is resolved against the *current working directory* of the
  PgBouncer process, not the including file (options["pgbouncer_cwd"], default: pgpath's own
  working directory). PgBouncer stops at nesting level 10 (which is also how it ends a loop).
- Values are typed with the setting table of the selected version (`pgbouncer_settings.py`):
  integers with strtol (base 0: `0777` is octal, `on`/`yes` are invalid), times as plain
  fractional seconds (strtod; any suffix such as `30s` is invalid), enums case-insensitively.
- A name is bare (letters, digits and `_.-*`) or, from PgBouncer 1.25 (libusual 6b7fc84, "Support
  quoted keys in config"), in single quotes (`'my db' = ...`: any characters but a quote, at least
  one); never in double quotes. Earlier versions refuse a quoted name with a syntax error.
- `[databases]`/`[users]`/`[peers]` values are connection strings (`key=value` separated by
  spaces, `'quoted'` with `''` for a quote) parsed into their keys, each with its own span;
  `password` is secret. `*` (the fallback database) is read the same way, although PgBouncer
  only parses it when a client connects.
- The auth file (`auth_file`, userlist.txt) is read only when it is among the files given to
  check, and only the kind of each user's secret is kept (advisor.loaders.auth_file).
- A file without a `[pgbouncer]` section is an include fragment: its keys are read in the
  section they appear in (a fragment without any header is read as `[pgbouncer]` keys) and no
  "main section missing" error is raised.

The effective model (`doc.model`, a `PgBouncerModel`) holds every `[pgbouncer]` setting of the
version, from the file or from the version's default, plus the databases, users and peers.
"""

from __future__ import annotations

import os
import re
from typing import Any

from advisor import lazy_re
from advisor.loaders.ansible_vars import rendered_text
from advisor.loaders.directives import read_comment
from advisor.catalogs.pgbouncer import (
    BY_NAME, DATABASE_KEYS, ENUM, INT, NEWEST, PARAMS, PEER_KEYS, RESERVED_DATABASES, SECTIONS, TIME,
    UINT, USER_KEYS, Param, Version, parse_version, suggest,
)
from advisor.loaders.source import InputError, inside_checked_tree, read_text
from advisor.loaders.template import (
    is_sed_template, is_template, looks_like_caps_placeholder, looks_like_sed_target, placeholders,
)
from advisor.model import ConfigDoc, Diagnostic, Record, Setting, Span, Unknown, is_known
from advisor.model.pgbouncer import Entry, PgBouncerModel, ini_fix, tls_protocol_words_refused, version_text
from advisor.units import (
    pgb_atoi, pgb_parse_int, pgb_parse_time, pgb_parse_uint, pgb_unit_suffix,
)

MAX_INCLUDE = 10
KIND_UNKNOWN = "pgbouncer-unknown-key"
KIND_INVALID = "pgbouncer-invalid-value"
KIND_UNIT = "pgbouncer-unit-suffix"
KIND_RESET = "pgbouncer-section-reset"
KIND_COMMENT = "pgbouncer-inline-comment"
KIND_HBA = "pgbouncer-hba-file"

_TAG_CHAR = "\ue000"  # stands in for each character of a template expression
_KEY_CHARS = lazy_re.compile(r"[A-Za-z0-9_.\-*]*")
QUOTED_NAMES: Version = (1, 25)  # the first release whose libusual reads a name in single quotes
_SPACE = " \t\n\v\f\r"
_BOOL_WORDS = {"on": "1", "off": "0", "true": "1", "false": "0", "yes": "1", "no": "0", "t": "1", "f": "0",
               "y": "1", "n": "0"}
_SHELL_VAR = lazy_re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
_TRAILING_COMMENT = lazy_re.compile(r"^(.*?\S)?\s+([;#].*)$")
# a Go (Helm) template expression names $variables or .fields; its quote and toJson write double
# quotes (sprig); Jinja's tojson/to_json write JSON (double quotes), its quote (Ansible's) shell quoting
# (a file is a Go template when an expression names .Values, .Release, $variables or `.` alone)
_GO_TEMPLATE = lazy_re.compile(r"{{-?\s*(?:[$.]|include\s|printf\s|s?quote\s|toJson\s)|\.Values\.|\.Release\.")
_DOUBLE_QUOTING_GO = lazy_re.compile(r"\|\s*(?:quote|toJson|toRawJson|toPrettyJson)\b|"
                                     r"{{-?\s*(?:quote|toJson)\s|printf\s+\"%q\"")
_DOUBLE_QUOTING_JINJA = lazy_re.compile(r"\|\s*(?:tojson|to_json|to_nice_json)\b")
_SINGLE_QUOTING_GO = lazy_re.compile(r"\|\s*squote\b|{{-?\s*squote\s")  # sprig's squote: 'bob'


# ------------------------------------------------------------------------------------------------
# reading lines


class _Item(Record):
    __slots__ = ("kind", "name", "value", "raw", "span", "value_span", "template", "value_col", "line_text")

    def __init__(self, kind: str, name: str, value: str, raw: str, span: Span, value_span: Span | None, template: bool,
                 value_col: int = 0, line_text: str = "") -> None:
        self.kind = kind  # "section" or "key"
        self.name = name
        self.value = value
        self.raw = raw
        self.span = span
        self.value_span = value_span
        self.template = template
        self.value_col = value_col  # 0-based column of the value in the line (for connection-string spans)
        self.line_text = line_text


class _Reader:
    def __init__(self, doc: ConfigDoc, cwd: str, options: dict | None = None, version: Version = NEWEST) -> None:
        self.doc = doc
        self.version = version
        self.cwd = cwd
        self.options = options or {}
        self.items: list[_Item] = []
        self._go_template = False

    def parse_file(self, path: str, level: int, stack: tuple[str, ...], text: str | None = None) -> None:
        if text is None:
            text = read_text(path)
        self.doc.files.append(path)
        template = self.doc.template or is_template(path, text)
        self._go_template = template and bool(_GO_TEMPLATE.search(text))
        real = os.path.realpath(path)
        for lineno, original in enumerate(text.split("\n"), start=1):
            line = original
            if template:
                line = self._mask(original)
            self._parse_line(path, lineno, original, line, template, level, stack + (real,))

    @staticmethod
    def _mask(line: str) -> str:
        """Template statements become blanks; expressions become private characters (same width)."""
        tags = placeholders(line)
        if not tags:
            return line
        out = list(line)
        for start, end, expression in tags:
            for i in range(start, end):
                out[i] = _TAG_CHAR if expression else " "
        return "".join(out)

    def _parse_line(self, path, lineno, original, line, template, level, stack) -> None:
        n = len(line)
        pos = 0
        while True:
            while pos < n and line[pos] in _SPACE:
                pos += 1
            if pos >= n:
                return
            if line.startswith("%include", pos) and pos + 8 < n and line[pos + 8] in " \t":
                start = pos
                pos += 8
                while pos < n and line[pos] in " \t":
                    pos += 1
                value = line[pos:].rstrip(_SPACE)
                span = Span(path, lineno, start + 1, lineno, pos + len(value) + 1)
                vspan = Span(path, lineno, pos + 1, lineno, pos + len(value) + 1)
                self._include(original[pos:pos + len(value)], value, span, vspan, level, stack, template)
                return
            ch = line[pos]
            if ch in "#;":
                read_comment(self.doc, original[pos + 1:], Span(path, lineno, pos + 1, lineno, n + 1), trailing=False)
                return
            if ch == "[":
                close = line.find("]", pos + 1)
                if close < 0:
                    self.doc.diagnostics.append(Diagnostic(
                        "syntax-error", Span(path, lineno, pos + 1),
                        "syntax error in configuration: section header without ']'; PgBouncer refuses to start",
                        f"close the header: [{line[pos + 1:].strip()}]"))
                    return
                name = line[pos + 1:close]
                self.items.append(_Item("section", name, "", original[pos:close + 1],
                                        Span(path, lineno, pos + 1, lineno, close + 2), None,
                                        _TAG_CHAR in name))
                pos = close + 1
                continue
            # key = value
            key_start = pos
            if line[pos] == "'":
                key = self._quoted_name(line, pos, path, lineno)
                if key is None:
                    return
                pos += len(key) + 2
            else:
                m = _KEY_CHARS.match(line, pos)
                pos = m.end()
                key = line[key_start:pos]
            while pos < n and line[pos] in " \t":
                pos += 1
            if template and (line.startswith(_TAG_CHAR, key_start) or line.startswith(_TAG_CHAR, pos)):
                # `<%= name %> = ...`: a generated line, its name is unknown
                self.items.append(_Item("opaque", "", "", original.strip(), Span(path, lineno, key_start + 1), None, True))
                if line.startswith(_TAG_CHAR, key_start):
                    self._quoted_template_key(original, path, lineno, key_start)
                return
            if pos >= n or line[pos] != "=":
                bad = line[key_start:].rstrip(_SPACE)
                fix = None
                if key and pos < n and line[pos] in ":":
                    fix = f"{key} = {line[pos + 1:].strip()}"
                elif key and pos >= n:
                    fix = f"give {key} a value ({key} = ...), or comment the line out with ;"
                elif key:
                    fix = f"{key} = {line[pos:].strip()}"
                self.doc.diagnostics.append(Diagnostic(
                    "syntax-error", Span(path, lineno, pos + 1),
                    f'syntax error in configuration: expected "=" after "{key}"; PgBouncer refuses to start' if key else
                    f'syntax error in configuration near "{bad[:40]}"; PgBouncer refuses to start', fix))
                return
            pos += 1
            while pos < n and line[pos] in " \t":
                pos += 1
            value = line[pos:].rstrip(_SPACE)
            raw = original[pos:pos + len(value)]
            end = pos + len(value)
            self.items.append(_Item(
                "key", key, value, raw, Span(path, lineno, key_start + 1, lineno, max(end, pos) + 1),
                Span(path, lineno, pos + 1, lineno, end + 1), _TAG_CHAR in value, pos, original))
            return

    def _quoted_name(self, line: str, pos: int, path: str, lineno: int) -> str | None:
        """The name in single quotes at `pos` (PgBouncer 1.25 and later), or None after reporting
        why PgBouncer refuses the line."""
        close = line.find("'", pos + 1)
        problem = None
        if self.version < QUOTED_NAMES:
            problem = (f"a name in single quotes, which PgBouncer reads only from 1.25 (this is checked as "
                       f"{version_text(self.version)})")
            fix = "write the name bare (letters, digits and _.-*), or check the file as PgBouncer 1.25 or later"
        elif close < 0:
            # (libusual reads on past the line end to the next quote: a name with a line break in it)
            problem, fix = "a name in single quotes without its closing quote", "close the quote"
        elif close == pos + 1:
            problem, fix = "an empty name ('')", "name it"
        if problem is None:
            return line[pos + 1:close]
        self.doc.diagnostics.append(Diagnostic(
            "syntax-error", Span(path, lineno, pos + 1, lineno, (close if close > pos else len(line.rstrip(_SPACE)) - 1) + 2),
            f"syntax error in configuration: {problem}; PgBouncer refuses to start", fix))
        return None

    def _quoted_template_key(self, original: str, path: str, lineno: int, start: int) -> None:
        """A key a template writes in quotes PgBouncer's parser (lib/usual/cfparser.c) does not take
        (it reads a bare name, and from 1.25 one in single quotes, never double), so every rendered line
        stops it with `syntax error in configuration`: double quotes (Helm's `{{ $user.name | quote }}`,
        `toJson`; Jinja's `tojson`) always, single quotes (Helm's `squote`) before PgBouncer 1.25."""
        tag = next(((a, b) for a, b, expression in placeholders(original) if a == start and expression), None)
        if tag is None:
            return
        text = original[tag[0]:tag[1]]
        m = (_DOUBLE_QUOTING_GO if self._go_template else _DOUBLE_QUOTING_JINJA).search(text)
        quotes = "double quotes (\"bob\" = ...), which PgBouncer's parser does not take"
        if m is None and self._go_template and self.version < QUOTED_NAMES:
            m = _SINGLE_QUOTING_GO.search(text)
            quotes = (f"single quotes ('bob' = ...), which PgBouncer reads only from 1.25 (this is checked as "
                      f"{version_text(self.version)})")
        if m is None:
            return
        unquoted = None
        if m.group(0).lstrip().startswith("|"):
            # the pipeline without that filter (`{{ $user.name | quote }}` -> `{{ $user.name }}`)
            unquoted = re.sub(r"\s+}}$", " }}", text[:m.start()].rstrip() + " " + text[m.end():].lstrip())
        self.doc.diagnostics.append(Diagnostic(
            "syntax-error", Span(path, lineno, tag[0] + 1, lineno, tag[1] + 1),
            f"{text} writes the key in {quotes}: it refuses to start with 'syntax error in configuration' "
            "wherever the line is rendered",
            (f"{unquoted}" if unquoted else "write the name bare")
            + " (PgBouncer reads names of letters, digits and _.-* bare; other names need single quotes, which "
              "PgBouncer reads from 1.25)"))

    def _unresolved(self, value: str, vspan: Span, why: str) -> None:
        """An include made where the file is deployed: a notice of what pgpath did not read (listed
        with every report), not a finding."""
        self.doc.meta.setdefault("unresolved_includes", []).append(dict(
            vspan.to_dict(), message=f"%include {value}: {why}; not read, so the settings it holds are unknown; "
                                     "PgBouncer does not start where it is missing"))

    def _include(self, raw: str, value: str, span: Span, vspan: Span, level: int, stack, template: bool) -> None:
        if _TAG_CHAR in value or (template and _SHELL_VAR.search(value)):
            self._unresolved(raw, vspan, "a template placeholder, known only where the template is rendered")
            self.items.append(_Item("opaque", "", "", raw, span, None, True))
            return
        if level >= MAX_INCLUDE:
            self.doc.diagnostics.append(Diagnostic(
                "include-error", vspan,
                f"include nesting level too deep ({MAX_INCLUDE}) at %include {raw}; PgBouncer refuses to start",
                "include files at most 10 levels deep, and never a file that includes itself"))
            return
        target = value if os.path.isabs(value) else os.path.join(self.cwd, value)
        real = os.path.realpath(target)
        if real in stack:
            chain = " -> ".join(os.path.basename(p) for p in stack + (real,))
            self.doc.diagnostics.append(Diagnostic(
                "include-error", vspan,
                f"include loop: {chain}; PgBouncer follows it until nesting level {MAX_INCLUDE} and refuses to start",
                "remove the %include that leads back to a file already being read"))
            return
        if not os.path.isfile(target) and (template or self.doc.meta.get("sed_template")
                                           or not inside_checked_tree(target, self.doc.path, self.options)):
            # a template's include, or a path outside what was checked: made at deploy time
            self.items.append(_Item("opaque", "", "", raw, span, None, True))
            self._unresolved(value, vspan, "in a template, whose includes exist only where it is rendered"
                             if template or self.doc.meta.get("sed_template")
                             else "outside the files given to check (made at deploy time?)")
            return
        if not os.path.isfile(target):
            self.items.append(_Item("opaque", "", "", raw, span, None, False))
            where = "" if os.path.isabs(value) else (
                " (relative paths are resolved against PgBouncer's working directory, not the ini's folder)")
            self.doc.diagnostics.append(Diagnostic(
                "include-error", vspan,
                f'could not load file "{value}": No such file or directory{where}; PgBouncer refuses to start',
                "create the file or fix the path; use an absolute path in %include" if not os.path.isabs(value)
                else "create the file or fix the path"))
            return
        try:
            text = read_text(target)
        except InputError as exc:
            self.doc.diagnostics.append(Diagnostic("include-error", vspan, f"cannot include {value}: {exc.message}; PgBouncer refuses to start"))
            return
        self.parse_file(target, level + 1, stack, text)


# ------------------------------------------------------------------------------------------------
def _fixed(kind: str, span: Span, message: str, fix: tuple[str, tuple], related=(), severity=None) -> Diagnostic:
    """A Diagnostic whose fix is ini_fix()'s (text, parts)."""
    return Diagnostic(kind, span, message, fix[0], tuple(related), severity, fix_parts=fix[1])


# typing


class _Typer:
    def __init__(self, doc: ConfigDoc, version: Version, template: bool) -> None:
        self.doc = doc
        self.version = version
        self.vtext = version_text(version)
        self.template = template

    def diag(self, kind: str, span: Span, message: str, fix: str | tuple | None = None, related=()) -> None:
        """`fix`: text, or ini_fix()'s (text, parts) for a fix of settings."""
        fix, parts = fix if isinstance(fix, tuple) else (fix, ())
        self.doc.diagnostics.append(Diagnostic(kind, span, message, fix, tuple(related), fix_parts=parts))

    def is_placeholder(self, item_template: bool, value: str) -> bool:
        if item_template or _TAG_CHAR in value:
            return True
        if self.template and (_SHELL_VAR.search(value) or looks_like_caps_placeholder(value)):
            return True
        # a file that a deploy script fills in with sed (`default_pool_size = DEFAULT_POOL_SIZE`)
        if self.doc.meta.get("sed_template") and looks_like_sed_target(value.strip("'\"")):
            return True
        return False

    # -- [pgbouncer] -------------------------------------------------------------------------

    def setting(self, item: _Item, section: str) -> Setting:
        param = BY_NAME.get(item.name)
        if param is None or not param.known_in(self.version):
            self.unknown_key(item, param)
            value: Any = Unknown(item.raw) if self.is_placeholder(item.template, item.value) else item.value
            return Setting(item.name, item.raw, value, item.span, item.value_span, None, section=section)
        if self.is_placeholder(item.template, item.value):
            value = Unknown(item.raw)
        else:
            value = self.typed(param, item)
        return Setting(param.name, item.raw, value, item.span, item.value_span, param.unit, section=section,
                       secret=param.secret, applies="restart" if param.restart else "reload")

    def unknown_key(self, item: _Item, param: Param | None) -> None:
        if param is not None:
            when = (f"added in {version_text(param.since)}" if self.version < param.since
                    else f"removed in {version_text(param.until)}")
            self.diag(KIND_UNKNOWN, item.span,
                      f'unknown parameter "{item.name}" in PgBouncer {self.vtext} ({when}); PgBouncer refuses to start',
                      ini_fix(("remove", item.name, "remove the line"),
                              ", or lint for the PgBouncer version you run (--pgbouncer-version)"))
            return
        if item.name == "":
            self.diag(KIND_UNKNOWN, item.span, "a setting without a name; PgBouncer refuses to start",
                      "write name = value, or comment the line out with ;")
            return
        hint = suggest(item.name, self.version, None, len(self.doc.diagnostics))
        if hint and hint.lower() == item.name.lower():
            message = f'unknown parameter "{item.name}": PgBouncer keys are case-sensitive; PgBouncer refuses to start'
        else:
            message = f'unknown parameter "{item.name}" (PgBouncer {self.vtext}); PgBouncer refuses to start'
        fix = (ini_fix(f"did you mean {hint}? (", ("set", ((hint, item.raw),)), ")") if hint else
               ini_fix(("remove", item.name, "remove the line"), ", or check the name for a typo"))
        self.diag(KIND_UNKNOWN, item.span, message, fix)

    def typed(self, param: Param, item: _Item) -> Any:
        text = item.value
        if param.type == INT or param.type == UINT:
            value = pgb_parse_int(text) if param.type == INT else pgb_parse_uint(text)
            if value is None:
                self.invalid_number(param, item, "an integer")
            return value
        if param.type == TIME:
            value = pgb_parse_time(text)
            if value is None:
                self.invalid_number(param, item, "a number of seconds")
            return value
        if param.type == ENUM:
            for choice in param.choices:
                if choice.lower() == text.lower():
                    return choice
            fix = None
            m = _TRAILING_COMMENT.match(text)
            if m and m.group(1) and m.group(1).lower() in param.choices:
                fix = ini_fix(("set", ((param.name, m.group(1).lower()),)),
                              ("ini", "  (and put the comment on a line of its own, starting with ;)"))
            self.diag(KIND_INVALID, item.value_span,
                      f'invalid value "{text}" for parameter {param.name} (one of {", ".join(param.choices)}); '
                      "PgBouncer refuses to start", fix or f"use one of: {', '.join(param.choices)}")
            return None
        # strings
        m = _TRAILING_COMMENT.match(text)
        if m and m.group(1):
            self.diag(KIND_COMMENT, item.value_span,
                      f"{param.name} is \"{'***' if param.secret else text}\": PgBouncer reads ';' and '#' as comments "
                      "only at the start of a line, so the comment is part of the value",
                      ini_fix(("set", ((param.name, '***' if param.secret else m.group(1)),)),
                              ("ini", "  (and put the comment on a line of its own)")))
        return text

    def invalid_number(self, param: Param, item: _Item, what: str) -> None:
        text = item.value
        span = item.value_span
        suffix = pgb_unit_suffix(text, param.unit)
        if suffix is not None:
            number, unit_text = suffix
            unit = param.unit
            shown = ("%g" % number) if unit != "s" or param.type == TIME else str(int(round(number)))
            if param.type != TIME:
                shown = str(int(round(number)))
            unit_name = {"s": "seconds", "ms": "milliseconds", "B": "bytes"}.get(unit or "", unit or "")
            self.diag(KIND_UNIT, span,
                      f'{param.name} = {text}: PgBouncer takes a plain number of {unit_name} with no unit suffix, '
                      f'"{unit_text}" makes the value invalid and PgBouncer refuses to start',
                      ini_fix(("set", ((param.name, shown),))))
            return
        low = text.strip().lower()
        if param.type in (INT, UINT) and low in _BOOL_WORDS:
            self.diag(KIND_INVALID, span,
                      f'invalid value "{text}" for parameter {param.name}: PgBouncer reads it with strtol, '
                      "only numbers (1 or 0) are accepted; PgBouncer refuses to start",
                      ini_fix(("set", ((param.name, _BOOL_WORDS[low]),))))
            return
        m = _TRAILING_COMMENT.match(text)
        if m and m.group(1):
            head = m.group(1)
            ok = (pgb_parse_time(head) if param.type == TIME else pgb_parse_int(head)) is not None
            if ok:
                self.diag(KIND_INVALID, span,
                          f'invalid value "{text}" for parameter {param.name}: PgBouncer reads ";" and "#" as a '
                          "comment only at the start of a line; PgBouncer refuses to start",
                          ini_fix(("set", ((param.name, head),)),
                                  ("ini", "  (and put the comment on a line of its own, starting with ;)")))
                return
            head_suffix = pgb_unit_suffix(head, param.unit)
            if head_suffix is not None:
                number = head_suffix[0] if param.type == TIME else int(round(head_suffix[0]))
                self.diag(KIND_UNIT, span,
                          f'invalid value "{text}" for parameter {param.name}: PgBouncer takes a plain number '
                          f'with no unit suffix ("{head_suffix[1]}"), and ";" or "#" starts a comment only at the '
                          "start of a line; PgBouncer refuses to start",
                          ini_fix(("set", ((param.name, f"{number:g}"),)),
                                  ("ini", "  (and put the comment on a line of its own, starting with ;)")))
                return
        reason = ""
        if param.type == TIME:
            value_neg = pgb_parse_time(text.lstrip("-")) if text.strip().startswith("-") else None
            if value_neg is not None:
                reason = " (negative times are rejected)"
            elif text.strip().lower() in ("inf", "infinity", "nan"):
                reason = " (strtod reads it, but PgBouncer turns it into a meaningless number)"
        self.diag(KIND_INVALID, span,
                  f'invalid value "{text}" for parameter {param.name}: {what} is required{reason}; '
                  "PgBouncer refuses to start",
                  ini_fix(("set", ((param.name, param.default(self.version) or 0),)), "  (the default)")
                  if param.default(self.version) else f"write {what}")

    # -- connection strings ------------------------------------------------------------------

    def entry(self, item: _Item, section: str) -> Entry:
        keys = {"databases": DATABASE_KEYS, "users": USER_KEYS, "peers": PEER_KEYS}[section]
        entry = Entry(section, item.name, item.span)
        if item.template and _TAG_CHAR in item.value and not item.value.replace(_TAG_CHAR, "").strip():
            entry.unknown = True
            return entry
        if section == "databases" and item.name in RESERVED_DATABASES:
            self.diag(KIND_INVALID, item.span,
                      f'database name "{item.name}" is reserved (the admin console); PgBouncer refuses to start',
                      "rename the database entry")
        if section == "peers":
            pid = pgb_parse_int(item.name) if re.fullmatch(r"[0-9]+", item.name or "") else None
            if pid is None or not 1 <= pid <= 0xFFFF:
                self.diag(KIND_INVALID, item.span,
                          f'peer id "{item.name}" must be a number from 1 to 65535; PgBouncer refuses to start',
                          "name the peer by its peer_id, e.g. 1 = host=10.0.0.2")
        autodb = section == "databases" and item.name == "*"
        fails = ("PgBouncer starts, but every client that falls back to * fails" if autodb
                 else "PgBouncer refuses to start")
        pairs, error = parse_connstr(item.value)
        base_col = item.value_col
        lineno = item.span.line
        path = item.span.file
        for key, val, kstart, vstart, vend in pairs:
            key = _KEY_NAMES.get(key, key)  # (one string object per known key, not one per line)
            # the setting's spans are made from this position when asked for (see Setting): two
            # Span objects fewer per entry of a large [databases] section
            position = (path, lineno, base_col + kstart + 1, base_col + vstart + 1, base_col + vend + 1)
            raw = item.line_text[base_col + vstart:base_col + vend] if item.line_text else val
            spec = keys.get(key)
            secret = key == "password"
            if spec is None or self.version < spec[1]:
                known = [k for k, (_, since) in keys.items() if self.version >= since]
                hint = suggest(key, self.version, known, len(self.doc.diagnostics))
                when = f" (added in {version_text(spec[1])})" if spec else ""
                what = {"databases": "connection parameter", "users": "user parameter",
                        "peers": "peer parameter"}[section]
                self.diag(KIND_UNKNOWN, _name_span(position),
                          f'unrecognized {what} "{key}" for {item.name} in PgBouncer {self.vtext}{when}; {fails}',
                          f"did you mean {hint}?" if hint else f"remove {key}=... from the line")
                entry.params[key] = Setting(key, raw, Unknown(raw) if _TAG_CHAR in val else val, position, None,
                                            section=f"{section}.{item.name}", secret=secret)
                continue
            typ = spec[0]
            value: Any
            if self.is_placeholder(False, val):
                value = Unknown(raw)
                entry.unknown = entry.unknown or key in ("host", "port", "pool_size")
            elif typ in ("str", "secret"):
                value = val
            elif typ == "port":
                value = pgb_atoi(val)
                if value == 0:
                    self.diag(KIND_INVALID, _value_span(position), f'invalid port "{val}" for {item.name}; {fails}',
                              "port=5432")
                    value = None
            elif typ == "int":
                value = pgb_atoi(val)
                if not re.fullmatch(r"\s*[+-]?[0-9]+", val):
                    self.diag(KIND_INVALID, _value_span(position),
                              f'{key}={val} for {item.name} is read with atoi as {value}; PgBouncer starts, '
                              f"but the pool gets {key} {value}",
                              f"{key}={value if value else 'N'}  (a plain whole number)")
            else:  # enum
                choices = typ.split(":", 1)[1].split(",")
                value = next((c for c in choices if c.lower() == val.lower()), None)
                if value is None:
                    self.diag(KIND_INVALID, _value_span(position),
                              f'invalid {key} "{val}" for {item.name} (one of {", ".join(choices)}); {fails}',
                              f"{key}={choices[0]}")
            unit = "s" if key in ("server_lifetime", "client_idle_timeout", "query_timeout") else None
            entry.params[key] = Setting(key, raw, value, position, None, unit, section=f"{section}.{item.name}",
                                        secret=secret)
        if error is not None:
            col, message = error
            self.diag(KIND_INVALID, Span(path, lineno, base_col + col + 1),
                      f"syntax error in the connection string of {item.name}: {message}; {fails}",
                      "write key=value pairs separated by spaces; quote values with spaces as 'a b' ('' for a quote)")
        if section == "peers" and "host" not in entry.params and error is None:
            self.diag(KIND_INVALID, item.span, f"peer {item.name} has no host; PgBouncer refuses to start",
                      f"{item.name} = host=... port=6432")
        return entry


def _name_span(position: tuple) -> Span:
    file, line, name_col, _, end_col = position
    return Span(file, line, name_col, line, end_col)


def _value_span(position: tuple) -> Span:
    file, line, _, value_col, end_col = position
    return Span(file, line, value_col, line, end_col)


_KEY_NAMES = {k: k for keys in (DATABASE_KEYS, USER_KEYS, PEER_KEYS) for k in keys}


def parse_connstr(text: str) -> tuple[list[tuple[str, str, int, int, int]], tuple[int, str] | None]:
    """`key=value` pairs as src/loader.c reads them: (key, value, key start, value start, value end).

    The second element is (column, message) for the first syntax error, or None.
    """
    out: list[tuple[str, str, int, int, int]] = []
    i, n = 0, len(text)

    def skip(j: int) -> int:
        while j < n and text[j] in _SPACE:
            j += 1
        return j

    while True:
        i = skip(i)
        if i >= n:
            return out, None
        kstart = i
        while i < n and text[i] not in "= ":
            i += 1
        kend = i
        i = skip(i)
        if i >= n or text[i] != "=" or kend == kstart:
            return out, (kstart, f'expected key=value at "{mask_password(text[kstart:])[:30]}"')
        key = text[kstart:kend]
        i = skip(i + 1)
        vstart = i
        if i < n and text[i] == "'":
            j = i + 1
            chars: list[str] = []
            while True:
                if j >= n:
                    return out, (vstart, f"unterminated quoted value for {key}")
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        chars.append("'")
                        j += 2
                        continue
                    break
                chars.append(text[j])
                j += 1
            value = "".join(chars)
            vend = j + 1
            i = vend
            if i < n:
                i += 1  # the character after the closing quote is cut off, whatever it is
        else:
            while i < n and text[i] != " ":
                i += 1
            value = text[vstart:i]
            vend = i
            if i < n:
                i += 1
        if value == "":
            return out, (vstart, f"empty value for {key}")
        out.append((key, value, kstart, vstart, vend))


# ------------------------------------------------------------------------------------------------
# the document


def load(path: str, options: dict | None = None) -> ConfigDoc:
    """Read a pgbouncer.ini (and what it %includes) into a ConfigDoc with a PgBouncerModel."""
    options = options or {}
    text = read_text(path)
    doc = ConfigDoc(path=path, kind="pgbouncer")
    doc.template = is_template(path, text)
    text, rendered = rendered_text(path, text, options, doc.diagnostics)
    if rendered:
        doc.meta["ansible_rendered"] = {path: rendered}
    if not doc.template and is_sed_template(text):
        doc.meta["sed_template"] = True
    try:
        version = parse_version(options.get("pgbouncer_version"))
    except ValueError as exc:
        doc.diagnostics.append(Diagnostic(KIND_INVALID, Span(path), f"{exc}; linting for PgBouncer {version_text(NEWEST)}"))
        version = NEWEST
    doc.meta["pgbouncer_version"] = version_text(version)
    reader = _Reader(doc, options.get("pgbouncer_cwd") or os.getcwd(), options, version)
    reader.parse_file(path, 0, (), text)
    doc.model = build(doc, reader.items, version)
    check_hba_file(doc, doc.model, reader.cwd, options)
    read_auth_file(doc, doc.model, options)
    return doc


def read_auth_file(doc: ConfigDoc, model: PgBouncerModel, options: dict | None) -> None:
    """The auth_file's users and the kind of each one's secret (advisor.loaders.auth_file), when
    the file is among those given to check; never the secrets. A relative path is PgBouncer's
    working directory's business (pgbouncer_cwd when given), else the ini's folder."""
    from advisor.loaders import auth_file

    named = model.value("auth_file")
    if model.fragment or doc.template or doc.meta.get("sed_template") or not is_known(named) or not named:
        return
    found = auth_file.read(str(named), doc.path, (options or {}).get("pgbouncer_cwd"), options)
    if isinstance(found, str):  # the file is among those checked but cannot be read
        doc.diagnostics.append(Diagnostic(
            "include-error", model.span_of("auth_file") or Span(doc.path, 1, 1),
            f"auth_file {named}: cannot read {found}; its users and the kind of their secrets are not known "
            "(PGB022 not checked)", "point auth_file at the userlist.txt file (\"user\" \"secret\" lines)",
            severity="warning"))
        return
    model.auth_file = found
    if found is not None:
        doc.files.append(found.path)


def build(doc: ConfigDoc, items: list[_Item], version: Version) -> PgBouncerModel:
    """The model of what was read. `items` is consumed: each item is let go once built (a large
    file's items are not all held beside the settings made from them)."""
    typer = _Typer(doc, version, doc.template)
    has_main = any(i.kind == "section" and i.name == "pgbouncer" for i in items)
    has_section = any(i.kind == "section" for i in items)
    section: str | None = None if has_section else "pgbouncer"
    main_headers: list[_Item] = []
    entries: dict[str, list[Entry]] = {"databases": [], "users": [], "peers": []}
    opaque: list[Span] = []
    # the settings and entries read so far, by (section, name): a repeated name turns the earlier
    # ones ineffective without a scan of everything read before (20,000 [databases] entries were
    # quadratic: > 60 s)
    # (section -> name -> the last one read: only that one is still effective when the next comes)
    earlier_by_name: dict[str, dict[str, Setting]] = {}
    entry_by_name: dict[str, dict[str, Entry]] = {}
    main_effective: list[Setting] = []
    for i, item in enumerate(items):
        items[i] = None  # type: ignore[call-overload]
        if item.kind == "opaque":
            if section in (None, "pgbouncer"):
                opaque.append(item.span)
            continue
        if item.kind == "section":
            name = item.name
            if item.template:
                section = None
                continue
            since = SECTIONS.get(name)
            if since is None or version < since:
                extra = f" (added in {version_text(since)})" if since else ""
                hint = suggest(name, version, [s for s, v in SECTIONS.items() if version >= v], len(doc.diagnostics))
                doc.diagnostics.append(Diagnostic(
                    KIND_UNKNOWN, item.span,
                    f'invalid section "{name}" in PgBouncer {typer.vtext}{extra}; PgBouncer refuses to start',
                    f"did you mean [{hint}]?" if hint else "use [databases], [users], [peers] or [pgbouncer]"))
                section = None
                continue
            section = name
            if name == "pgbouncer":
                earlier = [s for s in main_effective if s.effective]
                main_effective = []
                if main_headers:
                    first = main_headers[0]
                    lost = ", ".join(s.name for s in earlier[:8]) + (", ..." if len(earlier) > 8 else "")
                    doc.diagnostics.append(Diagnostic(
                        KIND_RESET, item.span,
                        f"a second [pgbouncer] header (first at line {first.span.line}) resets every setting to its "
                        f"default: {len(earlier)} setting(s) read before it are lost" + (f" ({lost})" if earlier else ""),
                        "merge the two [pgbouncer] sections into one",
                        tuple([first.span] + [s.span for s in earlier[:20]])))
                for s in earlier:
                    s.effective = False
                main_headers.append(item)
            continue
        if section is None:
            if has_section:
                doc.diagnostics.append(Diagnostic(
                    "syntax-error", item.span,
                    f'"{item.name}" is outside any section (or in an invalid one); PgBouncer refuses to start',
                    "put it under [pgbouncer], [databases], [users] or [peers]"))
            continue
        if section == "pgbouncer":
            setting = typer.setting(item, "pgbouncer")
            names = earlier_by_name.setdefault("pgbouncer", {})
            old_setting = names.get(setting.name)
            if old_setting is not None:
                old_setting.effective = False
            names[setting.name] = setting
            doc.settings.append(setting)
            main_effective.append(setting)
            continue
        entry = typer.entry(item, section)
        same = entry_by_name.setdefault(section, {})
        old = same.get(entry.name)
        if old is not None and old.effective:
            old.effective = False
            if section == "databases" and "user" in old.params and "user" not in entry.params:
                entry.params["user"] = old.params["user"]  # "losing forced user not supported"
        entries[section].append(entry)
        same[entry.name] = entry
        display = _display_connstr(entry, item)
        doc.settings.append(Setting(item.name, display, Unknown(display) if entry.unknown else display,
                                    item.span, item.value_span, section=section))
        names = earlier_by_name.setdefault(section, {})
        old_setting = names.get(item.name)
        if old_setting is not None:
            old_setting.effective = False
        names[item.name] = doc.settings[-1]
        doc.settings.extend(entry.params.values())

    values: dict[str, Any] = dict(_typed_defaults(version))
    set_in_file: dict[str, Setting] = {}
    for s in doc.settings:
        if s.section == "pgbouncer" and s.effective and s.name in values:
            set_in_file[s.name] = s
            values[s.name] = s.value
    if opaque:
        # a template line or include that cannot be read may set anything: defaults are not known
        doc.meta["defaults_unknown_because"] = [sp.to_dict() for sp in opaque]
        for name in values:
            if name not in set_in_file:
                values[name] = Unknown(f"default, unless set at {opaque[0]}")
    model = PgBouncerModel(version, values, set_in_file, entries["databases"], entries["users"], entries["peers"],
                           fragment=not has_main, header=main_headers[-1].span if main_headers else None)
    _check_tls_protocols(doc, model)
    _check_tls_setup(doc, model)
    _check_socket_options(doc, model)
    return model


def check_hba_file(doc: ConfigDoc, model: PgBouncerModel, cwd: str, options: dict | None) -> None:
    """auth_type = hba needs a readable auth_hba_file: without one PgBouncer 1.18 starts, logs
    `could not open hba config file`, and rejects every login, the admin console's too
    (hba_eval with no rules: AUTH_REJECT). Checked against the real PgBouncer in
    tests/test_pgbouncer_parity.py. A path outside the checked tree may exist where PgBouncer runs:
    a warning that says so."""
    if model.fragment or model.value("auth_type") != "hba":
        return
    setting = model.setting("auth_type")
    hba = model.value("auth_hba_file")
    if isinstance(hba, Unknown) or (setting is not None and isinstance(setting.value, Unknown)):
        return
    span = (setting.value_span or setting.span) if setting is not None else (model.header or Span(doc.path, 1, 1))
    said = f"auth_type = {setting.raw}" if setting is not None else "auth_type = hba"
    outcome = ("PgBouncer starts, logs \"could not open hba config file\" and rejects every login (FATAL: login "
               "rejected), the admin console's too")
    hba_setting = model.setting("auth_hba_file")
    if not hba:
        doc.diagnostics.append(_fixed(
            KIND_HBA, span, f"{said} without auth_hba_file: {outcome}",
            ini_fix(("set", (("auth_hba_file", "/etc/pgbouncer/pg_hba.conf"),)),
                     " (rules in pg_hba.conf format), or another auth_type")))
        return
    # a relative path is PgBouncer's working directory's business; the ini's folder is accepted too
    candidates = [hba] if os.path.isabs(hba) else [os.path.join(cwd, hba), os.path.join(os.path.dirname(doc.path), hba)]
    if any(os.path.isfile(c) for c in candidates):
        return
    target = candidates[-1]
    where = hba_setting.value_span or hba_setting.span if hba_setting is not None else span
    if doc.template or doc.meta.get("sed_template"):
        return  # a template's files are installed where it is rendered: nothing to act on here
    if not inside_checked_tree(target, doc.path, options):
        doc.diagnostics.append(Diagnostic(
            KIND_HBA, where,
            f"{said} with auth_hba_file = {hba}: not found here, outside the files given to check; if it is not "
            f"readable where PgBouncer runs, {outcome}",
            "make sure the deploy installs it (readable by the pgbouncer user)", (span,), severity="warning"))
        return
    doc.diagnostics.append(Diagnostic(
        KIND_HBA, where, f"{said} with auth_hba_file = {hba}, which does not exist: {outcome}",
        "create the file or fix the path", (span,)))


# Linux limits for the socket options PgBouncer sets on every TCP socket (net/ipv4/tcp.c):
# TCP_KEEPIDLE and TCP_KEEPINTVL 1..32767 s, TCP_KEEPCNT up to 127, TCP_USER_TIMEOUT >= 0.
# Checked on PgBouncer 1.18: a value outside them makes tune_socket() fail with EINVAL, the TCP
# listener is not opened ("cannot listen on ...") and only the Unix socket serves.
_SOCKET_LIMITS = (("tcp_keepidle", 1, 32767, True), ("tcp_keepintvl", 1, 32767, True),
                  ("tcp_keepcnt", None, 127, True), ("tcp_user_timeout", 0, None, False))


def _check_socket_options(doc: ConfigDoc, model: PgBouncerModel) -> None:
    keepalive = model.value("tcp_keepalive")
    for name, low, high, needs_keepalive in _SOCKET_LIMITS:
        setting = model.setting(name)
        value = model.value(name)
        if setting is None or not is_known(value) or (needs_keepalive and keepalive == 0):
            continue
        if name in ("tcp_keepidle", "tcp_keepintvl") and value == 0:
            continue  # 0 = leave the OS default
        bad = (low is not None and value < low) or (high is not None and value > high)
        if bad:
            limit = f"{low if low is not None else 'up to'}..{high}" if high is not None else f">= {low}"
            limit = limit.replace("up to..", "at most ")
            doc.diagnostics.append(_fixed(
                KIND_INVALID, setting.value_span or setting.span,
                f"{name} = {value} is outside what Linux accepts ({limit}): setsockopt fails with EINVAL, so "
                "PgBouncer cannot listen on TCP (it starts and serves only its Unix socket)",
                ini_fix(("set", ((name, high if high is not None and value > high else (low or 0)),)))))


_TYPED_DEFAULTS: dict[Version, dict[str, Any]] = {}


def _typed_defaults(version: Version) -> dict[str, Any]:
    """Every setting of the version with its typed default, in catalog order (the caller copies it).

    Kept per version: the catalog (PARAMS) is constant and a typed default is an int, a float,
    a str or None, never changed in place, so typing the ~100 defaults once per version instead
    of once per file gives the same values (it was a fifth of this loader's time on small files).
    """
    found = _TYPED_DEFAULTS.get(version)
    if found is None:
        found = {param.name: _typed_default(param, param.default(version)) for param in PARAMS
                 if param.known_in(version)}
        _TYPED_DEFAULTS[version] = found
    return found


def _typed_default(param: Param, default: str | None) -> Any:
    if default is None:
        return None
    if param.type == INT:
        return pgb_parse_int(default)
    if param.type == UINT:
        return pgb_parse_uint(default)
    if param.type == TIME:
        return pgb_parse_time(default)
    return default


_PASSWORD = lazy_re.compile(r"(password\s*=\s*)('(?:[^']|'')*'?|\S*)")


def mask_password(text: str) -> str:
    """`host=a password=***`: every password value in a connection string hidden."""
    return _PASSWORD.sub(lambda m: m.group(1) + "***", text)


def _display_connstr(entry: Entry, item: _Item) -> str:
    """The connection string as written, with the password replaced by ***."""
    text = item.raw
    pw = entry.params.get("password")
    if pw is not None and pw.value_span is not None and item.line_text:
        a = pw.value_span.col - 1 - item.value_col
        b = pw.value_span.end_col - 1 - item.value_col
        text = text[:a] + "***" + text[b:]
    return mask_password(text) if "password" in text.replace("password=***", "") else text


def _check_tls_setup(doc: ConfigDoc, model: PgBouncerModel) -> None:
    """What sbuf_tls_setup() refuses before it reads any TLS file (1.18: "TLS setup failed", exit 1).

    In its order: client TLS on (any client_tls_sslmode but disable) without client_tls_key_file
    or client_tls_cert_file; auth_type = cert without client_tls_sslmode = verify-full or without
    client_tls_ca_file; client_tls_sslmode = verify-full without client_tls_ca_file. Checked
    against PgBouncer 1.18 in tests/test_pgbouncer_parity.py.
    """
    if model.fragment:
        return
    mode, auth = model.value("client_tls_sslmode"), model.value("auth_type")
    files = {name: model.value(f"client_tls_{name}") for name in ("key_file", "cert_file", "ca_file")}
    if not is_known(mode) or not is_known(auth) or any(isinstance(v, Unknown) for v in files.values()):
        return

    def said(name: str) -> str:
        setting = model.setting(name)
        return f"{name} = {setting.raw}" if setting is not None else f"{name} not set (default {model.value(name)})"

    def place(*names: str) -> tuple[Span, tuple[Span, ...]]:
        spans = [model.setting(n).value_span or model.setting(n).span for n in names if model.setting(n) is not None]
        if not spans:
            return model.header or Span(doc.path, 1, 1), ()
        spans.sort(key=lambda sp: (sp.file != doc.path, sp.file, sp.line or 0))
        return spans[-1], tuple(spans[:-1])

    refusal = ' PgBouncer logs the reason, then "TLS setup failed", and refuses to start'
    if mode != "disable":
        missing = [f"client_tls_{n}" for n in ("key_file", "cert_file") if not files[n]]
        if missing:
            span, related = place("client_tls_sslmode")
            doc.diagnostics.append(_fixed(
                KIND_INVALID, span,
                f"{said('client_tls_sslmode')} turns on TLS for clients, but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set:{refusal} (\"To allow TLS connections from "
                f"clients, client_tls_key_file and client_tls_cert_file must be set.\")",
                ini_fix(("set", (("client_tls_key_file", "/etc/pgbouncer/server.key"),
                                  ("client_tls_cert_file", "/etc/pgbouncer/server.crt"))),
                         " (or ", ("set", (("client_tls_sslmode", "disable"),)), ")"), related))
            return
    if auth == "cert":
        if mode != "verify-full":
            span, related = place("auth_type", "client_tls_sslmode")
            doc.diagnostics.append(_fixed(
                KIND_INVALID, span,
                f"auth_type = cert with {said('client_tls_sslmode')}: client certificates are only checked with "
                f"verify-full;{refusal} (\"auth_type=cert requires client_tls_sslmode=SSLMODE_VERIFY_FULL\")",
                ini_fix(("set", (("client_tls_sslmode", "verify-full"),)),
                         " (with client_tls_ca_file, client_tls_key_file, client_tls_cert_file)"), related))
        elif not files["ca_file"]:
            span, related = place("auth_type", "client_tls_sslmode")
            doc.diagnostics.append(_fixed(
                KIND_INVALID, span,
                f"auth_type = cert without client_tls_ca_file (the CA that signs client certificates):{refusal} "
                "(\"auth_type=cert requires client_tls_ca_file\")",
                ini_fix(("set", (("client_tls_ca_file", "/etc/pgbouncer/client-ca.crt"),))), related))
    elif mode == "verify-full" and not files["ca_file"]:
        span, related = place("client_tls_sslmode")
        doc.diagnostics.append(_fixed(
            KIND_INVALID, span,
            f"client_tls_sslmode = verify-full without client_tls_ca_file (the CA that signs client certificates):"
            f"{refusal} (\"client_tls_sslmode requires client_tls_ca_file\")",
            ini_fix(("set", (("client_tls_ca_file", "/etc/pgbouncer/client-ca.crt"),)),
                     " (or ", ("set", (("client_tls_sslmode", "require"),)), ")"), related))


def _check_tls_protocols(doc: ConfigDoc, model: PgBouncerModel) -> None:
    """`*_tls_protocols` are parsed when that side's TLS is set up (sslmode other than disable)."""
    for side in ("client", "server"):
        setting = model.setting(f"{side}_tls_protocols")
        mode = model.value(f"{side}_tls_sslmode")
        if setting is None or not isinstance(setting.value, str) or mode in (None, "disable") or not is_known(mode):
            continue
        # as libusual's tls_config_parse_protocols reads it (advisor.model.pgbouncer.tls_protocol_versions)
        bad = tls_protocol_words_refused(setting.value, model.version)
        if bad:
            legacy = any(w.lstrip("!").lower() == "legacy" for w in bad)
            doc.diagnostics.append(_fixed(
                KIND_INVALID, setting.value_span or setting.span,
                f'invalid {side}_tls_protocols "{setting.value}" ({side}_tls_sslmode = {mode}): '
                f"unknown {', '.join(bad)}"
                + (" (legacy was dropped in PgBouncer 1.21)" if legacy else "")
                + "; words are separated by commas (a blank after a word makes it unknown); PgBouncer says "
                  "\"TLS setup failed\" and refuses to start",
                ini_fix(("set", ((f"{side}_tls_protocols", "secure"),)))))
