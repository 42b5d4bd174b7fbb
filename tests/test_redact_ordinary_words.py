"""Masking a secret never rewrites ordinary words, and never reveals the secret (scenarios14 D1).

The redactor replaces a secret value the loaders read wherever a message quotes it. A password
that is also an ordinary word of the inputs (a database, a user, a HAProxy `listen` name, an image
name, a hop kind) or a development password (`postgres`, or the user name) was masked inside
every word that held it: `listen ***_pg`, image `***:16.4`, hop kind `***`, the production JDBC
URL's database `***`. That destroyed the output and, compared with the input, revealed the
password. The two repros of the audit (/work/audit5/s04-spring-hikari-haproxy-profiles and
s10-min-dev-compose-cross-pairing) are the fixtures here, each with a real password added in a
secret position that must never be printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.reporters import FORMATS

ROOT = Path(__file__).resolve().parent.parent

S04 = {
    "db/postgresql.conf": ("listen_addresses = '*'\nmax_connections = 400\nshared_buffers = 8GB\nwork_mem = 8MB\n"
                           "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                           "statement_timeout = '10min'\n"),
    "haproxy/haproxy.cfg": (
        "global\n    maxconn 100\n    log stdout format raw local0\n\n"
        "defaults\n    mode tcp\n    log global\n    option tcpka\n    timeout connect 5s\n"
        "    timeout client 5m\n    timeout server 5m\n\n"
        "listen ledger_pg\n    bind :5000\n    option pgsql-check user haproxy\n"
        "    server pg1 10.1.0.21:5432 check inter 2s\n    server pg2 10.1.0.22:5432 check inter 2s backup\n"),
    "pgpath.yaml": ("deployments:\n  - name: ledger\n    hops:\n"
                    "      - client: {file: src/main/resources/application.yml, replicas: 8}\n"
                    "      - haproxy: {file: haproxy/haproxy.cfg, proxy: ledger_pg}\n"
                    "      - postgres: {file: db/postgresql.conf, version: 15}\n"),
    "src/main/resources/application-dev.yml": (
        "spring:\n  datasource:\n    url: jdbc:postgresql://localhost:5432/ledger\n    username: ledger\n"
        "    password: ledger\n    hikari:\n      maximum-pool-size: 5\n"),
    "src/main/resources/application.yml": (
        "spring:\n  application:\n    name: ledger\n  datasource:\n"
        "    url: jdbc:postgresql://pg-haproxy.prod.internal:5000/ledger?sslmode=verify-full&sslrootcert="
        "/etc/ssl/certs/db-ca.pem&tcpKeepAlive=true\n"
        "    username: ledger_app\n    password: ${DB_PASSWORD}\n    hikari:\n      maximum-pool-size: 20\n"
        "      max-lifetime: 1800000\n      connection-timeout: 30000\n  jpa:\n    open-in-view: false\n"),
    "src/test/resources/application-test.yml": (
        "spring:\n  datasource:\n    url: jdbc:tc:postgresql:15.6:///ledger?TC_INITSCRIPT=db/init.sql\n"
        "    driver-class-name: org.testcontainers.jdbc.ContainerDatabaseDriver\n"),
    # (added to the repro) a real password, literally in a staging profile: never printed
    "src/main/resources/application-staging.yml": (
        "spring:\n  datasource:\n    url: jdbc:postgresql://pg-staging.internal:5432/ledger\n"
        "    username: ledger_app\n    password: Ldg7-Stg-xQ9\n"),
}
S10 = {
    "docker-compose.dev.yml": (
        "services:\n  db:\n    image: postgres:16.4\n    command: [\"postgres\", \"-c\", \"ssl=off\"]\n"
        "    environment:\n      POSTGRES_PASSWORD: postgres\n  api:\n    build: .\n    environment:\n"
        "      DATABASE_URL: postgresql://postgres:postgres@db:5432/orders?sslmode=require\n"),
    "docker-compose.yml": (
        "services:\n  db:\n    image: postgres:16.4\n    environment:\n"
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?}\n"
        "  pgbouncer:\n    image: edoburu/pgbouncer:v1.22.1-p0\n    environment:\n"
        "      DATABASE_URL: postgres://orders:${POSTGRES_PASSWORD}@db:5432/orders\n      POOL_MODE: transaction\n"),
    # (added to the repro) a real password in a URL's user-info and in PGPASSWORD: never printed
    "reports/.env": ("REPORTS_URL=postgresql://reports:Rpt4-Real-zQ8@db.prod.internal:5432/orders\n"
                     "PGPASSWORD=Rpt5-Real-zQ9\nPGHOST=db.prod.internal\n"),
}
REAL_PASSWORDS = ("Ldg7-Stg-xQ9", "Rpt4-Real-zQ8", "Rpt5-Real-zQ9")
# a password's own place, showing a development password: `password: ledger`, `postgres:postgres@`,
# `"POSTGRES_PASSWORD": "postgres"`, `password=ledger`
SECRET_PLACE = re.compile(r"""(?i)(?:password|passwd)["']?\s*[:=]\s*["']?(?:ledger|postgres)\b"""
                          r"""|:(?:ledger|postgres)@""")


def _tree(base: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return base


@pytest.fixture(scope="module")
def s04(tmp_path_factory):
    return _tree(tmp_path_factory.mktemp("s04"), S04)


@pytest.fixture(scope="module")
def s10(tmp_path_factory):
    return _tree(tmp_path_factory.mktemp("s10"), S10)


def run(*args: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode in (0, 1, 2), proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout + proc.stderr


def _no_secret(out: str) -> None:
    leaked = [p for p in REAL_PASSWORDS if p in out]
    assert not leaked, f"real passwords printed: {leaked}"
    shown = SECRET_PLACE.search(out)
    assert shown is None, f"a password shown in its own place: {out[max(0, shown.start() - 80):shown.end() + 40]!r}"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_s04_check_keeps_the_names_that_equal_the_dev_password(s04, fmt):
    out = run("check", ".", "--format", fmt, "--include-development", cwd=s04)
    assert "PATH003" in out  # the run reported on the path through the proxy
    assert "listen ledger_pg" in out
    assert "***_pg" not in out and "***_app" not in out
    if fmt == "json":  # the format that prints every document's settings
        assert "pg-haproxy.prod.internal:5000/ledger?sslmode=verify-full" in out
    assert "/***" not in out
    _no_secret(out)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_s10_check_keeps_postgres_as_a_word(s10, fmt):
    out = run("check", ".", "--format", fmt, "--include-development", cwd=s10)
    assert "PATH004" in out
    assert "***ql" not in out and "***:16.4" not in out and "***_" not in out
    _no_secret(out)


def test_s04_path_and_dump(s04):
    out = run("path", ".", cwd=s04)
    assert "path 1 (declared): ledger" in out and "HAProxy listen ledger_pg" in out, out
    assert "***" not in out, out  # nothing in this path is a secret
    _no_secret(out)
    data = json.loads(run("path", ".", "--format", "json", cwd=s04))
    assert "ledger_pg" in json.dumps(data)
    for name in S04:
        if name == "pgpath.yaml":
            continue
        out = run("dump", name, cwd=s04)
        assert "***_" not in out and "/***" not in out, out
        _no_secret(out)
    dev = json.loads(run("dump", "src/main/resources/application-dev.yml", cwd=s04))
    shown = {s["name"]: s["raw"] for s in dev["settings"]}
    assert shown["spring.datasource.username"] == "ledger"
    assert shown["spring.datasource.url"] == "jdbc:postgresql://localhost:5432/ledger"
    assert shown["spring.datasource.password"] == "***"


def test_s10_path_shows_the_hop_kind_and_the_image(s10):
    out = run("path", ".", cwd=s10)
    assert re.search(r"\d\. postgres +PostgreSQL docker-compose", out), out
    assert "image postgres:16.4" in out, out
    assert "***:" not in out and "***ql" not in out, out
    _no_secret(out)
    dev = json.loads(run("dump", "docker-compose.dev.yml", cwd=s10))
    assert dev["kind"] == "postgresql" and dev["meta"]["image"] == "postgres:16.4"
    assert dev["meta"]["env"]["POSTGRES_PASSWORD"] == "***"
    client = dev["more_documents"][0]
    url = {s["name"]: s["raw"] for s in client["settings"]}["DATABASE_URL"]
    assert url == "postgresql://postgres:***@db:5432/orders?sslmode=require"
    _no_secret(json.dumps(dev))
    out = run("dump", "reports/.env", cwd=s10)
    assert "reports:***@db.prod.internal" in out
    _no_secret(out)


# ------------------------------------------------------------------------------------------------
# the redactor itself


def _client(path: str, text: str):
    from advisor.loaders.client import load

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return load(str(p))


def test_a_real_password_is_masked_as_a_whole_word_only(tmp_path):
    from advisor.redact import Redactor

    doc = _client(str(tmp_path / "a.env"), "DATABASE_URL=postgresql://app:Qx7Secret@db/app\n")
    r = Redactor([doc])
    assert r.text('the value "Qx7Secret" quoted') == 'the value "***" quoted'
    assert r.text("Qx7Secret") == "***"
    assert r.text("(Qx7Secret)") == "(***)"
    # inside a longer word it is not the password: nothing is masked there, nothing is revealed
    assert r.text("Qx7Secrets and xQx7Secret and Qx7Secret_2") == "Qx7Secrets and xQx7Secret and Qx7Secret_2"
    # in its own place, any value is masked by the patterns
    assert r.text("postgresql://app:Qx7Secret@db/app") == "postgresql://app:***@db/app"


def test_a_password_that_is_also_a_name_of_the_inputs_is_masked_only_in_its_place(tmp_path):
    """A non-development password equal to the database name: the database name stays (masking
    it everywhere would reveal the password), the password's own places are masked."""
    from advisor.redact import Redactor

    doc = _client(str(tmp_path / "a.env"), "DATABASE_URL=postgresql://app:orders@db/orders\n")
    r = Redactor([doc])
    assert r.text("database orders on db") == "database orders on db"
    assert r.text("postgresql://app:orders@db/orders") == "postgresql://app:***@db/orders"
    assert r.text("PGPASSWORD=orders psql") == "PGPASSWORD=*** psql"
    assert r.text("""line 3: {"password": "orders", "dbname": "orders"}""") == \
        """line 3: {"password": ***, "dbname": "orders"}"""
    assert r.text("""'PASSWORD': 'orders', 'NAME': 'orders'""") == """'PASSWORD': ***, 'NAME': 'orders'"""
    # a quoted key with an expression for its value is no password shown
    assert r.text(""""PASSWORD": os.environ["DB_PASSWORD"]""") == """"PASSWORD": os.environ["DB_PASSWORD"]"""
    assert r.data({"password": "orders", "dbname": "orders"}) == {"password": "***", "dbname": "orders"}


def test_a_development_password_is_masked_only_in_its_place(tmp_path):
    from advisor.redact import Redactor

    doc = _client(str(tmp_path / "a.env"), "DATABASE_URL=postgresql://app:changeme@db/app\n")
    r = Redactor([doc])
    assert r.text("changeme") == "changeme"  # a well-known default: nothing it protects is secret
    assert r.text("postgresql://app:changeme@db/app") == "postgresql://app:***@db/app"
    assert r.data({"POSTGRES_PASSWORD": "changeme", "env": ["password=changeme"]}) == \
        {"POSTGRES_PASSWORD": "***", "env": ["password=***"]}


def test_a_password_in_a_non_secret_setting_of_its_own_is_not_an_ordinary_word(tmp_path):
    """The password counts as an ordinary word only where it is not itself the secret: its own
    setting (a connection string whose password the patterns may not see) does not count."""
    from advisor.model import ConfigDoc, Setting, Span
    from advisor.redact import Redactor

    doc = ConfigDoc("postgresql.conf", "postgresql")
    doc.settings.append(Setting("primary_conninfo", "'host=a password=Rep1Secret'", "host=a password=Rep1Secret",
                                Span("postgresql.conf", 1, 1)))
    doc.settings.append(Setting("ssl_passphrase_command", "'echo Phr4se'", "echo Phr4se",
                                Span("postgresql.conf", 2, 1)))
    doc.meta["_opaque"] = ["orders"]  # a value a reader rejected is never taken for a name
    doc.settings.append(Setting("cluster_name", "'orders'", "orders", Span("postgresql.conf", 3, 1)))
    r = Redactor([doc])
    assert r.text("quoted Rep1Secret and Phr4se and echo Phr4se") == "quoted *** and *** and ***"
    assert r.text("cluster orders") == "cluster ***"


def test_a_secret_setting_is_never_printed_even_when_its_value_is_an_ordinary_word():
    from advisor.model import ConfigDoc, Setting, Span
    from advisor.redact import Redactor

    doc = ConfigDoc("a.conf", "postgresql")
    secret = Setting("ssl_key_passphrase", "ledger", "ledger", Span("a.conf", 1, 1))
    secret.secret = True
    doc.settings.append(secret)
    doc.settings.append(Setting("cluster_name", "ledger", "ledger", Span("a.conf", 2, 1)))
    r = Redactor([doc])
    assert r.text("cluster ledger") == "cluster ledger"
    shown = r.setting(secret)
    assert shown.to_dict()["raw"] == "***" and shown.to_dict()["value"] == "***"


def test_a_name_of_the_topology_is_an_ordinary_word(tmp_path):
    from advisor.redact import Redactor

    doc = _client(str(tmp_path / "a.env"), "DATABASE_URL=postgresql://app:Ledger9Prod@db/app\n")
    topology = {"deployments": [{"name": "Ledger9Prod", "hops": [{"client": {"file": "a.env"}}]}]}
    assert Redactor([doc]).text("path 1 (declared): Ledger9Prod") == "path 1 (declared): ***"
    r = Redactor([doc], plain=topology)
    assert r.text("path 1 (declared): Ledger9Prod") == "path 1 (declared): Ledger9Prod"
    assert r.text("postgresql://app:Ledger9Prod@db/app") == "postgresql://app:***@db/app"
