"""Template tags and placeholders found in one left-to-right pass (linear time on any input).

The tag forms are what regular expressions such as `\\{\\{.*?\\}\\}|<%.*?%>|\\$\\{[^}]*\\}` describe,
and this module finds exactly their matches (leftmost first, then from the end of the match,
like `finditer`). It exists because the backtracking engine restarts such a pattern at every
opening brace: a comment of 50,000 `{` cost 11 s and a line of 16,000 `${` 52 s, quadratic time.
Here each search for an opener or a closer remembers its answer, so the searches over a text
rise monotonically and the whole scan is one pass per tag form.

Tag forms (`Pair`): an opener, then the first closer after it (on the same line unless
`multiline`). `DollarVar` is `${VAR}`, `${VAR:default}`, `${VAR:-default}`, `${VAR-default}`;
`BareVar` is `$VAR`. A test compares the scanner with the regular expressions it replaces.
"""

from __future__ import annotations

from advisor import lazy_re


class _Next:
    """First index of a needle (a string, or a compiled pattern) at or after a position; a rising
    run of questions costs one pass over the text."""

    __slots__ = ("text", "find", "asked", "answer")

    def __init__(self, text: str, needle) -> None:
        self.text = text
        if isinstance(needle, str):
            self.find = lambda q, _t=text, _n=needle: _t.find(_n, q)
        else:
            def find(q, _s=needle.search, _t=text):
                m = _s(_t, q)
                return m.start() if m else -1
            self.find = find
        self.asked = -1
        self.answer = -1

    def at(self, q: int) -> int:
        if 0 <= self.asked <= q and (self.answer < 0 or self.answer >= q):
            return self.answer
        self.asked = q
        self.answer = self.find(q)
        return self.answer


class Pair:
    """`opener .*? closer` (`.` not matching a newline unless multiline)."""

    __slots__ = ("opener", "closer", "multiline", "name")

    def __init__(self, opener: str, closer: str, multiline: bool = False, name: str | None = None) -> None:
        self.opener, self.closer, self.multiline, self.name = opener, closer, multiline, name or opener

    def searcher(self, text: str):
        op, cl = _Next(text, self.opener), _Next(text, self.closer)
        nl = None if self.multiline else _Next(text, "\n")
        width = len(self.opener)

        def first(pos: int):
            while True:
                i = op.at(pos)
                if i < 0:
                    return None
                j = cl.at(i + width)
                if j < 0:
                    return None  # no closer after this opener: none after any later one either
                if nl is not None:
                    n = nl.at(i)
                    if 0 <= n < j:
                        pos = n + 1  # not closed on its line: no opener later on that line is
                        continue
                return (i, j + len(self.closer), self.name, None)
        return first


_VAR_END = lazy_re.compile(r"[}:\-\s]")


class DollarVar:
    """`\\$\\{(?P<var>[^}:\\-\\s]*)(?:(?P<sep>:-|:|-)(?P<default>[^}]*))?\\}`; the extra is the default
    (None without a separator)."""

    __slots__ = ("name",)

    def __init__(self, name: str = "${") -> None:
        self.name = name

    def searcher(self, text: str):
        op, var_end, brace = _Next(text, "${"), _Next(text, _VAR_END), _Next(text, "}")
        name = self.name

        def first(pos: int):
            while True:
                i = op.at(pos)
                if i < 0:
                    return None
                e = var_end.at(i + 2)
                if e < 0:
                    return None  # the name runs to the end of the text, unclosed
                c = text[e]
                if c == "}":
                    return (i, e + 1, name, None)
                if c in ":-":
                    d = e + (2 if text.startswith(":-", e) else 1)
                    f = brace.at(d)
                    if f < 0:
                        return None
                    return (i, f + 1, name, text[d:f])
                # whitespace ends the name: every `${` before it in the same name fails alike
                pos = e
        return first


_BARE = lazy_re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")


class BareVar:
    """`$NAME`."""

    __slots__ = ("name",)

    def __init__(self, name: str = "$") -> None:
        self.name = name

    def searcher(self, text: str):
        search = _BARE.search
        name = self.name

        def first(pos: int):
            m = search(text, pos)
            return (m.start(), m.end(), name, None) if m else None
        return first


def scan(text: str, forms, first_only: bool = False) -> list[tuple[int, int, str, str | None]]:
    """(start, end, form name, extra) of each tag, left to right, not overlapping."""
    searchers = [f.searcher(text) for f in forms]
    found: list = [None] * len(searchers)
    done = [False] * len(searchers)
    out = []
    pos = 0
    while True:
        best = None
        for k, first in enumerate(searchers):
            if done[k]:
                continue
            hit = found[k]
            if hit is None or hit[0] < pos:
                hit = found[k] = first(pos)
                if hit is None:
                    done[k] = True
                    continue
            if best is None or hit[0] < best[0]:
                best = hit
        if best is None:
            return out
        out.append(best)
        if first_only:
            return out
        pos = best[1]


def search(text: str, forms) -> bool:
    return bool(scan(text, forms, first_only=True))
