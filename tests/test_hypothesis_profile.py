"""Hypothesis in CI: fixed examples, no example database (a failure once seen locally and kept
in .hypothesis/ must not fail a later clean run), and .hypothesis/ is not in the repository."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_profile_reads_no_example_database():
    code = ("import conftest\nfrom hypothesis import settings\nsettings.load_profile('ci')\n"
            "print(settings().database is None, settings().derandomize)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "tests", capture_output=True, text=True,
                          env={**os.environ, "CI": "true", "PYTHONPATH": str(ROOT)}, timeout=60)
    assert proc.stdout.split() == ["True", "True"], proc.stdout + proc.stderr


def test_the_example_database_is_git_ignored():
    assert ".hypothesis/" in (ROOT / ".gitignore").read_text().split()
    listed = subprocess.run(["git", "ls-files", ".hypothesis"], cwd=ROOT, capture_output=True, text=True).stdout
    assert listed == ""
