"""YAML read into small nodes that keep their line and column, safely.

`yaml.compose_all` with the SafeLoader builds the node graph without constructing Python
objects (no tags run, no `!!python`). An alias is the same node object as its anchor, so the
graph stays linear in the size of the text; `compose` converts it into `N` nodes with a memo
(an alias is converted once), and every walk over `N` nodes that may meet an alias again keeps
a visited set. A document larger than `MAX_NODES` nodes is refused (`TooLarge`), which bounds
the time of what follows whatever the text does with anchors.

Template tags (Helm, Jinja, ERB) are masked first with the client reader's masker (same
offsets): an expression becomes a `${xxx}` placeholder whose value is unknown, a statement
becomes blanks.
"""

from __future__ import annotations

import re
from typing import Iterator

from advisor import lazy_re
from advisor.model import Record, Span

MAX_NODES = 500_000


class TooLarge(Exception):
    pass


class YamlError(Exception):
    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


class N(Record):
    """A YAML node: `kind` "map" (value: list of (key text, key node, value node)), "seq" (list of
    nodes) or "scalar" (str); `tag` the resolved tag's last part (str, int, bool, null, float...);
    `style` the scalar style (None plain, "'", '"', "|", ">"); 1-based line/col of the start and
    end marks."""

    __slots__ = ("kind", "value", "tag", "style", "line", "col", "end_line", "end_col")

    def __init__(self, kind, value, tag, style, line, col, end_line, end_col) -> None:
        self.kind = kind
        self.value = value
        self.tag = tag
        self.style = style
        self.line = line
        self.col = col
        self.end_line = end_line
        self.end_col = end_col

    __eq__ = object.__eq__  # identity: graphs may be cyclic
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"N({self.kind}, {self.line}:{self.col})"

    # -- navigation -------------------------------------------------------------------------

    def get(self, *keys: str) -> "N | None":
        node: N | None = self
        for key in keys:
            if node is None or node.kind != "map":
                return None
            found = None
            for k, _, v in node.value:
                if k == key:
                    found = v
            node = found
        return node

    def key_node(self, key: str) -> "N | None":
        if self.kind != "map":
            return None
        found = None
        for k, kn, _ in self.value:
            if k == key:
                found = kn
        return found

    def items(self) -> Iterator[tuple[str, "N", "N"]]:
        if self.kind == "map":
            yield from self.value

    def seq(self) -> list["N"]:
        return list(self.value) if self.kind == "seq" else []

    def text(self, key: str | None = None) -> str | None:
        """The scalar text (of `self`, or of child `key`); None for a null, a map or a list."""
        node = self if key is None else self.get(key)
        if node is None or node.kind != "scalar" or node.tag == "null":
            return None
        return node.value

    # -- where ------------------------------------------------------------------------------

    def span(self, path: str) -> Span:
        return Span(path, self.line, self.col, self.end_line, self.end_col)

    def value_span(self, path: str) -> Span:
        """The span of a scalar's text inside its quotes (the node's span for other styles)."""
        if self.kind == "scalar" and self.style in ("'", '"') and self.line == self.end_line:
            return Span(path, self.line, self.col + 1, self.end_line, max(self.col + 1, self.end_col - 1))
        if self.kind == "scalar" and self.style in ("|", ">"):
            return Span(path, self.line + 1, self.col, self.end_line, self.end_col)
        return self.span(path)


# PyYAML's scanner keeps a possible simple key per open flow collection and walks all of them for
# every token: `[[[[...` costs the square of the depth until the parser's recursion ends it (4 s
# of CPU, 20 s on a loaded machine, for a line of 20,000 `[`; then "nesting too deep" anyway)
MAX_FLOW_DEPTH = 200
_FLOW_TOKEN = lazy_re.compile(r"""[\[\]{}"'#]""")
_INDICATORS = lazy_re.compile(r"[ \t]*(?:[-?][ \t]+)*")
_QUOTED = {'"': lazy_re.compile(r'"(?:[^"\\]|\\.)*"', re.S), "'": lazy_re.compile(r"'(?:[^']|'')*'")}


def flow_too_deep(text: str, limit: int = MAX_FLOW_DEPTH) -> tuple[int, int] | None:
    """(line, column) of the first flow collection (`[`, `{`) nested more than `limit` deep, or
    None. Linear, and it never counts too many: a bracket in a comment or a quoted scalar is not
    counted, nor one inside a block-context plain scalar (`key: a[b`); where it cannot tell (a
    quote or `#` inside a plain scalar) it skips text, which can only count fewer."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth, pos, line_start = 0, 0, 0
    while True:
        m = _FLOW_TOKEN.search(text, pos)
        if m is None:
            return None
        c, at = m.group(), m.start()
        line_start = max(line_start, text.rfind("\n", pos, at) + 1)  # (only the text passed over: linear)
        pos = at + 1
        if c in "[{":
            if depth == 0:  # a collection starts a node: at the line's start, or after `- `, `key: `, `? `
                k = at - 1
                while k >= line_start and text[k] in " \t":
                    k -= 1
                # (`key: [`, `- [`, `? [`: the indicator then a blank; `-` and `?` only after indentation or
                # other such indicators; at most two such slices a line: one opener, then its line is skipped)
                if k >= line_start and not (k < at - 1 and (text[k] == ":" or text[k] in "-?" and _INDICATORS.fullmatch(
                        text, line_start, k))):
                    end = text.find("\n", at)  # a plain scalar of the block context, to its line's end
                    if end < 0:
                        return None
                    pos = end + 1
                    continue
            depth += 1
            if depth > limit:
                return text.count("\n", 0, at) + 1, at - line_start + 1
        elif c in "]}":
            depth = max(0, depth - 1)
        elif c == "#":
            end = text.find("\n", at)
            if end < 0:
                return None
            pos = end + 1
        else:
            q = _QUOTED[c].match(text, at)
            if q is None:
                return None  # an unterminated quote: PyYAML stops there quickly
            pos = q.end()


def compose(text: str) -> list[N | None]:
    """Every document of a YAML text as `N` nodes; YamlError on invalid YAML, TooLarge past MAX_NODES."""
    import yaml

    deep = flow_too_deep(text)
    if deep is not None:
        raise YamlError(f"invalid YAML: flow collections ([ or {{) nested more than {MAX_FLOW_DEPTH} deep", *deep)
    try:
        roots = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # only the problem, never str(exc): its snippet quotes the line (a password, maybe)
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise YamlError(f"invalid YAML: {problem}", mark.line + 1 if mark else 1, mark.column + 1 if mark else 1) from None
    except RecursionError:
        raise YamlError("invalid YAML: nesting too deep", 1, 1) from None
    budget = [MAX_NODES]
    memo: dict[int, N] = {}
    return [None if root is None else _convert(root, memo, budget) for root in roots]


def _convert(node, memo: dict[int, N], budget: list[int]) -> N:
    import yaml

    done = memo.get(id(node))
    if done is not None:
        return done
    budget[0] -= 1
    if budget[0] < 0:
        raise TooLarge(f"more than {MAX_NODES} YAML nodes")
    s, e = node.start_mark, node.end_mark
    tag = (node.tag or "").rsplit(":", 1)[-1]
    if isinstance(node, yaml.ScalarNode):
        out = N("scalar", node.value, tag, node.style, s.line + 1, s.column + 1, e.line + 1, e.column + 1)
        memo[id(node)] = out
        return out
    if isinstance(node, yaml.SequenceNode):
        out = N("seq", [], tag, None, s.line + 1, s.column + 1, e.line + 1, e.column + 1)
        memo[id(node)] = out
        out.value.extend(_convert(child, memo, budget) for child in node.value)
        return out
    out = N("map", [], tag, None, s.line + 1, s.column + 1, e.line + 1, e.column + 1)
    memo[id(node)] = out
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value == "<<":  # a merge key: its mapping's entries, earlier keys of this map win
            merged = _convert(value, memo, budget)
            sources = [merged] if merged.kind == "map" else merged.value if merged.kind == "seq" else [merged]
            wrong = next((m for m in sources if m.kind != "map"), None)
            if wrong is not None:
                # YAML's merge key takes a mapping or a list of mappings; PyYAML and Go's yaml.v3
                # (kubectl, docker compose) refuse the document otherwise
                what = "a list" if wrong.kind == "seq" else "a scalar"
                raise YamlError("invalid YAML: a merge key (<<) takes a mapping or a list of mappings, "
                                + (f"and this item is {what}" if merged.kind == "seq" else f"not {what}"),
                                wrong.line, wrong.col)
            for source in sources:
                for k, kn, vn in source.value:
                    if not any(k == have for have, _, _ in out.value):
                        out.value.append((k, kn, vn))
            continue
        out.value.append((key.value, _convert(key, memo, budget), _convert(value, memo, budget)))
    return out


def walk(root: N, limit: int = MAX_NODES) -> Iterator[tuple[tuple[str, ...], N]]:
    """(path, node) of every node once (an aliased node is visited at its first path only)."""
    seen: set[int] = set()
    stack: list[tuple[tuple[str, ...], N]] = [((), root)]
    while stack and limit > 0:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        limit -= 1
        yield path, node
        if node.kind == "map":
            for key, _, value in reversed(node.value):
                stack.append((path + (key,), value))
        elif node.kind == "seq":
            for i in range(len(node.value) - 1, -1, -1):
                stack.append((path + (str(i),), node.value[i]))
