"""The pre-commit hook with the real pre-commit: installed from a clone of this repository in a
temporary git repository (pre-commit builds the hook's own virtualenv with pip), a commit with
a bad postgresql.conf fails with the finding, the fixed file commits. Also: the hook's `files`
pattern covers every kind pgpath reads."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def _git(*args, cwd):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_files_pattern_covers_every_kind():
    pattern = re.compile(HOOKS[0]["files"])
    names = ["postgresql.conf", "deploy/postgresql.auto.conf", "conf.d/10-memory.conf", "pgbouncer.ini",
             "pgbouncer-prod.ini.j2", "haproxy.cfg", "etc/haproxy/haproxy.cfg.tmpl", "app/.env", ".env.production",
             "prod.env", "application.properties", "src/main/resources/application-prod.yml", "hikari.properties",
             "pg_service.conf", "alembic.ini", "settings.py", "docker-compose.yml", "k8s/deployment.yaml",
             "node/db.json", "pyproject.toml", "migrations/001_roles.sql", "infra/main.tf", "prod.tfvars",
             "aws/elbv2-attributes.json", "env.list", "postgresql.conf.sample", "sysctl.d/60-keepalive.conf",
             "systemd/postgresql@.service", "systemd/postgresql@16-main.service.d/oom.conf", "certs/server.crt",
             "certs/server.key", "haproxy/site.pem", "k8s/cnpg-cluster.yaml", "scripts/roles.psql"]
    missed = [n for n in names if not pattern.search(n)]
    assert not missed
    assert not pattern.search("README.md") and not pattern.search("src/app.go")
    # every file name pgpath recognises by name alone is covered
    from advisor.loaders import _USUAL_NAMES

    assert all(pattern.search(n) for n in _USUAL_NAMES)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """A git repository holding this working tree's files (so uncommitted changes are tested)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    dest = tmp_path_factory.mktemp("pgpath-hook-repo")
    listed = _git("ls-files", "-co", "--exclude-standard", "-z", cwd=ROOT)
    if listed.returncode != 0:  # not a git checkout: copy the package files
        files = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                 if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    else:
        files = [f for f in listed.stdout.split("\0") if f]
    for rel in files:
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
        elif src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(src), dest / rel)
    assert _git("init", "-q", cwd=dest).returncode == 0
    _git("add", "-A", cwd=dest)
    r = _git("commit", "-q", "-m", "snapshot", cwd=dest)
    assert r.returncode == 0, r.stderr
    return dest, _git("rev-parse", "HEAD", cwd=dest).stdout.strip()


def test_pre_commit_blocks_a_bad_postgresql_conf_and_passes_the_fix(tmp_path, hook_repo):
    pytest.importorskip("pre_commit", reason="pre-commit is a test extra (pip install -e '.[test]')")
    repo, rev = hook_repo
    project = tmp_path / "project"
    project.mkdir()
    assert _git("init", "-q", cwd=project).returncode == 0
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {repo}\n  rev: {rev}\n  hooks:\n  - id: pgpath\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PRE_COMMIT_COLOR": "never"}
    env.pop("GITHUB_ACTIONS", None)
    r = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=project, capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    db = project / "db"
    db.mkdir()
    (db / "postgresql.conf").write_text("ssl = on\ntcp_keepalives_idle = 60\nwork_mem = 8mb\n")
    (project / "README.md").write_text("# project\n")
    _git("add", "-A", cwd=project)
    r = subprocess.run(["git", "commit", "-m", "bad"], cwd=project, capture_output=True, text=True, timeout=900,
                       env={**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "db/postgresql.conf:3:12: PG002 error" in out, out
    assert "pgpath (PostgreSQL connection-path lint)" in out and "Failed" in out
    assert _git("rev-parse", "--verify", "HEAD", cwd=project).returncode != 0  # nothing committed

    (db / "postgresql.conf").write_text("ssl = on\ntcp_keepalives_idle = 60\nwork_mem = '8MB'\n")
    _git("add", "-A", cwd=project)
    r = subprocess.run(["git", "commit", "-m", "fixed"], cwd=project, capture_output=True, text=True, timeout=900,
                       env={**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert re.search(r"pgpath \(PostgreSQL connection-path lint\)\.+Passed", out), out
