"""TLS versions on both sides of a real PgBouncer (1.18, OpenSSL 3) in front of a real PostgreSQL 15
with `ssl_min_protocol_version = 'TLSv1.3'`, and APP002 on the very files they run with.

- client leg: a libpq client asking for TLSv1.3 only, against `client_tls_protocols = tlsv1.2`,
  fails (`tlsv1 alert protocol version`); with `sslmode=prefer` or `allow` against a PgBouncer
  that requires TLS it fails too (`SSL required` after the failed handshake), and against
  `client_tls_sslmode = prefer` it connects in plaintext. APP002: error, error, info.
- server leg: `server_tls_protocols = tlsv1.2` against the server's TLSv1.3 minimum fails every
  server login even with `server_tls_sslmode = prefer` (no plaintext retry): PgBouncer logs `TLS
  handshake error`, the client gets `query_wait_timeout`. APP002: error; with `secure`, silent.
- the words PgBouncer takes: it starts exactly with the values pgpath's parser accepts, and allows
  exactly the TLS 1.2/1.3 versions the parser says.
- PGB017's exception: with its certificate and `client_tls_sslmode = prefer` (or `allow`) PgBouncer
  gives TLS to a libpq client at its default sslmode and logs it in with md5; without the
  certificate it does not start. PGB017 is silent on that file, and reports it with `plain`.

Each PgBouncer runs on 127.0.0.1 as the non-root run user and is stopped (by its pid) at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import pgbouncer_harness as harness
import scenarios as sc
from certgen import cert, pem
from pg_server import running_postgres

pytestmark = [pytest.mark.lab, pytest.mark.server]
psycopg = pytest.importorskip("psycopg", reason="psycopg (test dependency) talks to real libpq")


@pytest.fixture(scope="module")
def lab():
    if harness.binary() is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    ca, ca_key = cert("pgpath lab CA", ca=True)
    # the server's certificate names localhost only (not 127.0.0.1): PgBouncer's verify-full name check
    server, server_key = cert("localhost", issuer=ca, issuer_key=ca_key, names=("localhost",))
    port = harness.free_port()
    options = ["-c", "listen_addresses=localhost", "-c", "ssl=on", "-c", "ssl_min_protocol_version=TLSv1.3"]

    def prepare(base, user):
        for name, obj in (("server.crt", server), ("server.key", server_key)):
            (base / name).write_text(pem(obj))
            os.chmod(base / name, 0o600)
            if user:
                shutil.chown(base / name, user)
        options.extend(["-c", f"ssl_cert_file={base / 'server.crt'}", "-c", f"ssl_key_file={base / 'server.key'}"])

    with running_postgres("pgpath-tlslab-", options, port=port, prepare=prepare), harness.workspace() as ws:
        for name, obj in (("pgbouncer.crt", server), ("pgbouncer.key", server_key), ("ca.crt", ca),
                          ("server.crt", server)):
            Path(ws, name).write_text(pem(obj))
            os.chmod(Path(ws, name), 0o644)  # read by the run user; a throw-away test key
        Path(ws, "userlist.txt").write_text('"postgres" ""\n')
        os.chmod(Path(ws, "userlist.txt"), 0o644)
        yield {"pg_port": port, "ws": ws}


def _ini(lab, port, tls: str) -> str:
    ws = lab["ws"]
    return (f"[databases]\npostgres = host=127.0.0.1 port={lab['pg_port']} dbname=postgres\n\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\n"
            f"auth_file = {ws}/userlist.txt\npool_mode = session\nclient_tls_key_file = {ws}/pgbouncer.key\n"
            f"client_tls_cert_file = {ws}/pgbouncer.crt\n{tls}")


@contextlib.contextmanager
def pgbouncer(lab, tls: str, host: str = "127.0.0.1"):
    """A PgBouncer with these TLS lines: yields (port, ini text, its log so far as a callable),
    or port None when it refused to start."""
    port = harness.free_port()
    folder = Path(tempfile.mkdtemp(prefix=f"b{port}-", dir=lab["ws"]))  # (a port can come round again)
    os.chmod(folder, 0o777)
    text = _ini(lab, port, tls).replace("host=127.0.0.1", f"host={host}") + f"logfile = {folder}/pgbouncer.log\n"
    (folder / "pgbouncer.ini").write_text(text)
    os.chmod(folder / "pgbouncer.ini", 0o644)
    proc = subprocess.Popen(harness.run_as() + [harness.binary(), str(folder / "pgbouncer.ini")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=lab["ws"])  # relative file names: the workspace's

    def log() -> str:
        try:
            return (folder / "pgbouncer.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None and "process up" not in log():
            time.sleep(0.05)
        yield (port if proc.poll() is None and "process up" in log() else None), text, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def _connect(port, params: str):
    return psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=10 {params}")


def _app002(tmp_path: Path, lab, port, ini: str, client: str) -> list:
    """APP002 on the files the daemons run with: the ini, a postgresql.conf with the server's TLS
    lines and port, and a .env with the client's URL."""
    from advisor.engine import make_settings, run

    (tmp_path / "pgbouncer.ini").write_text(ini)
    (tmp_path / "postgresql.conf").write_text(f"port = {lab['pg_port']}\nssl = on\n"
                                              "ssl_min_protocol_version = 'TLSv1.3'\n")
    (tmp_path / ".env").write_text(f"DATABASE_URL=postgresql://postgres@127.0.0.1:{port}/postgres?{client}\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["APP002"], "pgbouncer_version": "1.18"},
                               use_config=False))
    assert report.paths, "the client, PgBouncer and server are one path"
    return report.findings


def test_client_leg_versions_apart_fail_and_the_rule_says_so(lab, tmp_path):
    with pgbouncer(lab, "client_tls_sslmode = require\nclient_tls_protocols = tlsv1.2\n"
                        "server_tls_sslmode = disable\n") as (port, ini, _log):
        assert port is not None
        with pytest.raises(psycopg.OperationalError) as err:
            _connect(port, "sslmode=require ssl_min_protocol_version=TLSv1.3")
        assert "tlsv1 alert protocol version" in str(err.value)
        with _connect(port, "sslmode=require"):
            pass  # TLSv1.2 meets it
        (finding,) = _app002(tmp_path, lab, port, ini, "sslmode=require&ssl_min_protocol_version=TLSv1.3")
        assert str(finding.severity) == "error" and "tlsv1 alert protocol version" in finding.message
        assert finding.span.file.endswith(".env") and "client_tls_protocols = secure" in finding.fix
        assert _app002(tmp_path, lab, port, ini, "sslmode=require") == []


@pytest.mark.parametrize("mode", ["prefer", "allow"])
def test_plaintext_fallback_refused_by_a_pgbouncer_that_requires_tls(lab, tmp_path, mode):
    with pgbouncer(lab, "client_tls_sslmode = require\nclient_tls_protocols = tlsv1.3\n"
                        "server_tls_sslmode = disable\n") as (port, ini, _log):
        params = f"sslmode={mode} ssl_max_protocol_version=TLSv1.2"
        with pytest.raises(psycopg.OperationalError) as err:
            _connect(port, params)
        assert "SSL required" in str(err.value) and "tlsv1 alert protocol version" in str(err.value)
        (finding,) = _app002(tmp_path, lab, port, ini, params.replace(" ", "&"))
        assert str(finding.severity) == "error" and "SSL required" in finding.message


def test_plaintext_fallback_accepted_by_a_pgbouncer_that_prefers_tls(lab, tmp_path):
    with pgbouncer(lab, "client_tls_sslmode = prefer\nclient_tls_protocols = tlsv1.3\n"
                        "server_tls_sslmode = disable\n") as (port, ini, log):
        with _connect(port, "sslmode=prefer ssl_max_protocol_version=TLSv1.2"):
            pass
        assert "tls=TLS" not in log()  # PgBouncer logs the TLS version of a TLS login
        (finding,) = _app002(tmp_path, lab, port, ini, "sslmode=prefer&ssl_max_protocol_version=TLSv1.2")
        assert str(finding.severity) == "info" and "WITHOUT TLS" in finding.message


def test_server_leg_versions_apart_fail_every_login_even_with_prefer(lab, tmp_path):
    with pgbouncer(lab, "client_tls_sslmode = require\nserver_tls_sslmode = prefer\nserver_tls_protocols = tlsv1.2\n"
                        "query_wait_timeout = 2\n") as (port, ini, log):
        with pytest.raises(psycopg.OperationalError) as err:
            _connect(port, "sslmode=require")
        assert "query_wait_timeout" in str(err.value)
        assert "TLS handshake error" in log() and "alert protocol version" in log()
        (finding,) = _app002(tmp_path, lab, port, ini, "sslmode=require")
        assert str(finding.severity) == "error" and finding.span.file.endswith("pgbouncer.ini")
        assert "does not fall back to plaintext" in finding.message and "query_wait_timeout = 2 s" in finding.message
        assert "server_tls_protocols = secure" in finding.fix
    with pgbouncer(lab, "client_tls_sslmode = require\nserver_tls_sslmode = prefer\nserver_tls_protocols = secure\n"
                        "query_wait_timeout = 2\n") as (port, ini, _log):
        with _connect(port, "sslmode=require") as conn:
            # the server leg (PgBouncer -> PostgreSQL) runs TLS 1.3
            assert conn.execute("SELECT ssl, version = 'TLSv1.3' FROM pg_stat_ssl "
                                "WHERE pid = pg_backend_pid()").fetchone() == (True, True)
        assert _app002(tmp_path, lab, port, ini, "sslmode=require") == []


@pytest.mark.parametrize("value", ["tlsv1.2", "tlsv1.3", "secure", "all", "tlsv1", "!tlsv1.3", "tlsv1.2:tlsv1.3",
                                   "legacy", "tlsv1.2 ,tlsv1.3", "tlsv1.2 tlsv1.3", "tls1.2"])
def test_protocol_words_as_pgbouncer_reads_them(lab, value):
    """PgBouncer starts with exactly the values the parser accepts, and its client side takes
    exactly the TLS 1.2 / 1.3 versions the parser says (1.0 and 1.1: OpenSSL 3 refuses them anyway)."""
    from advisor.model.pgbouncer import tls_protocol_versions

    version = tuple(int(x) for x in harness.version(harness.binary()).split("."))
    expected = tls_protocol_versions(value, version)
    with pgbouncer(lab, f"client_tls_sslmode = require\nclient_tls_protocols = {value}\n"
                        "server_tls_sslmode = disable\n") as (port, _ini, log):
        assert (port is not None) == (expected is not None), log()
        if port is None:
            assert "invalid client_tls_protocols" in log()
            return
        for rank, name in ((2, "TLSv1.2"), (3, "TLSv1.3")):
            try:
                _connect(port, f"sslmode=require ssl_min_protocol_version={name} ssl_max_protocol_version={name}").close()
                took = True
            except psycopg.OperationalError:
                took = False
            assert took == (rank in expected), (value, name)


@pytest.mark.parametrize("host, fails", [("127.0.0.1", True), ("localhost", False)])
def test_pgbouncer_verify_full_checks_the_entry_host_and_the_rule_says_so(lab, tmp_path, host, fails):
    """server_tls_sslmode = verify-full checks the server certificate's names against the host of
    the [databases] entry (the certificate names localhost only); TLS012 on the same files."""
    from advisor.engine import make_settings, run

    tls = "client_tls_sslmode = require\nserver_tls_sslmode = verify-full\nserver_tls_ca_file = ca.crt\n" \
          "query_wait_timeout = 2\n"
    with pgbouncer(lab, tls, host=host) as (port, ini, log):
        if fails:
            with pytest.raises(psycopg.OperationalError) as err:
                _connect(port, "sslmode=require")
            assert "query_wait_timeout" in str(err.value) and "TLS handshake error" in log()
        else:
            with _connect(port, "sslmode=require"):
                pass
        for name in ("ca.crt", "server.crt"):
            shutil.copy(Path(lab["ws"], name), tmp_path / name)
        (tmp_path / "pgbouncer.ini").write_text(ini)
        (tmp_path / "postgresql.conf").write_text(f"port = {lab['pg_port']}\nssl = on\nssl_cert_file = 'server.crt'\n"
                                                  "ssl_min_protocol_version = 'TLSv1.3'\n")
        report = run(make_settings({"paths": [str(tmp_path)], "select": ["TLS012"], "pgbouncer_version": "1.18"},
                                   use_config=False))
        assert report.paths, "PgBouncer and the server are one path"
        if fails:
            (finding,) = report.findings
            assert str(finding.severity) == "error" and "not 127.0.0.1" in finding.message
            assert "server login of PgBouncer fails" in finding.message
        else:
            assert report.findings == []


def _pgb017(tmp_path: Path, ini: str) -> list:
    """PGB017 on the ini PgBouncer ran with, listening on every interface as a deployed one does."""
    from advisor.engine import make_settings, run

    (tmp_path / "pgbouncer.ini").write_text(ini.replace("listen_addr = 127.0.0.1", "listen_addr = *"))
    report = run(make_settings({"paths": [str(tmp_path / "pgbouncer.ini")], "select": ["PGB017"],
                                "pgbouncer_version": "1.18"}, use_config=False))
    return report.findings


@pytest.mark.parametrize("mode", ["prefer", "allow"])
def test_prefer_with_a_certificate_gives_tls_to_every_client_that_asks_and_md5_sends_no_password(lab, tmp_path, mode):
    """Corpus audit 12, finding 8 (CloudNativePG's default Pooler: prefer, md5): PgBouncer 1.18
    with its certificate and `client_tls_sslmode = prefer` (or `allow`, which it documents as the
    same) gives TLS to a libpq client at its default sslmode (prefer), and logs it in with md5,
    a challenge-response; only a client that turns TLS off logs in without it. PGB017 does not
    report that file; with `auth_type = plain` (the password in clear text) it does."""
    users = Path(lab["ws"], f"md5-users-{mode}.txt")
    users.write_text('"postgres" "lab-secret"\n')
    os.chmod(users, 0o644)
    with pgbouncer(lab, f"client_tls_sslmode = {mode}\nserver_tls_sslmode = disable\nauth_type = md5\n"
                        f"auth_file = {users}\n") as (port, ini, log):
        assert port is not None, log()
        with _connect(port, "password=lab-secret") as conn:  # libpq's default sslmode: prefer
            assert conn.pgconn.ssl_in_use
        with _connect(port, "password=lab-secret sslmode=disable") as conn:
            assert not conn.pgconn.ssl_in_use  # the client's own choice (APP001 reports it there)
        with pytest.raises(psycopg.OperationalError):
            _connect(port, "password=wrong")
        assert _pgb017(tmp_path, ini) == []
        findings = _pgb017(tmp_path, ini.replace("auth_type = md5", "auth_type = plain"))
        assert [f.code for f in findings] == ["PGB017"] and "clear text" in findings[0].message


def test_prefer_without_a_certificate_does_not_start(lab):
    """What "PgBouncer has a certificate" rests on: allow/prefer without client_tls_key_file and
    client_tls_cert_file is refused at start (`TLS setup failed`), so a prefer that runs offers TLS."""
    with pgbouncer(lab, "client_tls_sslmode = prefer\nclient_tls_key_file =\nclient_tls_cert_file =\n") as (port, _, log):
        assert port is None and "client_tls_key_file and client_tls_cert_file must be set" in log()


def _path004(tmp_path: Path, lab, port, ini: str, client: str) -> list:
    """PATH004 on the files the daemons run with (as `_app002`)."""
    from advisor.engine import make_settings, run

    (tmp_path / "pgbouncer.ini").write_text(ini)
    (tmp_path / "postgresql.conf").write_text(f"port = {lab['pg_port']}\nssl = on\n")
    (tmp_path / ".env").write_text(f"DATABASE_URL=postgresql://postgres@127.0.0.1:{port}/postgres?{client}\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PATH004"], "pgbouncer_version": "1.18"},
                               use_config=False))
    assert report.paths, "the client, PgBouncer and server are one path"
    return report.findings


def test_a_client_that_never_uses_tls_is_refused_by_a_pgbouncer_that_requires_it(lab, tmp_path):
    """`sslmode=disable` against `client_tls_sslmode = require`: PgBouncer answers `SSL required` and
    no connection is made; `allow` tries without TLS, is refused, and connects with TLS. PATH004
    predicts the first (error, at the client's sslmode) and says nothing of the second."""
    with pgbouncer(lab, "client_tls_sslmode = require\nserver_tls_sslmode = disable\n") as (port, ini, _log):
        assert port is not None
        with pytest.raises(psycopg.OperationalError) as err:
            _connect(port, "sslmode=disable")
        assert "SSL required" in str(err.value)
        with _connect(port, "sslmode=allow") as conn:
            assert conn.pgconn.ssl_in_use
        (finding,) = _path004(tmp_path, lab, port, ini, "sslmode=disable")
        allow = _path004(tmp_path, lab, port, ini, "sslmode=allow")
        sc.RULE_ROWS["TLS1"] = ("PATH004", "libpq sslmode=disable / allow -> PgBouncer client_tls_sslmode = require",
                                f"disable: PATH004 {finding.severity}; allow: {'no finding' if not allow else allow}",
                                f"disable: {str(err.value).strip().splitlines()[0][-40:]}; allow: connected with TLS",
                                str(finding.severity) == "error" and not allow)
        assert str(finding.severity) == "error" and "FATAL: SSL required" in finding.message
        assert finding.span.file.endswith(".env") and "client_tls_sslmode = require" in finding.message
        assert allow == []


@pytest.mark.parametrize("mode, connects", [("require", True), ("verify-ca", False)])
def test_a_ca_file_under_require_is_never_used_and_the_rule_says_so(lab, tmp_path, mode, connects):
    """server_tls_sslmode = require with a server_tls_ca_file of a CA that did not sign the server's
    certificate: PgBouncer logs in all the same (it checks the certificate only from verify-ca:
    src/sbuf.c tls_setup sets noverifycert below it); with verify-ca the same file fails the TLS
    handshake. PGB018 reports the first (the CA file is written, nothing verifies) and not the second."""
    from advisor.engine import make_settings, run

    other, _ = cert("another CA", ca=True)
    Path(lab["ws"], "other-ca.crt").write_text(pem(other))
    os.chmod(Path(lab["ws"], "other-ca.crt"), 0o644)
    tls = (f"client_tls_sslmode = require\nserver_tls_sslmode = {mode}\nserver_tls_ca_file = other-ca.crt\n"
           "query_wait_timeout = 2\n")
    with pgbouncer(lab, tls, host="localhost") as (port, ini, log):
        if connects:
            with _connect(port, "sslmode=require") as conn:
                assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
        else:
            with pytest.raises(psycopg.OperationalError) as err:
                _connect(port, "sslmode=require")
            assert "query_wait_timeout" in str(err.value) and "TLS handshake error" in log()
    # the same ini as deployed, its server on the network (a loopback server is not judged)
    (tmp_path / "pgbouncer.ini").write_text(ini.replace("host=localhost", "host=db.internal.example"))
    report = run(make_settings({"paths": [str(tmp_path / "pgbouncer.ini")], "select": ["PGB018"],
                                "pgbouncer_version": "1.18"}, use_config=False))
    if connects:
        (finding,) = report.findings
        assert "CA file is never used" in finding.message and finding.fix.startswith("server_tls_sslmode = verify-full")
    else:
        assert report.findings == []
