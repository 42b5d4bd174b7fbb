"""APP013 (a database password written in a client's connection settings): what it reports,
what it leaves alone and why, and that the password itself is printed nowhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from conftest import CORPUS, require_corpus
from advisor.reporters import FORMATS, render

ROOT = Path(__file__).resolve().parent.parent
PW = "Xk9fQ2wLr7Tz"


def _findings(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        report = run(make_settings({"paths": [name], "select": ["APP013"]}, use_config=False))
    finally:
        os.chdir(cwd)
    return [f for f in report.findings if f.code == "APP013"], report


def _url(password: str, host: str = "db.acme.io", user: str = "app", db: str = "app") -> str:
    return f"DATABASE_URL=postgresql://{user}:{password}@{host}:5432/{db}?sslmode=verify-full\n"


# each exclusion next to the same line that is reported: the exclusion, not something else, is why
@pytest.mark.parametrize("kept,reported", [
    (_url("postgres"), _url(PW)),
    (_url("app"), _url(PW)),  # the user's name
    (_url("orders", db="orders"), _url(PW, db="orders")),  # the database's name
    (_url("CHANGEME"), _url("CHANGEMX")),
    (_url("your_db_pw"), _url("four_db_pw")),
    (_url("xxxxxxxx"), _url("xxxxxxxy")),
    (_url("mysecretpassword"), _url("mysecretpasswxrd")),
    (_url(PW, host="localhost"), _url(PW, host="localhostx.acme.io")),
    (_url(PW, host="127.0.0.1"), _url(PW, host="10.0.0.1")),
    (_url(PW, host="host.docker.internal"), _url(PW, host="db.docker.internal")),
    (_url(PW, host="db.example.com"), _url(PW, host="db.example.co")),
    (_url(PW, host="db.test"), _url(PW, host="db.testing")),
    (_url("${DB_PASSWORD}"), _url(PW)),
    (_url("$DB_PASSWORD"), _url("$9DB_PASSWORD".replace("PASSWORD", "PW"))),  # `$` before a digit is text
    ("DSN=host=db.acme.io user=app password=env:DB_PW dbname=app\n",
     "DSN=host=db.acme.io user=app password=envDB_PW dbname=app\n"),
    ("DSN=host=db.acme.io user=app password=ENC(b3Jk4Lk2) dbname=app\n",
     "DSN=host=db.acme.io user=app password=ENCb3Jk4Lk2 dbname=app\n"),
    (f"DSN=user=app password={PW} dbname=app\n", f"DSN=host=db.acme.io user=app password={PW} dbname=app\n"),
    (f"DSN=host=/run/postgresql user=app password={PW}\n", f"DSN=host=db.acme.io user=app password={PW}\n"),
])
def test_an_exclusion_is_what_keeps_a_line_out(tmp_path, kept, reported):
    assert _findings(tmp_path / "a", "app.env", kept)[0] == []
    found = _findings(tmp_path / "b", "app.env", reported)[0]
    assert len(found) == 1, reported


def test_the_finding_is_at_the_password_and_names_variable_user_and_host(tmp_path):
    found, _ = _findings(tmp_path, "app.env", "# hosted\n" + _url(PW, host="ep-x.us-east-2.aws.neon.tech"))
    (f,) = found
    assert (f.span.line, f.span.col) == (2, len("DATABASE_URL=postgresql://app:") + 1)
    assert f.message.startswith("DATABASE_URL (libpq) to ep-x.us-east-2.aws.neon.tech/app: the password of user app")
    assert "rotate it" in f.fix and "out of the repository" in f.fix
    assert str(f.severity) == "info"


def test_a_host_set_at_deploy_is_reported(tmp_path):
    (f,) = _findings(tmp_path, "app.env", _url(PW, host="${DB_HOST}"))[0]
    assert "a host set at deploy (${DB_HOST})" in f.message


@pytest.mark.parametrize("password", [PW, "k9Q", "a b", "p@ss:word/x"])
def test_the_rule_never_writes_the_password(tmp_path, password):
    """Before any redaction layer: short passwords (< 4 characters) are not masked by it."""
    from urllib.parse import quote

    text = (f"DATABASE_URL=postgresql://app:{quote(password, safe='')}@db.acme.io/app\n"
            f"REPORTS_DSN=host=db.acme.io user=app password='{password}' dbname=reports\n")
    found, _ = _findings(tmp_path, "app.env", text)
    assert len(found) == 2
    for f in found:
        for part in (f.message, f.fix or ""):
            assert password not in part and quote(password, safe="") not in part


# every client format the loaders read, one distinctive password each, all reported
FILES = {
    "uri.env": "DATABASE_URL=postgresql://app:PwA13uri9Q@db.acme.io:5432/app\n",
    "kv.env": "APP_DSN=host=db.acme.io user=app password=PwA13kv9Q dbname=app\n",
    "pg.env": "PGHOST=db.acme.io\nPGUSER=app\nPGPASSWORD=PwA13env9Q\n",
    "spring/application.properties": "spring.datasource.url=jdbc:postgresql://db.acme.io/app\n"
                                     "spring.datasource.username=app\nspring.datasource.password=PwA13spr9Q\n",
    "jdbc/application.properties": "spring.datasource.url=jdbc:postgresql://db.acme.io/app?user=app&password=PwA13jdb9Q\n",
    "django/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'app',\n"
                          "    'USER': 'app', 'PASSWORD': 'PwA13dj9Q', 'HOST': 'db.acme.io'}}\n",
    "docker-compose.yml": "services:\n  api:\n    image: x\n    environment:\n"
                          "      - DATABASE_URL=postgres://api:PwA13cmp9Q@db:5432/api\n",
    "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
                           "        - name: app\n          env:\n            - name: DATABASE_URL\n"
                           "              value: postgresql://u:PwA13k8s9Q@db.ns.svc/app\n",
    "pg_service.conf": "[main]\nhost=db.acme.io\nuser=app\npassword=PwA13svc9Q\n",
    "alembic.ini": "[alembic]\nsqlalchemy.url = postgresql+psycopg2://app:PwA13sqa9Q@db.acme.io/app\n",
}
PASSWORDS = [w for text in FILES.values() for w in __import__("re").findall(r"PwA13\w+?9Q", text)]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("app013")
    for name, text in FILES.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    return base


def test_every_format_is_reported_once(tree):
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        report = run(make_settings({"paths": ["."], "select": ["APP013"]}, use_config=False))
    finally:
        os.chdir(cwd)
    where = sorted(os.path.normpath(f.span.file) for f in report.findings if f.code == "APP013")
    assert where == sorted(os.path.normpath(n) for n in FILES), where
    assert len(PASSWORDS) == len(FILES)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_output_format_prints_a_password(tree, fmt):
    """Every reporter (text, JSON, SARIF, markdown, HTML, github, ...) through the CLI."""
    proc = subprocess.run([sys.executable, "-m", "advisor", "check", ".", "--select", "APP013", "--format", fmt,
                           "--no-config"], cwd=tree, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out  # info: it fails no run by default
    assert "APP013" in out
    leaked = [p for p in PASSWORDS if p in out]
    assert not leaked, f"{fmt}: {leaked}"


def test_rendered_reports_hold_no_password_in_process(tree):
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        report = run(make_settings({"paths": ["."], "select": ["APP013"]}, use_config=False))
    finally:
        os.chdir(cwd)
    for fmt in FORMATS:
        out = render(report, fmt)
        assert not [p for p in PASSWORDS if p in out], fmt
    data = json.loads(render(report, "json"))
    assert sum(1 for f in data["findings"] if f["code"] == "APP013") == len(FILES)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_file_git_ignores_is_not_reported_and_a_kept_one_is(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                       env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})

    git("init", "-q")
    (tmp_path / ".gitignore").write_text(".env\n")
    line = _url(PW)
    assert _findings(tmp_path, ".env", line)[0] == []  # kept on the machine: where a password belongs
    assert len(_findings(tmp_path, "app.env", line)[0]) == 1  # `git add .` would commit it
    # a tracked file stays reported even when a pattern matches it (git ignores only untracked files)
    (tmp_path / "prod.env").write_text(line)
    git("add", "prod.env")
    (tmp_path / ".gitignore").write_text(".env\nprod.env\n")
    assert len(_findings(tmp_path, "prod.env", line)[0]) == 1


def test_outside_a_work_tree_no_git_is_run(tmp_path, monkeypatch):
    from advisor.loaders import git_ignored

    calls = []
    monkeypatch.setattr(git_ignored.subprocess, "run", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(git_ignored, "repository_root", lambda folder: None)
    assert git_ignored.git_ignores(str(tmp_path / "app.env")) is None
    assert calls == []


def test_corpus_redacted_password_is_no_password():
    """A published .env.prod with a Neon DATABASE_URL whose password the corpus scrubbed to
    REDACTED: a value removed from a copy is no credential anyone would rotate (a blind corpus audit
    asked for placeholders like it to be recognised); the same URL with a literal password is
    reported, and the password never printed."""
    require_corpus()
    path = CORPUS / "clients" / "electric_linearlite-read-only.env.prod"
    report = run(make_settings({"paths": [str(path)], "select": ["APP013"]}, use_config=False))
    assert [f for f in report.findings if f.code == "APP013"] == []


def test_a_literal_neon_password_is_reported_without_it(tmp_path):
    path = tmp_path / "app.env.prod"
    path.write_text(f"DATABASE_URL=postgresql://neondb_owner:{PW}@ep-curly-truth-a43bi79a.us-east-1.aws.neon.tech"
                    "/neondb?sslmode=require\n")
    report = run(make_settings({"paths": [str(path)], "select": ["APP013"]}, use_config=False))
    (f,) = [f for f in report.findings if f.code == "APP013"]
    assert "neon.tech" in f.message and "neondb_owner" in f.message
    assert PW not in render(report, "text") and PW not in render(report, "json")


@pytest.mark.parametrize("name", [".env.example", "app.sample.env", "env_example.env"])
def test_a_file_named_as_an_example_asks_for_a_placeholder(tmp_path, name):
    """Examples are what users copy: whether the password is real or made up, a placeholder
    belongs there (and a real one must be rotated)."""
    (f,) = _findings(tmp_path, name, _url(PW))[0]
    assert f.message.endswith("an example file hands it to everyone who copies the file")
    assert f.fix.startswith("write a placeholder instead (<password>)") and "if it is a real password, rotate" in f.fix
    (g,) = _findings(tmp_path / "b", "prod.env", _url(PW))[0]
    assert g.fix.startswith("move it out of the file: keep prod.env out of the repository")
