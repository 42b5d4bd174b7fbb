"""pgpath's modules (and typer's) imported from one file in pgpath's cache folder.

A `pgpath check` of a folder imports about 110 of pgpath's modules; each import through the
interpreter's path finder costs about 50 µs before the module's code runs (asking each finder,
listing and stat-ing its folder, building the name of its `__pycache__` file, opening, reading
and checking that file), about 5 ms of a 25 ms run. So the CLI (`install`, first thing in
advisor/cli.py) puts a finder in front of the interpreter's: it serves the submodules of
`advisor` and `typer` that an earlier run recorded, from one file per Python build and
installation, read with one `os.pread` per module. What it serves is the code the interpreter
would have read from `__pycache__`: a recorded module is used only when

- its source file has the modification time (whole seconds) and size that the `.pyc` it was
  taken from recorded (the interpreter's own test of a `.pyc`), and
- the folder it was found in is unchanged since (its modification time to the nanosecond: a file
  added, removed or renamed there, which could shadow it as a package or an extension module,
  means the usual import), and it would be looked for in that same folder (its parent package's
  `__path__`);

otherwise the module is imported the usual way. Its spec, loader (a SourceFileLoader), `__file__`,
`__cached__` and `__path__` are what the usual import gives. At the end of a run the CLI calls
`save`, which records the modules this run imported the usual way (from their `.pyc`, when it is
a timestamp-checked one of the current source). The first run after an installation or an edit
imports the usual way and records; `PGPATH_CACHE_DIR=` (empty) turns this off, as it turns off the
other caches. The file is the user's own (read only when the current user owns it and no one else
may write to it), read with `marshal` as the interpreter reads `__pycache__`.
"""

from __future__ import annotations

import marshal
import os
import sys
from importlib.machinery import ModuleSpec, SourceFileLoader

_PREFIXES = ("advisor.", "typer.")
_MAGIC = b"PGPIMC02"
_MAX_ENTRIES = 1500  # a file grown larger (modules of many versions) is started afresh
_MAX_BYTES = 64 << 20

# name -> (origin, folder, is_package, folder mtime_ns, mtime, size, cached, offset, length)
_index: dict | None = None
_fd: int | None = None
_base = 0  # where the modules' code starts in the file
_folders: dict[str, int | None] = {}  # folder -> its mtime_ns, stat-ed once a run
_missed: dict[str, int] = {}  # name -> its folder's mtime_ns before it was imported the usual way
_finder = None


def _file() -> str | None:
    """This Python build's and installation's file in pgpath's cache folder, or None when off."""
    import zlib

    from advisor.config_cache import _folder

    folder = _folder()
    if folder is None:
        return None
    from importlib.util import MAGIC_NUMBER

    here = os.path.dirname(os.path.abspath(__file__))
    build = f"{sys.version}\0{sys.implementation.cache_tag}\0{sys.flags.optimize}\0{MAGIC_NUMBER.hex()}\0" \
            f"{sys.prefix}\0{here}\0{sys.pycache_prefix}"
    return os.path.join(folder, f"modules-{sys.implementation.cache_tag}-{zlib.crc32(build.encode('utf-8', 'surrogatepass')):08x}.bin")


def _folder_mtime(folder: str) -> int | None:
    found = _folders.get(folder, 0)
    if found == 0:
        try:
            found = os.stat(folder).st_mtime_ns
        except OSError:
            found = None
        _folders[folder] = found
    return found


class _Loader(SourceFileLoader):
    """A SourceFileLoader whose first get_code of its module is the recorded code."""

    def __init__(self, fullname: str, path: str, offset: int, length: int) -> None:
        super().__init__(fullname, path)
        self._where = (offset, length)

    def get_code(self, fullname):
        where, self._where = self._where, None
        if where is not None and fullname == self.name and _fd is not None:
            try:
                data = os.pread(_fd, where[1], _base + where[0])
                if len(data) == where[1]:
                    code = marshal.loads(data)
                    if type(code) is _CODE:
                        return code
            except (OSError, ValueError, EOFError, TypeError):
                pass
        return super().get_code(fullname)


_CODE = type(_folder_mtime.__code__)  # what marshal must give back


class _Finder:
    """Finds the recorded modules; any other name, or a recorded one that fails a test, is left
    to the finders behind it (and, when it is one of pgpath's or typer's, noted for `save`)."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not fullname.startswith(_PREFIXES) or not path or target is not None:
            return None
        folder = path[0] if len(path) == 1 else None
        entry = _index.get(fullname) if _index else None
        if entry is not None and folder is not None:
            try:
                spec = _recorded(fullname, folder, *entry)
            except (OSError, ValueError, TypeError):  # a damaged entry: the usual import
                spec = None
            if spec is not None:
                return spec
        if folder is not None:
            mtime_ns = _folder_mtime(folder)
            if mtime_ns is not None:
                _missed[fullname] = mtime_ns
        return None


def _recorded(fullname, folder, origin, where, is_package, folder_mtime, mtime, size, cached, offset, length):
    """The spec of a recorded module when it passes the tests (see the module's docstring), else None."""
    if where != folder or folder_mtime != _folder_mtime(folder):
        return None
    try:
        st = os.stat(origin)
    except OSError:
        return None
    if int(st.st_mtime) & 0xFFFFFFFF != mtime or st.st_size & 0xFFFFFFFF != size:
        return None
    # (what importlib.util.spec_from_file_location makes, with the .pyc's name as the usual
    # import recorded it, not computed again)
    spec = ModuleSpec(fullname, _Loader(fullname, origin, offset, length), origin=origin, is_package=is_package)
    spec.has_location = True
    spec.cached = cached
    if is_package:
        spec.submodule_search_locations.append(os.path.dirname(origin))
    return spec


def _open(path: str) -> None:
    global _index, _fd, _base
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        st = os.fstat(fd)
        if (hasattr(os, "getuid") and st.st_uid != os.getuid()) or st.st_mode & 0o022:
            raise ValueError("not the user's own")
        head = os.pread(fd, 12, 0)
        if len(head) != 12 or head[:8] != _MAGIC:
            raise ValueError("not a module file")
        size = int.from_bytes(head[8:12], "little")
        index = marshal.loads(os.pread(fd, size, 12))
        if not isinstance(index, dict):
            raise ValueError("not a module file")
    except (OSError, ValueError, EOFError, TypeError):
        os.close(fd)
        return
    _index, _fd, _base = index, fd, 12 + size


def install() -> None:
    """Put the finder in front of the interpreter's (once; nothing when the cache is off)."""
    global _finder
    if _finder is not None or sys.implementation.name != "cpython":
        return
    try:
        path = _file()
    except (OSError, ValueError):
        return
    if path is None:
        return
    _open(path)
    _finder = _Finder()
    sys.meta_path.insert(0, _finder)


def _pyc_entry(name: str, mtime_ns: int):
    """(entry without offset and length, code bytes) of a module imported the usual way from a
    timestamp-checked .pyc of its current source, else None."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    if spec is None or type(spec.loader) is not SourceFileLoader or not spec.has_location:
        return None
    origin, cached = spec.origin, spec.cached
    if not origin or not origin.endswith(".py") or not cached:
        return None
    is_package = spec.submodule_search_locations is not None
    if is_package and os.path.basename(origin) != "__init__.py":
        return None
    try:
        with open(cached, "rb") as f:
            data = f.read()
        st = os.stat(origin)
    except OSError:
        return None
    from importlib.util import MAGIC_NUMBER

    if len(data) < 16 or data[:4] != MAGIC_NUMBER or int.from_bytes(data[4:8], "little") != 0:
        return None  # another Python's, or a hash-based .pyc
    mtime, size = int.from_bytes(data[8:12], "little"), int.from_bytes(data[12:16], "little")
    if int(st.st_mtime) & 0xFFFFFFFF != mtime or st.st_size & 0xFFFFFFFF != size:
        return None  # the source changed since: the next run records it
    where = os.path.dirname(os.path.dirname(origin) if is_package else origin)
    return (origin, where, is_package, mtime_ns, mtime, size, cached), data[16:]


def save() -> None:
    """Record the modules this run imported the usual way (the CLI calls it once, at the end of a
    run); any problem only means they are imported the usual way next time."""
    if _finder is None or not _missed:
        return
    new = {}
    for name, mtime_ns in _missed.items():
        found = _pyc_entry(name, mtime_ns)
        if found is not None:
            new[name] = found
    if not new:
        return
    try:
        path = _file()
    except (OSError, ValueError):
        return
    if path is None:
        return
    chunks: list[bytes] = []
    index: dict = {}
    offset = 0
    old = {} if _index is None or len(_index) + len(new) > _MAX_ENTRIES else _index
    for name, entry in old.items():
        if name in new or _fd is None:
            continue
        try:
            data = os.pread(_fd, entry[8], _base + entry[7])
        except OSError:
            continue
        if len(data) != entry[8]:
            continue
        index[name] = entry[:7] + (offset, len(data))
        chunks.append(data)
        offset += len(data)
    for name, (entry, data) in new.items():
        index[name] = entry + (offset, len(data))
        chunks.append(data)
        offset += len(data)
    if offset > _MAX_BYTES:
        return
    try:
        head = marshal.dumps(index)
    except ValueError:
        return
    from advisor.config_cache import write_whole

    if write_whole(path, (_MAGIC + len(head).to_bytes(4, "little") + head, *chunks)):
        _missed.clear()
