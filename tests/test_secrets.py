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
    "pgx/config.yaml": "db:\n  dsn: \"host=db password=PwPgx23xQ pool_max_conns=5 keepalives_idle=30\"\n",
}
PASSWORDS = sorted({word for text in FILES.values() for word in __import__("re").findall(r"Pw\w+?xQ", text)})


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
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_seeded_passwords_are_distinct():
    assert len(PASSWORDS) == 24


def test_every_seeded_file_is_loaded_as_client(tree):
    out = run("check", ".", "--format", "json", "--no-config", cwd=tree)
    import json

    data = json.loads(out[out.index("{"):])
    loaded = {os.path.normpath(d["path"]): d["kind"] for d in data["documents"]}
    assert {name: "client" for name in FILES} == {name: loaded.get(os.path.normpath(name)) for name in FILES}
    # the findings show that the values were read (APP009 on the wrong units, APP010 on pgx)
    codes = {f["code"] for f in data["findings"]}
    assert {"APP001", "APP009", "APP010"} <= codes, codes


OUTPUT_FORMATS = ["text", "json", "sarif", "github", "junit", "gitlab", "markdown", "html"]


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_check_never_prints_a_password(tree, fmt):
    out = run("check", ".", "--format", fmt, "--no-config", cwd=tree)
    assert "APP0" in out  # the run did report on the client files
    leaked = [p for p in PASSWORDS if p in out]
    assert not leaked, f"passwords printed by check --format {fmt}: {leaked}"


def test_every_format_is_scanned():
    """The list above is every format the CLI offers (a new reporter joins the scan)."""
    from advisor.reporters import FORMATS

    assert sorted(OUTPUT_FORMATS) == sorted(FORMATS)


@pytest.mark.parametrize("name", sorted(FILES))
def test_dump_never_prints_a_password(tree, name):
    out = run("dump", name, cwd=tree)
    assert '"kind": "client"' in out, out[:500]
    leaked = [p for p in PASSWORDS if p in out]
    assert not leaked, f"passwords printed by dump {name}: {leaked}"


def test_the_scan_would_see_a_leak(tree):
    """The check above can fail: the passwords are in the files and reach the loader."""
    text = (tree / "uri.env").read_text()
    assert "PwUri1xQ" in text
    from advisor.loaders.client import load

    doc = load(str(tree / "uri.env"))
    endpoint = doc.model.endpoints[0]
    assert endpoint.password.secret and endpoint.password.value == "PwUri1xQ"
    assert endpoint.password.display == "***"
