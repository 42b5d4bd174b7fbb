"""PgBouncer's auth_file (userlist.txt), read as PgBouncer reads it, keeping no secret.

PgBouncer (src/loader.c load_auth_file) reads the file from the start: blank space (line breaks
included) is skipped; a line whose first character is `;` is a comment (`#` is not: it is a
broken line); every other entry is `"user" "secret"` — the user name in double quotes (`""` is a
quote inside it), anything up to the next double quote, the secret in double quotes (`""` again),
and the rest of the line ignored. At the first entry that breaks these rules PgBouncer logs
`broken auth file` and stops: the users after it are not loaded. A user named twice keeps the
later secret.

Each secret is classified as PgBouncer does (src/scram.c get_password_type), and only its class
is kept: `md5` (`md5` followed by exactly 32 lower-case hexadecimal digits), `scram`
(`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64 salt and two 32-byte keys),
`empty`, else `plain`. The secret itself is never stored, returned or printed.

Which file: PgBouncer opens auth_file as written, a relative path against its working
directory. pgpath reads only a file among those given to check: a relative path against
pgbouncer_cwd (when given) or the ini's folder; an absolute path when it lies inside the checked
tree, else the file of the same name beside the ini (a repository keeps userlist.txt beside the
pgbouncer.ini it installs into /etc/pgbouncer/), said as such. Nothing outside the checked tree is
opened: the checking machine's own /etc/pgbouncer/userlist.txt is not the deployment's.
"""

from __future__ import annotations

import base64
import binascii
import os

from advisor import lazy_re
from advisor.model import Span
from advisor.model.pgbouncer import AuthFile, AuthUser

MAX_BYTES = 1 << 20
_MD5 = lazy_re.compile(r"md5[0-9a-f]{32}")
_SCRAM = lazy_re.compile(r"\$*([^$]+)\$+([^:]+):+([^$]+)\$+([^:]+):+(.+)", 16)  # re.S
_INTEGER = lazy_re.compile(r"[+-]?\d+")
_ENTRY = lazy_re.compile(r'\s*"((?:[^"]|"")*)"')


def secret_kind(secret: str) -> str:
    """"md5", "scram", "empty" or "plain", as PgBouncer's get_password_type decides."""
    if not secret:
        return "empty"
    if _MD5.fullmatch(secret):
        return "md5"
    return "scram" if _is_scram(secret) else "plain"


def _is_scram(secret: str) -> bool:
    # parse_scram_secret: strtok on "$", ":", "$", ":" then the rest
    m = _SCRAM.fullmatch(secret)
    if not m or m.group(1) != "SCRAM-SHA-256" or not _INTEGER.fullmatch(m.group(2).strip(" \t\n\r\f\v")):
        return False
    return _b64(m.group(3)) is not None and len(_b64(m.group(4)) or b"") == 32 and len(_b64(m.group(5)) or b"") == 32


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def lost_after(text: str, line: int) -> list[str]:
    """The user names of the entries from `line` on (lines that start with a double quote), which
    PgBouncer does not load once it stopped before them: names only, read leniently."""
    names = []
    for row in text.split("\n")[line - 1:]:
        m = _ENTRY.match(row)
        if m and m.group(1).replace('""', '"') not in names:
            names.append(m.group(1).replace('""', '"'))
    return names


def parse(text: str, path: str) -> tuple[list[AuthUser], Span | None]:
    """The users of an auth file (name, kind of secret, span of the entry) and where PgBouncer
    stops reading it ("broken auth file"), None when it reads to the end."""
    users: dict[str, AuthUser] = {}
    p, n = 0, len(text)

    def span(start: int, end: int) -> Span:
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        end_line = text.count("\n", 0, end) + 1
        end_col = end - (text.rfind("\n", 0, end) + 1) + 1
        return Span(path, line, col, end_line, end_col)

    def closing(q: int) -> int:
        # find_quote(p, false): the next quote that is not a doubled one
        while True:
            q = text.find('"', q)
            if q < 0:
                return n
            if text.startswith('""', q):
                q += 2
                continue
            return q

    while p < n:
        while p < n and text[p].isspace():
            p += 1
        if p >= n:
            break
        if text[p] == ";":
            p = text.find("\n", p)
            p = n if p < 0 else p
            continue
        start = p
        if text[p] != '"':
            return list(users.values()), span(start, start + 1)
        user_end = closing(p + 1)
        if user_end >= n:
            return list(users.values()), span(start, start + 1)
        name = text[p + 1:user_end].replace('""', '"')
        open_q = text.find('"', user_end + 1)
        if open_q < 0:
            return list(users.values()), span(start, start + 1)
        secret_end = closing(open_q + 1)
        if secret_end >= n:
            return list(users.values()), span(start, start + 1)
        kind = secret_kind(text[open_q + 1:secret_end].replace('""', '"'))
        users.pop(name, None)  # the later line wins, in its place
        users[name] = AuthUser(name, kind, span(start, user_end + 1))
        p = text.find("\n", secret_end)
        p = n if p < 0 else p
    return list(users.values()), None


def locate(named: str, ini_path: str, cwd: str | None, options: dict | None) -> tuple[str | None, str]:
    """(the file to read, how it was found) for `auth_file = named`; (None, why) when no file
    among those given to check is it."""
    from advisor.loaders.source import inside_checked_tree

    here = os.path.dirname(ini_path)
    if os.path.isabs(named):
        if inside_checked_tree(named, ini_path, options) and os.path.lexists(named):
            return named, ""
        beside = os.path.join(here, os.path.basename(named))
        if os.path.isfile(beside) and inside_checked_tree(beside, ini_path, options):
            return beside, f"taken as {named}"
        return None, f"{named} is not among the files given to check"
    for base in ([cwd] if cwd else []) + [here]:
        candidate = os.path.join(base, named)
        # (a folder or a link that loops under that name is the file, unreadable: read() says so)
        if os.path.lexists(candidate) and inside_checked_tree(candidate, ini_path, options):
            return candidate, ""
    return None, f"{named} is not among the files given to check"


def read(named: str, ini_path: str, cwd: str | None, options: dict | None) -> AuthFile | str | None:
    """The auth file PgBouncer would read for `auth_file = named`, classified; None when no file
    among those given to check is it; why, when that file cannot be read (too large, binary, a
    folder, a link that loops: it was left out without a word)."""
    path, how = locate(named, ini_path, cwd, options)
    if path is None:
        return None
    from advisor.loaders.source import InputError, read_text

    try:
        text = read_text(path, MAX_BYTES)
    except InputError as exc:
        shown = os.path.relpath(path) if not os.path.isabs(ini_path) else path
        return f"{shown}: {exc.message}"
    shown = os.path.relpath(path) if not os.path.isabs(ini_path) else path
    users, broken = parse(text, shown)
    out = AuthFile(shown, named, how, users, broken)
    if broken is not None:
        loaded = {u.name for u in users}
        out.lost = [name for name in lost_after(text, broken.line) if name not in loaded]
    return out
