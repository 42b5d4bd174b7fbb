"""Structured files (YAML, JSON, TOML, ini, Java properties, .env) as flat `Leaf`s with spans.

Every format is reduced to the same shape, one leaf per scalar: its path (keys split on dots,
so `spring.datasource.url` in a properties file and the same keys nested in YAML give the same
path; list items are indexes), its value typed as the format types it, and a `Locator` that maps
offsets inside the value to file positions. The extractor (`advisor.loaders.clients.extract`) then
looks at leaves only, whatever the format.

YAML uses `yaml.compose` (node marks give line and column; imported lazily). JSON is read as
YAML (a JSON text is YAML), falling back to `json` with logical spans (`$.a.b[0]`). TOML and ini
are read line by line (tables, `key = value`, quoted strings); a line they cannot read is skipped:
these files are application configs, and only the keys pgpath knows matter.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from advisor import lazy_re
from advisor.loaders.clients.strings import Locator
from advisor.loaders.source import lines_of
from advisor.model import Record, Span, Unknown


class Leaf(Record):
    __slots__ = ("path", "value", "raw", "loc", "key_span")

    def __init__(self, path: tuple[str, ...], value: Any, raw: str, loc: Locator, key_span: Span) -> None:
        self.path = path
        self.value = value  # str, int, float, bool, None, Unknown, or a dict for an inline mapping
        self.raw = raw
        self.loc = loc
        self.key_span = key_span

    @property
    def key(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


class TreeError(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


def _split(key: str) -> tuple[str, ...]:
    return tuple(part for part in key.split(".") if part != "") or (key,)


# ------------------------------------------------------------------------------------------------
# YAML / JSON


def compose_yaml(path: str, text: str) -> tuple[tuple[list[str], list[str]], list]:
    """The node trees of every document of a YAML (or JSON) text, its template tags (`{{ }}`,
    `{% %}`, ERB's `<% %>`) masked so that it parses, with the lines (masked, as written) that
    spans and values are read from. Raises TreeError on invalid YAML."""
    import yaml

    masked = mask_template_tags(text) if ("{{" in text or "{%" in text or "<%" in text) else text
    lines = (masked.split("\n"), text.split("\n"))
    from advisor.loaders.yaml_nodes import MAX_FLOW_DEPTH, flow_too_deep

    deep = flow_too_deep(masked)
    if deep is not None:
        raise TreeError(f"invalid YAML: flow collections ([ or {{) nested more than {MAX_FLOW_DEPTH} deep",
                        Span(path, *deep))
    try:
        return lines, list(yaml.compose_all(masked, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span(path, mark.line + 1, mark.column + 1) if mark else Span(path, 1, 1)
        # only the problem, never str(exc): its snippet quotes the line, which may hold a password
        raise TreeError(f"invalid YAML: {getattr(exc, 'problem', None) or 'cannot parse'}", span) from None
    except RecursionError:
        raise TreeError("invalid YAML: nesting too deep", Span(path, 1, 1)) from None


def yaml_leaves(path: str, text: str) -> list[Leaf]:
    """Leaves of every document of a YAML (or JSON) text. Raises TreeError on invalid YAML."""
    lines, docs = compose_yaml(path, text)
    leaves: list[Leaf] = []
    budget = [_WALK_BUDGET_BASE + _WALK_BUDGET_PER_CHAR * len(text)]
    try:
        for index, node in enumerate(docs):
            if node is not None:
                _walk_yaml(path, lines, node, (str(index),) if len(docs) > 1 else (), leaves, 0, budget)
    except _AliasBomb:
        raise TreeError("invalid YAML: its aliases (*name) expand to far more values than the file holds "
                        f"(more than {_WALK_BUDGET_BASE + _WALK_BUDGET_PER_CHAR * len(text)} nodes); "
                        "pgpath stops reading it", Span(path, 1, 1)) from None
    return leaves


# An alias repeats the node it names without copying it: ten aliases of ten aliases of ...
# ("billion laughs", 400 bytes) are a graph of a few nodes that expands to 10^9. The walk counts
# the nodes it visits and stops at a bound linear in the file's size.
_WALK_BUDGET_BASE = 10_000
_WALK_BUDGET_PER_CHAR = 4


class _AliasBomb(Exception):
    pass


def _node_span(path: str, node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def _walk_yaml(path: str, lines: list[str], node, prefix: tuple[str, ...], out: list[Leaf], depth: int,
               budget: list[int]) -> None:
    import yaml

    if depth > 64:
        return
    budget[0] -= 1 + (len(node.value) if isinstance(node.value, list) else 0)
    if budget[0] < 0:
        raise _AliasBomb
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key_path = prefix + _split(key_node.value)
            if isinstance(value_node, yaml.ScalarNode):
                out.append(_yaml_leaf(path, lines, key_path, value_node, _node_span(path, key_node)))
            else:
                if isinstance(value_node, yaml.MappingNode) and _is_flow_mapping(value_node):
                    pass
                _walk_yaml(path, lines, value_node, key_path, out, depth + 1, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            if isinstance(item, yaml.ScalarNode):
                out.append(_yaml_leaf(path, lines, prefix + (str(i),), item, _node_span(path, item)))
            else:
                _walk_yaml(path, lines, item, prefix + (str(i),), out, depth + 1, budget)
    elif isinstance(node, yaml.ScalarNode):
        out.append(_yaml_leaf(path, lines, prefix, node, _node_span(path, node)))


def _is_flow_mapping(node) -> bool:
    return bool(getattr(node, "flow_style", False))


_YAML_BOOL = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def _yaml_leaf(path: str, lines: list[str], key_path: tuple[str, ...], node, key_span: Span) -> Leaf:
    tag = node.tag or ""
    text = node.value
    value: Any = text
    if tag.endswith(":bool"):
        value = _YAML_BOOL.get(text.lower(), text)
    elif tag.endswith(":int"):
        try:
            # (a number too long for int() stays text: the reader then reports it as invalid)
            value = int(text.replace("_", ""), 0) if not re.fullmatch(r"0[0-7]+", text) else int(text, 8)
        except ValueError:
            value = text
    elif tag.endswith(":float"):
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            value = text
    elif tag.endswith(":null"):
        value = None
    s, e = node.start_mark, node.end_mark
    whole = Span(path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)
    exact = False
    col = s.column + 1
    masked_lines, lines = lines
    if s.line == e.line and s.line < len(lines):
        source = masked_lines[s.line][s.column:e.column]
        if node.style is None and source == text:
            exact = True
        elif node.style in ("'", '"') and source[1:-1] == text:
            exact, col = True, s.column + 2
        if exact:
            original = lines[s.line][col - 1:col - 1 + len(text)]
            if original != text:  # a template tag was masked here: the value is the tag
                text = value = original
    loc = Locator(path, s.line + 1, col, exact, whole)
    return Leaf(key_path, value, text, loc, key_span)


# template tags: `\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>` with DOTALL, found by advisor.tags (linear time)
_STATEMENT = lazy_re.compile(r"^(\{\{-?\s*(if|else|end|range|with|define|block|template|include|toYaml|tpl|/\*)\b|\{%|\{#|<%[^=])")


def mask_template_tags(text: str) -> str:
    """Helm/Jinja/ERB tags made harmless for a YAML reader, offsets unchanged: an expression
    (`{{ .Values.x }}`, `<%= x %>`) becomes a `${xxx}` placeholder of the same length (an
    unknown value), a statement (`{{- if }}`, `{% for %}`, `{{ include ... }}`) becomes blanks."""
    def repl(tag: str) -> str:
        if "\n" in tag or _STATEMENT.match(tag) or len(tag) < 4:
            return "".join(ch if ch == "\n" else " " for ch in tag)
        return "${" + "x" * (len(tag) - 3) + "}"
    from advisor.tags import Pair, scan

    out, pos = [], 0
    for start, end, _, _ in scan(text, _TEMPLATE_TAG_FORMS or _template_tag_forms(Pair)):
        out.append(text[pos:start])
        out.append(repl(text[start:end]))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_TEMPLATE_TAG_FORMS: tuple = ()


def _template_tag_forms(Pair) -> tuple:  # noqa: N803
    global _TEMPLATE_TAG_FORMS
    _TEMPLATE_TAG_FORMS = tuple(Pair(o, c, multiline=True) for o, c in (("{{", "}}"), ("{%", "%}"), ("{#", "#}"),
                                                                      ("<%", "%>")))
    return _TEMPLATE_TAG_FORMS


def json_leaves(path: str, text: str) -> list[Leaf]:
    """JSON through the YAML reader (for line numbers); plain `json` with logical spans if YAML
    cannot read it (tabs, unusual escapes)."""
    try:
        return yaml_leaves(path, text)
    except TreeError:
        pass
    import json

    from advisor.loaders.source import json_loads

    try:
        data = json_loads(text)
    except ValueError as exc:
        raise TreeError(f"invalid JSON: {exc}", Span(path, getattr(exc, "lineno", 1), getattr(exc, "colno", 1))) from None
    out: list[Leaf] = []

    def walk(obj: Any, prefix: tuple[str, ...], key: str, depth: int) -> None:
        if depth > 64:
            return
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, prefix + _split(str(k)), f"{key}.{k}", depth + 1)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                walk(v, prefix + (str(i),), f"{key}[{i}]", depth + 1)
        else:
            span = Span(path, key=key)
            raw = obj if isinstance(obj, str) else json.dumps(obj)
            out.append(Leaf(prefix, obj, raw, Locator(path, 1, 1, False, span), span))
    walk(data, (), "$", 0)
    return out


# ------------------------------------------------------------------------------------------------
# line-based formats


def _scalar(raw: str) -> tuple[Any, int, str]:
    """A TOML/ini value: (typed value, offset of the text inside raw, text)."""
    s = raw.strip()
    lead = len(raw) - len(raw.lstrip())
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        inner = s[1:-1]
        if s[0] == '"' and "\\" in inner:
            try:
                decoded = bytes(inner, "utf-8").decode("unicode_escape")
            except UnicodeDecodeError:
                decoded = inner
            return decoded, -1, inner
        return inner, lead + 1, inner
    low = s.lower()
    if low in ("true", "false"):
        return low == "true", lead, s
    if re.fullmatch(r"[+-]?[0-9][0-9_]*", s):
        try:
            return int(s.replace("_", "")), lead, s
        except ValueError:  # more digits than int() converts: stays text, read as invalid later
            return s, lead, s
    if re.fullmatch(r"[+-]?[0-9][0-9_]*\.[0-9_]+(?:[eE][+-]?[0-9]+)?", s):
        return float(s.replace("_", "")), lead, s
    return s, lead, s


def _line_leaf(path: str, lineno: int, line: str, prefix: tuple[str, ...], key: str, key_col: int,
               value_col: int, raw_value: str, typed: bool) -> Leaf:
    if typed:
        value, offset, text = _scalar(raw_value)
    else:
        value, offset, text = raw_value.strip(), len(raw_value) - len(raw_value.lstrip()), raw_value.strip()
    whole = Span(path, lineno, value_col + 1, lineno, value_col + 1 + len(raw_value.rstrip()))
    if offset >= 0:
        loc = Locator(path, lineno, value_col + 1 + offset, True, whole)
    else:
        loc = Locator.approximate(whole)
    key_span = Span(path, lineno, key_col + 1, lineno, key_col + 1 + len(key))
    return Leaf(prefix + _split(key), value, text, loc, key_span)


_TOML_TABLE = lazy_re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY = lazy_re.compile(r'^(\s*)("[^"]*"|\'[^\']*\'|[A-Za-z0-9_.\-]+)\s*=\s*')


def toml_leaves(path: str, text: str) -> list[Leaf]:
    out: list[Leaf] = []
    table: tuple[str, ...] = ()
    for lineno, line in enumerate(text.split("\n"), start=1):
        m = _TOML_TABLE.match(line)
        if m:
            table = tuple(p.strip().strip("\"'") for p in m.group(1).split("."))
            continue
        m = _TOML_KEY.match(line)
        if not m:
            continue
        key = m.group(2).strip("\"'")
        rest = line[m.end():]
        value_text = _strip_toml_comment(rest)
        if value_text.strip().startswith(("[", "{", '"""', "'''")):
            continue
        out.append(_line_leaf(path, lineno, line, table, key, len(m.group(1)), m.end(), value_text, True))
    return out


def _strip_toml_comment(rest: str) -> str:
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            if ch == "\\" and quote == '"':
                continue
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return rest[:i].rstrip()
    return rest.rstrip()


_INI_SECTION = lazy_re.compile(r"^\s*\[([^\]]+)\]\s*$")
_INI_KEY = lazy_re.compile(r"^([^\s=:;#\[][^=:]*?)\s*[=:]\s?")


def ini_leaves(path: str, text: str) -> list[Leaf]:
    """configparser's grammar: `[section]`, `key = value` or `key: value`, full-line `#`/`;`
    comments; indented lines continue the previous value (only its first line is read)."""
    out: list[Leaf] = []
    section: tuple[str, ...] = ()
    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")) or line[:1] in " \t":
            continue
        m = _INI_SECTION.match(line)
        if m:
            section = (m.group(1).strip(),)
            continue
        m = _INI_KEY.match(line)
        if not m:
            continue
        key = m.group(1).strip()
        raw_value = line[m.end():]
        value, offset, text_value = raw_value.strip(), len(raw_value) - len(raw_value.lstrip()), raw_value.strip()
        whole = Span(path, lineno, m.end() + 1, lineno, m.end() + 1 + len(raw_value.rstrip()))
        loc = Locator(path, lineno, m.end() + 1 + offset, True, whole)
        out.append(Leaf(section + _split(key), value, text_value, loc, Span(path, lineno, 1, lineno, 1 + len(key))))
    return out


def properties_leaves(path: str, text: str) -> list[Leaf]:
    """java.util.Properties.load: `key=value`, `key: value` or `key value`; `#`/`!` comments;
    a trailing backslash continues the line; `\\uXXXX` and `\\x` escapes."""
    out: list[Leaf] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i].rstrip("\r")
        i += 1
        stripped = line.lstrip(" \t\f")
        if not stripped or stripped[0] in "#!":
            continue
        logical = line
        continued = False
        while _odd_backslashes(logical) and i < len(lines):
            logical = logical[:-1] + lines[i].rstrip("\r").lstrip(" \t\f")
            i += 1
            continued = True
        start = len(logical) - len(logical.lstrip(" \t\f"))
        j = start
        while j < len(logical):
            ch = logical[j]
            if ch == "\\":
                j += 2
                continue
            if ch in "=: \t\f":
                break
            j += 1
        key = _unescape(logical[start:j])
        k = j
        while k < len(logical) and logical[k] in " \t\f":
            k += 1
        if k < len(logical) and logical[k] in "=:":
            k += 1
            while k < len(logical) and logical[k] in " \t\f":
                k += 1
        raw_value = logical[k:]
        value = _unescape(raw_value)
        whole = Span(path, lineno, k + 1, lineno, k + 1 + len(raw_value))
        exact = not continued and value == raw_value
        loc = Locator(path, lineno, k + 1, exact, whole)
        out.append(Leaf(_split(key), value, value, loc, Span(path, lineno, start + 1, lineno, j + 1)))
    return out


def _odd_backslashes(s: str) -> bool:
    n = len(s) - len(s.rstrip("\\"))
    return n % 2 == 1


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", s[i + 2:i + 6] or ""):
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_ENV_COMMENT = lazy_re.compile(r"\s#")  # a comment after an unquoted value
_ENV_LINE = lazy_re.compile(r"^(\s*)(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*")


def iter_env_leaves(path: str, text: str) -> Iterator[Leaf]:
    """A dotenv file's leaves, made one at a time (a large .env is read without holding a leaf per
    line): `KEY=value`, `export KEY=value`, values single-quoted (literal), double-quoted (`\\n`
    and `\\"` escapes) or bare (a ` #` starts a comment)."""
    for lineno, line in enumerate(lines_of(text), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _ENV_LINE.match(line)
        if not m:
            continue
        key = m.group(2)
        rest = line[m.end():]
        col = m.end()
        if rest[:1] in ("'", '"'):
            q = rest[0]
            end = rest.find(q, 1)
            while q == '"' and end > 0 and rest[end - 1] == "\\":
                end = rest.find(q, end + 1)
            inner = rest[1:end] if end > 0 else rest[1:]
            value = inner.replace('\\"', '"').replace("\\n", "\n") if q == '"' else inner
            exact = value == inner
            whole = Span(path, lineno, col + 1, lineno, col + 1 + len(rest))
            loc = Locator(path, lineno, col + 2, exact, whole)
        else:
            cut = _ENV_COMMENT.search(rest)
            value = (rest[:cut.start()] if cut else rest).strip()
            whole = Span(path, lineno, col + 1, lineno, col + 1 + len(value))
            loc = Locator(path, lineno, col + 1, True, whole)
        yield Leaf((key,), value, value, loc, Span(path, lineno, len(m.group(1)) + 1, lineno, len(m.group(1)) + 1 + len(key)))


def unknown_if_placeholder(value: Any) -> Any:
    from advisor.loaders.clients.strings import has_placeholder

    if isinstance(value, str) and has_placeholder(value):
        return Unknown(value)
    return value
