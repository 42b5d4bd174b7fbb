"""What PostgreSQL answers when a client sends libpq's keepalive keys as run-time parameters.

pgx passes every DSN key it does not know (`keepalives_idle`, `tcp_user_timeout`...) to the server
in the StartupMessage. This test sends exactly such a StartupMessage over a raw unix socket to a
real PostgreSQL 15 started here (as a non-root user), and checks the answer rule APP010 quotes:
`FATAL: unrecognized configuration parameter "keepalives_idle"` (SQLSTATE 42704). psycopg's
`options='-c ...'` would be a different path (the `options` parameter), so it is not used.
"""

from __future__ import annotations

import socket
import struct

import pytest

from pg_server import running_postgres


@pytest.fixture(scope="module")
def pg_socket_dir():
    """The socket file of a PostgreSQL 15 listening on a unix socket only."""
    with running_postgres("pgpath-pgx-", []) as (_base, socket_file):
        yield socket_file


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


@pytest.mark.parametrize("key,value", [
    ("default_query_exec_mode", "exec"),           # pgx v5's, in a pgx v4 DSN (v4 sends it)
    ("pool_min_idle_conns", "2"),                   # pgxpool v5.7.3+'s
    ("statement_cache_mode", "describe"),           # pgx v4's, in a pgx v5 DSN
    ("prefer_simple_protocol", "true"),
])
def test_the_other_pgx_majors_key_as_startup_parameter_is_fatal(pg_socket_dir, key, value):
    """APP010's finding for pgx's own keys of the other major: the major that does not read one
    sends it (pgx v4.18.3 / pgconn v1.14.3 ParseConfig leave it in RuntimeParams), and the server
    refuses the connection with the text the finding quotes."""
    from advisor.loaders.clients.build import PGX_V4_ONLY, PGX_V5_ONLY

    assert key in PGX_V4_ONLY + PGX_V5_ONLY
    msgs = startup(pg_socket_dir, {"user": "postgres", "database": "postgres", key: value})
    kind, fields = msgs[-1]
    assert kind == "E" and fields["S"] == "FATAL" and fields["C"] == "42704", msgs
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
