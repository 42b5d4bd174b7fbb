"""Reading files safely: size limit, binary detection, encoding."""

from __future__ import annotations

import os
import stat
from typing import Iterator

MAX_BYTES = 16 * 1024 * 1024


class InputError(Exception):
    """A file that cannot be read as configuration at all (missing, binary, too large)."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        super().__init__(f"{path}{':' + str(line) if line else ''}: {message}")
        self.path = path
        self.message = message
        self.line = line


def link_problem(path: str) -> str | None:
    """Why a symbolic link cannot be followed (it loops, or its target is missing), or None when
    `path` is no such link."""
    import errno

    if not os.path.islink(path):
        return None
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops (too many levels of symbolic links)"
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"a broken symbolic link (to {target}, which does not exist)"
    return None


def read_text(path: str, max_bytes: int = MAX_BYTES) -> str:
    """The text of a configuration file, or InputError saying why it cannot be read."""
    return read_text_bom(path, max_bytes)[0]


def read_text_bom(path: str, max_bytes: int = MAX_BYTES) -> tuple[str, bool]:
    """(read_text's text, whether the file starts with a UTF-8 byte order mark, which the text
    leaves out): a loader that must see the mark as the software does needs no second read."""
    try:
        info = os.stat(path)  # one stat answers "directory?", "regular file?" and the size
        if stat.S_ISDIR(info.st_mode):
            raise InputError(path, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise InputError(path, "not a regular file (a FIFO, socket or device)")
        size = info.st_size
        if size > max_bytes:
            raise InputError(
                path, f"file is too large ({size / 1048576:.1f} MiB; the limit is {max_bytes // 1048576} MiB)"
            )
        # at most max_bytes + 1 bytes, as before, but asked for in the size the stat gave (+1 to
        # notice a file that grew since): read(n) allocates n bytes first, and 16 MiB per file
        # cost more than reading a small file; plain system calls (no buffered file object,
        # whose making costs more than reading a small file)
        data = read_head(path, size + 1, max_bytes + 1)
    except FileNotFoundError:
        raise InputError(path, link_problem(path) or "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise InputError(path, link_problem(path) or f"cannot read: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # (UTF-32's marks start alike)
        # what Windows PowerShell 5's `>` and Out-File write; PostgreSQL, PgBouncer, HAProxy,
        # Terraform and every JSON reader pgpath stands for read UTF-8 (or bytes)
        utf = "UTF-32" if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) else "UTF-16"
        raise InputError(path, f"{utf} text (it starts with a {utf} byte order mark), not UTF-8: save it as UTF-8 "
                               "(PowerShell: `Out-File -Encoding utf8`, or `Set-Content -Encoding utf8`)", 1)
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(path, f"binary file (NUL byte at offset {nul}), not a configuration file", line)
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError:
        # PostgreSQL, PgBouncer and HAProxy read bytes; Latin-1 keeps every byte as one character
        return data.decode("latin-1"), bom


def read_head(path: str, want: int | None, limit: int) -> bytes:
    """The first `want` bytes of a file (all of it when it is shorter); when it holds that many,
    on up to `limit` bytes (a file that grew since its size was taken). `want` None: the size
    of the open file + 1. As `open(path, "rb").read(limit)` for a file of fewer than `want`
    bytes, without a buffered file object and without allocating `limit` bytes first."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        if want is None:
            size = os.fstat(fd).st_size
            want = size + 1 if size > 0 else limit
        chunks = []
        got = 0
        want = min(want, limit)
        while got < want:
            chunk = os.read(fd, want - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            if got == want:
                want = limit
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def json_loads(text: str):
    """json.loads of a file's text; ValueError for every text it refuses, a nesting too deep for
    its C scanner (a RecursionError: `[[[[...` 1,000 deep) included."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def lines_of(text: str) -> Iterator[str]:
    """The lines of `text.split("\\n")`, one at a time: a loader reading a large file line by
    line then holds one line, not a list of all of them besides what it makes of them."""
    start, find = 0, text.find
    while True:
        end = find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def inside_checked_tree(target: str, main_path: str, options: dict | None) -> bool:
    """Whether an include target lies inside what was given to check (`options["check_roots"]`,
    the paths named on the command line; else the folder of the file being read).

    A missing target outside it (`/etc/pgbouncer-custom/x.ini`) is made on the machine at deploy
    time: pgpath cannot tell whether it will exist, so it warns; a missing target inside the
    checked tree is missing from the repository, an error.
    """
    from advisor.model import within

    roots = (options or {}).get("check_roots") or [os.path.dirname(os.path.abspath(main_path))]
    where = os.path.abspath(target)
    for root in roots:
        root = os.path.abspath(root)
        if within(where, root):
            return True
    return False
