"""The composite GitHub Action (action.yml), run offline: its `run:` steps are executed as bash
scripts in a temporary repository with the environment a runner gives them (GITHUB_ACTION_PATH,
GITHUB_OUTPUT, GITHUB_PATH, RUNNER_TEMP, the step's `env:` with `${{ inputs.* }}` filled in).
The install step really pip-installs pgpath from the action's own folder. The upload step
(github/codeql-action/upload-sarif) needs GitHub and is checked for its wiring only."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
DEFAULTS = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}


def _fill(text: str, inputs: dict, runner_temp: str) -> str:
    def sub(m):
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return str(inputs[expr[len("inputs."):]])
        if expr == "runner.temp":
            return runner_temp
        raise AssertionError(f"expression the test does not model: {expr}")
    return re.sub(r"\$\{\{(.*?)\}\}", sub, text)


def run_step(step, *, cwd: Path, inputs: dict, temp: Path, action_path: Path):
    out_file, path_file = temp / "github_output", temp / "github_path"
    out_file.touch()
    path_file.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "PYTHON"))}
    env.update({"GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(action_path), "GITHUB_OUTPUT": str(out_file),
                "GITHUB_PATH": str(path_file), "GITHUB_WORKSPACE": str(cwd), "RUNNER_TEMP": str(temp), "CI": "true"})
    env.update({k: _fill(str(v), inputs, str(temp)) for k, v in (step.get("env") or {}).items()})
    assert step["shell"] == "bash"
    script = _fill(step["run"], inputs, str(temp))
    # GitHub runs bash steps as `bash --noprofile --norc -eo pipefail {0}`
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
    return proc, outputs


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The action's folder (a copy of this working tree) and a runner temp with pgpath installed
    by the action's own install step."""
    temp = tmp_path_factory.mktemp("runner-temp")
    action_path = tmp_path_factory.mktemp("action") / "pgpath"
    shutil.copytree(ROOT, action_path, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "__pycache__", ".hypothesis",
                                                  ".pytest_cache", "build"))
    install = ACTION["runs"]["steps"][0]
    assert install["name"] == "Install pgpath"
    proc, _ = run_step(install, cwd=temp, inputs=DEFAULTS, temp=temp, action_path=action_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (temp / "pgpath-venv" / "bin" / "pgpath").exists()
    assert (temp / "github_path").read_text().strip() == str(temp / "pgpath-venv" / "bin")
    return temp, action_path


def _check(repo, installed, **inputs):
    temp, action_path = installed
    step = ACTION["runs"]["steps"][1]
    assert step["id"] == "check"
    (temp / "github_output").write_text("")
    return run_step(step, cwd=repo, inputs={**DEFAULTS, **inputs}, temp=temp, action_path=action_path)


@pytest.fixture
def repo(tmp_path):
    shutil.copytree(ROOT / "samples" / "risky", tmp_path / "deploy" / "risky")
    shutil.copytree(ROOT / "samples" / "healthy", tmp_path / "deploy" / "healthy")
    return tmp_path


def test_action_writes_sarif_and_annotations_and_fails_on_warning(repo, installed):
    proc, outputs = _check(repo, installed, paths="deploy/risky")
    assert proc.returncode == 1 and outputs["exit-code"] == "1", proc.stderr
    assert (repo / "pgpath.sarif").is_file()
    import json

    sarif = json.loads((repo / "pgpath.sarif").read_text())
    annotations = [ln for ln in proc.stdout.splitlines() if ln.startswith("::")]
    assert len(sarif["runs"][0]["results"]) == len(annotations) > 15  # every finding in both outputs
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("deploy/risky/")  # relative to the repository root, as code scanning expects
    assert proc.stdout.startswith("::") and "::error file=deploy/risky/" in proc.stdout


def test_exit_code_follows_fail_on(repo, installed):
    proc, outputs = _check(repo, installed, paths="deploy/healthy")  # no finding
    assert proc.returncode == 0 and outputs["exit-code"] == "0", proc.stdout + proc.stderr
    assert (repo / "pgpath.sarif").is_file()
    proc, outputs = _check(repo, installed, paths="deploy/healthy", **{"fail-on": "info"})
    assert proc.returncode == 0 and outputs["exit-code"] == "0", proc.stdout
    # a server-wide statement_timeout is hygiene: PG010's info (opt-in: named in pgpath.yaml), which fails
    # the run only with fail-on info
    (repo / "pgpath.yaml").write_text("select: [ALL, PG010]\n")
    conf = repo / "deploy" / "healthy" / "postgresql.conf"
    conf.write_text(conf.read_text() + "statement_timeout = '5min'\n")
    proc, outputs = _check(repo, installed, paths="deploy/healthy")
    assert proc.returncode == 0 and outputs["exit-code"] == "0" and "title=PG010" in proc.stdout, proc.stdout
    proc, outputs = _check(repo, installed, paths="deploy/healthy", **{"fail-on": "info"})
    assert proc.returncode == 1 and outputs["exit-code"] == "1"
    proc, outputs = _check(repo, installed, paths="deploy/risky", **{"fail-on": "error"})
    assert proc.returncode == 1
    (repo / "deploy" / "risky" / "pgbouncer.ini").unlink()
    (repo / "deploy" / "risky" / "app" / ".env").unlink()
    proc, outputs = _check(repo, installed, paths="deploy/risky", **{"fail-on": "error"})
    assert outputs["exit-code"] == "0"  # no error left: MEM001's worst case above RAM is a warning
    proc, outputs = _check(repo, installed, paths="deploy/risky", **{"fail-on": "warning"})
    assert outputs["exit-code"] == "1"  # MEM001's warning still there
    proc, outputs = _check(repo, installed, paths="deploy/risky/haproxy.cfg", **{"fail-on": "error"})
    assert proc.returncode == 0 and outputs["exit-code"] == "0"


def test_inputs_paths_config_format_and_sarif_file(repo, installed):
    (repo / "ci.toml").write_text('[tool.pgpath]\nselect = ["TLS001"]\n')
    proc, outputs = _check(repo, installed, paths="deploy/risky\ndeploy/healthy", config="ci.toml", format="text",
                           **{"sarif-file": "out.sarif", "fail-on": "info"})
    assert outputs["exit-code"] == "1"  # (an exposure is info: --fail-on info gates on it)
    assert proc.stdout.splitlines()[0] == ("deploy/risky/postgresql.conf:9:7: TLS001 info ssl = off: connections "
                                           "are not encrypted, and clients with sslmode=require cannot connect")
    assert (repo / "out.sarif").is_file()
    proc, outputs = _check(repo, installed, paths="no/such/dir")
    assert outputs["exit-code"] == "2" and "no such file or directory" in proc.stdout + proc.stderr


def test_upload_step_wiring():
    upload = ACTION["runs"]["steps"][2]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "always()" in upload["if"]  # uploads even when the check step failed on findings
