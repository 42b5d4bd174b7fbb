"""JSON text exactly as `json.dumps(obj, indent=2, ensure_ascii=False, default=...)` writes it,
about three times faster, and in pieces so a large report can be written as it is made.

Why: with `indent`, the standard library falls back to its pure-Python encoder (a generator per
container, one yielded string per token); on a tree of 10,000 files the JSON report spent more
time there than in reading the files, and held every token of the output in a list at once.
This module builds each container's text with one `join` and encodes strings with the same
C function the standard library uses (`json.encoder.encode_basestring`), so the bytes are the
same: tests/test_jsontext.py compares both on generated values, and the reporters' outputs are
compared byte for byte by their own tests.

Same rules as the standard encoder: `str` (and subclasses) as strings; None/True/False; `int`
subclasses (an IntEnum) as their number (`int.__repr__`); floats with `float.__repr__` and
NaN/Infinity/-Infinity; lists and tuples as arrays; dicts with keys str, float, bool, None or
int (anything else is a TypeError, as there); any other object through `default` (a TypeError
when there is none). Circular references are not detected (pgpath's reports have none: a cycle
ends in RecursionError instead of ValueError).
"""

from __future__ import annotations

from json.encoder import encode_basestring as _string  # the C encoder when available, as json.dumps uses
from typing import Any, Callable, Iterable, Iterator

_INF = float("inf")
_int = int.__repr__
_NEWLINE = ["\n" + "  " * n for n in range(32)]  # "\n" and the indentation of each level


def _newline(level: int) -> str:
    return _NEWLINE[level] if level < 32 else "\n" + "  " * level


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def _key(k: Any) -> str:
    if isinstance(k, str):
        return _string(k)
    if isinstance(k, float):
        return _string(_float(k))
    if k is True:
        return '"true"'
    if k is False:
        return '"false"'
    if k is None:
        return '"null"'
    if isinstance(k, int):
        return _string(_int(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def encode(o: Any, level: int = 0, default: Callable[[Any], Any] | None = None) -> str:
    """The text of `o` as json.dumps(indent=2, ensure_ascii=False) writes it when `o` sits at
    nesting `level` (0 = the top)."""
    cls = o.__class__
    # the common exact types first (bool is not int's class, so True stays "true")
    if cls is str:
        return _string(o)
    if cls is int:
        return _int(o)
    if cls is dict:
        return _dict(o, level, default)
    if cls is list or cls is tuple:
        return _list(o, level, default)
    # then the standard encoder's order of tests, for subclasses and the rest
    if isinstance(o, str):
        return _string(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return _int(o)
    if isinstance(o, float):
        return _float(o)
    if isinstance(o, (list, tuple)):
        return _list(o, level, default)
    if isinstance(o, dict):
        return _dict(o, level, default)
    if default is None:
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")
    return encode(default(o), level, default)


def _dict(o: dict, level: int, default) -> str:
    if not o:
        return "{}"
    inner = level + 1
    indent = _newline(inner)
    # one comprehension, the common exact types tested inline (a third faster than a loop of
    # appends: a report is mostly small dicts of strings and numbers)
    return "{" + indent + ("," + indent).join([
        f"{_string(k) if k.__class__ is str else _key(k)}: "
        f"{_string(v) if (cls := v.__class__) is str else _int(v) if cls is int else 'null' if v is None else encode(v, inner, default)}"
        for k, v in o.items()
    ]) + _newline(level) + "}"


def _list(o: list | tuple, level: int, default) -> str:
    if not o:
        return "[]"
    inner = level + 1
    indent = _newline(inner)
    return "[" + indent + ("," + indent).join([encode(v, inner, default) for v in o]) + _newline(level) + "]"


class Items:
    """An array whose items are made while the text is written (`chunks` encodes each item
    when its turn comes, so the items need not all exist at once)."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def chunks(top: dict, default: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """The text of the dict `top` (as `encode(top)`), in pieces: one per item of every `Items`
    value of `top`, so a caller can write each piece and drop it."""
    if not top:
        yield "{}"
        return
    indent = _newline(1)
    pending = "{" + indent
    first = True
    for k, v in top.items():
        if not first:
            pending += "," + indent
        first = False
        pending += _key(k) + ": "
        if v.__class__ is not Items:
            pending += encode(v, 1, default)
            continue
        inner = _newline(2)
        opened = False
        for item in v.items:
            text = encode(item, 2, default)
            if opened:
                yield pending + "," + inner + text
            else:
                yield pending + "[" + inner + text
                opened = True
            pending = ""
        pending += (indent + "]") if opened else "[]"
    yield pending + "\n}"


def dumps(o: Any, default: Callable[[Any], Any] | None = None) -> str:
    """json.dumps(o, indent=2, ensure_ascii=False, default=default)."""
    return encode(o, 0, default)
