"""JSON with line numbers: values plus where each one was written.

The standard `json` module forgets positions, and a finding must point at a line. `parse(text)`
returns `(value, positions)` where `positions` maps a JSON path (a tuple of keys and indexes,
`("Attributes", 3, "Value")`) to the `(line, column)` of that value's first character (1-based).
`path_text(path)` spells a path the way findings show it: `$.Attributes[3].Value`.

Cloud tools write strict JSON, but people edit ARM templates and copy CLI output by hand, and
Azure Resource Manager itself accepts `//` and `/* */` comments and trailing commas in a template
(`lenient=True`, the default: each one is tolerated and listed in `ParsedJson.notes`). Anything
else that is not JSON raises `JsonError` with the line and column where reading stopped.

Small on purpose: a recursive-descent reader over the text (regexes for strings and numbers).
"""

from __future__ import annotations

import re
from typing import Any

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_STRING_CHUNK = re.compile(r'[^"\\\x00-\x1f]*')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
# two Python frames a level (value, then obj or arr): 500 levels took all of Python's 1,000 and
# ended in a RecursionError under the engine's own frames; cloud outputs and plans nest < 30
MAX_DEPTH = 200


class JsonError(Exception):
    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(f"{line}:{col}: {message}")
        self.message = message
        self.line = line
        self.col = col


class ParsedJson:
    __slots__ = ("value", "positions", "notes")

    def __init__(self, value: Any, positions: dict[tuple, tuple[int, int]], notes: list[tuple[int, int, str]]) -> None:
        self.value = value
        self.positions = positions
        self.notes = notes  # (line, col, what) for each comment or trailing comma tolerated

    def where(self, path: tuple) -> tuple[int, int] | None:
        """The position of the value at `path`, or of its nearest ancestor that has one."""
        while True:
            found = self.positions.get(path)
            if found is not None or not path:
                return found
            path = path[:-1]


def path_text(path: tuple) -> str:
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += '["' + str(part).replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


class _Reader:
    def __init__(self, text: str, lenient: bool) -> None:
        self.text = text
        self.lenient = lenient
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.notes: list[tuple[int, int, str]] = []
        # line starts, for offset -> (line, col)
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, pos: int) -> tuple[int, int]:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, pos - self.starts[lo] + 1

    def fail(self, message: str, pos: int):
        line, col = self.at(min(pos, len(self.text)))
        raise JsonError(message, line, col)

    def skip(self, pos: int) -> int:
        text = self.text
        while True:
            pos = _WS.match(text, pos).end()
            if text.startswith("//", pos) or text.startswith("/*", pos):
                if not self.lenient:
                    self.fail("comments are not allowed in JSON", pos)
                line, col = self.at(pos)
                if not self.notes or self.notes[-1][:2] != (line, col):
                    self.notes.append((line, col, "comment"))
                if text.startswith("//", pos):
                    end = text.find("\n", pos)
                    pos = len(text) if end < 0 else end + 1
                else:
                    end = text.find("*/", pos + 2)
                    if end < 0:
                        self.fail("unterminated /* comment", pos)
                    pos = end + 2
                continue
            return pos

    def value(self, pos: int, path: tuple, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} levels deep", pos)
        pos = self.skip(pos)
        self.positions[path] = self.at(pos)
        text = self.text
        if pos >= len(text):
            self.fail("unexpected end of file: a value was expected", pos)
        ch = text[pos]
        if ch == "{":
            return self.obj(pos + 1, path, depth)
        if ch == "[":
            return self.arr(pos + 1, path, depth)
        if ch == '"':
            return self.string(pos + 1)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, pos):
                return value, pos + len(word)
        m = _NUMBER.match(text, pos)
        if m and m.end() > pos:
            raw = m.group()
            if "." in raw or "e" in raw or "E" in raw:
                return float(raw), m.end()
            if len(raw) > 4000:
                self.fail("number too long", pos)
            return int(raw), m.end()
        self.fail(f"unexpected character {ch!r}: a value (object, array, string, number, true, false, null) was "
                  "expected", pos)

    def string(self, pos: int) -> tuple[str, int]:
        text = self.text
        parts = []
        start = pos - 1
        while True:
            m = _STRING_CHUNK.match(text, pos)
            parts.append(m.group())
            pos = m.end()
            if pos >= len(text):
                self.fail("unterminated string", start)
            ch = text[pos]
            if ch == '"':
                return "".join(parts), pos + 1
            if ch == "\\":
                esc = text[pos + 1:pos + 2]
                if esc in _ESCAPES:
                    parts.append(_ESCAPES[esc])
                    pos += 2
                elif esc == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[pos + 2:pos + 6]):
                    code = int(text[pos + 2:pos + 6], 16)
                    pos += 6
                    if 0xD800 <= code < 0xDC00 and text.startswith("\\u", pos) and \
                            re.fullmatch(r"[dD][c-fC-F][0-9a-fA-F]{2}", text[pos + 2:pos + 6]):
                        low = int(text[pos + 2:pos + 6], 16)
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        pos += 6
                    parts.append(chr(code) if not 0xD800 <= code < 0xE000 else "\ufffd")
                else:
                    self.fail(f"invalid escape \\{esc} in a string", pos)
            else:
                what = "a line break" if ch in "\r\n" else f"control character {ch!r}"
                self.fail(f"{what} inside a string (a string must end on its line with \")", pos)

    def obj(self, pos: int, path: tuple, depth: int) -> tuple[dict, int]:
        out: dict[str, Any] = {}
        text = self.text
        pos = self.skip(pos)
        if text.startswith("}", pos):
            return out, pos + 1
        while True:
            pos = self.skip(pos)
            if not text.startswith('"', pos):
                self.fail("a member name in double quotes was expected", pos)
            key, pos = self.string(pos + 1)
            pos = self.skip(pos)
            if not text.startswith(":", pos):
                self.fail(f'":" expected after member name "{key}"', pos)
            value, pos = self.value(pos + 1, path + (key,), depth + 1)
            out[key] = value  # a repeated name: the last one wins, as in every JSON reader the clouds use
            pos = self.skip(pos)
            if text.startswith(",", pos):
                after = self.skip(pos + 1)
                if text.startswith("}", after):
                    self._trailing(pos)
                    return out, after + 1
                pos += 1
                continue
            if text.startswith("}", pos):
                return out, pos + 1
            self.fail(f'"," or "}}" expected after the value of "{key}"', pos)

    def arr(self, pos: int, path: tuple, depth: int) -> tuple[list, int]:
        out: list[Any] = []
        text = self.text
        pos = self.skip(pos)
        if text.startswith("]", pos):
            return out, pos + 1
        while True:
            value, pos = self.value(pos, path + (len(out),), depth + 1)
            out.append(value)
            pos = self.skip(pos)
            if text.startswith(",", pos):
                after = self.skip(pos + 1)
                if text.startswith("]", after):
                    self._trailing(pos)
                    return out, after + 1
                pos += 1
                continue
            if text.startswith("]", pos):
                return out, pos + 1
            self.fail('"," or "]" expected in an array', pos)

    def _trailing(self, pos: int) -> None:
        if not self.lenient:
            self.fail("trailing comma", pos)
        line, col = self.at(pos)
        self.notes.append((line, col, "trailing comma"))


def parse(text: str, lenient: bool = True) -> ParsedJson:
    """Parse JSON text, keeping the position of every value. Raises JsonError."""
    reader = _Reader(text, lenient)
    value, pos = reader.value(0, (), 0)
    pos = reader.skip(pos)
    if pos < len(text):
        reader.fail("extra text after the JSON value", pos)
    return ParsedJson(value, reader.positions, reader.notes)
