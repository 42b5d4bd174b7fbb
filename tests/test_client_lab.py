"""The client rules' claims, checked against real libpq (psycopg) and a real PostgreSQL 15 with TLS.

- APP002 (lab S1/S3): client `ssl_max_protocol_version=TLSv1.2` against a server with
  `ssl_min_protocol_version=TLSv1.3` fails with `sslmode=require` and silently connects without
  TLS with `sslmode=prefer`; the rule says exactly that for the same two files.
- APP001: `sslmode=require` verifies the certificate once a root CA file is given (like
  verify-ca), and does not without one.
- APP009: libpq rejects `connect_timeout=5s` at connect time with the message the rule prints.

The server runs on 127.0.0.1 (free port) as a non-root user, with a throw-away self-signed
certificate, and is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pg_server import running_postgres

psycopg = pytest.importorskip("psycopg", reason="psycopg (test dependency) is needed to talk to real libpq")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _certificates(base: Path, user: str | None) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    for name, cn in (("server", "localhost"), ("other", "other-ca")):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(base / f"{name}.key"),
                        "-out", str(base / f"{name}.crt"), "-days", "2", "-subj", f"/CN={cn}"],
                       check=True, capture_output=True)
    os.chmod(base / "server.key", 0o600)
    if user:
        for p in (base / "server.key", base / "server.crt"):
            shutil.chown(p, user)


@pytest.fixture(scope="module")
def server():
    yield from _tls_server("TLSv1.3")


@pytest.fixture(scope="module")
def old_tls_server():
    """A server that still allows TLS 1.0 (ssl_min_protocol_version = TLSv1)."""
    yield from _tls_server("TLSv1")


def _tls_server(min_version: str):
    port = _free_port()
    options = ["-c", "listen_addresses=127.0.0.1", "-c", "ssl=on", "-c", f"ssl_min_protocol_version={min_version}"]

    def prepare(base, user):
        # the certificate paths exist only once the temp dir does: add them before the start
        _certificates(base, user)
        options.extend(["-c", f"ssl_cert_file={base / 'server.crt'}", "-c", f"ssl_key_file={base / 'server.key'}"])

    with running_postgres("pgpath-clientlab-", options, port=port, prepare=prepare) as (base, _socket_file):
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=5"
        for _ in range(100):
            try:
                psycopg.connect(dsn + " sslmode=require").close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        else:
            pytest.skip("PostgreSQL did not accept TLS connections")
        yield {"dsn": dsn, "base": base, "port": port}


def _ssl_in_use(conn) -> bool:
    return conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]


def _app002(tmp_path: Path, client_params: str) -> list:
    from advisor.engine import make_settings, run

    (tmp_path / "postgresql.conf").write_text("ssl = on\nssl_min_protocol_version = 'TLSv1.3'\n")
    (tmp_path / "app.env").write_text(f"DATABASE_URL=postgresql://postgres@db.internal/postgres?{client_params}\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["APP002"]}, use_config=False))
    return report.findings


def test_s1_require_with_empty_range_fails_and_the_rule_says_so(server, tmp_path):
    with pytest.raises(psycopg.OperationalError) as err:
        psycopg.connect(server["dsn"] + " sslmode=require ssl_max_protocol_version=TLSv1.2")
    assert "protocol version" in str(err.value)
    (finding,) = _app002(tmp_path, "sslmode=require&ssl_max_protocol_version=TLSv1.2")
    assert "the connection fails" in finding.message and "tlsv1 alert protocol version" in finding.message
    assert str(finding.severity) == "error"  # certainly fails


def test_s3_prefer_with_empty_range_connects_without_tls_and_the_rule_says_so(server, tmp_path):
    with psycopg.connect(server["dsn"] + " sslmode=prefer ssl_max_protocol_version=TLSv1.2") as conn:
        assert _ssl_in_use(conn) is False
    (finding,) = _app002(tmp_path, "sslmode=prefer&ssl_max_protocol_version=TLSv1.2")
    assert "WITHOUT TLS" in finding.message
    assert str(finding.severity) == "info"  # the connection works (in plaintext): an exposure, not a failure


def test_ranges_meeting_only_below_tls12_fail_on_openssl3_and_the_rule_says_so(old_tls_server, tmp_path):
    """connection-timeouts.md §0 item 5: TLS 1.0/1.1 are unusable with OpenSSL 3 at its default
    security level, though both ranges allow them."""
    import ssl

    if ssl.OPENSSL_VERSION_INFO < (3, 0):
        pytest.skip(f"{ssl.OPENSSL_VERSION}: TLS 1.0/1.1 still work before OpenSSL 3.0")
    params = "sslmode=require ssl_min_protocol_version=TLSv1 ssl_max_protocol_version=TLSv1.1"
    with pytest.raises(psycopg.OperationalError) as err:
        psycopg.connect(old_tls_server["dsn"] + " " + params)
    # the server refuses (OpenSSL 3.0/3.1 clients), or the client's own OpenSSL does (3.2 and later)
    assert "alert internal error" in str(err.value) or "no protocols available" in str(err.value)
    (tmp_path / "postgresql.conf").write_text("ssl = on\nssl_min_protocol_version = 'TLSv1'\n")
    (tmp_path / "app.env").write_text("DATABASE_URL=postgresql://postgres@db.internal/postgres?"
                                      + params.replace(" ", "&") + "\n")
    from advisor.engine import make_settings, run

    report = run(make_settings({"paths": [str(tmp_path)], "select": ["APP002"]}, use_config=False))
    (finding,) = report.findings
    assert str(finding.severity) == "warning" and "tlsv1 alert internal error" in finding.message
    assert "no protocols available" in finding.message and "the client's ssl_max_protocol_version" in finding.fix
    assert "TLSv1..TLSv1.1" in finding.message


def test_s2_overlapping_range_uses_tls_and_the_rule_is_silent(server, tmp_path):
    with psycopg.connect(server["dsn"] + " sslmode=require") as conn:
        assert _ssl_in_use(conn) is True
    assert _app002(tmp_path, "sslmode=require") == []


def test_require_verifies_only_with_a_root_ca(server):
    # no root CA: the self-signed certificate is accepted (APP001 warns: not verified)
    with psycopg.connect(server["dsn"] + " sslmode=require sslrootcert=/nonexistent/root.crt") as conn:
        assert _ssl_in_use(conn) is True
    # a root CA file that did not sign the server certificate: require now verifies, like verify-ca
    with pytest.raises(psycopg.OperationalError) as err:
        psycopg.connect(server["dsn"] + f" sslmode=require sslrootcert={server['base'] / 'other.crt'}")
    assert "certificate verify failed" in str(err.value)


def test_connect_timeout_with_a_unit_is_rejected_with_the_rules_message(server, tmp_path):
    # straight to libpq's PQconnectdb (psycopg.connect checks connect_timeout itself first)
    from psycopg import pq

    conn = pq.PGconn.connect(
        (server["dsn"].replace("connect_timeout=5", "connect_timeout=5s") + " sslmode=require").encode())
    try:
        assert conn.status == pq.ConnStatus.BAD
        libpq_message = conn.error_message.decode()
    finally:
        conn.finish()
    from advisor.loaders.client import load

    (tmp_path / "x.env").write_text("DATABASE_URL=postgresql://h/db?connect_timeout=5s\n")
    (diag,) = [d for d in load(str(tmp_path / "x.env")).diagnostics if d.kind == "client-invalid-value"]
    assert diag.message in libpq_message


@pytest.mark.parametrize("param,option", [("keepalives_idle=0", "TCP_KEEPIDLE"), ("keepalives_interval=0", "TCP_KEEPINTVL"),
                                          ("keepalives_count=-1", "TCP_KEEPCNT")])
def test_zero_keepalive_timer_fails_in_libpq_and_in_the_model(tmp_path, param, option):
    """libpq's keepalives_* = 0 is not "OS default" (as the server's tcp_keepalives_* = 0 is): libpq
    passes it to setsockopt and Linux refuses it. No server needed: the option is set before connect."""
    from psycopg import pq

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        conn = pq.PGconn.connect(f"host=127.0.0.1 port={listener.getsockname()[1]} connect_timeout=2 {param}".encode())
        message = conn.error_message.decode()
        conn.finish()
    finally:
        listener.close()
    assert f"setsockopt({option}) failed: Invalid argument" in message
    from advisor.loaders.client import load

    (tmp_path / "pg_service.conf").write_text(f"[s]\nhost=db\n{param}\n")
    (diag,) = [d for d in load(str(tmp_path / "pg_service.conf")).diagnostics if d.kind == "client-invalid-value"]
    assert f"setsockopt({option}) failed: Invalid argument" in diag.message
