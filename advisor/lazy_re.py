"""Regular expressions compiled when first used.

`re.compile` runs the `re` module's parser and compiler, which are written in Python: 0.1-1 ms
a pattern. pgpath's modules define about 75 patterns at module level and a `pgpath check` uses a
third of them (the detectors and parsers of the formats it meets), so they are defined with
`lazy_re.compile`: the pattern is compiled on first use, and its methods then become attributes
of the object, found as fast as a compiled pattern's.
"""

from __future__ import annotations

import re

_METHODS = ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split", "scanner")


class LazyPattern:
    """Stands for `re.compile(pattern, flags)` until first used, then delegates to it."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str):  # only called for what the instance does not have yet
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        self.pattern, self.flags = compiled.pattern, compiled.flags
        self.groups, self.groupindex = compiled.groups, compiled.groupindex
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re.compile({self._source[0]!r}, {self._source[1]!r})"


def compile(pattern: str, flags: int = 0) -> LazyPattern:  # noqa: A001 - mirrors re.compile
    return LazyPattern(pattern, flags)
