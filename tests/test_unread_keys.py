"""Private keys named beside a certificate that is in the checked files, but absent from them
(scenario audit 12, D8): PostgreSQL (ssl = on) and PgBouncer's client side refuse to start
without them, PgBouncer's server side fails every TLS login to PostgreSQL. Keys are commonly
kept out of repositories (a gitignored *.key beside a committed *.crt), so the absence is a
"not read" notice in every output, not a finding: it does not change the exit code."""

from __future__ import annotations

import json

from advisor.engine import make_settings, run
from advisor.reporters import notices, render
from certgen import cert, pem


def _tree(tmp_path, conf_name: str, conf: str, key: bool = False):
    server, server_key = cert("db.internal", names=("db.internal",))
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "server.crt").write_text(pem(server))
    if key:
        (tmp_path / "tls" / "server.key").write_text(pem(server_key))
    (tmp_path / conf_name).write_text(conf)


def _check(tmp_path):
    return run(make_settings({"paths": [str(tmp_path)]}, use_config=False))


def test_postgresql_key_missing_beside_its_certificate(tmp_path):
    _tree(tmp_path, "postgresql.conf", "ssl = on\nssl_cert_file = 'tls/server.crt'\nssl_key_file = 'tls/server.key'\n")
    report = _check(tmp_path)
    [(span, message)] = notices(report)
    assert span.file.endswith("postgresql.conf") and (span.line, span.col) == (3, 16)  # the key's value
    assert "tls/server.key" in message and "tls/server.crt" in message
    assert "PostgreSQL does not start where it is missing" in message and "could not access private key file" in message
    assert report.findings == []  # a notice, not a finding: the exit code stays 0
    text = render(report, "text")
    assert "note, not read: ssl_key_file 'tls/server.key'" in text
    assert "1 private key not in the checked files" in text and "1 file not read" not in text
    assert [n["message"] for n in json.loads(render(report, "json"))["notices"]] == [message]


def test_no_notice_when_the_key_is_there_or_tls_is_off_or_the_certificate_is_not_in_the_tree(tmp_path):
    for folder in ("present", "off", "elsewhere"):
        (tmp_path / folder).mkdir()
    _tree(tmp_path / "present", "postgresql.conf",
          "ssl = on\nssl_cert_file = 'tls/server.crt'\nssl_key_file = 'tls/server.key'\n", key=True)
    _tree(tmp_path / "off", "postgresql.conf", "ssl = off\nssl_cert_file = 'tls/server.crt'\n"
                                               "ssl_key_file = 'tls/server.key'\n")
    (tmp_path / "elsewhere" / "postgresql.conf").write_text(
        "ssl = on\nssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'\n"
        "ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'\n")
    for folder in ("present", "off", "elsewhere"):
        assert notices(_check(tmp_path / folder)) == [], folder


def test_pgbouncer_keys_missing_on_both_sides(tmp_path):
    _tree(tmp_path, "pgbouncer.ini",
          "[databases]\napp = host=db.internal dbname=app\n\n[pgbouncer]\nlisten_addr = *\nauth_type = scram-sha-256\n"
          "client_tls_sslmode = require\nclient_tls_cert_file = tls/server.crt\nclient_tls_key_file = tls/server.key\n"
          "server_tls_sslmode = require\nserver_tls_cert_file = tls/server.crt\n"
          "server_tls_key_file = tls/client.key\n")
    report = _check(tmp_path)
    found = {span.line: message for span, message in notices(report)}
    assert sorted(found) == [9, 12]
    assert "client_tls_key_file tls/server.key" in found[9] and "PgBouncer does not start where it is missing" in found[9]
    assert "server_tls_key_file tls/client.key" in found[12] and "starts" in found[12]
    assert "every TLS login to PostgreSQL fails" in found[12]
    assert not [f for f in report.findings if str(f.severity) == "error"]


def test_pgbouncer_client_key_unused_when_client_tls_is_off(tmp_path):
    _tree(tmp_path, "pgbouncer.ini", "[databases]\napp = host=db.internal dbname=app\n\n[pgbouncer]\n"
                                     "client_tls_sslmode = disable\nclient_tls_cert_file = tls/server.crt\n"
                                     "client_tls_key_file = tls/server.key\n")
    assert notices(_check(tmp_path)) == []
