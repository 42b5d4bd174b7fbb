"""Parity: what stops a real PostgreSQL 15 at start although every line parses (PG004).

Each case is written as the data directory's postgresql.conf of one private server (initdb'd
once for the module, unix socket only) and the real `postgres` is started on it: it either exits
with a FATAL message (refused) or creates its socket (started, then stopped). pgpath's verdict
on the same file must agree: PG004 (or another error) exactly when the server refuses, on the
line the case names.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import pg_server
from advisor.engine import make_settings, run

pytestmark = pytest.mark.server

# name -> (postgresql.conf, line of the PG004 finding or None when the server starts)
CASES = {
    "wal_level minimal alone (max_wal_senders defaults to 10)": ("wal_level = minimal\n", 1),
    "wal_level minimal with senders off": ("wal_level = minimal\nmax_wal_senders = 0\n", None),
    "senders set after wal_level": ("wal_level = minimal\nmax_wal_senders = 3\n", 2),
    "archive_mode on with minimal": ("max_wal_senders = 0\nwal_level = minimal\narchive_mode = on\n", 3),
    "archive_mode always with minimal": ("archive_mode = always\nmax_wal_senders = 0\nwal_level = minimal\n", 3),
    "archive_mode true spelling": ("archive_mode = true\nwal_level = minimal\nmax_wal_senders = 0\n", 2),
    "archive_mode on with replica": ("archive_mode = on\nwal_level = replica\n", None),
    "minimal overridden later": ("wal_level = minimal\nwal_level = replica\n", None),
    "reserved equals max_connections": ("max_connections = 5\nsuperuser_reserved_connections = 5\n", 2),
    "reserved above max_connections": ("superuser_reserved_connections = 9\nmax_connections = 8\n", 2),
    "reserved below max_connections": ("max_connections = 6\nsuperuser_reserved_connections = 5\n", None),
    "min_wal_size one segment": ("min_wal_size = 16MB\n", 1),
    "min_wal_size two segments": ("min_wal_size = 32MB\n", None),
    "min_wal_size just under two": ("min_wal_size = 31MB\n", 1),
    "max_wal_size one segment": ("max_wal_size = 20MB\nmin_wal_size = 32MB\n", 1),
    "max_wal_size two segments": ("max_wal_size = 32MB\nmin_wal_size = 32MB\n", None),
    "a good control": ("wal_level = replica\nmax_wal_senders = 10\nmax_connections = 20\n", None),
    # TLS003: an empty TLS version range stops the server only when ssl is on (be_tls_init);
    # the data directory has a throw-away server.crt/server.key
    "empty TLS range with ssl off": ("ssl = off\nssl_min_protocol_version = 'TLSv1.3'\n"
                                     "ssl_max_protocol_version = 'TLSv1.2'\n", None),
    "empty TLS range, ssl not set": ("ssl_min_protocol_version = 'TLSv1.3'\nssl_max_protocol_version = 'TLSv1.2'\n",
                                     None),
    "empty TLS range with ssl on": ("ssl = on\nssl_min_protocol_version = 'TLSv1.3'\n"
                                    "ssl_max_protocol_version = 'TLSv1.2'\n", (3, "TLS003")),
    "TLS range with ssl on": ("ssl = on\nssl_min_protocol_version = 'TLSv1.2'\n"
                              "ssl_max_protocol_version = 'TLSv1.3'\n", None),
}

ERROR_CODES = {"PG004", "TLS003", "PG001", "PG002", "PG003", "ADV001", "ADV003"}


@pytest.fixture(scope="module")
def cluster():
    reason = pg_server.available()
    if reason:
        pytest.skip(reason)
    user = pg_server._run_user()
    base = Path(tempfile.mkdtemp(prefix="pgpath-startup-"))
    os.chmod(base, 0o755)
    sock = base / "sock"
    sock.mkdir()
    if user:
        shutil.chown(base, user)
        shutil.chown(sock, user)

    def cmd(*args: str) -> list[str]:
        return ["runuser", "-u", user, "--", *args] if user else list(args)

    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(cmd(str(pg_server.BINDIR / "initdb"), "-D", str(base / "data"), "-A", "trust", "-U", "postgres",
                       "--no-sync"), check=True, capture_output=True, env=env)
    if shutil.which("openssl"):
        data = base / "data"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=pgpath-test",
                        "-days", "2", "-keyout", str(data / "server.key"), "-out", str(data / "server.crt")],
                       check=True, capture_output=True)
        for name in ("server.key", "server.crt"):
            os.chmod(data / name, 0o600)
            if user:
                shutil.chown(data / name, user)
    try:
        yield base, cmd, env
    finally:
        shutil.rmtree(base, ignore_errors=True)


def start(cluster, conf: str) -> tuple[bool, str]:
    """(whether the real server started with this postgresql.conf, what it logged)."""
    base, cmd, env = cluster
    data, sock = base / "data", base / "sock"
    (data / "postgresql.conf").write_text(conf)
    os.chmod(data / "postgresql.conf", 0o644)
    log_path = base / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(cmd(str(pg_server.BINDIR / "postgres"), "-D", str(data), "-k", str(sock), "-p", "5432",
                                    "-c", "listen_addresses=", "-c", "fsync=off"),
                                stdout=subprocess.DEVNULL, stderr=log_file, env=env)
    started = False
    for _ in range(1200):
        if proc.poll() is not None:
            break
        if b"ready to accept connections" in log_path.read_bytes():
            started = True
            break
        time.sleep(0.05)
    if proc.poll() is None:
        # fast shutdown, sent to the postmaster itself (runuser does not pass signals on)
        pid_file = data / "postmaster.pid"
        try:
            os.kill(int(pid_file.read_text().split("\n")[0]), signal.SIGINT)
        except (OSError, ValueError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return started, log_path.read_text(encoding="utf-8", errors="replace")


def pgpath_errors(tmp_path: Path, conf: str):
    path = tmp_path / "postgresql.conf"
    path.write_text(conf)
    settings = make_settings({"paths": [str(path)], "pg_version": 15}, use_config=False)
    return [f for f in run(settings).findings if str(f.severity) == "error" and f.code in ERROR_CODES]


@pytest.mark.parametrize("name", sorted(CASES))
def test_startup_refusal(cluster, tmp_path, name):
    conf, line = CASES[name]
    line, code = line if isinstance(line, tuple) else (line, "PG004")
    if "ssl = on" in conf and not shutil.which("openssl"):
        pytest.skip("openssl is needed to make the server's certificate")
    started, log = start(cluster, conf)
    errors = pgpath_errors(tmp_path, conf)
    if line is None:
        assert started, f"the real server refused a case expected to start:\n{log}"
        assert errors == [], [f.message for f in errors]
    else:
        assert not started, "the real server started"
        assert "FATAL" in log or "must be" in log, log
        assert [f.code for f in errors] == [code], [(f.code, f.message) for f in errors]
        assert errors[0].span.line == line


def _alter_system_then_restart(cluster, conf: str, statements: list[str]) -> tuple[bool, str]:
    """Start the real server with this postgresql.conf, run the ALTER SYSTEM statements (they write
    postgresql.auto.conf), stop it, and start it again: (whether the restart started, its log)."""
    base, cmd, env = cluster
    data, sock = base / "data", base / "sock"
    auto = data / "postgresql.auto.conf"
    pristine = auto.read_bytes()
    (data / "postgresql.conf").write_text(conf)
    log_path = base / "first.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(cmd(str(pg_server.BINDIR / "postgres"), "-D", str(data), "-k", str(sock), "-p", "5432",
                                    "-c", "listen_addresses=", "-c", "fsync=off"),
                                stdout=subprocess.DEVNULL, stderr=log_file, env=env)
    try:
        for _ in range(1200):
            if b"ready to accept connections" in log_path.read_bytes() or proc.poll() is not None:
                break
            time.sleep(0.05)
        for sql in statements:
            subprocess.run(cmd(str(pg_server.BINDIR / "psql"), "-X", "-h", str(sock), "-p", "5432", "-U", "postgres",
                               "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql),
                           check=True, capture_output=True, env=env)
    finally:
        try:
            os.kill(int((data / "postmaster.pid").read_text().split("\n")[0]), signal.SIGINT)
        except (OSError, ValueError):
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    try:
        return start(cluster, conf)
    finally:
        auto.write_bytes(pristine)


@pytest.mark.parametrize("files_set_senders", [False, True])
def test_alter_system_wal_level_minimal_refuses_the_restart_unless_the_files_turn_senders_off(
        cluster, tmp_path, files_set_senders):
    """PG004 on an init script: `ALTER SYSTEM SET wal_level = 'minimal'` alone is accepted, and the
    next start refuses (max_wal_senders defaults to 10) unless postgresql.conf sets it to 0. Read
    alone, the script gets a warning (the files it runs with are not read: only they could set 0);
    as the init script of a compose service whose postgresql.conf the run reads, the verdict is that
    file's: an error when it leaves max_wal_senders above 0, nothing when it sets 0 — as the real
    restart. The script setting it too passes; the script setting it above 0 is an error whatever
    the files say."""
    conf = "max_wal_senders = 0\n" if files_set_senders else ""
    started, log = _alter_system_then_restart(cluster, conf, ["ALTER SYSTEM SET wal_level = 'minimal'"])
    assert started == files_set_senders, log
    if not started:
        assert "WAL streaming (max_wal_senders > 0) requires wal_level" in log, log
    script = tmp_path / "01_config.sql"
    script.write_text("ALTER SYSTEM SET wal_level = 'minimal';\n")
    findings = [f for f in run(make_settings({"paths": [str(script)], "pg_version": 15}, use_config=False)).findings
                if f.code == "PG004"]
    assert [(str(f.severity), f.span.line) for f in findings] == [("warning", 1)]
    # the same script mounted into /docker-entrypoint-initdb.d of a compose service that runs this
    # postgresql.conf: the server's own verdict
    project = tmp_path / "project"
    (project / "initdb").mkdir(parents=True)
    (project / "initdb" / "01_config.sql").write_text("ALTER SYSTEM SET wal_level = 'minimal';\n")
    (project / "postgresql.conf").write_text("listen_addresses = '*'\n" + conf)
    (project / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:15\n"
        "    command: [postgres, -c, config_file=/etc/postgresql/postgresql.conf]\n"
        "    volumes:\n      - ./postgresql.conf:/etc/postgresql/postgresql.conf\n"
        "      - ./initdb:/docker-entrypoint-initdb.d\n")
    findings = [f for f in run(make_settings({"paths": [str(project)]}, use_config=False)).findings
                if f.code == "PG004"]
    assert [str(f.severity) for f in findings] == ([] if started else ["error"]), findings
    script.write_text("ALTER SYSTEM SET wal_level = 'minimal';\nALTER SYSTEM SET max_wal_senders = 3;\n")
    findings = [f for f in run(make_settings({"paths": [str(script)], "pg_version": 15}, use_config=False)).findings
                if f.code == "PG004"]
    assert [(str(f.severity), f.span.line) for f in findings] == [("error", 2)]
    assert "WAL streaming (max_wal_senders > 0) requires wal_level" in findings[0].message
    script.write_text("ALTER SYSTEM SET wal_level = 'minimal';\nALTER SYSTEM SET max_wal_senders = 0;\n")
    assert not [f for f in run(make_settings({"paths": [str(script)], "pg_version": 15}, use_config=False)).findings
                if f.code == "PG004"]
    started, log = _alter_system_then_restart(cluster, "", ["ALTER SYSTEM SET wal_level = 'minimal'",
                                                            "ALTER SYSTEM SET max_wal_senders = 0"])
    assert started, log
