"""SQL files (migrations, init scripts): the settings of `ALTER SYSTEM`, `ALTER DATABASE` and
`ALTER ROLE/USER ... SET`, read with PostgreSQL's own grammar (pglast, imported only here).

- `ALTER SYSTEM SET name = value | TO value | = DEFAULT`, `ALTER SYSTEM RESET name | ALL`;
- `ALTER DATABASE db SET ...` / `RESET ...`;
- `ALTER ROLE|USER name [IN DATABASE db] SET ...` / `RESET ...`, `ALTER ROLE ALL ...`.

Each becomes a `Setting` of a document of kind `sql` whose `section` is `system`,
`database:<db>`, `role:<name>` or `role:<name>@database:<db>` (advisor.model.sql). Values are
flattened as PostgreSQL does for these statements (`flatten_set_variable_args`: a list of values
is joined with `, `) and typed with the catalog exactly as postgresql.conf values are
(`postgresql_conf.parse_value`): an unknown name, an invalid value or one out of range is the
same diagnostic (PG001/PG002/PG003) at the value's line and column. `RESET` and `SET ... TO
DEFAULT` are kept as not-effective occurrences with the raw text `DEFAULT`; every earlier
occurrence of the name in that section is then not effective either.

psql scripts: a line whose first non-blank character is a backslash (`\\set`, `\\connect`, `\\if`)
is a meta-command and is read as blank; psql variables (`:name`, `:'name'`, `:"name"`) are read
as an unknown identifier or value of the same width (a role named `:"PGUSER"` keeps that name; a
value that is a variable is `Unknown`). Templates (Jinja, ERB) are masked the same way.

A statement pglast cannot parse is a `syntax-error` at PostgreSQL's error position; the other
statements of the file are still read (each is parsed on its own).
"""

from __future__ import annotations

import re

from advisor import lazy_re
from advisor.catalog import DEFAULT_MAJOR, Catalog, load_catalog
from advisor.loaders.source import read_text
from advisor.loaders.template import is_template
from advisor.model import ConfigDoc, Diagnostic, Setting, Span, Unknown
from advisor.model.sql import ALL_ROLES, RESET_RAW, SYSTEM, database_section, role_section

MAX_SYNTAX_ERRORS = 20

_PSQL_VAR = lazy_re.compile(r"(?<![:\w]):(?:'[A-Za-z_][A-Za-z0-9_]*'|\"[A-Za-z_][A-Za-z0-9_]*\"|[A-Za-z_][A-Za-z0-9_]*)")
_TEMPLATE = lazy_re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>", re.DOTALL)
_DOLLAR_TAG = lazy_re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
def mask_script(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text with psql meta-command lines blanked and psql variables / template tags made
    harmless (same offsets); the (start, end) of each variable or tag."""
    out = list(text)
    unknown: list[tuple[int, int]] = []
    n = len(text)
    i = 0
    line_start = True
    while i < n:
        ch = text[i]
        if ch == "\n":
            line_start = True
            i += 1
            continue
        if line_start and ch in " \t\r":
            i += 1
            continue
        if line_start and ch == "\\":  # a psql meta-command: up to the end of the line
            end = text.find("\n", i)
            end = n if end < 0 else end
            for j in range(i, end):
                out[j] = " "
            i = end
            continue
        line_start = False
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch in "'\"":
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                if ch == "'" and text[j] == "\\" and i > 0 and text[i - 1] in "eE":
                    j += 2
                    continue
                j += 1
            i = j + 1
            continue
        if ch == "$":
            m = _DOLLAR_TAG.match(text, i)
            if m and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
                end = text.find(m.group(), m.end())
                i = n if end < 0 else end + len(m.group())
                continue
        if ch == ":":
            m = _PSQL_VAR.match(text, i)
            if m and not (i > 0 and text[i - 1] == ":"):
                out[i] = " "
                unknown.append((i + 1, m.end()))
                i = m.end()
                continue
        if ch in "{<":
            m = _TEMPLATE.match(text, i)
            if m:
                tag = m.group()
                body = "x" * (len(tag) - 2)
                replacement = "'" + body + "'" if len(tag) >= 2 else " " * len(tag)
                for j, c in enumerate(replacement):
                    out[i + j] = "\n" if tag[j] == "\n" else c
                unknown.append((i, m.end()))
                i = m.end()
                continue
        i += 1
    return "".join(out), unknown


class _Lines:
    """Offsets (characters) to 1-based line and column."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for m in re.finditer("\n", text):
            self.starts.append(m.end())

    def at(self, offset: int) -> tuple[int, int]:
        import bisect

        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def _split_statements(masked: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level statement, split at `;` tokens of PostgreSQL's scanner."""
    from pglast.parser import scan

    try:
        tokens = scan(masked)
    except Exception:  # noqa: BLE001 - pglast raises its own errors for unterminated literals
        return [(0, len(masked))]
    out = []
    start = 0
    for tok in tokens:
        if tok.name == "ASCII_59":
            out.append((start, tok.start))
            start = tok.end + 1
    out.append((start, len(masked)))
    return [(a, b) for a, b in out if masked[a:b].strip()]


def load(path: str, options: dict | None = None) -> ConfigDoc:
    options = options or {}
    catalog: Catalog = options.get("catalog") or load_catalog(options.get("pg_major") or DEFAULT_MAJOR)
    text = read_text(path)
    doc = ConfigDoc(path=path, kind="sql")
    doc.files.append(path)
    doc.template = is_template(path, text)
    doc.meta["pg_version"] = catalog.major
    load_text(doc, path, text, catalog)
    return doc


def load_text(doc: ConfigDoc, path: str, text: str, catalog: Catalog) -> None:
    """Read the settings of SQL text into `doc` (kind `sql`)."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    masked, unknown = mask_script(text)
    lines = _Lines(text)
    reader = _StatementReader(doc, path, text, masked, lines, unknown, catalog)
    try:
        statements = [(raw.stmt_location, raw.stmt_location + (raw.stmt_len or len(masked) - raw.stmt_location),
                       raw.stmt) for raw in parse_sql(masked)]
    except ParseError as exc:
        statements = []
        errors = 0
        for start, end in _split_statements(masked):
            try:
                parsed = parse_sql(masked[start:end])
            except ParseError as inner:
                errors += 1
                if errors <= MAX_SYNTAX_ERRORS:
                    reader.syntax_error(inner, start)
                continue
            except RecursionError:
                continue
            for raw in parsed:
                s = start + raw.stmt_location
                statements.append((s, s + (raw.stmt_len or end - s), raw.stmt))
        if not errors:  # the split parsed: report the first error where the whole file failed
            reader.syntax_error(exc, 0)
    except RecursionError:
        doc.diagnostics.append(Diagnostic("syntax-error", Span(path, 1, 1), "SQL nested too deeply to read"))
        return
    for start, end, stmt in statements:
        reader.statement(stmt, start, end)
    reader.finish()


class _StatementReader:
    def __init__(self, doc: ConfigDoc, path: str, text: str, masked: str, lines: _Lines,
                 unknown: list[tuple[int, int]], catalog: Catalog) -> None:
        self.doc = doc
        self.path = path
        self.text = text
        self.masked = masked
        self.lines = lines
        self.unknown = unknown
        self.catalog = catalog

    def span(self, start: int, end: int) -> Span:
        line, col = self.lines.at(start)
        end_line, end_col = self.lines.at(max(start, end))
        return Span(self.path, line, col, end_line, end_col)

    def syntax_error(self, exc, offset: int) -> None:
        message = exc.args[0] if exc.args else "syntax error"
        location = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        at = min(offset + location, len(self.text))
        line, col = self.lines.at(at)
        self.doc.diagnostics.append(Diagnostic(
            "syntax-error", Span(self.path, line, col),
            f"SQL {message} (PostgreSQL's parser rejects the statement; its settings are not read)",
            "correct the statement (psql meta-commands must start their own line)"))

    def is_unknown(self, start: int, end: int) -> bool:
        return any(a < end and start < b for a, b in self.unknown)

    # --------------------------------------------------------------------------------------------

    def statement(self, stmt, start: int, end: int) -> None:
        kind = type(stmt).__name__
        if kind == "AlterSystemStmt":
            self.set_stmt(stmt.setstmt, SYSTEM, start, end)
        elif kind == "AlterDatabaseSetStmt":
            self.set_stmt(stmt.setstmt, database_section(stmt.dbname), start, end)
        elif kind == "AlterRoleSetStmt":
            role = self.role_name(stmt.role, start, end)
            database = getattr(stmt, "database", None)
            if role == ALL_ROLES and database:
                section = database_section(database)  # stored like ALTER DATABASE ... SET
            else:
                section = role_section(role, database)
            self.set_stmt(stmt.setstmt, section, start, end)

    def role_name(self, spec, start: int, end: int) -> str:
        if spec is None:
            return ALL_ROLES
        name = getattr(spec, "rolename", None)
        if name:
            # a psql variable (`:"PGUSER"`) keeps its written form
            m = re.search(r"\b(?:role|user)\s+", self.masked[start:end], re.IGNORECASE)
            if m:
                at = start + m.end()
                for a, b in self.unknown:
                    if a == at:
                        return self.text[a - 1:b] if self.text[a - 1:a] == ":" else self.text[a:b]
            return name
        roletype = getattr(getattr(spec, "roletype", None), "name", "")
        for word in ("CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"):
            if word in roletype:
                return word
        return "?"

    def set_stmt(self, setstmt, section: str, start: int, end: int) -> None:
        if setstmt is None:
            return
        kind = getattr(setstmt.kind, "name", str(setstmt.kind))
        name = setstmt.name
        chunk = self.masked[start:end]
        if "RESET_ALL" in kind:
            self.doc.meta.setdefault("reset_all", []).append({"section": section, "before": len(self.doc.settings)})
            for s in self.doc.settings:
                if s.section == section:
                    s.effective = False
            return
        if not name:
            return
        name_at = self.find_name(chunk, name)
        name_start = start + name_at if name_at is not None else start
        if "VAR_SET_VALUE" not in kind:  # RESET name, SET name TO DEFAULT
            param = self.catalog.lookup(name)
            canonical = param.name if param else name.lower()
            setting = Setting(canonical, RESET_RAW, None, self.span(name_start, end), self.span(name_start, end),
                              section=section, effective=False, spelling=name)
            self.retire(canonical, section)
            self.doc.settings.append(setting)
            return
        value_start = self.value_start(chunk, name_at, len(name))
        vstart = start + value_start
        vend = start + len(chunk.rstrip())
        args = setstmt.args or ()
        parts = [self.flatten(a) for a in args]
        if any(p is None for p in parts):
            flat = None
        else:
            flat = ", ".join(parts)
        unknown = self.is_unknown(vstart, vend)
        raw = self.text[vstart:vend].strip() or (flat or "")
        param = self.catalog.lookup(name)
        canonical = param.name if param else name.lower()
        setting = Setting(canonical, raw, None, self.span(name_start, vend), self.span(vstart, vend),
                          param.unit if param else None, section, True, False,
                          param.needs if param else None, name)
        if unknown or flat is None:
            setting.value = Unknown(raw)
            self.retire(canonical, section)
            self.doc.settings.append(setting)
            return
        before = len(self.doc.diagnostics)
        self.type_value(setting, flat, param)
        if len(self.doc.diagnostics) > before:
            setting.effective = False  # PostgreSQL rejects the statement: nothing changes
        else:
            self.retire(canonical, section)
        self.doc.settings.append(setting)
        head = " ".join(self.text[start:name_start].split())  # `ALTER ROLE app SET`
        for d in self.doc.diagnostics[before:]:
            if d.fix and d.fix.startswith(f"{canonical} = "):  # the fix as a statement, not a file line
                value, sep, note = d.fix[len(canonical) + 3:].partition("  (")
                if not value.startswith("'") and not re.fullmatch(r"-?[0-9.]+", value):
                    value = f"'{value}'"
                d.fix = f"{head} {name} = {value}" + (f"  ({note}" if sep else "")

    def retire(self, name: str, section: str) -> None:
        for s in self.doc.settings:
            if s.name == name and s.section == section:
                s.effective = False

    def type_value(self, setting: Setting, flat: str, param) -> None:
        from advisor.loaders.postgresql_conf import _unknown_parameter, parse_value

        if param is None:
            _unknown_parameter(self.doc, setting, self.catalog, "statement")
            setting.value = flat
            return
        written = setting.raw
        # typed as postgresql.conf types the same value written quoted
        setting.raw = "'" + flat.replace("\\", "\\\\").replace("'", "''") + "'"
        try:
            setting.value = parse_value(self.doc, setting, param, self.catalog)
        finally:
            setting.raw = written

    @staticmethod
    def flatten(arg) -> str | None:
        """One SET argument as PostgreSQL flattens it to text (None: not a constant)."""
        kind = type(arg).__name__
        if kind == "TypeCast":
            arg = arg.arg
            kind = type(arg).__name__
        if kind != "A_Const" or getattr(arg, "isnull", False):
            return None
        val = arg.val
        vkind = type(val).__name__
        if vkind == "Integer":
            return str(val.ival)
        if vkind == "Float":
            return str(val.fval)
        if vkind == "String":
            return str(val.sval)
        if vkind == "Boolean":
            return "true" if val.boolval else "false"
        return None

    @staticmethod
    def find_name(chunk: str, name: str) -> int | None:
        """Offset of the parameter name after SET/RESET in the statement text."""
        pattern = r"\b(?:set|reset)\s+(\"?)(" + re.escape(name) + r")\1"
        found = None
        for m in re.finditer(pattern, chunk, re.IGNORECASE):
            found = m.start(2) - len(m.group(1))
        return found

    @staticmethod
    def value_start(chunk: str, name_at: int | None, name_len: int) -> int:
        if name_at is None:
            return 0
        m = re.compile(r"\"?\s*(?:=|\bto\b)\s*", re.IGNORECASE).match(chunk, name_at + name_len)
        return m.end() if m else name_at + name_len

    def finish(self) -> None:
        self.doc.meta["sections"] = sorted({s.section for s in self.doc.settings if s.section})
