"""postgresql.conf, read exactly as PostgreSQL reads it (guc-file.l and guc.c).

- Lexing follows guc-file.l token by token (longest match, first rule on ties), so the same
  lines are syntax errors here as in PostgreSQL, at the same place.
- `include`, `include_if_exists` and `include_dir` are followed relative to the including file;
  `include_dir` reads only `*.conf` files not starting with a dot, in byte order. Loops and
  nesting deeper than PostgreSQL's limit of 10 are reported at the include line.
- `postgresql.auto.conf` beside the main file is read last, as ALTER SYSTEM's values override.
- Values are typed with the real `pg_settings` catalog of the chosen major version: base units,
  unit conversion and rounding, booleans and their prefixes, enums, ranges.
- What guc.c does beyond the type is modelled where it changes the outcome: an occurrence that a
  later one spelled the same way overrides is never validated; internal parameters cannot be set;
  check hooks that raise, clean or reject values (wal_buffers, autovacuum_work_mem, DateStyle,
  cluster_name, paths such as log_directory, synchronous_standby_names, primary_slot_name,
  recovery_target*, comma lists such as log_destination and search_path, the 16-18 additions,
  the server-process total, log_*_stats conflicts); enum values as PostgreSQL shows
  them (`true` -> `on`); a UTF-8 BOM is read, like PostgreSQL does, as part of the first name.
- tests/test_postgresql_parity.py checks all of this against a real PostgreSQL 15.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from itertools import chain

from advisor import lazy_re
from advisor.catalog import DEFAULT_MAJOR, MAX_BACKENDS, Catalog, Parameter, load_catalog, process_terms
from advisor.loaders.ansible_vars import rendered_text
from advisor.loaders.directives import read_comment
from advisor.loaders.source import InputError, inside_checked_tree, read_text_bom
from advisor.model.pg_parameters import in_place, removal
from advisor.loaders.template import (
    is_sed_template, is_template, looks_like_caps_placeholder, looks_like_sed_target, placeholders,
)
from advisor.model import ConfigDoc, Diagnostic, Record, Setting, Span, Unknown
from advisor.units import decimal, format_bytes, pg_memory_literal, pg_parse_bool, pg_parse_int, pg_parse_real

MAX_DEPTH = 10  # CONF_FILE_MAX_DEPTH
MAX_SYNTAX_ERRORS = 100

# token kinds, as guc-file.l names them
ID, QUALIFIED_ID, STRING, UNQUOTED_STRING, INTEGER, REAL, EQUALS, ERROR, TEMPLATE = (
    "ID", "QUALIFIED_ID", "STRING", "UNQUOTED_STRING", "INTEGER", "REAL", "EQUALS", "ERROR", "TEMPLATE",
)

# guc-file.l works on bytes: every byte >= 0x80 is a LETTER, so every non-ASCII character is one
# written as negated ASCII classes: a class with the range \u0080-\U0010ffff costs ~11 ms to
# compile (re._compiler._optimize_charset walks every code point), these ~0.1 ms
_L = r"^\x00-\x40\x5b-\x5e\x60\x7b-\x7f"  # A-Z a-z _ and every non-ASCII character
_LD = r"^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f"  # the same and 0-9
_ID = lazy_re.compile(rf"[{_L}][{_LD}]*")
_QUALIFIED_ID = lazy_re.compile(rf"[{_L}][{_LD}]*\.[{_L}][{_LD}]*")
# STRING `'(?:[^'\\\n]|\\.|'')*'` is matched by _string_end (the regex engine keeps ~100 bytes of
# backtracking state per repeated group, ~1.5 GB for a 15 MB line); UNQUOTED_STRING is
# `{L}({LD}|[-._:/])*` written as one class (no group repeated per character)
_STRING = lazy_re.compile(r"'(?:[^'\\\n]|\\.|'')*'")  # (the reference for _string_end, in tests)
_PLAIN_RUN = lazy_re.compile(r"[^'\\\n]*")
_UNQUOTED_STRING = lazy_re.compile(rf"[{_L}][^\x00-\x2c\x3b-\x40\x5b-\x5e\x60\x7b-\x7f]*")
# hex first: flex takes the longest match (`0x1000`), Python the first alternative that matches
_INTEGER = lazy_re.compile(r"[-+]?(?:0x[0-9a-fA-F]+|[0-9]+)[a-zA-Z]*")
_REAL = lazy_re.compile(r"[-+]?[0-9]*\.[0-9]*(?:[Ee][-+]?[0-9]+)?")
_SPACE = lazy_re.compile(r"[ \t\r]+")
_BY_FIRST_CHAR = {"'": ((STRING, None),)}
_WORD_RULES = ((ID, _ID), (QUALIFIED_ID, _QUALIFIED_ID), (UNQUOTED_STRING, _UNQUOTED_STRING))
_NUMBER_RULES = ((INTEGER, _INTEGER), (REAL, _REAL))

VALUE_TOKENS = (ID, STRING, INTEGER, REAL, UNQUOTED_STRING, TEMPLATE)

# Fast path of _parse_lines for the common lines of a file that is not a template: a blank
# line, a comment, or `name [=] value [# comment]` with an ASCII ID name and a value token of
# the same kind and extent as lex_line gives (a STRING, a decimal INTEGER with unit letters, a
# REAL with digits after the point, an ID), followed by blanks or a comment only. Every other
# line goes through lex_line. tests/test_postgresql_loader_table.py checks, on generated lines,
# that it reads them exactly as lex_line + _parse_line do.
_FAST_LINE_PLAIN = (
    r"[ \t\r]*"
    r"(?:"
    r"([A-Za-z_][A-Za-z0-9_]*)"  # 1: name, then '=' or blanks
    r"(?:[ \t\r]*=[ \t\r]*|[ \t\r]+)"
    # 2: the value: a STRING (the _STRING pattern), an INTEGER, a REAL or an ID
    r"('(?:[^'\\\n]|\\.|'')*'|[-+]?[0-9]+[a-zA-Z]*|[-+]?[0-9]*\.[0-9]+(?:[Ee][-+]?[0-9]+)?|[A-Za-z_][A-Za-z0-9_]*)"
    r"[ \t\r]*"
    r")?"
    r"(?:#(.*))?"  # 3: comment text
)
# The same with possessive repeats (Python 3.11+; 25 % faster): none of them could give back a
# character and still match, since what follows each can never start with what it repeats
# (a name is followed by a blank or '=', a value by a blank, '#' or the end, and so on).
_FAST_LINE_POSSESSIVE = (
    r"[ \t\r]*+"
    r"(?:"
    r"([A-Za-z_][A-Za-z0-9_]*+)"
    r"(?:[ \t\r]*+=[ \t\r]*+|[ \t\r]++)"
    r"('(?:[^'\\\n]++|\\.|'')*+'|[-+]?[0-9]++[a-zA-Z]*+|[-+]?[0-9]*+\.[0-9]++(?:[Ee][-+]?[0-9]++)?|[A-Za-z_][A-Za-z0-9_]*+)"
    r"[ \t\r]*+"
    r")?"
    r"(?:#(.*))?"
)
_FAST_LINE = lazy_re.compile(_FAST_LINE_POSSESSIVE if sys.version_info >= (3, 11) else _FAST_LINE_PLAIN)
_INCLUDE_DIRECTIVES = ("include", "include_if_exists", "include_dir")


class Token(Record):
    """One token of a line as guc-file.l scans it; `start`/`end` are 0-based offsets."""

    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end


def lex_line(line: str, masks: list[tuple[int, int, bool]] | None = None) -> tuple[list[Token], tuple[int, str] | None]:
    """Tokens of one line and its comment (column, text after '#'), as guc-file.l lexes them.

    `masks` are template tags: expressions become TEMPLATE tokens (glued to any adjacent
    non-blank characters), statements are skipped like white space.
    """
    tokens: list[Token] = []
    pos, n = 0, len(line)
    mask_at = {start: (end, expr) for start, end, expr in masks or ()}
    mask_starts = [start for start, _, _ in masks or ()]
    if masks:
        from bisect import bisect_right  # (here: _bisect's shared library costs 0.25 ms a run to load)
    # a quoted string that is not closed on the line: every later quote on the line is inside
    # an escape of that scan (`'\'\'\'...`), so no later string can close either; remembering
    # it keeps such a line linear (each quote would otherwise rescan the rest of the line)
    unclosed_from = n
    while pos < n:
        if pos in mask_at:
            end, expression = mask_at[pos]
            if expression:
                # glue following non-blank text (`{{ x }}MB`, `{{ a }}.{{ b }}`) into one token
                while end < n and line[end] not in " \t\r#=":
                    end = mask_at[end][0] if end in mask_at else end + 1
                if tokens and tokens[-1].kind != EQUALS and tokens[-1].end == pos:
                    tokens[-1] = Token(TEMPLATE, line[tokens[-1].start:end], tokens[-1].start, end)
                else:
                    tokens.append(Token(TEMPLATE, line[pos:end], pos, end))
            pos = end
            continue
        ch = line[pos]
        if ch in " \t\r":
            pos = _SPACE.match(line, pos).end()
            continue
        if ch == "#":
            return tokens, (pos, line[pos + 1:])
        if ch == "=":
            tokens.append(Token(EQUALS, "=", pos, pos + 1))
            pos += 1
            continue
        if ch == "'" and pos > unclosed_from:
            tokens.append(Token(ERROR, "'", pos, pos + 1))
            pos += 1
            continue
        if ch == "'" and masks:
            end = _template_string_end(line, pos, mask_at)
            if end is not None:  # a quoted value with template tags inside (tags may hold quotes)
                tokens.append(Token(STRING, line[pos:end], pos, end))
                pos = end
                continue
        if ch == "'":
            rules = _BY_FIRST_CHAR["'"]
        elif ch.isascii() and (ch.isalpha() or ch == "_") or not ch.isascii():
            rules = _WORD_RULES
        elif ch.isdigit() or ch in "+-.":
            rules = _NUMBER_RULES
        else:
            rules = ()
        best_kind, best_end = ERROR, pos + 1
        longest = pos
        if ch == "'":
            end = _string_end(line, pos)
            if end is not None:
                best_kind, best_end = STRING, end
        for kind, rx in rules if ch != "'" else ():  # longest match wins; on a tie, the earlier rule (as flex does)
            m = rx.match(line, pos)
            if m and m.end() > longest:
                best_kind, best_end, longest = kind, m.end(), m.end()
        if ch == "'" and best_kind == ERROR:
            unclosed_from = pos
        if masks and best_kind != ERROR:
            for k in range(bisect_right(mask_starts, pos), len(masks)):  # the tags after pos, in order
                start, end, expression = masks[k]
                if start >= best_end:
                    break
                if expression:
                    # a word running into a template tag: `prefix{{ x }}` is one unknown value
                    best_kind = TEMPLATE
                    best_end = start
                    break
        tokens.append(Token(best_kind, line[pos:best_end], pos, best_end))
        if best_kind == TEMPLATE and best_end in mask_at:
            end = best_end
            while end < n and (end in mask_at or line[end] not in " \t\r#="):
                end = mask_at[end][0] if end in mask_at else end + 1
            tokens[-1] = Token(TEMPLATE, line[pos:end], pos, end)
            best_end = end
        pos = best_end
    return tokens, None


def _string_end(line: str, pos: int) -> int | None:
    """End of the match of `'(?:[^'\\\n]|\\.|'')*'` at pos (a quote), or None; linear, constant memory.

    The pattern closes at the first lone quote; if the line ends first (or a backslash before a
    newline or the end), backtracking closes at the first quote of the last doubled quote `''`.
    """
    i, n = pos + 1, len(line)
    last_double = -1
    run = _PLAIN_RUN.match
    while True:
        i = run(line, i).end()
        if i >= n:
            break
        ch = line[i]
        if ch == "'":
            if i + 1 < n and line[i + 1] == "'":
                last_double = i
                i += 2
                continue
            return i + 1
        if ch == "\\" and i + 1 < n and line[i + 1] != "\n":
            i += 2
            continue
        break  # a newline, or a backslash before a newline or the end
    return last_double + 1 if last_double >= 0 else None


def _template_string_end(line: str, pos: int, mask_at: dict) -> int | None:
    """End of a quoted string that starts at `pos`, stepping over template tags whole."""
    i, n = pos + 1, len(line)
    while i < n:
        if i in mask_at:
            i = mask_at[i][0]
            continue
        ch = line[i]
        if ch == "\\" and i + 1 < n:
            i += 2
        elif ch == "'":
            if i + 1 < n and line[i + 1] == "'":
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return None


def deescape(quoted: str) -> str:
    """The value of a quoted string, decoded as DeescapeQuotedString() decodes it."""
    s = quoted[1:-1]
    if "\\" not in s and "'" not in s:  # nothing to decode (most values)
        nul = s.find("\0")
        return s if nul < 0 else s[:nul]
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch == "\\" and i + 1 < n:
            i += 1
            esc = s[i]
            if esc in "bfnrt":
                out.append({"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}[esc])
            elif "0" <= esc <= "7":
                k, octal = 0, 0
                while k < 3 and i + k < n and "0" <= s[i + k] <= "7":
                    octal = (octal << 3) + int(s[i + k])
                    k += 1
                i += k - 1
                out.append(chr(octal & 0xFF))
            else:
                out.append(esc)
        elif ch == "'" and i + 1 < n and s[i + 1] == "'":
            i += 1
            out.append("'")
        else:
            out.append(ch)
        i += 1
    value = "".join(out)
    nul = value.find("\0")
    return value if nul < 0 else value[:nul]  # a C string ends at the first NUL


def _with_bom(text: str, bom: bool) -> str:
    """The text as PostgreSQL sees it: read_text_bom drops a UTF-8 byte order mark, PostgreSQL does not.

    Its bytes are LETTERs to guc-file.l, so a BOM glues onto the first name (an unknown
    parameter) or, before a comment or blank line, is a name without a value (a syntax error).
    `bom`: whether the file starts with one (read_text_bom says); a configuration embedded in
    another file (a YAML block) has none of its own.
    """
    if text.startswith("\ufeff") or not bom:
        return text
    return "\ufeff" + text


def _line_blocks(text: str, size: int = 1 << 16):
    """`text.split("\\n")` in blocks of about `size` characters cut at newlines: chained, the same
    lines in the same order. Each block's list of lines is freed when the next is made, so a large
    file never holds a string of every line at once (a 200,000-line file: 20 MB less at its peak,
    a third fewer page faults, 8 % faster reading)."""
    pos = 0
    while True:
        end = text.find("\n", pos + size)
        if end < 0:
            yield text[pos:].split("\n")
            return
        yield text[pos:end].split("\n")
        pos = end + 1


class _Reader:
    """Reads the files in order: every `name = value` becomes a Setting on the document.

    A Setting is made with its canonical name, its unit and its spelling, and no value yet;
    `type_settings` types it once every file is read.
    """

    def __init__(self, doc: ConfigDoc, template: bool, catalog: Catalog, options: dict | None = None) -> None:
        self.doc = doc
        self.options = options or {}
        self.template = template
        self.catalog = catalog
        self._file_template = template
        self._known: dict[str, tuple[str, str | None, str | None]] = {}  # spelling -> name, unit, needs

    def _remember(self, spelling: str) -> tuple[str, str | None, str | None]:
        param = self.catalog.lookup(spelling)
        known = self._known[spelling] = (spelling, None, None) if param is None else (param.name, param.unit,
                                                                                        param.needs)
        return known

    def _add(self, name: str, raw: str, value, span: Span, value_span: Span) -> None:
        known = self._known.get(name) or self._remember(name)  # (includes are handled before)
        self.doc.settings.append(Setting(known[0], raw, value, span, value_span, known[1], None, False, False,
                                         known[2], name))

    def parse_file(self, path: str, depth: int, stack: tuple[str, ...], text: str | None = None,
                   template: bool | None = None, bom: bool = False) -> None:
        """`bom`: whether the file starts with a byte order mark (read_text_bom; a configuration
        embedded in a YAML file has none of its own, whatever the YAML file starts with)."""
        if text is None:
            text, bom = read_text_bom(path)
        text = _with_bom(text, bom)
        real = os.path.realpath(path)
        self.doc.files.append(path)
        if template is None:
            template = self.template or is_template(path, text)
        outer, self._file_template = self._file_template, template
        try:
            self._parse_lines(path, text, template, depth, stack, real)
        finally:
            self._file_template = outer

    def _parse_lines(self, path: str, text: str, template: bool, depth: int, stack: tuple[str, ...], real: str) -> None:
        errors = 0
        fast = None if template else _FAST_LINE.fullmatch
        # a comment matters only when it holds a `pgpath:` directive (any case): one without a ':'
        # is skipped at once
        settings_append, known_get, new_setting = self.doc.settings.append, self._known.get, object.__new__
        for lineno, line in enumerate(chain.from_iterable(_line_blocks(text)), start=1):
            if not line or (line[0] == "#" and (":" not in line or "pgpath:" not in line.lower())):
                continue
            if fast is not None:
                m = fast(line)
                if m is not None:
                    name, raw, body = m.groups()
                    if body is not None and ":" in body and "pgpath:" in body.lower():
                        read_comment(self.doc, body, Span(path, lineno, m.start(3), lineno, len(line) + 1),
                                     trailing=name is not None)
                    if name is None:
                        continue
                    start = m.start(2)
                    # what _add does, inlined (this loop is where a 200,000-line file spends its time);
                    # the position tuple becomes the setting's spans when they are asked for
                    known = known_get(name)
                    if known is None:
                        if name.lower() in _INCLUDE_DIRECTIVES:  # never a parameter, so never remembered
                            end = start + len(raw) + 1
                            self._include(path, name.lower(), raw, False,
                                          Span(path, lineno, m.start(1) + 1, lineno, end),
                                          Span(path, lineno, start + 1, lineno, end), depth, stack + (real,))
                            continue
                        known = self._remember(name)
                    # Setting(known[0], raw, None, position, None, known[1], None, False, False, known[2],
                    # name), written out: without the __init__ call the loop is 7 % faster, and one
                    # assignment a statement (no tuple packed and unpacked) 3 % more. (A new Setting
                    # slot must be set here too: the fast-path test compares every field.)
                    setting = new_setting(Setting)
                    setting.name = known[0]
                    setting.raw = raw
                    setting.value = None
                    setting._span = (path, lineno, m.start(1) + 1, start + 1, start + len(raw) + 1)
                    setting._value_span = None
                    setting.unit = known[1]
                    setting.section = None
                    setting.effective = False
                    setting.secret = False
                    setting.applies = known[2]
                    setting.spelling = name
                    settings_append(setting)
                    continue
            masks = placeholders(line) if template else None
            tokens, comment = lex_line(line, masks)
            if comment is not None:
                col, body = comment
                read_comment(self.doc, body, Span(path, lineno, col + 1, lineno, len(line) + 1), trailing=bool(tokens))
            if not tokens:
                continue
            error = self._parse_line(path, lineno, line, tokens, depth, stack + (real,))
            if error:
                errors += 1
                if errors >= MAX_SYNTAX_ERRORS:
                    self.doc.diagnostics.append(
                        Diagnostic("syntax-error", Span(path, lineno, 1), "too many syntax errors found, abandoning file")
                    )
                    break

    def _parse_line(self, path, lineno, line, tokens, depth, stack) -> bool:
        """Handle one logical line; True when it was a syntax error."""
        def span(a: Token, b: Token) -> Span:
            return Span(path, lineno, a.start + 1, lineno, b.end + 1)

        name_tok = tokens[0]
        i = 1
        if name_tok.kind not in (ID, QUALIFIED_ID, TEMPLATE):
            return self._syntax_error(path, lineno, line, name_tok, None)
        if name_tok.kind == TEMPLATE and len(tokens) == 1:
            # `{{ extra_settings }}`, `${settings}`: a line the template renders into any number of lines
            self.doc.meta.setdefault("generated_lines", []).append(Span(path, lineno, 1).to_dict())
            return False
        if i < len(tokens) and tokens[i].kind == EQUALS:
            i += 1
        if i >= len(tokens):
            return self._syntax_error(path, lineno, line, None, name_tok)
        value_tok = tokens[i]
        if value_tok.kind not in VALUE_TOKENS:
            return self._syntax_error(path, lineno, line, value_tok, name_tok)
        if i + 1 < len(tokens):
            return self._syntax_error(path, lineno, line, tokens[i + 1], name_tok, value_tok)
        if name_tok.kind == TEMPLATE:
            return False  # `{{ item.name }} = {{ item.value }}`: a generated line, name unknown
        name = name_tok.text
        is_tpl = value_tok.kind == TEMPLATE or (
            self.template_value(value_tok) if value_tok.kind == STRING else False
        )
        raw = value_tok.text
        low = name.lower()
        if low in _INCLUDE_DIRECTIVES:
            self._include(path, low, raw, is_tpl, span(name_tok, value_tok), span(value_tok, value_tok), depth, stack)
        else:
            self._add(name, raw, Unknown(raw) if is_tpl else None, span(name_tok, value_tok), span(value_tok, value_tok))
        return False

    def template_value(self, tok: Token) -> bool:
        """A quoted value holding a template expression (`'{{ dir }}'`) in a template file."""
        return self._file_template and any(expr for _, _, expr in placeholders(tok.text))

    def _syntax_error(self, path, lineno, line, bad: Token | None, name: Token | None, value: Token | None = None) -> bool:
        if bad is None:
            message = "syntax error near end of line"
            col = len(line.rstrip()) + 1
            if name is not None and name.text == "\ufeff":
                fix = "save the file as UTF-8 without a byte order mark (BOM): PostgreSQL reads it as a name"
                self.doc.diagnostics.append(Diagnostic("syntax-error", Span(path, lineno, col), message, fix))
                return True
        else:
            message = f'syntax error near token "{bad.text}"'
            col = bad.start + 1
        fix = None
        if bad is not None and bad.kind == ERROR and bad.text == "'":
            fix = "close the quoted value with ' on the same line (write '' for a quote inside it)"
        elif name is not None and value is not None and bad is not None:
            rest = line[value.start:]
            hash_at = rest.find("#")
            rest = (rest if hash_at < 0 else rest[:hash_at]).rstrip()
            if "'" not in rest:
                fix = f"quote the value: {name.text} = '{rest}'"
        elif name is not None and bad is not None and bad.kind == QUALIFIED_ID:
            fix = f"quote the value: {name.text} = '{bad.text}'"
        elif name is not None and bad is None:
            fix = f"give {name.text} a value, or comment the line out with #"
        self.doc.diagnostics.append(Diagnostic("syntax-error", Span(path, lineno, col), message, fix))
        return True

    def _deploy_time(self, target: str) -> str | None:
        """Why a missing include target is made at deploy time (a warning), or None (an error)."""
        if self.template or self._file_template or self.doc.meta.get("sed_template"):
            return "in a template, whose includes exist only where it is rendered"
        if not inside_checked_tree(target, self.doc.path, self.options):
            return "outside the files given to check (made at deploy time?)"
        return None

    def _unresolved(self, directive: str, value: str, span: Span, value_span: Span, why: str) -> None:
        """An include pgpath cannot follow because its target is made where the file is deployed
        (a template's, or one outside the checked tree): not a finding about the configuration
        but a notice of what pgpath did not see, listed with every report."""
        refuses = ("" if directive == "include_if_exists" else
                   "; PostgreSQL does not start where it is missing")
        self.doc.meta.setdefault("unresolved_includes", []).append(dict(
            value_span.to_dict(),
            message=f"{directive} '{value}': {why}; not read, so the settings it holds are unknown{refuses}"))

    def _include(self, path: str, directive: str, raw: str, template: bool, span: Span, value_span: Span,
                 depth: int, stack: tuple[str, ...]) -> None:
        if template:
            self._unresolved(directive, raw.strip("'"), span, value_span,
                             "a template placeholder, known only where the template is rendered")
            return
        value = deescape(raw) if raw[:1] == "'" else raw
        target = value
        if target == "":
            self.doc.diagnostics.append(
                Diagnostic("include-error", value_span, f'empty configuration file name in {directive}')
            )
            return
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(path) or ".", target)
        if depth + 1 > MAX_DEPTH:
            self.doc.diagnostics.append(
                Diagnostic(
                    "include-error",
                    value_span,
                    f'could not open configuration file "{value}": maximum nesting depth exceeded ({MAX_DEPTH})',
                )
            )
            return
        if directive == "include_dir":
            why = None if os.path.isdir(target) else self._deploy_time(target)
            if why:
                self._unresolved(directive, value, span, value_span, why)
                return
            if not os.path.isdir(target):
                self.doc.diagnostics.append(
                    Diagnostic("include-error", value_span,
                               f'could not open configuration directory "{target}": no such directory',
                               "create the directory or remove the include_dir line")
                )
                return
            names = sorted(
                name for name in os.listdir(target)
                if len(name) >= 6 and not name.startswith(".") and name.endswith(".conf")
                and not os.path.isdir(os.path.join(target, name))
            )
            for name in names:
                self._include_file(os.path.join(target, name), value, span, value_span, depth, stack, strict=True)
            return
        self._include_file(target, value, span, value_span, depth, stack, strict=directive == "include")

    def _include_file(self, target: str, value: str, span: Span, value_span: Span, depth: int,
                      stack: tuple[str, ...], strict: bool) -> None:
        real = os.path.realpath(target)
        if real in stack:
            chain = " -> ".join(os.path.basename(p) for p in stack + (real,))
            self.doc.diagnostics.append(
                Diagnostic("include-error", value_span, f"include loop: {chain}",
                           "remove the include that leads back to a file already being read")
            )
            return
        if not os.path.exists(target):
            why = self._deploy_time(target) if strict else None
            if why:
                # a template is rendered for another machine; a path outside the tree is made there
                self._unresolved("include", value, span, value_span, why)
            elif strict:
                self.doc.diagnostics.append(
                    Diagnostic("include-error", value_span,
                               f'could not open configuration file "{target}": No such file or directory',
                               "create the file, fix the path, or use include_if_exists")
                )
            else:
                self.doc.meta.setdefault("skipped_includes", []).append(target)
            return
        try:
            text, bom = read_text_bom(target)
        except InputError as exc:
            self.doc.diagnostics.append(Diagnostic("include-error", value_span, f"cannot include {target}: {exc.message}"))
            return
        self.parse_file(target, depth + 1, stack, text, bom=bom)


def load(path: str, options: dict | None = None) -> ConfigDoc:
    """Read a postgresql.conf (and what it includes, and postgresql.auto.conf beside it).

    Options: `catalog` or `pg_major` (default 18); `no_auto_conf` (do not read
    postgresql.auto.conf); `type_skipped` (also type the occurrences PostgreSQL skips, for
    `pgpath dump`).
    """
    options = options or {}
    catalog: Catalog = options.get("catalog") or load_catalog(options.get("pg_major") or DEFAULT_MAJOR)
    text, bom = read_text_bom(path)
    doc = ConfigDoc(path=path, kind="postgresql")
    doc.template = is_template(path, text)
    text, rendered = rendered_text(path, text, options, doc.diagnostics)
    if rendered:
        doc.meta["ansible_rendered"] = {path: rendered}
    if not doc.template and is_sed_template(text):
        doc.meta["sed_template"] = True
    doc.meta["pg_version"] = catalog.major
    reader = _Reader(doc, doc.template, catalog, options)
    # one object per line and no reference cycles: the cyclic garbage collector would only
    # rescan the growing document (a third of the time on a 200,000-line file)
    collecting = gc.isenabled()
    gc.disable()
    try:
        reader.parse_file(path, 0, (), text, doc.template, bom)
        if os.path.basename(path) != "postgresql.auto.conf" and not options.get("no_auto_conf"):
            auto = os.path.join(os.path.dirname(path) or ".", "postgresql.auto.conf")
            if os.path.isfile(auto):
                try:
                    auto_text, auto_bom = read_text_bom(auto)
                    reader.parse_file(auto, 0, (), auto_text, bom=auto_bom)
                except InputError as exc:
                    doc.diagnostics.append(Diagnostic("include-error", Span(auto), exc.message))
        type_settings(doc, catalog, every=bool(options.get("type_skipped")))
        # an include made at deploy time, or a template line that renders any lines, may set what the
        # file leaves unset: its defaults are unknown (advisor.catalog.value_or_default), as PgBouncer's
        # are. (Still inside the try: the first container made after gc.enable() starts a collection
        # of every object the file made, ~18 ms for 200,000 lines; made here, that collection comes
        # at the caller's next allocation, as before this block existed, not inside load.)
        because = [{k: v for k, v in n.items() if k != "message"} for n in doc.meta.get("unresolved_includes", ())]
        because += doc.meta.get("generated_lines", [])
        if because:
            doc.meta["defaults_unknown_because"] = because
    finally:
        if collecting:
            gc.enable()
    return doc


def type_settings(doc: ConfigDoc, catalog: Catalog, every: bool = False) -> None:
    """Name each setting canonically, type it, and mark the last occurrence of each name effective.

    Like ProcessConfigFileInternal, an occurrence of a known parameter that a later occurrence
    spelled exactly the same way (strcmp: case counts) overrides is skipped, never validated: an
    invalid value there does not stop the server, so it is not reported, and it is not typed
    (its value stays None) unless `every` asks for it. An earlier occurrence spelled
    differently (`Work_Mem` before `work_mem`) is still applied, and so still checked.
    """
    settings = doc.settings
    last_of_spelling = {setting.spelling: index for index, setting in enumerate(settings)}
    params: dict[str, Parameter | None] = {name: catalog.lookup(name) for name in last_of_spelling}
    applied = set(last_of_spelling.values())
    unknown = {name for name, param in params.items() if param is None}
    if unknown:  # unknown names are reported at every occurrence
        applied.update(index for index, setting in enumerate(settings) if setting.spelling in unknown)
    current = {name: p.boot_value for name in _CROSS_CHECKED if (p := catalog.lookup(name)) is not None}
    date_style = "ISO, MDY"  # DateStyle's boot value
    for index in range(len(settings)) if every else sorted(applied):
        setting = settings[index]
        param = params[setting.spelling]
        if param is None:
            _unknown_parameter(doc, setting, catalog)
            if setting.value is None:
                setting.value = deescape(setting.raw) if setting.raw[:1] == "'" else setting.raw
            continue
        if isinstance(setting.value, Unknown):
            continue
        reported = len(doc.diagnostics)
        value = parse_value(doc, setting, param, catalog)
        if param.name == "DateStyle" and value is not None and not isinstance(value, Unknown):
            # check_datestyle keeps what a value does not say from the DateStyle set so far
            if index in applied:
                raw = setting.raw
                value = _datestyle(param, deescape(raw) if raw[:1] == "'" else raw, lambda *a, **k: None,
                                   catalog.major, date_style)
                date_style = value
        if index not in applied:
            del doc.diagnostics[reported:]
        elif param.name in _CROSS_CHECKED and value is not None and not isinstance(value, Unknown):
            value = _cross_check(doc, setting, param, value, catalog, current)
        setting.value = value
    last: dict[str, int] = {}
    for index in sorted(last_of_spelling.values()):
        last[settings[index].name] = index
    for index in last.values():
        settings[index].effective = True
        if settings[index].name in _CONNINFO_SETTINGS:
            _check_conninfo(doc, settings[index])
    _bound_process_fixes(doc, catalog)


# settings whose value only libpq reads (the WAL receiver of a standby connects with it); the
# server takes any string at start, libpq refuses a bad one when the standby connects
_CONNINFO_SETTINGS = ("primary_conninfo",)


def _check_conninfo(doc: ConfigDoc, setting: Setting) -> None:
    """A connection-string setting that libpq would refuse (parse errors: a word without `=`, an
    option libpq does not know, an unterminated quote; connect-time checks: `sslmode=requir`,
    `port=abc`, `keepalives_idle=5s`...): a `syntax-error` diagnostic at the value, worded as
    libpq says it, with passwords hidden and long quoted values shortened."""
    value = setting.value
    if not isinstance(value, str) or not value.strip():
        return
    from advisor.loaders.clients.libpq import parse_conninfo, validate_values
    from advisor.loaders.clients.strings import redact_any, short_quotes

    info = parse_conninfo(value)
    if info.error is not None:
        message = info.error
    else:
        # a sed template's CAPITALISED_TARGET (`port=PRIMARY_PORT`) is a value made at deploy time
        sed = bool(doc.meta.get("sed_template"))
        problems = [m for p, m in validate_values(info) if not (sed and looks_like_sed_target(p.value))]
        if not problems:
            return
        message = problems[0]  # libpq stops at the first
    doc.diagnostics.append(Diagnostic(
        "syntax-error", setting.value_span or setting.span,
        f"{setting.name}: libpq rejects this connection string: {short_quotes(redact_any(message))}; the WAL "
        "receiver of a standby started with it cannot connect to the primary",
        "write libpq keyword=value pairs: host=<primary> port=5432 user=<replication user> sslmode=verify-full"))


def _unknown_parameter(doc: ConfigDoc, setting: Setting, catalog: Catalog, written_as: str = "line") -> None:
    """The diagnostic of a name the catalog does not know; `written_as`: what the fix removes (a
    `line` of a configuration file, a `statement` of a SQL script, which may span lines)."""
    name = setting.name
    gone = removal(doc, setting, written_as)  # as the file writes it: a line, an operator's key, `-c`
    if name.startswith("\ufeff"):
        doc.diagnostics.append(
            Diagnostic(
                "unknown-parameter",
                setting.span,
                f'unrecognized configuration parameter "{name}": the file starts with a UTF-8 byte order '
                f'mark, which PostgreSQL reads as part of the name "{name[1:]}"',
                "save the file as UTF-8 without a byte order mark (BOM)",
            )
        )
    elif "." not in name:
        removed = removed_in(name, catalog.major)
        if removed is not None:
            since, last, replacement = removed
            what = f"renamed {replacement}" if replacement and name.lower() in _RENAMED else "removed"
            message = f'unrecognized configuration parameter "{name}": {what} in PostgreSQL {since:g}'
            instead = f"use {replacement} instead" if replacement else gone
            if last >= 14:
                fix = (f"{instead}; or, if the file is for PostgreSQL {last:g} or older, check it as such: "
                       f"version: {last:g} on its postgres hop in pgpath.yaml's deployments: (only its deployment), "
                       f"or --pg-version {last:g} (pg_version: {last:g} in pgpath.yaml) when every file is for it")
            else:
                fix = f"{instead} (PostgreSQL {last:g} and older are checked as 14, the oldest major pgpath knows)"
            doc.diagnostics.append(Diagnostic("unknown-parameter", setting.span, message, fix, removed_in=since))
            return
        suggestion = catalog.suggest(name, len(doc.diagnostics))
        doc.diagnostics.append(
            Diagnostic(
                "unknown-parameter",
                setting.span,
                f'unrecognized configuration parameter "{name}" (PostgreSQL {catalog.major})',
                f"did you mean {suggestion}?" if suggestion
                else f"{gone} (no such parameter in PostgreSQL {catalog.major})",
            )
        )


# renamed parameters (old name -> (renamed in, new name)); removal of the others is read from the catalogs
_RENAMED = {"force_parallel_mode": (16, "debug_parallel_query"), "vacuum_defer_cleanup_age": (16, None),
            "promote_trigger_file": (16, None), "ssl_ecdh_curve": (18, "ssl_groups")}


def removed_in(name: str, major: int):
    """(removed in, last major that had it, replacement or None) for a parameter an older PostgreSQL
    knew, or None."""
    from advisor.catalog import SUPPORTED_MAJORS
    from advisor.pgversion import REMOVED_BEFORE_14

    low = name.lower()
    last = None
    for older in SUPPORTED_MAJORS:
        if older >= major:
            break
        if load_catalog(older).lookup(low) is not None:
            last = older
    if last is not None:
        replacement = _RENAMED.get(low, (None, None))[1]
        return last + 1, last, replacement
    if low in REMOVED_BEFORE_14:
        since, replacement = REMOVED_BEFORE_14[low]
        last_major = since - 1 if since == int(since) else 9.4
        return since, last_major, replacement
    return None


# Check hooks that compare a value with other parameters as they stand when it is set: file
# order matters (guc.c check_maxconnections and friends up to 17, check_log_stats/check_stage_log_stats)
_BACKEND_TERMS = process_terms(17)[0]  # checked as each is set, up to 17
_STAGE_STATS = ("log_parser_stats", "log_planner_stats", "log_executor_stats")
_CROSS_CHECKED = _BACKEND_TERMS + _STAGE_STATS + ("log_statement_stats",)


def _most_processes(name: str, catalog: Catalog, doc: ConfigDoc | None = None,
                    sharing: frozenset[str] = frozenset()) -> int | None:
    """The largest value of a term of the server-process total that PostgreSQL accepts with the
    other terms as `doc` sets them, else at their defaults (its range's maximum alone exceeds the
    total), or None for a parameter that is no term. The terms in `sharing` (those out of range
    too, whose fixes are proposed together) share what is left equally."""
    terms, constant = process_terms(catalog.major)
    if name not in terms:
        return None
    sharing = sharing | {name}
    others = 0
    for term in terms:
        if term not in sharing:
            setting = doc.get(term) if doc is not None else None
            known = setting is not None and isinstance(setting.value, int) and not isinstance(setting.value, bool)
            others += setting.value if known else int(catalog.lookup(term).boot_value)
    return max(1, (MAX_BACKENDS - others - constant) // len(sharing))


def _bound_process_fixes(doc: ConfigDoc, catalog: Catalog) -> None:
    """Once every setting is typed: the fixes of out-of-range terms of the process total, with the
    other terms as the file sets them (parse_value proposed them with the defaults); several terms
    out of range share what the others leave."""
    bounds = doc.meta.pop("_process_bounds", ())
    sharing = frozenset(setting.name for _, setting in bounds if setting.effective)
    for diagnostic, setting in bounds:
        most = _most_processes(setting.name, catalog, doc, sharing)
        diagnostic.fix = in_place(doc, setting, f"{setting.name} = {most}  (the most that leaves room for the other "
                                                f"server processes as this file sets them: {MAX_BACKENDS} in all)")


def _cross_check(doc: ConfigDoc, setting: Setting, param: Parameter, value, catalog: Catalog, current: dict):
    name = param.name
    message = fix = None
    if name in _BACKEND_TERMS and catalog.major <= 17 and all(current.get(t) is not None for t in _BACKEND_TERMS):
        # 18 checks the total after reading the files (with autovacuum_worker_slots): not modelled
        terms = {t: (value if t == name else current[t]) for t in _BACKEND_TERMS}
        total = sum(terms.values()) + 1
        if total > MAX_BACKENDS:
            shown = " + ".join(f"{t} {v}" for t, v in terms.items())
            message = (f'invalid value for parameter "{name}": {value} ({shown} + 1 = {total} > {MAX_BACKENDS}, '
                       f"the most server processes PostgreSQL supports)")
            fix = f"{name} = {max(0, value - (total - MAX_BACKENDS))}  (or lower one of the others)"
    elif name in _STAGE_STATS and value and current.get("log_statement_stats"):
        message = f'invalid value for parameter "{name}": cannot enable it when "log_statement_stats" is true'
        fix = "set log_statement_stats = off first, or leave it on and these off"
    elif name == "log_statement_stats" and value and any(current.get(t) for t in _STAGE_STATS):
        message = ('invalid value for parameter "log_statement_stats": cannot enable it when "log_parser_stats", '
                   '"log_planner_stats", or "log_executor_stats" is true')
        fix = "turn the per-stage log_*_stats off, or leave log_statement_stats off"
    if message:
        doc.diagnostics.append(Diagnostic("invalid-value", setting.value_span, message, in_place(doc, setting, fix)))
        return None
    current[name] = value
    return value


# A decimal integer (no leading zero: that would be octal) with an optional unit, and the
# units whose conversion into a base unit is an exact integer factor (no rounding involved);
# everything else goes through pg_parse_int, which does what guc.c does.
_PLAIN_INTEGER = lazy_re.compile(r"([1-9][0-9]{0,8}|0)(kB|MB|GB|TB|B|ms|s|min|h|d)?")
_EXACT_FACTORS = {
    **{(u, "B"): f for u, f in (("B", 1), ("kB", 1024), ("MB", 1024**2), ("GB", 1024**3), ("TB", 1024**4))},
    **{(u, "kB"): f for u, f in (("kB", 1), ("MB", 1024), ("GB", 1024**2), ("TB", 1024**3))},
    **{(u, "MB"): f for u, f in (("MB", 1), ("GB", 1024), ("TB", 1024**2))},
    **{(u, "8kB"): f for u, f in (("MB", 128), ("GB", 128 * 1024), ("TB", 128 * 1024**2))},
    **{(u, "ms"): f for u, f in (("ms", 1), ("s", 1000), ("min", 60_000), ("h", 3_600_000), ("d", 86_400_000))},
    **{(u, "s"): f for u, f in (("s", 1), ("min", 60), ("h", 3600), ("d", 86400))},
    **{(u, "min"): f for u, f in (("min", 1), ("h", 60), ("d", 1440))},
}


def parse_value(doc: ConfigDoc, setting: Setting, param: Parameter, catalog: Catalog):
    """The typed value of a setting in the parameter's base unit; None (and a diagnostic) if invalid."""
    raw = setting.raw
    quoted = raw[:1] == "'"
    text = deescape(raw) if quoted else raw
    if doc.template and (placeholders(text) or (looks_like_caps_placeholder(text)
                                                and (not quoted or "_" in text))):  # `'LOG_STATEMENT'` (sed/envsubst)
        return Unknown(raw)
    if doc.meta.get("sed_template") and looks_like_sed_target(text):  # `max_connections = MAX_CONNECTIONS`
        return Unknown(raw)

    if param.vartype == "integer" and param.name not in _CHECK_HOOKS and param.context != "internal":
        # the common case: a decimal integer with an optional unit that needs no rounding
        m = _PLAIN_INTEGER.fullmatch(text)
        if m is not None:
            factor = _EXACT_FACTORS.get((m.group(2), param.unit)) if m.group(2) else 1
            if factor is not None:
                value = int(m.group(1)) * factor
                if param.min_val is not None and param.min_val <= value <= param.max_val:
                    return value

    def invalid(message: str, fix: str | None = None, kind: str = "invalid-value") -> None:
        # the fix in the syntax of the file that sets it (an operator's parameters, `-c`)
        doc.diagnostics.append(Diagnostic(kind, setting.value_span, message, in_place(doc, setting, fix)))

    if param.context == "internal":
        invalid(f'parameter "{param.name}" cannot be changed (it is fixed when PostgreSQL is built or initdb runs)',
                f"remove the {param.name} line")
        return None
    hook = _CHECK_HOOKS.get(param.name)
    vartype = param.vartype
    if vartype == "bool":
        value = pg_parse_bool(text)
        if value is None:
            invalid(f'parameter "{param.name}" requires a Boolean value, not "{text}"', f"{param.name} = on  (or off)")
        return hook(param, value, invalid, catalog.major) if hook and value is not None else value
    if vartype in ("integer", "real"):
        parse = pg_parse_int if vartype == "integer" else pg_parse_real
        value, hint = parse(text, param.unit)
        if value is None:
            what = "an integer" if vartype == "integer" else "a numeric"
            message = f'invalid value for parameter "{param.name}": "{text}" ({what} value'
            message += f" in {param.unit}" if param.unit else ""
            message += ")"
            fix = _unit_fix(param, text, hint)
            invalid(message + (f"; {hint}" if hint else ""), fix)
            return None
        lo, hi = param.min_val, param.max_val
        if lo is not None and hi is not None and not (lo <= value <= hi):
            bound = lo if value < lo else hi
            fix = f"{param.name} = {_literal(bound, param.unit)}  (the {'minimum' if bound == lo else 'maximum'})"
            most = _most_processes(param.name, catalog) if bound == hi else None
            if bound == lo and param.name in _BELOW_MINIMUM:
                fix = f"{param.name} = {param.boot_value}  (the default: {_BELOW_MINIMUM[param.name]})"
            elif most is not None:
                fix = (f"{param.name} = {most}  (the most that leaves room for the other server processes at their "
                       f"defaults: {MAX_BACKENDS} in all)")
            invalid(
                f'{param.name} = {text}{_is(text, value, param.unit)}, outside the valid range '
                f'{_with_unit(lo, param.unit)} .. {_with_unit(hi, param.unit)}',
                fix,
                kind="out-of-range",
            )
            if most is not None:
                # the most the process total leaves: written once every setting is typed
                doc.meta.setdefault("_process_bounds", []).append((doc.diagnostics[-1], setting))
            return None
        return hook(param, value, invalid, catalog.major) if hook else value
    if vartype == "enum":
        value = param.enum_value(text)
        if value is not None:
            return value
        choices = ", ".join(param.enumvals)
        invalid(f'invalid value for parameter "{param.name}": "{text}" (available values: {choices})',
                f"use one of: {choices}")
        return None
    return hook(param, text, invalid, catalog.major) if hook else text


# parameters whose minimum is no fix: PostgreSQL refuses to start with it (PG004)
_BELOW_MINIMUM = {
    "max_connections": "its minimum, 1, is not above superuser_reserved_connections (default 3), and PostgreSQL "
                       "refuses to start unless it is",
}


# check hooks of guc.c that change or reject a value the type and range accept
def _at_least(minimum: int, from_17: int | None = None):
    def hook(param, value, invalid, major):
        # check_wal_buffers (1..3 -> 4 blocks), check_autovacuum_work_mem (0..1023 -> 1024 kB up
        # to 16, 0..63 -> 64 kB from 17 on); -1 = automatic
        low = from_17 if from_17 is not None and major >= 17 else minimum
        return low if -1 < value < low else value
    return hook


def _no_oids(param, value, invalid, major):
    if value:
        invalid("tables declared WITH OIDS are not supported (default_with_oids only accepts off)",
                "remove the default_with_oids line")
        return None
    return value


def _not_at_startup(param, value, invalid, major):
    # check_role / check_session_authorization need a catalog lookup, impossible while the
    # configuration file is read: every value is rejected at startup
    invalid(f'invalid value for parameter "{param.name}": "{value}" ({param.name} cannot be set in postgresql.conf; '
            "use ALTER ROLE ... SET or SET ROLE in a session)",
            f"remove the {param.name} line")
    return None


def _clean_ascii(param, value, invalid, major):
    # check_cluster_name / check_application_name (pg_clean_ascii): every byte outside printable
    # ASCII becomes '?' up to 15, `\xNN` from 16 on. Bytes are the value's UTF-8 encoding.
    if all(" " <= ch <= "~" for ch in value):
        return value
    out = []
    for byte in value.encode("utf-8", "surrogateescape"):
        if 32 <= byte <= 126:
            out.append(chr(byte))
        else:
            out.append("?" if major <= 15 else f"\\x{byte:02x}")
    return "".join(out)


_DATE_STYLES = {"iso": "ISO", "sql": "SQL", "german": "German"}


def _datestyle(param, value, invalid, major, current: str = "ISO, MDY"):
    # check_datestyle: a comma list of a style (ISO, SQL, Postgres, German) and an order (YMD,
    # DMY/Euro..., MDY/US/NonEuro), any case; shown as `Style, ORDER`; German implies DMY.
    # What the value does not say is kept from the current DateStyle (`current`): a file line
    # `DateStyle = 'dmy'` after `datestyle = 'sql'` gives `SQL, DMY`; `default` is the reset
    # value, which at startup is the last value the file set (or the boot value `ISO, MDY`).
    base_style, _, base_order = current.partition(", ")
    style, order = base_style, base_order
    have_style = have_order = False
    parts = [part.strip(" \t\n\r\f\v") for part in value.split(",")] if value.strip(" \t\n\r\f\v") else []
    for part in parts:
        tok = part.lower()
        if len(tok) >= 2 and tok[0] == tok[-1] == '"':
            tok = part[1:-1]  # a quoted identifier keeps its case
        new_style = new_order = None
        if not tok or any(ch in tok for ch in " \t\n\r\f\v"):
            new_style = "bad"
        elif tok in _DATE_STYLES:
            new_style = _DATE_STYLES[tok]
        elif tok.startswith("postgres"):
            new_style = "Postgres"
        elif tok == "ymd":
            new_order = "YMD"
        elif tok == "dmy" or tok.startswith("euro"):
            new_order = "DMY"
        elif tok in ("mdy", "us") or tok.startswith("noneuro"):
            new_order = "MDY"
        elif tok == "default":
            style = style if have_style else base_style
            order = order if have_order else base_order
            continue
        else:
            new_style = "bad"
        if new_style == "bad" or (new_style and have_style and new_style != style) or (
                new_order and have_order and new_order != order):
            invalid(f'invalid value for parameter "DateStyle": "{value}"'
                    + ("" if new_style == "bad" else " (conflicting DateStyle specifications)"),
                    "DateStyle = 'ISO, MDY'  (a style and an order)")
            return None
        if new_style:
            style, have_style = new_style, True
            if new_style == "German" and not have_order:
                order = "DMY"
        if new_order:
            order, have_order = new_order, True
    return f"{style}, {order}"


_SCANNER_SPACE = " \t\n\r\f"


def split_identifiers(text: str, sep: str = ",") -> list[str] | None:
    """SplitIdentifierString: the names of a comma list (unquoted ones lowercased), None if invalid."""
    names: list[str] = []
    i, n = 0, len(text)
    while i < n and text[i] in _SCANNER_SPACE:
        i += 1
    if i == n:
        return names  # an empty string is an empty list
    while True:
        if text[i] == '"':
            parts, j = [], i + 1
            while True:
                end = text.find('"', j)
                if end < 0:
                    return None  # mismatched quotes
                parts.append(text[j:end])
                if end + 1 < n and text[end + 1] == '"':
                    parts.append('"')
                    j = end + 2
                    continue
                break
            name, i = "".join(parts), end + 1
        else:
            j = i
            while j < n and text[j] != sep and text[j] not in _SCANNER_SPACE:
                j += 1
            if j == i:
                return None  # an empty unquoted name
            name, i = text[i:j].lower(), j
        while i < n and text[i] in _SCANNER_SPACE:
            i += 1
        names.append(name)
        if i == n:
            return names
        if text[i] != sep:
            return None
        i += 1
        while i < n and text[i] in _SCANNER_SPACE:
            i += 1
        if i == n:
            return None  # a name is expected after the separator


def _identifier_list(keywords=None):
    def hook(param, value, invalid, major):
        names = split_identifiers(value)
        if names is None:
            invalid(f'invalid value for parameter "{param.name}": "{value}" (list syntax is invalid)',
                    f"{param.name} = 'a, b'  (names separated by commas; double quotes around a name with spaces)")
            return None
        allowed = keywords(major) if keywords else None
        for name in names:
            if allowed is not None and name.lower() not in allowed:
                invalid(f'invalid value for parameter "{param.name}": "{value}" (unrecognized key word "{name}"; '
                        f"valid: {', '.join(sorted(allowed))})", f"{param.name} = 'stderr'")
                return None
        return value
    return hook


def _log_destinations(major: int) -> set[str]:
    # check_log_destination on Linux builds (eventlog exists only on Windows)
    return {"stderr", "csvlog", "syslog"} | ({"jsonlog"} if major >= 15 else set())


_SYNCREP_TOKEN = lazy_re.compile(  # name: the same letters as _L/_LD (negated ASCII classes compile fast)
    r'(?P<space>[ \t\n\r\f\v]+)|(?P<quoted>"(?:[^"]|"")*")|'
    rf'(?P<name>[{_L}](?:[{_LD}]|\$)*)'
    r"|(?P<num>[0-9]+)|(?P<punct>[*,()])"
)


def _syncrep_error(value: str) -> str | None:
    """Why synchronous_standby_names does not parse (syncrep_scanner.l / syncrep_gram.y), or None."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(value):
        m = _SYNCREP_TOKEN.match(value, pos)
        if m is None:
            return "unterminated quoted identifier" if value[pos] == '"' else f'syntax error at or near "{value[pos]}"'
        pos = m.end()
        kind = m.lastgroup
        if kind == "space":
            continue
        text = m.group()
        if kind == "name" and text.lower() in ("any", "first"):
            kind = text.lower()
        elif kind in ("quoted", "name") or text == "*":
            kind = "name"
        elif kind == "punct":
            kind = text
        tokens.append((kind, text))
    tokens.append(("end", ""))

    def list_at(i: int) -> tuple[int, bool]:
        """(index after a standby list starting at i, whether it parsed)."""
        while True:
            if tokens[i][0] not in ("name", "num"):
                return i, False
            i += 1
            if tokens[i][0] != ",":
                return i, True
            i += 1

    def near(i: int) -> str:
        return "syntax error at end of input" if tokens[i][0] == "end" else f'syntax error at or near "{tokens[i][1]}"'

    i, count = 0, None
    if tokens[0][0] in ("any", "first"):
        if tokens[1][0] != "num":
            return near(1)
        count, i = tokens[1][1], 2
    elif tokens[0][0] == "num" and tokens[1][0] == "(":
        count, i = tokens[0][1], 1
    if count is not None:
        if tokens[i][0] != "(":
            return near(i)
        end, ok = list_at(i + 1)
        if not ok or tokens[end][0] != ")":
            return near(end)
        i = end + 1
    else:
        i, ok = list_at(0)
        if not ok:
            return near(i)
    if tokens[i][0] != "end":
        return near(i)
    if count is not None:
        n = int(count) & 0xFFFFFFFF  # atoi into an int
        n = n - (1 << 32) if n >= 1 << 31 else n
        if n <= 0:
            return f"number of synchronous standbys ({n}) must be greater than zero"
    return None


def _synchronous_standby_names(param, value, invalid, major):
    if value == "":
        return value
    error = _syncrep_error(value)
    if error:
        invalid(f'invalid value for parameter "{param.name}": "{value}" ({error})',
                f"{param.name} = 'FIRST 1 (standby1, standby2)'  (or 'ANY 1 (...)', or a comma list)")
        return None
    return value


_LSN = lazy_re.compile(r"[0-9a-fA-F]{1,8}/[0-9a-fA-F]{1,8}")
_U64 = lazy_re.compile(r"[ \t\n\v\f\r]*[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def _recovery_target_error(name: str, value: str) -> str | None:
    """check_primary_slot_name and the recovery_target_* hooks that can fail at startup."""
    if value == "":
        return None
    if name == "primary_slot_name":
        if len(value.encode("utf-8")) >= 64:
            return "a replication slot name is at most 63 characters"
        if not re.fullmatch(r"[a-z0-9_]+", value):
            return "replication slot names may only contain lower case letters, numbers and the underscore"
    elif name == "recovery_target" and value != "immediate":
        return 'the only allowed value is "immediate"'
    elif name == "recovery_target_lsn" and not _LSN.fullmatch(value):
        return "an LSN is written as two hexadecimal numbers of up to 8 digits: 16/B374D848"
    elif name == "recovery_target_xid":
        m = _U64.match(value)
        if m:
            digits = m.group(1)
            number = (int(digits[2:], 16) if digits[:2].lower() == "0x"
                      else int(digits, 8) if digits[0] == "0" else decimal(digits))
            if number > 2**64 - 1:
                return "the transaction ID is out of range"
    elif name == "recovery_target_name" and len(value.encode("utf-8")) >= 64:
        return "recovery_target_name is too long (maximum 63 characters)"
    return None


def _recovery_target(param, value, invalid, major):
    error = _recovery_target_error(param.name, value)
    if error:
        invalid(f'invalid value for parameter "{param.name}": "{value}" ({error})', f"fix or remove the {param.name} line")
        return None
    return value


_BOOL_WORDS = {"on", "off", "true", "false", "yes", "no", "1", "0"}
_CONNECTION_ASPECTS = {"receipt", "authentication", "authorization", "setup_durations", "all"}


def _log_connections(param, value, invalid, major):
    # 18 made log_connections a list of aspects; a Boolean word still works alone (no prefixes)
    if param.vartype != "string":
        return value
    names = split_identifiers(value)
    if names is None:
        message = "list syntax is invalid"
    elif len(names) == 1 and names[0] in _BOOL_WORDS:
        return value
    elif any(n in _BOOL_WORDS for n in names):
        message = "a Boolean word cannot be combined with other options"
    elif any(n not in _CONNECTION_ASPECTS for n in names):
        message = f"invalid option; valid: on, off or a list of {', '.join(sorted(_CONNECTION_ASPECTS))}"
    else:
        return value
    invalid(f'invalid value for parameter "{param.name}": "{value}" ({message})', f"{param.name} = 'receipt,authentication'")
    return None


def _keyword_list(*words: str):
    return _identifier_list(lambda major: set(words))


def _slot_list(param, value, invalid, major):
    # check_synchronized_standby_slots (17+): a comma list of valid replication slot names
    names = split_identifiers(value)
    bad = None if names is not None else "list syntax is invalid"
    for name in names or ():
        bad = bad or _recovery_target_error("primary_slot_name", name) if name else "an empty slot name"
    if bad:
        invalid(f'invalid value for parameter "{param.name}": "{value}" ({bad})', f"{param.name} = 'slot_1, slot_2'")
        return None
    return value


def _slru_buffers(param, value, invalid, major):
    # check_slru_buffers (17+): a multiple of the SLRU bank size, 16 buffers (0 = automatic)
    if value % 16:
        invalid(f'invalid value for parameter "{param.name}": {value} (must be a multiple of 16)',
                f"{param.name} = {max(16, value - value % 16)}")
        return None
    return value


def _vacuum_buffer_usage_limit(param, value, invalid, major):
    if 0 < value < 128:
        invalid(f'invalid value for parameter "{param.name}": {value} kB (must be 0 or between 128 kB and 16 GB)',
                f"{param.name} = 128kB")
        return None
    return value


def _io_max_concurrency(param, value, invalid, major):
    if value == 0:
        invalid(f'invalid value for parameter "{param.name}": 0 (only -1 or values above 0 are valid)',
                f"{param.name} = -1")
        return None
    return value


def _canonical_path(param, value, invalid, major):
    # check_canonical_path (canonicalize_path): doubled and trailing slashes, `.` components
    # dropped, `..` folded into the component before it (checked on real 15 and 17)
    if not value:
        return value
    absolute = value.startswith("/")
    parts: list[str] = []
    for part in value.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part == ".." and absolute:
            continue
        else:
            parts.append(part)
    path = "/".join(parts)
    return ("/" + path) if absolute else (path or ".")


_CHECK_HOOKS = {
    **{name: _canonical_path for name in (
        "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file", "log_directory",
        "stats_temp_directory")},
    # 16 and later (checked against real 16/17/18 servers; not part of the PG 15 parity run)
    "createrole_self_grant": _keyword_list("set", "inherit"),
    "debug_io_direct": _keyword_list("data", "wal", "wal_init"),
    "synchronized_standby_slots": _slot_list,
    "vacuum_buffer_usage_limit": _vacuum_buffer_usage_limit,
    "io_max_concurrency": _io_max_concurrency,
    **{name: _slru_buffers for name in (
        "commit_timestamp_buffers", "multixact_member_buffers", "multixact_offset_buffers", "notify_buffers",
        "serializable_buffers", "subtransaction_buffers", "transaction_buffers")},
    "log_connections": _log_connections,
    "primary_slot_name": _recovery_target,
    "recovery_target": _recovery_target,
    "recovery_target_lsn": _recovery_target,
    "recovery_target_xid": _recovery_target,
    "recovery_target_name": _recovery_target,
    "synchronous_standby_names": _synchronous_standby_names,
    "log_destination": _identifier_list(_log_destinations),
    "search_path": _identifier_list(),
    "temp_tablespaces": _identifier_list(),
    "DateStyle": _datestyle,
    "cluster_name": _clean_ascii,
    "application_name": _clean_ascii,
    "wal_buffers": _at_least(4),
    "autovacuum_work_mem": _at_least(1024, from_17=64),
    "default_with_oids": _no_oids,
    "role": _not_at_startup,
    "session_authorization": _not_at_startup,
}


def _num(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _with_unit(value: float, unit: str | None) -> str:
    """`12 × 8kB (96kB)`, `900s`, `0`: a value in its base unit, readable."""
    if unit == "8kB":
        return f"{_num(value)} × 8kB ({format_bytes(value * 8192)})" if value >= 0 else _num(value)
    return f"{_num(value)}{unit or ''}"


def _is(text: str, value: float, unit: str | None) -> str:
    shown = _with_unit(value, unit)
    return "" if shown == text.strip() else f" is {shown}"


def _literal(value: float, unit: str | None) -> str:
    """A bound written as a postgresql.conf value: `128kB`, `600s`, `1`."""
    if unit == "8kB" and value >= 0:
        return pg_memory_literal(value * 8192)
    if unit in ("B", "kB", "MB", "ms", "s", "min") and value >= 0:
        return f"{_num(value)}{unit}"
    return _num(value)


_WRONG_CASE_UNITS = {
    "kb": "kB", "mb": "MB", "gb": "GB", "tb": "TB", "b": "B", "KB": "kB", "Mb": "MB", "Gb": "GB",
    "m": "min", "M": "min", "mins": "min", "minute": "min", "minutes": "min", "sec": "s", "secs": "s",
    "S": "s", "H": "h", "hr": "h", "hour": "h", "hours": "h", "D": "d", "day": "d", "days": "d", "MS": "ms",
}


def _unit_fix(param: Parameter, text: str, hint: str | None) -> str | None:
    m = re.match(r"^\s*([-+]?[0-9.]+)\s*([A-Za-z]+)\s*$", text)
    if m and m.group(2) in _WRONG_CASE_UNITS:
        return f"{param.name} = '{m.group(1)}{_WRONG_CASE_UNITS[m.group(2)]}'"
    if hint:
        return hint
    if param.unit:
        return f"write a number in {param.unit}, or a number with a unit"
    return None
