"""Start a real PgBouncer on 127.0.0.1 with a copy of an ini, and read back what it made of it.

The copy keeps every line of the original but comments out the settings that would make it
listen elsewhere, log or write a pid file elsewhere, switch user or read an auth file, and puts
loopback ones right after the last `[pgbouncer]` header (a later header would reset them).
PgBouncer refuses to run as root, so as root it runs as the `pgpath` user (or `nobody`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

OVERRIDDEN = ("listen_addr", "listen_port", "unix_socket_dir", "logfile", "pidfile", "auth_type", "auth_file",
              "admin_users", "user", "auth_hba_file", "auth_ident_file", "unix_socket_group", "so_reuseport",
              "syslog")
ADMIN = "pgpath_admin"
_KEY_LINE = re.compile(r"^([ \t\v\f\r]*)(" + "|".join(OVERRIDDEN) + r")[ \t]*=", re.MULTILINE)
_MAIN_HEADER = re.compile(r"^[ \t\v\f\r]*\[pgbouncer\]", re.MULTILINE)


def binary() -> str | None:
    return shutil.which("pgbouncer") or (os.path.exists("/usr/sbin/pgbouncer") and "/usr/sbin/pgbouncer") or None


def version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"PgBouncer (\d+\.\d+)", out)
    return m.group(1) if m else "?"


def run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for name in ("pgpath", "nobody"):
        try:
            pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"]
        except KeyError:
            continue
    raise RuntimeError("running as root and neither user pgpath nor nobody exists")


@contextlib.contextmanager
def workspace():
    """A temporary folder the non-root PgBouncer user can read (pytest's own are 0700), removed after."""
    path = tempfile.mkdtemp(prefix="pgpath-pgbouncer-")
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rewrite(text: str, workdir: str, port: int, keep: tuple[str, ...] = ()) -> tuple[str, int, int]:
    """(the loopback copy, line after which the override block sits, number of lines inserted).

    `keep`: overridden keys left as the file has them (`auth_type` for a TLS/auth start-up case).
    """
    text = _KEY_LINE.sub(lambda m: m.group(0) if m.group(2) in keep else f"{m.group(1)};pgpath-parity; {m.group(2)} =",
                         text)
    block = [
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        f"unix_socket_dir = {workdir}",
        f"logfile = {workdir}/pgbouncer.log",
        f"pidfile = {workdir}/pgbouncer.pid",
        "auth_type = trust",
        f"auth_file = {workdir}/userlist.txt",
        f"admin_users = {ADMIN}",
    ]
    block = [line for line in block if line.split(" =")[0] not in keep]
    headers = list(_MAIN_HEADER.finditer(text))
    if not headers:
        return text.rstrip("\n") + "\n[pgbouncer]\n" + "\n".join(block) + "\n", text.count("\n") + 1, len(block) + 1
    m = headers[-1]
    eol = text.find("\n", m.end())
    if eol < 0:
        text += "\n"
        eol = len(text) - 1
    line = text.count("\n", 0, eol) + 1
    return text[:eol + 1] + "\n".join(block) + "\n" + text[eol + 1:], line, len(block)


@dataclass
class Outcome:
    started: bool
    config: dict[str, str | None] = field(default_factory=dict)
    databases: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    log: str = ""
    error_line: int | None = None  # the line PgBouncer named in its first error, in the rewritten file


def run(ini_text: str, workdir: str, cwd: str | None = None, timeout: float = 3.0,
        keep: tuple[str, ...] = ()) -> tuple[Outcome, str]:
    """Start PgBouncer on a loopback copy of `ini_text`; (what it did, the path of the copy)."""
    import psycopg

    exe = binary()
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o777)
    port = free_port()
    text, _, _ = rewrite(ini_text, workdir, port, keep)
    path = os.path.join(workdir, "pgbouncer.ini")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(workdir, "userlist.txt"), "w") as f:
        f.write(f'"{ADMIN}" ""\n')
    for name in ("pgbouncer.ini", "userlist.txt"):
        os.chmod(os.path.join(workdir, name), 0o644)
    for name in ("pgbouncer.log", "pgbouncer.pid", "stderr.txt"):
        try:
            os.unlink(os.path.join(workdir, name))
        except FileNotFoundError:
            pass
    err = open(os.path.join(workdir, "stderr.txt"), "wb")
    proc = subprocess.Popen(run_as() + [exe, path], cwd=cwd or workdir, stdout=err, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    outcome = Outcome(started=False)
    try:
        deadline = time.monotonic() + timeout
        conn = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                conn = psycopg.connect(host="127.0.0.1", port=port, dbname="pgbouncer", user=ADMIN,
                                       autocommit=True, prepare_threshold=None, connect_timeout=2)
                break
            except psycopg.OperationalError:
                time.sleep(0.05)
        if conn is not None:
            with conn:
                cur = conn.execute("SHOW CONFIG")
                outcome.config = {row[0]: row[1] for row in cur.fetchall()}
                cur = conn.execute("SHOW DATABASES")
                names = [d.name for d in cur.description]
                outcome.databases = [dict(zip(names, row)) for row in cur.fetchall()]
                cur = conn.execute("SHOW USERS")
                names = [d.name for d in cur.description]
                outcome.users = [dict(zip(names, row)) for row in cur.fetchall()]
            outcome.started = True
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        err.close()
    log = ""
    for name in ("stderr.txt", "pgbouncer.log"):
        try:
            with open(os.path.join(workdir, name), encoding="utf-8", errors="replace") as f:
                log += f.read()
        except FileNotFoundError:
            pass
    outcome.log = log
    m = re.search(r"(?:ERROR|FATAL).*\(" + re.escape(path) + r":(\d+)\)", log)
    if m:
        outcome.error_line = int(m.group(1))
    return outcome, path
