"""Passwords written in any client format never appear in any output of the CLI.

Distinctive passwords are seeded into every supported client format (libpq URI and keyword/value,
JDBC `password=`, Spring `spring.datasource.password`, hikari.properties, SQLAlchemy URL, Django
`PASSWORD`, `.env`, docker-compose, Kubernetes `env:`, pg_service.conf, node-postgres JSON, and the
defaults of `${VAR:default}` placeholders), then `pgpath check` in every output format and
`pgpath dump` of every file run as subprocesses; none of the passwords may be printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FILES = {
    "uri.env": "DATABASE_URL=postgresql://app:PwUri1xQ@db.internal:5432/app?sslmode=prefer&connect_timeout=5s\n",
    "kv.env": "APP_DSN=host=db.internal user=app password=PwKv2xQ dbname=app connect_timeout=7s\n"
              "BROKEN_DSN=host=db.internal password='PwKv3xQ dbname='app\n"
              "PGPASSWORD=PwEnv4xQ\nPGHOST=db.internal\n"
              "SPACED_DSN=host=db password=Pw-a PwSpaced24xQ dbname=x\n",
    "spring/application.properties": (
        "spring.datasource.url=jdbc:postgresql://db.internal/app?user=app&password=PwJdbc5xQ&socketTimeout=5s\n"
        "spring.datasource.password=PwSpring6xQ\n"
        "spring.datasource.hikari.max-lifetime=30m\n"
    ),
    "spring/application-prod.yml": (
        "spring:\n  datasource:\n    url: ${DB_URL:jdbc:postgresql://db/app?password=PwDefault7xQ}\n"
        "    password: ${DB_PASS:PwDefault8xQ}\n"
    ),
    "hikari/hikari.properties": "jdbcUrl=jdbc:postgresql://db/app\npassword=PwHikari9xQ\ndataSource.password=PwHikari10xQ\n",
    "alembic.ini": "[alembic]\nsqlalchemy.url = postgresql+psycopg2://app:PwSqla11xQ@db.internal/app\n",
    "django/settings.py": (
        "DATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.postgresql',\n"
        "        'NAME': 'app', 'USER': 'app', 'PASSWORD': 'PwDjango12xQ', 'HOST': 'db',\n"
        "        'CONN_MAX_AGE': 60,\n        'OPTIONS': {'sslpassword': 'PwDjango13xQ', 'connect_timeout': '5s'},\n"
        "    }\n}\n"
    ),
    "python/db.py": (
        "import os\nfrom sqlalchemy import create_engine\nfrom psycopg_pool import ConnectionPool\n"
        "HOST = os.environ['DB_HOST']\n"
        "engine = create_engine('postgresql+psycopg2://app:PwPyUrl45xQ@db.internal/app', pool_recycle=3600,\n"
        "                       connect_args={'password': 'PwPyArgs46xQ', 'connect_timeout': '5s'})\n"
        "other = create_engine(f'postgresql://app:PwPyFstr47xQ@{HOST}/app')\n"
        "pool = ConnectionPool('host=db dbname=app', kwargs={'password': 'PwPyPool48xQ'})\n"
    ),
    "docker-compose.yml": (
        "services:\n  api:\n    image: x\n    environment:\n"
        "      - DATABASE_URL=postgres://api:PwCompose14xQ@db:5432/api?sslmode=disable\n"
        "      - POSTGRES_PASSWORD=PwCompose15xQ\n"
        "  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: PwCompose16xQ\n"
        "      ORDERS_DSN: \"postgres://o:${ORDERS_PW:-PwDefault17xQ}@db/orders\"\n"
    ),
    "k8s/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: app\n          env:\n            - name: PGPASSWORD\n              value: PwK8s18xQ\n"
        "            - name: PGHOST\n              value: db.internal\n"
        "            - name: DATABASE_URL\n              value: postgresql://u:PwK8s19xQ@db/app\n"
    ),
    "pg_service.conf": "[main]\nhost=db.internal\nuser=app\npassword=PwService20xQ\nconnect_timeout=9s\n",
    "node/db.json": '{"database": {"host": "db", "user": "app", "password": "PwNode21xQ", "keepAlive": true,'
                    ' "connectionString": "postgres://app:PwNode22xQ@db/app", "max": 5}}\n',
    "node/src/db.js": (
        "const { Pool } = require('pg');\n"
        "const pool = new Pool({ host: 'db', password: 'PwNodeJs49xQ', max: 5,\n"
        "  connectionString: `postgres://app:PwNodeJs50xQ@db/app`,\n"
        "  ssl: { key: 'PwNodeJs51xQ', passphrase: process.env.X || 'PwNodeJs52xQ', rejectUnauthorized: false } });\n"
        "const other = new Pool({ host: process.env.H || 'db', password: process.env.P ?? 'PwNodeJs53xQ' });\n"
    ),
    "pgx/config.yaml": "db:\n  dsn: \"host=db password=PwPgx23xQ pool_max_conns=5 keepalives_idle=30\"\n",
    "jdbc/application.properties": "spring.datasource.url=jdbc:postgresql://app:PwJdbcUser24xQ@db.internal/app\n",
    # the server side: connection-string settings, shell commands, PgBouncer entries, auth files
    "server/postgresql.conf": (
        "primary_conninfo = 'host=primary user=rep password=PwPrimary25xQ application_name=s1'\n"
        "archive_command = 'PGPASSWORD=PwArchive26xQ pg_receivewal --password=PwArchive27xQ %p'\n"
        "restore_command = 'aws s3 cp --secret-key PwRestore28xQ s3://bucket/%f %p'\n"
        "ssl_passphrase_command = 'echo PwPassphrase29xQ'\n"
        "archive_cleanup_command = 'openssl enc -pass pass:PwCleanup30xQ'\n"
        "ssl = on\nssl_min_protocol_version = 'PwNotASecretButQuoted'\n"
    ),
    "server/pgbouncer.ini": (
        "[databases]\napp = host=db port=5432 dbname=app user=app password=PwPgbDb31xQ\n"
        "bad = host=db password=PwPgbDb32xQ pool_mode=bogus\n"
        "odd = host=db password='PwPgb Db33xQ' bogus_key=1\n"
        "[users]\napp = pool_mode=session\n"
        "[pgbouncer]\nlisten_port = 6432\nauth_type = md5\nauth_file = userlist.txt\n"
    ),
    "server/userlist.txt": '"app" "PwUserlist34xQ"\n"rep" "SCRAM-SHA-256$4096:PwScram35xQ"\n',
    # a secret pasted into a connection variable: a bare value libpq cannot read (issue 12) is
    # quoted by its first characters only, and hidden wherever it would be printed
    "blob/app.env": ("ORDERS_DSN=PwBlobToken38xQ\nDATABASE_URL=\"PwBlobToken39xQ\"\nPGSSLMODE=PwBlobToken40xQ\n"
                     "PGPORT=PwBlobToken41xQ\nREPORTS_DSN=\"host=db sslmode=PwBlobToken42xQ\"\n"),
    "blob/pg.env": "PGHOST=db\nPGPORT=PwBlobToken43xQ\nPGTARGETSESSIONATTRS=PwBlobToken44xQ\n",
    "server/haproxy.cfg": (
        "global\n  maxconn 100\nuserlist admins\n  user admin insecure-password PwHaproxy36xQ\n"
        "defaults\n  mode tcp\n  timeout client 30s\n  timeout server 30s\n  timeout connect 5s\n"
        "listen pg\n  bind :5000\n  server pg1 10.0.0.1:5432 check\n"
    ),
}
KINDS = {name: ("postgresql" if name.endswith("postgresql.conf") else "pgbouncer" if name.endswith("pgbouncer.ini")
                else "haproxy" if name.endswith("haproxy.cfg") else None if name.endswith("userlist.txt")
                else "client") for name in FILES}
PASSWORDS = sorted({word for text in FILES.values() for word in __import__("re").findall(r"Pw[\w ]+?xQ", text)})


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("secrets")
    for name, text in FILES.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return base


def run(*args: str, cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode in (0, 1, 2), proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc.stdout + proc.stderr


def test_seeded_passwords_are_distinct():
    assert len(PASSWORDS) == 53


def test_every_seeded_file_is_loaded_as_client(tree):
    out = run("check", ".", "--format", "json", "--no-config", cwd=tree)
    import json

    data = json.loads(out[out.index("{"):])
    loaded = {os.path.normpath(d["path"]): d["kind"] for d in data["documents"]}
    assert KINDS == {name: loaded.get(os.path.normpath(name)) for name in FILES}
    # the findings show that the values were read (APP009 on the wrong units, APP010 on pgx)
    codes = {f["code"] for f in data["findings"]}
    assert {"APP001", "APP009", "APP010"} <= codes, codes


from advisor.reporters import FORMATS  # noqa: E402

OUTPUT_FORMATS = sorted(FORMATS)  # every format the CLI offers, present and future


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_check_never_prints_a_password(tree, fmt):
    out = run("check", ".", "--format", fmt, "--no-config", cwd=tree)
    assert "APP0" in out  # the run did report on the client files
    leaked = [p for p in PASSWORDS if p in out]
    assert not leaked, f"passwords printed by check --format {fmt}: {leaked}"


def test_every_format_is_scanned():
    """The list above is every format the CLI offers (a new reporter joins the scan)."""
    assert {"text", "json"} <= set(OUTPUT_FORMATS) and sorted(OUTPUT_FORMATS) == sorted(FORMATS)


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_check_of_named_files_never_prints_a_password(tree, fmt):
    """Files named one by one, the auth file too (read as the `text` kind)."""
    out = run("check", *sorted(FILES), "--format", fmt, "--no-config", cwd=tree)
    leaked = [p for p in PASSWORDS if p in out]
    assert not leaked, f"passwords printed by check --format {fmt}: {leaked}"


@pytest.mark.parametrize("name", sorted(n for n in FILES if KINDS[n]))
def test_dump_never_prints_a_password(tree, name):
    out = run("dump", name, cwd=tree)
    assert f'"kind": "{KINDS[name]}"' in out, out[:500]
    leaked = [p for p in PASSWORDS if p in out]
    assert not leaked, f"passwords printed by dump {name}: {leaked}"


def test_a_rejected_bare_value_is_reported_by_its_prefix(tree):
    """The blobs are still findings, at their place, with a prefix and the length."""
    out = run("check", "blob", "--no-config", cwd=tree)
    assert 'blob/app.env:1:12: ADV001 error ORDERS_DSN: libpq rejects this connection string: missing "=" after ' \
           '"PwBl…" (15 characters)' in out, out
    assert 'blob/pg.env:2:8: APP009 error invalid integer value "PwBl…" (15 characters) for connection option "port"' \
           in out, out
    assert 'blob/pg.env:3:22: APP009 error invalid target_session_attrs value: "PwBl…" (15 characters)' in out, out
    assert 'blob/app.env:5:30: APP009 error invalid sslmode value: "PwBl…" (15 characters)' in out, out


def test_the_scan_would_see_a_leak(tree):
    """The check above can fail: the passwords are in the files and reach the loader."""
    text = (tree / "uri.env").read_text()
    assert "PwUri1xQ" in text
    from advisor.loaders.client import load

    doc = load(str(tree / "uri.env"))
    endpoint = doc.model.endpoints[0]
    assert endpoint.password.secret and endpoint.password.value == "PwUri1xQ"
    assert endpoint.password.display == "***"


# ------------------------------------------------------------------------------------------------
# Cloud and Terraform: plans print passwords and connection strings in clear

CLOUD_PLAN = {
    "format_version": "1.2",
    "variables": {"db_password": {"value": "PwPlanVar41xQ"}},
    "planned_values": {"outputs": {"dsn": {"sensitive": True,
                                           "value": "postgresql://app:PwPlanOut42xQ@db.internal/app"}},
                       "root_module": {"resources": []}},
    "resource_changes": [
        {"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db",
         "change": {"actions": ["create"],
                    "after": {"instance_class": "db.t3.medium", "engine": "postgres", "engine_version": "16.2",
                              "username": "app", "password": "PwPlanInst43xQ", "parameter_group_name": "pg"},
                    "after_unknown": {}, "after_sensitive": {"password": True}}},
        {"address": "aws_db_parameter_group.pg", "mode": "managed", "type": "aws_db_parameter_group", "name": "pg",
         "change": {"actions": ["create"],
                    "after": {"name": "pg", "family": "postgres16",
                              "parameter": [{"name": "work_mem", "value": "PwPlanParam44xQ"},
                                            {"name": "max_connections", "value": "200"}]},
                    "after_unknown": {}}},
        {"address": "aws_db_proxy.p", "mode": "managed", "type": "aws_db_proxy", "name": "p",
         "change": {"actions": ["create"],
                    "after": {"name": "p", "engine_family": "POSTGRESQL", "require_tls": False,
                              "idle_client_timeout": "PwPlanIdle45xQ",
                              "auth": [{"auth_scheme": "SECRETS", "secret_arn": "arn:PwPlanArn46xQ"}]},
                    "after_unknown": {}}},
    ],
    "configuration": {"root_module": {"variables": {"db_password": {"default": "PwPlanDefault47xQ"}}}},
}

CLOUD_FILES = {
    "plan/plan.json": __import__("json").dumps(CLOUD_PLAN, indent=2),
    "tf/main.tf": (
        'resource "aws_db_instance" "db" {\n  instance_class = "db.t3.micro"\n  engine = "postgres"\n'
        '  password = "PwTfLiteral48xQ"\n  username = var.user\n}\n'
        'resource "aws_db_proxy" "p" {\n  name = "p"\n  engine_family = "POSTGRESQL"\n'
        '  idle_client_timeout = var.db_password\n}\n'
    ),
    "tf/variables.tf": 'variable "db_password" {\n  default = "PwTfDefault49xQ"\n}\nvariable "user" {}\n',
    "tf/terraform.tfvars": 'db_password = "PwTfVars50xQ"\n',
    "broken/main.tf": 'resource "aws_db_instance" "db" {\n  password = "PwTfBroken51xQ" "x"\n}\n',
    "cli/proxies.json": '{"DBProxies": [{"DBProxyName": "p", "IdleClientTimeout": "PwCliIdle52xQ",\n'
                        '  "Auth": [{"SecretArn": "arn:x", "Description": "PwCliAuth53xQ"}]}]}\n',
    "cli/sql.json": '{"kind": "sql#instance", "databaseVersion": "POSTGRES_15", "settings": {"databaseFlags": [\n'
                    '  {"name": "shared_preload_libraries", "value": "x"}], "userPassword": "PwCliSql54xQ"}}\n',
}
CLOUD_PASSWORDS = sorted({w for text in CLOUD_FILES.values() for w in __import__("re").findall(r"Pw\w+?xQ", text)})


@pytest.fixture(scope="module")
def cloud_tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("cloud-secrets")
    for name, text in CLOUD_FILES.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return base


def test_cloud_files_are_read(cloud_tree):
    import json

    out = run("check", ".", "--format", "json", "--no-config", cwd=cloud_tree)
    data = json.loads(out[out.index("{"):])
    kinds = {os.path.normpath(d["path"]): d["kind"] for d in data["documents"]}
    for name in CLOUD_FILES:
        if not name.endswith((".tfvars", "variables.tf")):
            assert os.path.normpath(name) in kinds, name
    assert {"CLD001", "CLD002"} <= {f["code"] for f in data["findings"]}
    assert len(CLOUD_PASSWORDS) == 14


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_cloud_check_never_prints_a_password(cloud_tree, fmt):
    out = run("check", ".", "--format", fmt, "--no-config", cwd=cloud_tree)
    assert "CLD0" in out
    leaked = [p for p in CLOUD_PASSWORDS if p in out]
    assert not leaked, f"passwords printed by check --format {fmt}: {leaked}"


@pytest.mark.parametrize("name", sorted(n for n in CLOUD_FILES if not n.endswith(".tfvars")))
def test_cloud_dump_never_prints_a_password(cloud_tree, name):
    out = run("dump", name, cwd=cloud_tree)
    leaked = [p for p in CLOUD_PASSWORDS if p in out]
    assert not leaked, f"passwords printed by dump {name}: {leaked}"


def test_every_connection_string_and_command_setting_is_redacted():
    """The redaction lists hold every setting of every catalog whose description says it takes
    a connection string or a shell command (a new major's additions join them)."""
    import glob
    import json

    from advisor.redact import COMMAND_SETTINGS, CONNINFO_SETTINGS

    conninfo, commands = set(), set()
    for path in glob.glob(str(ROOT / "advisor" / "catalogs" / "pg*.json")):
        data = json.load(open(path))
        for row in data if isinstance(data, list) else data["settings"]:
            text = f"{row.get('short_desc') or ''} {row.get('extra_desc') or ''}".lower()
            if row.get("vartype") != "string":
                continue
            if "connection string" in text:
                conninfo.add(row["name"])
            if "command" in text and "library" not in row["name"]:
                commands.add(row["name"])
    assert conninfo and conninfo <= CONNINFO_SETTINGS
    assert commands and commands <= COMMAND_SETTINGS


def test_a_message_quoting_a_secret_is_redacted():
    """Whatever a rule writes, a secret value the loaders read is replaced where it appears."""
    from advisor.findings import Finding, Severity
    from advisor.model import ConfigDoc, Setting, Span
    from advisor.redact import Redactor

    doc = ConfigDoc("postgresql.conf", "postgresql")
    doc.settings.append(Setting("primary_conninfo", "'host=a password=Sekr3tValue'", "host=a password=Sekr3tValue",
                                Span("postgresql.conf", 1, 1)))
    doc.settings.append(Setting("ssl_passphrase_command", "'echo Phrase123'", "echo Phrase123",
                                Span("postgresql.conf", 2, 1)))
    r = Redactor([doc])
    f = Finding("PG001", "x", Severity.ERROR, 'value "Sekr3tValue" and Phrase123, quoted',
                Span("postgresql.conf", 1, 1), fix="set it to 'Sekr3tValue'")
    clean = r.finding(f)
    assert "Sekr3tValue" not in clean.message + clean.fix and "Phrase123" not in clean.message
    assert clean.message == 'value "***" and ***, quoted'
    # patterns: shown as passwords even when no loader marked them
    assert r.text("PGPASSWORD=abc pg_dump") == "PGPASSWORD=*** pg_dump"
    assert r.text("jdbc:postgresql://u:pw1@db/app") == "jdbc:postgresql://u:***@db/app"
    assert r.text("openssl -passin pass:xyz") == "openssl -passin pass:***"
    # non-UTF-8 bytes of a file name
    assert r.text("d/\udcffx") == "d/\\xffx"
