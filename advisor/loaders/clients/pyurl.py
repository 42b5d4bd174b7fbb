"""Connection strings that Python code builds from parts, read with `ast` and never run.

A URL or keyword string written as one of
- an f-string: `f"postgresql+psycopg2://{DB_USER}:{DB_PASS}@{DB_HOST}:{DB_PORT}/billing"`;
- `str.format`: `"postgresql://{}@{}/{}".format(USER, HOST, DB)`, `"...{host}...".format(host=HOST)`;
- `%`: `"postgresql://%s@%s/%s" % (USER, HOST, DB)`, `"...%(host)s..." % {"host": HOST}`;
- `+` of such parts: `"postgresql://app@" + DB_HOST + "/app"`;
- SQLAlchemy's `URL.create(drivername, username, password, host, port, database, query)`
  (positional or keyword; `sqlalchemy.URL`, `sqlalchemy.engine.URL`, `sqlalchemy.engine.url.URL`),
  and `make_url(x)`, which is `x`;

is read as the text it makes at run time, part by part: a part that is a literal, a module
constant (a name assigned once, at the top level), or a variable's default (`os.getenv("X",
"d")`, `os.environ.get("X", "d")`: the default, assumed, Value.assumed = "X", as
advisor.loaders.clients.django.env_default reads it) is known; any other part (`os.environ["X"]`,
`os.getenv("X")`, a call, an attribute) is unknown, written into the text as a `${X}`
placeholder, which the connection-string parser (advisor.loaders.clients.strings) masks: a
parameter that overlaps it is `Unknown`, named by it. A part is spanned where it is written (a
literal piece of an f-string inside it, a constant inside its own literal, a default inside the
`os.getenv` call), so that fixes point at the right line and column.

The text holds the password when the code writes it: it is only handed to the parser, which marks
it secret (`***`), and is never recorded as it is (`Composed.shown` is redacted).
"""

from __future__ import annotations

import ast
import re
from typing import Any, Callable

from advisor import lazy_re
from advisor.model import Record, Span
from advisor.loaders.clients.strings import Locator, redact_any

_NAME = lazy_re.compile(r"[^A-Za-z0-9_.]+")
# printf-style conversions (`%(host)s`, `%d`, `%%`)
_PERCENT = lazy_re.compile(r"%(?:\((?P<key>[^)]*)\))?(?P<spec>[#0\- +]*(?:\d+)?(?:\.\d+)?[hlL]?)(?P<type>[diouxXeEfFgGcrsa%])")
URL_CREATE_ARGS = ("drivername", "username", "password", "host", "port", "database", "query")


class Piece(Record):
    """One part of the text: `text` as it is at run time (the default, for an assumed part), or
    `${name}` for an unknown one; `loc` maps an offset in the part to where it is written."""

    __slots__ = ("text", "loc", "assumed", "unknown", "value")

    def __init__(self, text: str, loc: Locator, assumed: str | None = None, unknown: bool = False,
                 value: bool = False) -> None:
        self.text = text
        self.loc = loc
        self.assumed = assumed
        self.unknown = unknown
        self.value = value  # a value put into the text (a constant, a default), not the template's own text


class Composed(Record):
    """The text a composition makes, its parts, and a locator over them."""

    __slots__ = ("text", "pieces", "loc", "shown")

    def __init__(self, pieces: list[Piece], whole: Span) -> None:
        self.pieces = pieces
        self.text = "".join(p.text for p in pieces)
        self.loc = PieceLocator(pieces, whole)
        self.shown = redact_any(self.text)  # what may be recorded and shown: never the password

    @property
    def unknown(self) -> bool:
        return any(p.unknown for p in self.pieces)

    def bounds(self):
        pos = 0
        for p in self.pieces:
            yield pos, pos + len(p.text), p
            pos += len(p.text)

    def hide(self, parsed) -> None:
        """Keep the password's text out of every other parameter and out of `shown`: a value put
        into the password's place that holds URL delimiters (`"p@ss/word"` in
        `"postgresql://app:{}@{}/app".format(PW, HOST)`) splits at run time into a password and
        the next parts (host `ss`); those parts are secret too (`***`)."""
        secret = [(s, e) for s, e, p in self.bounds() if p.value and not p.unknown and any(
            q.key in ("password", "sslpassword") and q.start >= 0 and s < max(q.end, q.start + 1) and q.start < e
            for q in parsed.params)]
        if not secret:
            return
        for q in (*parsed.params, *parsed.unknown_keys):
            if q.key in ("password", "sslpassword") or q.start < 0:
                continue
            if any(s < max(q.end, q.start + 1) and q.start < e for s, e in secret):
                q.unknown, q.value, q.hint = True, "***", None
        text = self.text
        for s, e in reversed(secret):
            text = text[:s] + "***" + text[e:]
        self.shown = redact_any(text)

    def assumed_in(self, start: int, end: int) -> str | None:
        """The variables whose defaults make [start, end) of the text, or None."""
        names: list[str] = []
        pos = 0
        for p in self.pieces:
            s, e = pos, pos + len(p.text)
            pos = e
            if p.assumed and s < max(end, start + 1) and start < e and p.assumed not in names:
                names.append(p.assumed)
        return ", ".join(names) or None


class PieceLocator(Locator):
    """A Locator over composed text: an offset range inside one part is spanned where that part is
    written; one across parts is the whole expression."""

    __slots__ = ("pieces",)

    def __init__(self, pieces: list[Piece], whole: Span) -> None:
        super().__init__(whole.file, whole.line or 1, whole.col or 1, False, whole)
        bounds = []
        pos = 0
        for p in pieces:
            bounds.append((pos, pos + len(p.text), p))
            pos += len(p.text)
        self.pieces = bounds

    def span(self, start: int, end: int) -> Span:
        if start < 0:
            return self.whole
        for s, e, p in self.pieces:
            if s <= start < e or (start == s == e):
                if max(end, start) <= e:
                    return p.loc.span(start - s, max(end, start) - s)
                return self.whole
        return self.whole


class Composer:
    """Reads compositions for one module. `resolve` replaces a module constant's name by its
    assigned expression; `segment` is a node's source text; `locate` an exact Locator of a string
    literal (or the node's whole span)."""

    def __init__(self, path: str, resolve: Callable[[ast.AST], ast.AST], segment: Callable[[ast.AST], str | None],
                 locate: Callable[[ast.AST, str], Locator], node_span: Callable[[str, ast.AST], Span]) -> None:
        self.path = path
        self.resolve = resolve
        self.segment = segment
        self.locate = locate
        self.node_span = node_span

    def compose(self, node: ast.AST) -> Composed | None:
        """The text of a composition form (after module constants are followed), None for any other
        expression (a literal, a name not known, `os.environ[...]`: read as before)."""
        node = self.resolve(node)
        pieces = self._form(node, 0)
        if pieces is None:
            return None
        return Composed(pieces, self.node_span(self.path, node))

    # ------------------------------------------------------------------------------------------

    def _form(self, node: ast.AST, depth: int) -> list[Piece] | None:
        if depth > 40:  # (a chain of + adds two levels a part)
            return None
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.resolve(node.left), self.resolve(node.right)
            if not any(_is_text(n) for n in (left, right)):
                return None  # 1 + PORT, or two unknowns: no composition of text
            return self._part(left, depth + 1) + self._part(right, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            template = self.resolve(node.left)
            if isinstance(template, ast.Constant) and isinstance(template.value, str):
                return self._percent(template, node.right, depth)
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "format":
                template = self.resolve(func.value)
                if isinstance(template, ast.Constant) and isinstance(template.value, str):
                    return self._format(template, node, depth)
                return None
            if isinstance(func, ast.Attribute) and func.attr == "create" and _names_url(func.value):
                return self._url_create(node, depth)
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name == "make_url" and len(node.args) == 1 and not node.keywords:
                inner = self.resolve(node.args[0])
                return self._form(inner, depth + 1) or self._part(inner, depth + 1)
        return None

    def _part(self, node: ast.AST, depth: int, convert: Callable[[Any], str] = str) -> list[Piece]:
        """One value inside a composition: known (literal, constant, a default) or unknown."""
        from advisor.loaders.clients.django import env_default

        node = self.resolve(node)
        span = self.node_span(self.path, node)
        if isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
            text = _convert(convert, node.value)
            if text is None:
                return [self._unknown(node)]
            if isinstance(node.value, str) and text == node.value:
                return [Piece(text, self.locate(node, text), value=True)]
            return [Piece(text, Locator.approximate(span), value=True)]
        found = env_default(node)
        if found is not None:
            var, value, where = found
            text = _convert(convert, value)
            if text is None:
                return [self._unknown(node)]
            loc = (self.locate(where, text) if isinstance(where, ast.Constant) and where.value == text
                   else Locator.approximate(self.node_span(self.path, where)))
            return [Piece(text, loc, assumed=var, value=True)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" \
                and len(node.args) == 1 and not node.keywords:
            return self._part(node.args[0], depth + 1, convert)
        if convert is str:
            inner = self._form(node, depth + 1)
            if inner is not None:
                return inner
        return [self._unknown(node)]

    def _unknown(self, node: ast.AST) -> Piece:
        return Piece("${" + _name_of(node, self.segment) + "}", Locator.approximate(self.node_span(self.path, node)),
                     unknown=True)

    def _literal(self, text: str, template: ast.Constant, offset: int | None) -> Piece:
        """A literal piece of a template (`.format`/`%`), at `offset` in its value when known."""
        loc = self.locate(template, template.value)
        if offset is None or not loc.exact:
            return Piece(text, Locator.approximate(loc.whole))
        return Piece(text, Locator(loc.file, loc.line, loc.col + offset, True, loc.whole))

    def _fstring(self, node: ast.JoinedStr, depth: int) -> list[Piece]:
        src = self.segment(node) or ""
        whole = self.node_span(self.path, node)
        exact = node.lineno == getattr(node, "end_lineno", None) and src.isascii()
        pieces: list[Piece] = []
        # where each literal piece starts in the source: after the prefix and quote, or after the
        # closing brace of the field before it (only for an f-string that is one token on one line)
        m = re.match(r"[rRfFbBuU]*('''|\"\"\"|'|\")", src) if exact else None
        pos = m.end() if m else None
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                text = value.value
                if pos is not None and src[pos:pos + len(text)] == text:
                    pieces.append(Piece(text, Locator(whole.file, node.lineno, node.col_offset + 1 + pos, True, whole)))
                    pos += len(text)
                else:
                    pieces.append(Piece(text, Locator.approximate(whole)))
                    pos = None
            elif isinstance(value, ast.FormattedValue):
                pieces.extend(self._field(value, depth))
                pos = _after_field(src, value.value.end_col_offset - node.col_offset) \
                    if pos is not None and value.value.lineno == node.lineno else None
            else:
                pieces.append(self._unknown(value))
                pos = None
        return pieces

    def _field(self, value: ast.FormattedValue, depth: int) -> list[Piece]:
        spec = value.format_spec
        if spec is not None and not (isinstance(spec, ast.JoinedStr) and all(
                isinstance(v, ast.Constant) for v in spec.values)):
            return [self._unknown(value.value)]
        spec_text = "".join(v.value for v in spec.values) if spec is not None else ""  # type: ignore[union-attr]
        conv = {-1: str, 115: str, 114: repr, 97: ascii}.get(value.conversion, str)
        if spec_text or conv is not str:
            return self._part(value.value, depth + 1, lambda v: format(conv(v), spec_text))
        return self._part(value.value, depth + 1)

    def _format(self, template: ast.Constant, call: ast.Call, depth: int) -> list[Piece]:
        text: str = template.value  # type: ignore[assignment]
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        splat = any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args)
        offset: int | None = 0 if "{{" not in text and "}}" not in text else None
        auto = 0
        pieces: list[Piece] = []
        import string

        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError:
            return [self._unknown(call)]
        for literal, field, spec, conv in parsed:
            if literal:
                pieces.append(self._literal(literal, template, offset))
                offset = offset + len(literal) if offset is not None else None
            if field is None:
                continue
            if offset is not None:
                raw = "{" + field + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}"
                offset = offset + len(raw) if "{" not in (spec or "") else None
            arg: ast.AST | None = None
            if field == "":
                index: int | str = auto
                auto += 1
            elif field.isdigit():
                index = int(field)
            elif field.isidentifier():
                index = field
            else:  # {0.host}, {cfg[host]}
                pieces.append(self._unknown(call))
                continue
            if isinstance(index, int) and not splat and index < len(call.args):
                arg = call.args[index]
            elif isinstance(index, str) and index in kw:
                arg = kw[index]
            if arg is None or (spec and "{" in spec):
                pieces.append(self._unknown(arg if arg is not None else call))
                continue
            fn = {"r": repr, "a": ascii}.get(conv or "", str)
            if spec or fn is not str:
                pieces.extend(self._part(arg, depth + 1, lambda v, s=spec, f=fn: format(f(v), s or "")))
            else:
                pieces.extend(self._part(arg, depth + 1))
        return pieces

    def _percent(self, template: ast.Constant, right: ast.AST, depth: int) -> list[Piece]:
        text: str = template.value  # type: ignore[assignment]
        right = self.resolve(right)
        args: list[ast.AST] = list(right.elts) if isinstance(right, ast.Tuple) else []
        mapping: dict[str, ast.AST] = {}
        if isinstance(right, ast.Dict):
            mapping = {k.value: v for k, v in zip(right.keys, right.values)
                       if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        elif not isinstance(right, ast.Tuple):
            args = [right]
        pieces: list[Piece] = []
        pos, index = 0, 0
        for m in _PERCENT.finditer(text):
            if m.start() > pos:
                pieces.append(self._literal(text[pos:m.start()], template, pos))
            pos = m.end()
            if m.group("type") == "%":
                pieces.append(self._literal("%", template, None))
                continue
            key = m.group("key")
            arg = mapping.get(key) if key is not None else (args[index] if index < len(args) else None)
            if key is None:
                index += 1
            if arg is None or "*" in m.group("spec"):
                pieces.append(self._unknown(arg if arg is not None else right))
                continue
            conv = "%" + m.group("spec") + m.group("type")
            if conv == "%s":
                pieces.extend(self._part(arg, depth + 1))
            else:
                pieces.extend(self._part(arg, depth + 1, lambda v, c=conv: c % (v,)))
        if pos < len(text):
            pieces.append(self._literal(text[pos:], template, pos))
        return pieces

    def _url_create(self, call: ast.Call, depth: int) -> list[Piece]:
        """sqlalchemy.engine.URL.create(drivername, username, password, host, port, database, query):
        the URL it stands for, `drivername://username:password@host:port/database?query`; an
        argument not given (or None) is left out, as SQLAlchemy leaves it."""
        from urllib.parse import quote

        args: dict[str, ast.AST] = {}
        for name, node in zip(URL_CREATE_ARGS, call.args):
            if isinstance(node, ast.Starred):
                return [self._unknown(call)]
            args[name] = node
        for k in call.keywords:
            if k.arg is None:
                return [self._unknown(call)]  # URL.create(**settings): any part
            args[k.arg] = k.value
        if "drivername" not in args:
            return [self._unknown(call)]
        whole = Locator.approximate(self.node_span(self.path, call))

        def given(name: str) -> ast.AST | None:
            node = args.get(name)
            if node is None:
                return None
            node = self.resolve(node)
            return None if isinstance(node, ast.Constant) and node.value is None else node

        def escaped(name: str) -> list[Piece]:
            # SQLAlchemy escapes user, password and database when it renders the URL; a part
            # that needs it is spanned at its argument, not inside it
            out = []
            for p in self._part(given(name), depth + 1):  # type: ignore[arg-type]
                q = p.text if p.unknown else quote(p.text, safe="")
                out.append(p if q == p.text else Piece(q, Locator.approximate(p.loc.whole), p.assumed, value=True))
            return out

        pieces = self._part(args["drivername"], depth + 1) + [Piece("://", whole)]
        if given("username") is not None:
            pieces += escaped("username")
            if given("password") is not None:
                pieces += [Piece(":", whole)] + escaped("password")
            pieces.append(Piece("@", whole))
        if given("host") is not None:
            pieces += self._part(given("host"), depth + 1)  # type: ignore[arg-type]
        if given("port") is not None:
            pieces += [Piece(":", whole)] + self._part(given("port"), depth + 1)  # type: ignore[arg-type]
        if given("database") is not None:
            pieces += [Piece("/", whole)] + escaped("database")
        query = given("query")
        if isinstance(query, ast.Dict):
            sep = "?"
            for k, v in zip(query.keys, query.values):
                if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                    continue
                pieces += [Piece(sep, whole), Piece(k.value, self.locate(k, k.value)), Piece("=", whole)]
                pieces += self._part(v, depth + 1)
                sep = "&"
        elif query is not None:
            pieces += [Piece("?", whole), self._unknown(query)]
        return pieces


def _convert(convert: Callable[[Any], str], value: Any) -> str | None:
    try:
        return convert(value)
    except (TypeError, ValueError):
        return None


def _is_text(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod))) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format")


def _names_url(node: ast.AST) -> bool:
    """`URL`, `sqlalchemy.URL`, `sa.engine.URL`, `sqlalchemy.engine.url.URL`."""
    return (isinstance(node, ast.Name) and node.id == "URL") or (isinstance(node, ast.Attribute) and node.attr == "URL")


def _name_of(node: ast.AST, segment: Callable[[ast.AST], str | None]) -> str:
    """What names an unknown part: the variable read (`os.environ["DB_PASS"]`, `os.getenv("DB_PASS")`:
    DB_PASS), a name or attribute as written, else its source text made a name."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return _NAME.sub("_", node.slice.value)[:60] or "value"
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("get", "getenv"):
            return _NAME.sub("_", node.args[0].value)[:60] or "value"
    text = segment(node) or "value"
    return _NAME.sub("_", text).strip("_")[:60] or "value"


def _after_field(src: str, end: int) -> int | None:
    """The offset after the `}` that closes an f-string field whose expression ends at `end`
    (skipping `=`, `!r` and a format spec, whose own `{}` nest)."""
    depth = 0
    for i in range(end, len(src)):
        c = src[i]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i + 1
            depth -= 1
    return None
