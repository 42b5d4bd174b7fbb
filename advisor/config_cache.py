"""Remembering a pgpath.yaml that was read and validated before, for a fast start.

`pgpath check` runs in pre-commit hooks, where most runs read the same pgpath.yaml. Parsing it
imports PyYAML and validating it imports jsonschema (with its dependencies): 60-80 ms, more than
everything else a small run does. A configuration that passed validation is written, as JSON, to
a cache file named by a checksum of its text, of the schema and of pgpath's version (the entry
keeps the text and that stamp, and is used only when both are equal); a later run with the same
text reads that file (the standard library's json) and skips both. Only valid configurations are
remembered: a broken one is read and reported in full every time.

The cache folder is `$PGPATH_CACHE_DIR`, else `$XDG_CACHE_HOME/pgpath`, else `~/.cache/pgpath`;
`PGPATH_CACHE_DIR=` (empty) turns the cache off. Anything that goes wrong with it (no home, a
read-only disk, a damaged entry) only means the configuration is read the slow way.
"""

from __future__ import annotations

import functools
import os
import zlib
from typing import Any

_MAX_ENTRY_BYTES = 4 * 1024 * 1024  # a larger configuration is read the slow way


def _folder() -> str | None:
    given = os.environ.get("PGPATH_CACHE_DIR")
    if given is not None:
        return given or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if base.startswith("~"):
        return None  # no home directory to expand
    return os.path.join(base, "pgpath")


@functools.lru_cache(maxsize=2)
def _stamp(toml: bool) -> str:
    """What else an entry depends on: pgpath's version, the schema, the file's format."""
    from advisor import __version__
    from advisor.schemas import schema_text

    return f"{__version__}\0{zlib.crc32(schema_text('pgpath.schema.json').encode('utf-8')):08x}\0{'toml' if toml else 'yaml'}"


def _key(text: str, toml: bool) -> str:
    # crc32, not sha256: hashlib's import (OpenSSL) alone costs 3 ms of a 60 ms start; an entry
    # keeps the text and its stamp, and is used only when both are equal, so a collision only
    # means a miss
    data = f"{_stamp(toml)}\0{text}".encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}-{len(data)}"


def _entry(text: str, toml: bool) -> str | None:
    folder = _folder()
    if folder is None:
        return None
    try:
        return os.path.join(folder, f"config-{_key(text, toml)}.json")
    except OSError:  # the schema file is missing: no key to name an entry by
        return None


def recall(text: str, toml: bool = False) -> dict[str, Any] | None:
    """{"data": the validated configuration, "marks": {key path: [line, col]} or None} of this
    text (a pgpath.yaml, or a .toml file's whole text), when a run remembered it; else None."""
    entry = _entry(text, toml)
    if entry is None:
        return None
    try:
        with open(entry, encoding="utf-8") as f:
            found = _loads(f.read())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or not isinstance(found.get("data"), dict) or found.get("text") != text \
            or found.get("stamp") != _stamp(toml):
        return None
    return found


_WHITESPACE = " \t\n\r"  # json's WHITESPACE
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Decoding:
    """What the C scanner reads of a json.JSONDecoder: json.loads' defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


def _loads(body: str) -> Any:
    """json.loads(body), with the C scanner json.loads itself runs, without importing the json
    package: its import compiles six regular expressions and costs 1.5 ms of a 20-30 ms run
    (a check reads an entry on every run; only `remember`, on the slow path, imports json).
    Anything json.loads refuses is a ValueError here too."""
    try:
        from _json import make_scanner
    except ImportError:  # not CPython
        import json

        return json.loads(body)
    start = len(body) - len(body.lstrip(_WHITESPACE))
    try:
        value, end = make_scanner(_Decoding())(body, start)
    except StopIteration:  # no value at `start` (json.loads: "Expecting value")
        raise ValueError("not a JSON document") from None
    if body[end:].strip(_WHITESPACE):
        raise ValueError("extra data after the JSON document")
    return value


def remember(text: str, toml: bool, data: Any, marks: dict | None) -> None:
    """Write a validated configuration (and the lines of its keys) for the next run."""
    import json

    entry = _entry(text, toml)
    if entry is None or not isinstance(data, dict):
        return
    try:
        body = json.dumps({"stamp": _stamp(toml), "text": text, "data": data, "marks": None if marks is None else
                           {key: [span.line, span.col] for key, span in marks.items()}})
    except (TypeError, ValueError):
        return  # a value JSON cannot carry (a YAML date): read the slow way next time too
    if len(body) > _MAX_ENTRY_BYTES:
        return
    write_whole(entry, (body.encode("utf-8"),))


def write_whole(path: str, chunks) -> bool:
    """Write the byte strings `chunks` to `path` in the cache folder so that another run reading it
    sees the whole file or the old one (a temporary file of this process, mode 0600, then
    os.replace). False when the system refuses: a cache only saves time, so the run goes on."""
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(partial, path)
        return True
    except OSError:
        try:
            os.unlink(partial)
        except OSError:
            pass
        return False
