"""Info findings on files for development or tests are held back (advisor.development).

Run as a user runs pgpath: on a folder, through the CLI, reading the report it prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from advisor.development import path_words, reason_from_path
from advisor.model import is_development_password

ROOT = Path(__file__).resolve().parent.parent
REPORT_SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())

# ssl off on a server that listens on every interface: TLS001, an info finding
OPEN_CONF = "listen_addresses = '*'\nssl = off\n"
# an unknown parameter: PG001, an error
BROKEN_CONF = "listen_addresses = '*'\nssl = off\nno_such_parameter = 1\n"
COMPOSE = """services:
  postgres:
    image: postgres:15.6
    environment:
      - POSTGRES_USER={user}
      - POSTGRES_PASSWORD={password}
    ports:
      - "5431:5432"
"""


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("relative,word", [
    ("dev/postgresql.conf", "dev"),
    ("docker-compose.dev.yml", "dev"),
    ("pgjdbc/src/test/resources/pg_service.conf", "test"),
    ("packages/sync-service/dev/docker-compose.yml", "dev"),
    ("quickstart-postgres.yml", "quickstart"),
    ("tests/fixtures/pgbouncer.ini", "tests"),
    (".ci/docker-compose.yml", "ci"),
    ("e2e/compose.yaml", "e2e"),
])
def test_a_path_that_says_development_or_tests(relative, word):
    assert reason_from_path(relative) == f"its path says {word!r}"


@pytest.mark.parametrize("relative", [
    "docs/src/samples/pooler-external.yaml",  # examples are what users copy into production
    "examples/netbox/configuration_example.py",
    "deploy/latest/pgbouncer.ini",  # a word is a whole word: latest is not test
    "contest/postgresql.conf",
    "production/docker-compose.yml",
    "deploy/civic/pgbouncer.ini",
])
def test_a_path_that_does_not(relative):
    assert reason_from_path(relative) is None, path_words(relative)


@pytest.mark.parametrize("password,user,development", [
    ("postgres", None, True), ("hatchet", "hatchet", True), ("Secret", "app", True), ("changeme", "app", True),
    ("k9#Vq2-LmX7", "app", False), ("", "app", False), ("app2", "app", False),
])
def test_development_passwords(password, user, development):
    assert is_development_password(password, user) is development


def test_info_on_a_development_folder_is_held_back_and_said(tmp_path):
    write(tmp_path / "dev" / "postgresql.conf", OPEN_CONF)
    write(tmp_path / "prod" / "postgresql.conf", OPEN_CONF)
    out = pgpath("check", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "prod/postgresql.conf:2:7: TLS001 info" in out.stdout
    assert "dev/postgresql.conf:2:7" not in out.stdout
    assert "1 info finding on 1 file for development or tests held back (--include-development reports them)" \
        in out.stdout
    assert "  held back: ./dev/postgresql.conf (1: TLS001): its path says 'dev'" in out.stdout


def test_include_development_reports_them(tmp_path):
    write(tmp_path / "dev" / "postgresql.conf", OPEN_CONF)
    out = pgpath("check", ".", "--include-development", cwd=tmp_path)
    assert "dev/postgresql.conf:2:7: TLS001 info" in out.stdout
    assert "held back" not in out.stdout
    write(tmp_path / "pgpath.yaml", "include-development: true\n")
    assert "dev/postgresql.conf:2:7: TLS001 info" in pgpath("check", ".", cwd=tmp_path).stdout


def test_errors_and_warnings_are_never_held_back(tmp_path):
    write(tmp_path / "tests" / "postgresql.conf", BROKEN_CONF)
    out = pgpath("check", ".", cwd=tmp_path)
    assert out.returncode == 1
    assert "tests/postgresql.conf:3:1: PG001 error" in out.stdout
    assert "tests/postgresql.conf:2:7: TLS001" not in out.stdout  # its info is held back
    assert "held back: ./tests/postgresql.conf (1: TLS001)" in out.stdout


def test_a_file_named_on_the_command_line_is_reported_in_full(tmp_path):
    write(tmp_path / "dev" / "postgresql.conf", OPEN_CONF)
    out = pgpath("check", "dev/postgresql.conf", cwd=tmp_path)
    assert "dev/postgresql.conf:2:7: TLS001 info" in out.stdout
    assert "held back" not in out.stdout


def test_the_folder_checked_is_not_part_of_the_evidence(tmp_path):
    # pgpath check tests/: the files under it are what the user asked about
    write(tmp_path / "tests" / "postgresql.conf", OPEN_CONF)
    out = pgpath("check", "tests", cwd=tmp_path)
    assert "tests/postgresql.conf:2:7: TLS001 info" in out.stdout


def test_pgpath_yaml_development_and_production_globs(tmp_path):
    write(tmp_path / "ci" / "postgresql.conf", OPEN_CONF)
    write(tmp_path / "staging" / "postgresql.conf", OPEN_CONF)
    write(tmp_path / "pgpath.yaml", "development: ['staging/*']\nproduction: ['ci/*']\n")
    out = pgpath("check", ".", cwd=tmp_path)
    assert "ci/postgresql.conf:2:7: TLS001 info" in out.stdout  # production: wins over its path
    assert "staging/postgresql.conf:2:7" not in out.stdout
    assert "held back: ./staging/postgresql.conf (1: TLS001): pgpath.yaml lists it under development:" \
        in out.stdout


def test_pgpath_yaml_keys_are_validated(tmp_path):
    write(tmp_path / "postgresql.conf", OPEN_CONF)
    write(tmp_path / "pgpath.yaml", "include-development: often\n")
    out = pgpath("check", ".", cwd=tmp_path)
    assert out.returncode == 2
    assert "include-development" in out.stdout + out.stderr


@pytest.mark.parametrize("user,password,held", [
    ("hatchet", "hatchet", True),  # the user name: a development setup
    ("app", "postgres", True),
    ("app", "${POSTGRES_PASSWORD:?set it}", False),  # filled at deploy time: nothing says development
    ("app", "Zq8-3vNr-p1Lw", False),  # a real password (committed: another rule's business)
])
def test_a_compose_file_that_writes_a_development_password(tmp_path, user, password, held):
    write(tmp_path / "docker-compose.yml", COMPOSE.format(user=user, password=password))
    out = pgpath("check", ".", "--format", "json", cwd=tmp_path)
    report = json.loads(out.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    codes = [f["code"] for f in report["findings"]]
    if held:
        assert "TLS001" not in codes
        assert report["held_back"] == [{
            "file": "./docker-compose.yml", "findings": 1, "codes": ["TLS001"],
            "reason": "a development password written in it (postgres's POSTGRES_PASSWORD)"}]
        assert report["summary"]["held_back"] == 1
    else:
        assert "TLS001" in codes
        assert report["held_back"] == [] and report["summary"]["held_back"] == 0
    assert "Zq8-3vNr-p1Lw" not in out.stdout  # never a password


def test_a_development_password_in_a_connection_url(tmp_path):
    write(tmp_path / "docker-compose.yml", COMPOSE.format(user="app", password="${PW}") + """  pgbouncer:
    image: edoburu/pgbouncer:v1.25.1-p0
    environment:
      - DATABASE_URL=postgres://app:secret@postgres:5432/app
      - AUTH_TYPE=plain
    ports:
      - "6431:5432"
""")
    out = pgpath("check", ".", cwd=tmp_path)
    assert "held back: ./docker-compose.yml" in out.stdout
    assert "(pgbouncer's DATABASE_URL)" in out.stdout
    assert "secret@" not in out.stdout and ":secret" not in out.stdout


def test_hook_mode_holds_back_a_changed_development_file(tmp_path):
    write(tmp_path / "dev" / "postgresql.conf", OPEN_CONF)
    out = pgpath("check", "--hook", "dev/postgresql.conf", cwd=tmp_path)
    assert "TLS001" not in out.stdout.split("held back")[0]
    assert "held back: dev/postgresql.conf (1: TLS001)" in out.stdout


def test_a_glob_without_a_slash_matches_the_file_name(tmp_path):
    write(tmp_path / "deploy" / "a" / "lab_postgresql.conf", OPEN_CONF)
    write(tmp_path / "pgpath.yaml", "development: ['lab_postgresql.conf']\n")
    out = pgpath("check", ".", cwd=tmp_path)
    assert "held back: ./deploy/a/lab_postgresql.conf (1: TLS001)" in out.stdout


def test_the_review_report_says_what_was_held_back(tmp_path):
    write(tmp_path / "dev" / "postgresql.conf", OPEN_CONF)
    pgpath("report", ".", "-o", "review.md", cwd=tmp_path)
    text = (tmp_path / "review.md").read_text()
    assert "Held back as a file for development or tests (its path says 'dev'): 1 info finding (TLS001) on " \
           "./dev/postgresql.conf; --include-development reports them." in text
    pgpath("report", ".", "--include-development", "-o", "all.md", cwd=tmp_path)
    text = (tmp_path / "all.md").read_text()
    assert "Held back" not in text and "TLS001" in text


def test_a_rule_raised_by_severity_is_still_held_back_on_development_files(tmp_path):
    # scenario audit 14, D7: `severity: {TLS001: warning}` makes production exposures fail CI,
    # not the developers' compose files
    write(tmp_path / "dev" / "postgresql.conf", OPEN_CONF)
    write(tmp_path / "prod" / "postgresql.conf", OPEN_CONF)
    write(tmp_path / "pgpath.yaml", "severity: {TLS001: warning}\n")
    out = pgpath("check", ".", cwd=tmp_path)
    assert out.returncode == 1
    assert "prod/postgresql.conf:2:7: TLS001 warning" in out.stdout
    assert "dev/postgresql.conf:2:7" not in out.stdout
    assert "held back: ./dev/postgresql.conf (1: TLS001)" in out.stdout


MANIFEST = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: analytics}
spec:
  selector: {matchLabels: {app: analytics}}
  template:
    metadata: {labels: {app: analytics}}
    spec:
      containers:
        - name: postgres
          image: postgres:15.5
          args: ["-c", "max_connections=200"]
          env:
            - {name: POSTGRES_PASSWORD, value: postgres}
---
apiVersion: v1
kind: Service
metadata:
  name: analytics-public
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: nlb
    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
spec:
  type: LoadBalancer
  selector: {app: analytics}
  ports: [{port: 5432, targetPort: 5432}]
"""


def test_a_manifest_with_a_default_password_is_no_development_file(tmp_path):
    # scenario audit 14, D3: an internet-facing server whose superuser password is `postgres` is
    # the worst exposure, not a developer's setup; TLS001 says anyone logs in
    write(tmp_path / "k8s" / "postgres.yaml", MANIFEST)
    out = pgpath("check", ".", cwd=tmp_path)
    assert "held back" not in out.stdout
    tls = next(line for line in out.stdout.splitlines() if " TLS001 " in line)
    assert "POSTGRES_PASSWORD as the user name or a well-known default: anyone who reaches it logs in as " \
           "postgres, the image's superuser" in tls
    assert "SCRAM exposes no password" not in tls
    assert "ALTER ROLE postgres PASSWORD '<new>'" in out.stdout
