"""Certificates and keys in the tree (generated here with cryptography), and libpq's checks."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

import certgen as g
from advisor.engine import make_settings, run
from advisor.loaders import detect_kind
from advisor.loaders.cert_file import load
from advisor.model.certs import CertFile, covers, signs, verify_server
from advisor.reporters import render


def _file(tmp_path, name, *objs):
    p = tmp_path / name
    p.write_text("".join(g.pem(o) for o in objs))
    return p


def test_loader_reads_certs_and_keys_without_keeping_key_material(tmp_path):
    ca, ca_key = g.cert("Test CA", ca=True)
    leaf, leaf_key = g.cert("db.internal", ca, ca_key, names=("db.internal", "10.0.0.5"))
    p = _file(tmp_path, "bundle.pem", leaf, ca, leaf_key)
    assert detect_kind(str(p), p.read_text()) == "certificate"
    doc = load(str(p))
    first, second = doc.model.certs
    assert (first.common_name, first.dns_names, first.ip_addresses, first.is_ca) == ("db.internal", ["db.internal"],
                                                                                     ["10.0.0.5"], False)
    assert second.is_ca is True and second.self_signed and not first.self_signed
    [k] = doc.model.keys
    assert k.key_id == first.key_id and k.span.line > first.span.line
    dumped = json.dumps(doc.to_dict())
    secret = g.pem(leaf_key).split("\n")[1]
    assert secret not in dumped and secret not in repr(doc)


def test_signs_covers_and_verify_server():
    ca, ca_key = g.cert("CA", ca=True)
    inter, inter_key = g.cert("Intermediate", ca, ca_key, ca=True)
    leaf, _ = g.cert("db", inter, inter_key, names=("*.db.internal",))
    other, _ = g.cert("Other CA", ca=True)

    def info(cert):
        from advisor.loaders.cert_file import _certificate
        from advisor.model import ConfigDoc, Span

        return _certificate(ConfigDoc("x", "certificate"), g.pem(cert).encode(), Span("x", 1, 1))

    ca_i, inter_i, leaf_i, other_i = map(info, (ca, inter, leaf, other))
    assert signs(inter_i, leaf_i) and not signs(ca_i, leaf_i) and signs(ca_i, inter_i)
    assert covers(leaf_i, "primary.db.internal") and not covers(leaf_i, "a.b.db.internal")
    assert not covers(leaf_i, "db.internal")
    server = CertFile("s", [leaf_i, inter_i])
    assert verify_server(server, CertFile("r", [ca_i]), "primary.db.internal", "verify-full") == []
    assert verify_server(server, CertFile("r", [ca_i]), "10.0.0.9", "verify-ca") == []
    assert len(verify_server(server, CertFile("r", [ca_i]), "10.0.0.9", "verify-full")) == 1
    assert "not signed" in verify_server(server, CertFile("r", [other_i]), None, "verify-ca")[0]
    # an intermediate missing from the server's file: the root cannot reach the leaf
    assert verify_server(CertFile("s", [leaf_i]), CertFile("r", [ca_i]), None, "verify-ca")


def test_expiry_uses_the_injected_clock_and_warn_days(tmp_path):
    cert, _ = g.cert("db", not_after=datetime(2026, 3, 1, tzinfo=timezone.utc))
    _file(tmp_path, "server.crt", cert)
    def codes(now, days=None):
        cli = {"paths": [str(tmp_path)], "select": ["TLS010"], "now": now}
        if days is not None:
            cli["cert_warn_days"] = days
        return [(f.code, str(f.severity)) for f in run(make_settings(cli, use_config=False)).findings]
    assert codes("2026-01-01T00:00:00+00:00") == []
    assert codes("2026-02-15T00:00:00+00:00") == [("TLS010", "warning")]
    assert codes("2026-01-01T00:00:00+00:00", 90) == [("TLS010", "warning")]
    assert codes("2026-03-02T00:00:00+00:00") == [("TLS010", "warning")]  # expired, nobody verifies


def test_cryptography_only_when_a_certificate_is_read(tmp_path):
    import subprocess

    (tmp_path / "postgresql.conf").write_text("ssl = on\n")
    code = ("import sys; from advisor.engine import make_settings, run; "
            f"run(make_settings({{'paths': [{str(tmp_path)!r}]}}, use_config=False)); "
            "print(any(m.startswith('cryptography') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    cert, _ = g.cert("db")
    _file(tmp_path, "server.crt", cert)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


def test_key_never_in_any_output(tmp_path):
    leaf, leaf_key = g.cert("db")
    _, stray = g.cert("x")
    (tmp_path / "postgresql.conf").write_text("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
    _file(tmp_path, "server.crt", leaf)
    _file(tmp_path, "server.key", stray)
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert any(f.code == "TLS011" for f in report.findings)
    body = "".join(g.pem(stray).split("\n")[1:-2])
    for fmt in ("text", "json"):
        out = render(report, fmt)
        assert body[:40] not in out and "PRIVATE KEY-----\nM" not in out


def test_haproxy_crt_and_expiry_by_path(tmp_path):
    """HAProxy's `bind ... crt` names a certificate; an expired server certificate is an error when
    a verifying client meets it on its path, a warning when the verifying client is elsewhere."""
    from advisor.rules import Context
    from advisor.rules.tls.certs import references

    cert, _ = g.cert("db", not_after=datetime(2026, 3, 1, tzinfo=timezone.utc))
    _file(tmp_path, "pg.pem", cert)
    (tmp_path / "haproxy.cfg").write_text("frontend f\n    bind :5433 ssl crt pg.pem\n    default_backend b\n"
                                          "backend b\n    server s 10.0.0.1:5432\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["TLS010"]}, use_config=False))
    [ref] = [r for r in references(Context(docs=report.docs)) if r.doc.kind == "haproxy"]
    assert ref.name == "crt" and ref.cert_doc is not None and (ref.span.line, ref.span.col) == (2, 24)

    db = tmp_path / "db"
    db.mkdir()
    _file(db, "server.crt", cert)
    (db / "postgresql.conf").write_text("listen_addresses = '*'\nssl = on\nssl_cert_file = 'server.crt'\n")
    (db / ".env").write_text("DATABASE_URL=postgresql://app@db.internal:5432/app?sslmode=verify-full\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / ".env").write_text("DATABASE_URL=postgresql://app@db.internal:5432/app?sslmode=verify-full\n")

    def severity(folder):
        cli = {"paths": [str(folder)], "select": ["TLS010"], "now": "2026-03-02T00:00:00+00:00"}
        return {str(f.severity) for f in run(make_settings(cli, use_config=False)).findings
                if f.span.file.endswith("server.crt")}
    assert severity(db) == {"error"}  # the verifying client on its path meets the expired certificate
    (db / ".env").unlink()
    assert severity(tmp_path) == {"warning"}  # a verifying client in a folder of its own: not on its path
