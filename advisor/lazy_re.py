"""Regular expressions compiled when first used, from a remembered compilation when there is one.

`re.compile` runs the `re` module's parser and compiler, which are written in Python: 0.1-1 ms
a pattern. pgpath's modules define about 75 patterns at module level and a `pgpath check` uses a
third of them (the detectors and parsers of the formats it meets), so they are defined with
`lazy_re.compile`: the pattern is compiled on first use, and its methods then become attributes
of the object, found as fast as a compiled pattern's.

The patterns a check compiles still cost 2-4 ms of every run (a tenth of what the run adds to
the interpreter and typer), spent on the same work each time. So the compiler's output (the
pattern's code for the regular-expression engine, its flags and group names: what `re.compile`
hands to `_sre.compile`) is remembered in the cache folder of advisor.config_cache, one file per
Python build (`sys.version`, `_sre.MAGIC`), and a later run makes the pattern from it with
`_sre.compile` alone: the same Pattern object `re.compile` makes (`==` compares the code). A file
that cannot be read, or an entry `_sre.compile` refuses, only means the pattern is compiled the
usual way; `PGPATH_CACHE_DIR=` (empty) turns it off, and where `re`'s compiler is not the one
this module knows (Python 3.10, other implementations) patterns are compiled the usual way.
The entries are read with `marshal`, as the interpreter reads `__pycache__`: the folder is the
user's own. New entries are written once a run, by the CLI (`save`), when it compiled any.
"""

from __future__ import annotations

import re
import sys

_METHODS = ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split", "scanner")
_MAX_ENTRIES = 2000  # a file grown larger (patterns of many pgpath versions) is started afresh

# (pattern, flags) -> the arguments of _sre.compile after the pattern: remembered ones (read on
# first use), and those compiled by this process that were not
_remembered: dict | None = None
_compiled_here: dict = {}


class LazyPattern:
    """Stands for `re.compile(pattern, flags)` until first used, then delegates to it."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str):  # only called for what the instance does not have yet
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = _compile(*self._source)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        self.pattern, self.flags = compiled.pattern, compiled.flags
        self.groups, self.groupindex = compiled.groups, compiled.groupindex
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re.compile({self._source[0]!r}, {self._source[1]!r})"


def compile(pattern: str, flags: int = 0) -> LazyPattern:  # noqa: A001 - mirrors re.compile
    return LazyPattern(pattern, flags)


def _compile(pattern: str, flags: int) -> re.Pattern:
    """re.compile(pattern, flags), made from the remembered compilation when there is one."""
    key = (pattern, int(flags))
    parts = _load().get(key)
    if parts is not None:
        try:
            import _sre

            return _sre.compile(pattern, *parts)
        except Exception:  # noqa: BLE001 - a damaged entry: compile it the usual way
            pass
    parts = _compilation(pattern, key[1])
    if parts is None:
        return re.compile(pattern, flags)
    import _sre

    compiled = _sre.compile(pattern, *parts)
    _compiled_here[key] = parts
    return compiled


def _compilation(pattern: str, flags: int) -> tuple | None:
    """What re._compiler.compile hands to _sre.compile after the pattern (flags, code, groups,
    group index, index group), or None where re's compiler is not the one of Python 3.11-3.13."""
    if not isinstance(pattern, str) or sys.version_info < (3, 11) or sys.implementation.name != "cpython":
        return None
    try:
        from re import _compiler, _parser

        p = _parser.parse(pattern, flags)
        code = _compiler._code(p, flags)
        groupindex = dict(p.state.groupdict)
        indexgroup = [None] * p.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        # (the code holds re's named opcode constants, int subclasses marshal cannot write)
        return int(flags | p.state.flags), [int(c) for c in code], p.state.groups - 1, groupindex, tuple(indexgroup)
    except (ImportError, AttributeError, TypeError):
        return None


def _file() -> str | None:
    """This Python build's file in pgpath's cache folder, or None when the cache is off."""
    import os
    import zlib

    from advisor.config_cache import _folder

    folder = _folder()
    if folder is None:
        return None
    import _sre

    build = f"{sys.version}\0{sys.implementation.cache_tag}\0{_sre.MAGIC}\0{_sre.CODESIZE}"
    return os.path.join(folder, f"regex-{sys.implementation.cache_tag}-{zlib.crc32(build.encode()):08x}.marshal")


def _load() -> dict:
    global _remembered
    if _remembered is None:
        _remembered = {}
        try:
            import marshal

            path = _file()
            if path is not None:
                with open(path, "rb") as f:
                    found = marshal.loads(f.read())
                if isinstance(found, dict):
                    _remembered = found
        except (OSError, ValueError, EOFError, TypeError):
            pass
    return _remembered


def save() -> None:
    """Remember the compilations this process made that were not remembered (the CLI calls it
    once, at the end of a run); any problem only means they are made again next time."""
    if not _compiled_here:
        return
    import marshal

    try:
        path = _file()
    except OSError:
        return
    if path is None:
        return
    entries = dict(_load())
    if len(entries) + len(_compiled_here) > _MAX_ENTRIES:
        entries = {}
    entries.update(_compiled_here)
    try:
        data = marshal.dumps(entries)
    except ValueError:
        return
    from advisor.config_cache import write_whole

    if write_whole(path, (data,)):
        _compiled_here.clear()
