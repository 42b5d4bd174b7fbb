"""What PostgreSQL answers when a client sends libpq's keepalive keys as run-time parameters.

pgx passes every DSN key it does not know (`keepalives_idle`, `tcp_user_timeout`...) to the server
in the StartupMessage. This test sends exactly such a StartupMessage over a raw unix socket to a
real PostgreSQL 15 started here (as a non-root user), and checks the answer rule APP010 quotes:
`FATAL: unrecognized configuration parameter "keepalives_idle"` (SQLSTATE 42704). psycopg's
`options='-c ...'` would be a different path (the `options` parameter), so it is not used.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

PG_BIN = "/usr/lib/postgresql/15/bin"


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@pytest.fixture(scope="module")
def pg_socket_dir():
    if not os.path.exists(os.path.join(PG_BIN, "postgres")):
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN}")
    user = None
    if os.geteuid() == 0:
        import pwd

        for candidate in ("pgpath", "nobody"):
            try:
                pwd.getpwnam(candidate)
                user = candidate
                break
            except KeyError:
                continue
        if user is None:
            pytest.skip("running as root and no non-root user (pgpath, nobody) to run PostgreSQL")
    base = tempfile.mkdtemp(prefix="pgpath-pgx-")
    os.chmod(base, 0o777)
    data, sock = os.path.join(base, "data"), os.path.join(base, "sock")
    os.mkdir(sock)
    os.chmod(sock, 0o777)
    if user:
        import pwd

        pw = pwd.getpwnam(user)
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chown(sock, pw.pw_uid, pw.pw_gid)
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(_as_user([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], user),
                   check=True, capture_output=True, env=env)
    proc = subprocess.Popen(
        _as_user([f"{PG_BIN}/postgres", "-D", data, "-k", sock, "-c", "listen_addresses=", "-p", "5432",
                  "-c", "fsync=off"], user),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    path = os.path.join(sock, ".s.PGSQL.5432")
    for _ in range(100):
        if os.path.exists(path):
            break
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    if not os.path.exists(path):
        proc.terminate()
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip("PostgreSQL did not start")
    time.sleep(0.3)
    yield path
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(base, ignore_errors=True)


def startup(path: str, params: dict[str, str]) -> list[tuple[str, dict[str, str] | bytes]]:
    """Send a protocol-3.0 StartupMessage and read messages until an error or ReadyForQuery."""
    body = struct.pack("!i", 196608)
    for k, v in params.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(struct.pack("!i", len(body) + 4) + body)
    buf = b""
    out: list = []
    try:
        while True:
            while len(buf) < 5:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                buf += chunk
            kind = chr(buf[0])
            length = struct.unpack("!i", buf[1:5])[0]
            while len(buf) < 1 + length:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                buf += chunk
            payload, buf = buf[5:1 + length], buf[1 + length:]
            if kind == "E":
                fields = {}
                for part in payload.split(b"\0"):
                    if part:
                        fields[chr(part[0])] = part[1:].decode()
                out.append((kind, fields))
                return out
            out.append((kind, payload))
            if kind == "Z":
                return out
    finally:
        s.close()


def test_valid_startup_reaches_ready_for_query(pg_socket_dir):
    msgs = startup(pg_socket_dir, {"user": "postgres", "database": "postgres", "application_name": "pgpath"})
    assert msgs[-1][0] == "Z", msgs


def test_server_keepalive_guc_as_startup_parameter_is_accepted(pg_socket_dir):
    # the server's own GUC is a valid run-time parameter (control for the next test)
    msgs = startup(pg_socket_dir, {"user": "postgres", "database": "postgres", "tcp_keepalives_idle": "30"})
    assert msgs[-1][0] == "Z", msgs


@pytest.mark.parametrize("key", ["keepalives_idle", "keepalives", "keepalives_interval", "keepalives_count"])
def test_libpq_keepalive_key_as_startup_parameter_is_fatal(pg_socket_dir, key):
    msgs = startup(pg_socket_dir, {"user": "postgres", "database": "postgres", key: "30"})
    kind, fields = msgs[-1]
    assert kind == "E", msgs
    assert fields["S"] == "FATAL"
    assert fields["C"] == "42704"
    assert fields["M"] == f'unrecognized configuration parameter "{key}"'


def test_tcp_user_timeout_is_a_server_guc_too(pg_socket_dir):
    # libpq's tcp_user_timeout has a server GUC of the same name (PG12+): pgx forwarding it does not fail
    msgs = startup(pg_socket_dir, {"user": "postgres", "database": "postgres", "tcp_user_timeout": "10000"})
    assert msgs[-1][0] == "Z", msgs


def test_rule_message_quotes_what_the_server_says(pg_socket_dir):
    """APP010's message carries the server's own text."""
    from advisor.rules.app import app010_pgx_libpq_keepalive_keys as app010

    msgs = startup(pg_socket_dir, {"user": "postgres", "database": "postgres", "keepalives_idle": "30"})
    server_text = msgs[-1][1]["M"]
    assert f"FATAL: {server_text}" in app010.RULE.doc.replace("`", "") or server_text in app010.RULE.doc
