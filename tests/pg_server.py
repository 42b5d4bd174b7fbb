"""A private PostgreSQL 15 for parity tests, and the oracle that asks it how it reads a config.

The server runs as a non-root user (`pgpath`, created with `useradd -r -M` when the tests run as
root and it is absent; `nobody` as a fallback), in a temp dir, listening only on a unix socket
in that dir (`listen_addresses = ''`). Nothing here touches any network address.

Two ways of asking PostgreSQL are combined (see `Oracle`):

- `pg_file_settings`, queried on a live server, re-reads `<datadir>/postgresql.conf` (its includes
  and `postgresql.auto.conf`) on every query: it gives each occurrence's file, line, name (as
  written) and value (after de-escaping), and the first syntax error or the unknown names.
- `postgres -D <dir> -C <name>` parses the files exactly as startup does (context postmaster,
  every syntax error listed, then unknown names, then values) and prints the value in the
  base unit, or exits 1 with the FATAL message. About 17 ms a call.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BINDIR = Path(os.environ.get("PGPATH_PG15_BINDIR", "/usr/lib/postgresql/15/bin"))


def available() -> str | None:
    """None when a PostgreSQL 15 server can be run here, else the reason it cannot."""
    if not (BINDIR / "postgres").exists() or not (BINDIR / "initdb").exists():
        return f"PostgreSQL 15 binaries not found in {BINDIR} (apt-get install postgresql-15)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser is missing: PostgreSQL refuses to run as root"
    return None


def minor_version() -> tuple[int, int] | None:
    """(15, 18) for the local server's `postgres --version`; None when it cannot run."""
    import re

    try:
        out = subprocess.run([str(BINDIR / "postgres"), "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except OSError:
        return None
    m = re.search(r"\) (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _run_user() -> str | None:
    """The user to run PostgreSQL as when we are root (None when we are not root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("pgpath")
        return "pgpath"
    except KeyError:
        pass
    if shutil.which("useradd"):
        subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", "pgpath"],
                       capture_output=True, check=False)
        try:
            pwd.getpwnam("pgpath")
            return "pgpath"
        except KeyError:
            pass
    return "nobody"


@dataclass
class StartupResult:
    """What `postgres -C` said: exit code, value printed, and the messages of its log lines."""

    rc: int
    value: str | None
    messages: list[str] = field(default_factory=list)

    def syntax_errors(self) -> list[tuple[str, int, str | None]]:
        """(file, line, token or None for 'end of line') of each syntax error reported."""
        out = []
        for m in self.messages:
            found = re.match(r'syntax error in file "(.*)" line (\d+), near (?:token "(.*)"|end of line)$', m)
            if found:
                out.append((found.group(1), int(found.group(2)), found.group(3)))
        return out

    def unknown_names(self) -> list[tuple[str, str, int]]:
        out = []
        for m in self.messages:
            found = re.match(r'unrecognized configuration parameter "(.*)" in file "(.*)" line (\d+)$', m)
            if found:
                out.append((found.group(1), found.group(2), int(found.group(3))))
        return out


class PgServer:
    """initdb once, start on a unix socket, answer pg_file_settings and `postgres -C` questions."""

    def __init__(self) -> None:
        self.user = _run_user()
        self.base = Path(tempfile.mkdtemp(prefix="pgpath-pg15-"))
        self.datadir = self.base / "data"
        self.sockdir = self.base / "sock"
        self.scratch = self.base / "scratch"
        self.port = 5432
        self.conn = None
        self._written: list[Path] = []
        self._value_cache: dict[tuple[str, str], StartupResult] = {}
        self.calls = 0

    # -- process control ------------------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        if self.user:
            return ["runuser", "-u", self.user, "--", *args]
        return list(args)

    def start(self) -> "PgServer":
        os.chmod(self.base, 0o755)
        for d in (self.sockdir, self.scratch):
            d.mkdir()
        if self.user:
            shutil.chown(self.base, self.user)
            for d in (self.sockdir, self.scratch):
                shutil.chown(d, self.user)
        subprocess.run(
            self._cmd(str(BINDIR / "initdb"), "-D", str(self.datadir), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync"),
            check=True, capture_output=True, text=True,
        )
        self._original_conf = (self.datadir / "postgresql.conf").read_bytes()
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.sockdir}' -c port={self.port}"
        subprocess.run(
            self._cmd(str(BINDIR / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.base / "server.log"),
                      "-o", options, "-w", "-t", "60", "start"),
            check=True, capture_output=True, text=True,
        )
        import psycopg

        for _ in range(50):
            try:
                self.conn = psycopg.connect(host=str(self.sockdir), port=self.port, user="postgres",
                                            dbname="postgres", autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        if self.conn is None:
            raise RuntimeError("PostgreSQL started but no connection could be made")
        return self

    def stop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass
        if self.datadir.exists():
            subprocess.run(self._cmd(str(BINDIR / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"),
                           capture_output=True, check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    # -- files ----------------------------------------------------------------------------
    def write_files(self, files: dict[str, bytes | str], where: Path | None = None) -> Path:
        """Write `postgresql.conf` and any other files (relative names) into the data dir.

        Files written by an earlier call are removed first; `postgresql.auto.conf` is removed
        unless given. Returns the path of the main file.
        """
        where = where or self.datadir
        self.clear()
        for name, content in files.items():
            path = where / name
            if not path.parent.exists():
                path.parent.mkdir(parents=True)
                os.chmod(path.parent, 0o755)  # readable by the server's user whatever the umask
            data = content.encode("utf-8") if isinstance(content, str) else content
            path.write_bytes(data)
            os.chmod(path, 0o644)
            self._written.append(path)
        if "postgresql.auto.conf" not in files:
            (where / "postgresql.auto.conf").unlink(missing_ok=True)
        return where / "postgresql.conf"

    def clear(self) -> None:
        for path in self._written:
            path.unlink(missing_ok=True)
        for path in sorted({p.parent for p in self._written}, key=lambda p: -len(p.parts)):
            if path not in (self.datadir, self.scratch):
                try:
                    path.rmdir()
                except OSError:
                    pass
        self._written = []

    # -- questions ------------------------------------------------------------------------
    def file_settings(self) -> list[dict]:
        """pg_file_settings as the server reads the data dir's files right now, in seqno order."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT sourcefile, sourceline, seqno, name, setting, applied, error "
                        "FROM pg_file_settings ORDER BY seqno")
            cols = [c.name for c in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def startup(self, name: str, datadir: Path | None = None) -> StartupResult:
        """`postgres -D datadir -C name`: the config read exactly as at server start."""
        self.calls += 1
        proc = subprocess.run(
            self._cmd(str(BINDIR / "postgres"), "-D", str(datadir or self.datadir), "-C", name),
            capture_output=True, check=False,
        )
        out = proc.stdout.decode("utf-8", "replace")
        messages = []
        for line in proc.stderr.decode("utf-8", "replace").splitlines():
            found = re.match(r"^\S+ \S+ \S+ \[\d+\] (?:LOG|FATAL|ERROR|WARNING|DETAIL|HINT):  (.*)$", line)
            if found:
                messages.append(found.group(1))
            elif messages:
                messages[-1] += "\n" + line
        value = out[:-1] if out.endswith("\n") else out
        return StartupResult(proc.returncode, value if proc.returncode == 0 else None, messages)

    def value_of(self, name: str, value: str) -> StartupResult:
        """How startup reads `name = 'value'` alone in a file (cached): validity and base-unit value."""
        key = (name.lower(), value)
        if key not in self._value_cache:
            conf = self.scratch / "postgresql.conf"
            conf.write_text(f"{name} = {quote(value)}\n", encoding="utf-8")
            os.chmod(conf, 0o644)
            self._value_cache[key] = self.startup(name, self.scratch)
        return self._value_cache[key]


def quote(value: str) -> str:
    """A postgresql.conf quoted string that de-escapes to `value`."""
    out = []
    for ch in value:
        if ch == "'":
            out.append("''")
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


@contextmanager
def running_postgres(prefix: str, options: list[str], port: int = 5432, prepare=None):
    """A throw-away PostgreSQL 15 for one test module: initdb, start, yield, stop, clean up.

    It runs as the non-root run user, with its unix socket in `<base>/sock` and whatever
    `options` add (`-c listen_addresses=127.0.0.1`, TLS files...). `prepare(base, user)` runs
    before initdb to put files in place (certificates). Yields (base, path of the socket file);
    skips the test when the server cannot be started here.
    """
    import pytest

    reason = available()
    if reason:
        pytest.skip(reason)
    user = _run_user()
    base = Path(tempfile.mkdtemp(prefix=prefix))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    os.chmod(base, 0o755)
    if prepare is not None:
        prepare(base, user)
    if user:
        for p in (base, sock):
            shutil.chown(p, user)

    def cmd(*args: str) -> list[str]:
        return ["runuser", "-u", user, "--", *args] if user else list(args)

    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(cmd(str(BINDIR / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"),
                   check=True, capture_output=True, env=env)
    proc = subprocess.Popen(
        cmd(str(BINDIR / "postgres"), "-D", str(data), "-k", str(sock), "-p", str(port), "-c", "fsync=off",
            *(["-c", "listen_addresses="] if not any("listen_addresses" in o for o in options) else []), *options),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    socket_file = sock / f".s.PGSQL.{port}"
    for _ in range(200):
        if socket_file.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    try:
        if not socket_file.exists():
            pytest.skip("PostgreSQL did not start")
        time.sleep(0.2)  # the socket file appears just before the server accepts connections
        yield base, str(socket_file)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)
