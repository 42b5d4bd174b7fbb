"""scripts/test on a fresh Debian 12: the system python3 refuses `pip install` (PEP 668), so the
script must make (or reuse) a virtual environment and install and run pytest from it.

The test runs the real script with stub programs first on PATH: a `python3` that behaves like
Debian's (refuses `-m pip install`, makes a venv whose python logs what it is asked to do), and
the daemons the script looks for, so that nothing is installed and no network is used."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SYSTEM_PYTHON = """#!/bin/sh
echo "python3 $*" >> "$STUB_LOG"
case "$*" in
  *"-m pip install"*) echo "error: externally-managed-environment" >&2; exit 1 ;;
  "-c"*) exit 0 ;;
  "-m venv "*)
    dir="$3"; mkdir -p "$dir/bin"
    printf '#!/bin/sh\\necho "venv-python $*" >> "$STUB_LOG"\\n' > "$dir/bin/python"
    chmod +x "$dir/bin/python"; exit 0 ;;
esac
exit 2
"""


def _stub(folder: Path, name: str, text: str = "#!/bin/sh\nexit 0\n") -> None:
    path = folder / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_scripts_test_installs_and_runs_pytest_in_a_virtual_environment(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "python3", SYSTEM_PYTHON)
    for name in ("pgbouncer", "haproxy", "ip", "nft", "conntrack", "git", "chromium", "java"):
        _stub(bin_dir, name)
    (tmp_path / "postgresql.jar").write_bytes(b"")
    log = tmp_path / "log"
    venv = tmp_path / "venv"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log), "PGPATH_VENV": str(venv),
           "PGPATH_CHROMIUM": str(bin_dir / "chromium"), "PGPATH_PGJDBC_JAR": str(tmp_path / "postgresql.jar")}
    proc = subprocess.run([str(ROOT / "scripts" / "test"), "tests/test_cli.py", "-q"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    assert not any(c.startswith("python3 -m pip") for c in calls), calls
    assert f"python3 -m venv {venv}" in calls
    assert 'venv-python -m pip install -q --disable-pip-version-check -e .[test]' in calls
    assert calls[-1] == "venv-python -m pytest tests/test_cli.py -q"


def test_scripts_test_installs_debians_pgjdbc_when_its_jar_is_absent(tmp_path):
    """The lab's real old driver (tests/lab/test_lab_startup_params.py, START12-13) comes from Debian:
    without the jar, scripts/test (as root) asks apt-get for libpostgresql-jdbc-java, and only for
    what is missing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "python3", SYSTEM_PYTHON)
    for name in ("pgbouncer", "haproxy", "ip", "nft", "conntrack", "git", "chromium", "java", "service"):
        _stub(bin_dir, name)
    _stub(bin_dir, "id", "#!/bin/sh\necho 0\n")
    _stub(bin_dir, "apt-get", '#!/bin/sh\necho "apt-get $*" >> "$STUB_LOG"\n')
    log = tmp_path / "log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log),
           "PGPATH_VENV": str(tmp_path / "venv"), "PGPATH_CHROMIUM": str(bin_dir / "chromium"),
           "PGPATH_PGJDBC_JAR": str(tmp_path / "absent.jar")}
    proc = subprocess.run([str(ROOT / "scripts" / "test"), "-q"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    installs = [c for c in log.read_text().splitlines() if c.startswith("apt-get install")]
    assert installs == ["apt-get install -y -qq --no-install-recommends libpostgresql-jdbc-java"], installs


def test_readme_first_command_and_scripts_test_share_the_venv():
    readme = (ROOT / "README.md").read_text()
    script = (ROOT / "scripts" / "test").read_text()
    assert "python3 -m venv .venv" in readme
    assert 'venv="${PGPATH_VENV:-.venv}"' in script
    assert "../shared/corpus" in readme and "skipped" in readme


def _pgpath(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}, timeout=300)


def test_check_at_the_repository_root_lints_what_a_user_would():
    """The repository's pgpath.yaml leaves out the test fixtures, fuzz seeds and the deliberately
    broken sample: `pgpath check .` reads samples/healthy and passes."""
    proc = _pgpath("check", ".", "--format", "json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    import json

    data = json.loads(proc.stdout)
    read = {os.path.normpath(d["path"]) for d in data["documents"]}
    assert read and all(p.startswith(os.path.join("samples", "healthy")) for p in read), read
    assert not any(f["severity"] in ("error", "warning") for f in data["findings"])
    # without it, the fixtures are what a run finds (what the file is for)
    assert _pgpath("check", ".", "--no-config", "--format", "json").returncode == 1


def test_explain_shows_examples_not_fixture_option_files():
    out = _pgpath("explain", "MEM001").stdout
    assert ".options.yaml" not in out
    assert "Checked with `pgpath check bad_postgresql.conf --ram 32GB`" in out
    assert "**Problem** (`bad_postgresql.conf`)" in out


def test_a_named_file_no_detector_claims_is_read_as_text(tmp_path):
    (tmp_path / "notes.md").write_text("Orders database: postgres://app@db.internal:5432/orders?sslmode=disable\n")
    (tmp_path / "plain.xyz").write_text("nothing here\n")
    proc = _pgpath("check", "notes.md", "plain.xyz", "--no-config", "--format", "json", "--fail-on", "info", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    import json

    data = json.loads(proc.stdout)
    assert sorted(d["path"] for d in data["documents"]) == ["notes.md", "plain.xyz"]
    assert data["input_errors"] == []
    assert [f["code"] for f in data["findings"]] == ["APP001"]
    assert data["findings"][0]["span"]["line"] == 1
    dump = json.loads(_pgpath("dump", "plain.xyz", cwd=tmp_path).stdout)
    assert dump["kind"] == "client" and dump["meta"]["format"] == "text"
    # a binary file named on the command line is still an input error with its reason
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01")
    proc = _pgpath("check", "blob.bin", "--no-config", cwd=tmp_path)
    assert proc.returncode == 2 and "binary" in proc.stderr + proc.stdout
