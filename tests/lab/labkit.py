"""The lab's machinery: real PostgreSQL 15 (TLS), PgBouncer and HAProxy started from the very
config files pgpath reads, libpq (psycopg) clients held idle, and network namespaces with
conntrack that play a packet-reset middlebox.

Everything runs on 127.0.0.1 or inside network namespaces this module creates and deletes; every
process started here is stopped by `Lab.stop()` (by its own pid).

Facts this rests on: ../shared/reference/lab-observations.md (what a libpq client sees) and
middlebox-simulation.md with its recipe.sh (the namespace construction, copied command for
command in `Middlebox.up`).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PGPATH_PG15_BINDIR", "/usr/lib/postgresql/15/bin"))
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_unavailable() -> str | None:
    """None when PostgreSQL 15, PgBouncer, HAProxy, openssl and psycopg are all here."""
    if not (PG_BIN / "postgres").exists():
        return f"PostgreSQL 15 is not installed ({PG_BIN}/postgres missing; apt-get install postgresql-15)"
    if HAPROXY is None:
        return "haproxy is not installed (apt-get install haproxy)"
    if PGBOUNCER is None:
        return "pgbouncer is not installed (apt-get install pgbouncer)"
    if shutil.which("openssl") is None:
        return "openssl is needed to make the server's test certificate"
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[test]')"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser is missing: PostgreSQL and PgBouncer refuse to run as root"
    return None


def netns_unavailable() -> str | None:
    """None when this process can build the three-namespace middlebox, else why not."""
    if os.geteuid() != 0:
        return "the middlebox simulation needs root (network namespaces, nft, per-netns sysctls)"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install {package}; scripts/test does this as root)"
    probe = f"pgpl{os.getpid()}probe"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace here: {made.stderr.strip()}"
    try:
        ct = subprocess.run(["ip", "netns", "exec", probe, "nft", "-f", "-"], capture_output=True, text=True,
                            input="table inet t {\n chain c {\n type filter hook forward priority filter;\n"
                                   " ct state established accept\n }\n}\n")
        if ct.returncode != 0:
            return f"nft with conntrack does not work in a namespace here: {ct.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _user(name: str) -> str | None:
    try:
        pwd.getpwnam(name)
        return name
    except KeyError:
        return None


def daemon_user() -> str | None:
    """Who runs PostgreSQL and PgBouncer (None: this process's user; they refuse root)."""
    if os.geteuid() != 0:
        return None
    user = _user("postgres") or _user("pgpath") or _user("nobody")
    if user is None:
        raise RuntimeError("running as root and none of the users postgres, pgpath, nobody exists")
    return user


def as_user(user: str | None, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


# -------------------------------------------------------------------------------------------
# processes

class Lab:
    """A temp dir and the processes started in it; `stop()` ends each by its pid and removes all."""

    def __init__(self, prefix: str = "pgpath-lab-") -> None:
        self.base = Path(tempfile.mkdtemp(prefix=prefix))
        os.chmod(self.base, 0o755)
        self.user = daemon_user()
        self.procs: list[tuple[subprocess.Popen, int]] = []
        self.cleanups: list = []
        self._template: Path | None = None
        self._tls: tuple[Path, Path] | None = None
        self._lock = threading.Lock()

    def dir(self, *parts: str) -> Path:
        path = self.base.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        for p in [path, *path.parents]:
            if p == self.base:
                break
            os.chmod(p, 0o755)
        return path

    def own(self, path: Path) -> None:
        if self.user:
            shutil.chown(path, self.user, self.user if _group(self.user) else None)

    def spawn(self, argv: list[str], log: Path, stop_signal: int = signal.SIGTERM, **kw) -> subprocess.Popen:
        """Start a daemon in its own process group; `stop()` sends `stop_signal` to that group."""
        out = open(log, "wb")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kw)
        out.close()
        with self._lock:
            self.procs.append((proc, stop_signal))
        return proc

    def stop(self) -> None:
        for proc, sig in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
        for proc, _ in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001 - teardown goes on
                pass
        shutil.rmtree(self.base, ignore_errors=True)

    # -- TLS and initdb, once per lab --------------------------------------------------------
    def tls(self) -> tuple[Path, Path]:
        with self._lock:
            if self._tls is None:
                d = self.dir("tls")
                crt, key = d / "server.crt", d / "server.key"
                subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                                "-out", str(crt), "-days", "2", "-subj", "/CN=localhost"],
                               check=True, capture_output=True)
                os.chmod(key, 0o600)
                os.chmod(crt, 0o644)
                for p in (crt, key):
                    self.own(p)
                self._tls = (crt, key)
            return self._tls

    def template(self) -> Path:
        with self._lock:
            if self._template is None:
                d = self.dir("template")
                self.own(d)
                data = d / "data"
                subprocess.run(as_user(self.user, [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
                                                   "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]),
                               check=True, capture_output=True, env={**os.environ, "LC_ALL": "C"})
                with open(data / "pg_hba.conf", "a") as f:
                    f.write("host all all 10.99.0.0/16 trust\n")  # the namespaces' client subnet
                self._template = data
            return self._template


def _group(user: str) -> bool:
    import grp

    try:
        grp.getgrnam(user)
        return True
    except KeyError:
        return False


@dataclass
class Postgres:
    """One PostgreSQL 15 whose configuration file is `conf` (passed as -c config_file)."""

    name: str
    conf: Path
    port: int
    host: str
    sockdir: Path
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def admin(self):
        import psycopg

        return psycopg.connect(host=str(self.sockdir), port=self.port, user="postgres", dbname="postgres",
                               autocommit=True, connect_timeout=5)


def start_postgres(lab: Lab, name: str, settings: str, host: str = "127.0.0.1", port: int | None = None,
                   netns: str | None = None) -> Postgres:
    """A PostgreSQL 15 with TLS on, listening on host:port, configured by `<name>/postgresql.conf`.

    The file holds everything the server is told (listen address, port, TLS files, `settings`),
    so pgpath reading it sees exactly what the server runs with."""
    crt, key = lab.tls()
    template = lab.template()
    d = lab.dir(f"pg-{name}")
    sock = lab.dir(f"pg-{name}", "sock")
    data = d / "data"
    subprocess.run(["cp", "-a", str(template), str(data)], check=True)
    for p in (d, sock):
        lab.own(p)
    port = port or free_port()
    conf = d / "postgresql.conf"
    conf.write_text(
        f"# pgpath lab: PostgreSQL 15 '{name}' (this file is the server's config_file)\n"
        f"listen_addresses = '{host}'\n"
        f"port = {port}\n"
        f"unix_socket_directories = '{sock}'\n"
        "ssl = on\n"
        f"ssl_cert_file = '{crt}'\n"
        f"ssl_key_file = '{key}'\n"
        "fsync = off\n"
        "shared_buffers = 16MB\n"
        "max_connections = 60\n"
        + settings)
    os.chmod(conf, 0o644)
    argv = as_user(lab.user, [str(PG_BIN / "postgres"), "-D", str(data), "-c", f"config_file={conf}"])
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    log = d / "server.log"
    # SIGQUIT: immediate shutdown (a backend whose client vanished behind a middlebox would make a
    # smart shutdown wait forever; the data is thrown away)
    proc = lab.spawn(argv, log, stop_signal=signal.SIGQUIT, env={**os.environ, "LC_ALL": "C"})
    pg = Postgres(name, conf, port, host, sock, proc, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            pg.admin().close()
            return pg
        except Exception as exc:  # noqa: BLE001 - not up yet
            if pg.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL {name} did not start: {exc}\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)


@dataclass
class Pgbouncer:
    ini: Path
    port: int
    proc: subprocess.Popen
    log: Path


def start_pgbouncer(lab: Lab, ini: Path, port: int, host: str = "127.0.0.1", netns: str | None = None) -> Pgbouncer:
    """PgBouncer on exactly `ini` (written by the caller; it names its private files in the lab)."""
    log = ini.parent / "pgbouncer.stderr"
    argv = as_user(lab.user, [PGBOUNCER, str(ini)])
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    proc = lab.spawn(argv, log, cwd=str(ini.parent))
    _wait_listening(host, port, proc, log, "PgBouncer", netns)
    return Pgbouncer(ini, port, proc, log)


@dataclass
class Haproxy:
    cfg: Path
    port: int
    proc: subprocess.Popen
    log: Path

    def termination_state(self, client_port: int) -> str | None:
        """The two-letter termination state HAProxy logged for the session from client_port
        (`cD` = client-side timeout in the data phase, `sD` = server-side), None if not logged."""
        text = self.log.read_text(errors="replace")
        for line in text.splitlines():
            m = re.match(rf"^127\.0\.0\.1:{client_port} \[.*?\] \S+ \S+ [-\d]+/[-\d]+/[-\d]+ \d+ (\S\S) ", line)
            if m:
                return m.group(1)
        return None


def start_haproxy(lab: Lab, cfg: Path, port: int, host: str = "127.0.0.1", netns: str | None = None) -> Haproxy:
    subprocess.run([HAPROXY, "-c", "-q", "-f", str(cfg)], check=True, capture_output=True)
    log = cfg.parent / "haproxy.stdout"
    argv = [HAPROXY, "-db", "-f", str(cfg)]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    proc = lab.spawn(argv, log, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
    _wait_listening(host, port, proc, log, "HAProxy", netns)
    return Haproxy(cfg, port, proc, log)


_PROBE = """
import socket, sys, time
deadline = time.monotonic() + 15
while True:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.05)
"""


def _wait_listening(host: str, port: int, proc: subprocess.Popen, log: Path, what: str,
                    netns: str | None = None) -> None:
    if netns:  # ask from inside the namespace
        done = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", _PROBE, host, str(port)],
                              capture_output=True, timeout=30)
        if done.returncode != 0 or proc.poll() is not None:
            raise RuntimeError(f"{what} did not listen on {host}:{port} in {netns}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        return
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on {port}: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)


# -------------------------------------------------------------------------------------------
# what a libpq client sees

@dataclass
class Observation:
    """What one idle client connection went through."""

    idle: float  # seconds held idle before the next query
    alive: bool  # the query after the idle time succeeded
    closed_at: float | None = None  # seconds after the last query when the peer's close reached the socket
    error: str | None = None  # exception class and message of the failed query
    sqlstate: str | None = None
    pid_changed: bool | None = None  # behind a transaction pooler: another server backend answered
    hang: bool = False  # the query got no answer at all (packets dropped) within the wait
    client_port: int | None = None
    closer: str | None = None  # who closed it, from the evidence: "postgres:idle_session_timeout", ...
    detail: dict = field(default_factory=dict)

    def short(self) -> str:
        if self.alive:
            text = f"alive after {self.idle:g} s idle"
            if self.pid_changed:
                text += " (new server backend: the pooler reconnected)"
            return text
        when = f"closed at {self.closed_at:.1f} s" if self.closed_at is not None else f"dead at {self.idle:g} s"
        why = "query hung (no answer: packets dropped)" if self.hang else (self.error or "").split("\n")[0]
        by = f" by {self.closer}" if self.closer else ""
        return f"{when}{by}: {why}"


def hold_idle(conninfo: str, idle: float, connect_kwargs: dict | None = None) -> Observation:
    """Connect, run a query, stay idle `idle` seconds while watching the socket (a close by the
    peer makes it readable: that moment is `closed_at`), then query again."""
    import psycopg

    conn = psycopg.connect(conninfo, autocommit=True, prepare_threshold=None, **(connect_kwargs or {}))
    try:
        pid0 = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        fd = conn.pgconn.socket
        dup = socket.socket(fileno=os.dup(fd))
        port = dup.getsockname()[1]
        dup.close()
        start = time.monotonic()
        closed_at = None
        readable, _, _ = select.select([fd], [], [], idle)
        if readable:
            closed_at = time.monotonic() - start
        rest = idle - (time.monotonic() - start)
        if rest > 0:
            time.sleep(rest)
        obs = Observation(idle=idle, alive=False, closed_at=closed_at, client_port=port)
        try:
            pid1 = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            obs.alive = True
            obs.pid_changed = pid1 != pid0
        except psycopg.Error as exc:
            obs.error = f"{type(exc).__module__.replace('psycopg.', '')}.{type(exc).__name__}: {exc}"
            obs.error = obs.error.replace("psycopg.", "")
            obs.sqlstate = exc.sqlstate
        return obs
    finally:
        conn.close()


def closer_from_error(obs: Observation) -> str | None:
    """The hop and timer a server-sent error names (None when the close carried no message)."""
    if obs.sqlstate == "57P05":
        return "postgres:idle_session_timeout"
    if obs.sqlstate == "08P01" and "client_idle_timeout" in (obs.error or ""):
        return "pgbouncer:client_idle_timeout"
    return None


# -------------------------------------------------------------------------------------------
# the middlebox: three network namespaces, conntrack in the middle one (recipe.sh)

class Middlebox:
    """client netns C ── M (router: conntrack, idle timer T, drop or reset) ── S server netns.

    Built command for command as ../shared/reference/middlebox-sim/recipe.sh (the only
    addition: a `counter` on the final rule, read to confirm the middlebox did the killing)."""

    CLIENT_IP, SERVER_IP = "10.99.1.2", "10.99.2.2"

    def __init__(self, prefix: str, idle_timeout: int, mode: str) -> None:
        assert mode in ("drop", "reset")
        self.C, self.M, self.S = f"{prefix}c", f"{prefix}m", f"{prefix}s"
        self.T, self.mode = idle_timeout, mode
        self.made = False

    def _run(self, *argv: str, input: str | None = None) -> None:
        proc = subprocess.run(list(argv), capture_output=True, text=True, input=input)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")

    def up(self) -> "Middlebox":
        C, M, S, r = self.C, self.M, self.S, self._run
        self.made = True
        for ns in (C, M, S):
            r("ip", "netns", "add", ns)
        r("ip", "link", "add", "c0", "netns", C, "type", "veth", "peer", "name", "m0", "netns", M)
        r("ip", "link", "add", "s0", "netns", S, "type", "veth", "peer", "name", "m1", "netns", M)
        r("ip", "-n", C, "addr", "add", "10.99.1.2/24", "dev", "c0")
        r("ip", "-n", M, "addr", "add", "10.99.1.1/24", "dev", "m0")
        r("ip", "-n", M, "addr", "add", "10.99.2.1/24", "dev", "m1")
        r("ip", "-n", S, "addr", "add", "10.99.2.2/24", "dev", "s0")
        for ns, dev in ((C, "c0"), (M, "m0"), (M, "m1"), (S, "s0"), (C, "lo"), (M, "lo"), (S, "lo")):
            r("ip", "-n", ns, "link", "set", dev, "up")
        r("ip", "-n", C, "route", "add", "10.99.2.0/24", "via", "10.99.1.1")  # no default routes: nothing leaves
        r("ip", "-n", S, "route", "add", "10.99.1.0/24", "via", "10.99.2.1")
        r("ip", "netns", "exec", M, "sysctl", "-qw", "net.ipv4.ip_forward=1",
          f"net.netfilter.nf_conntrack_tcp_timeout_established={self.T}")
        verdict = "drop" if self.mode == "drop" else "reject with tcp reset"
        r("ip", "netns", "exec", M, "nft", "-f", "-", input=(
            "table inet nlb {\n"
            "  chain idle {\n"
            "    type filter hook forward priority filter; policy drop;\n"
            "    ct state established,related accept\n"
            "    tcp flags & (syn|ack|fin|rst) == syn ct state new accept\n"
            f"    meta l4proto tcp counter {verdict}\n"
            "  }\n"
            "}\n"))
        return self

    def expired_packets(self) -> int:
        """Packets the middlebox refused (dropped or answered with a reset) since it was made."""
        out = subprocess.run(["ip", "netns", "exec", self.M, "nft", "list", "chain", "inet", "nlb", "idle"],
                             capture_output=True, text=True).stdout
        m = re.search(r"counter packets (\d+)", out)
        return int(m.group(1)) if m else -1

    def down(self) -> None:
        if not self.made:
            return
        for ns in (self.C, self.M, self.S):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made = False


def run_in_netns(netns: str, probes: list[dict], timeout: float) -> dict[str, Observation]:
    """Run tests/lab/netns_client.py inside `netns` (the client side of the middlebox) on
    `probes` ({id, conninfo, idle, wait}); returns an Observation per probe id."""
    script = Path(__file__).with_name("netns_client.py")
    proc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, str(script)],
                          input=json.dumps(probes), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"netns client failed ({proc.returncode}): {proc.stderr[-3000:]}")
    out = {}
    for row in json.loads(proc.stdout):
        pid = row.pop("id")
        out[pid] = Observation(**row)
    return out
