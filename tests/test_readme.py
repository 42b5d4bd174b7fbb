"""The README shows real output: its pasted runs must be what pgpath prints today
(`python3 scripts/refresh_readme.py` pastes them again)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pgpath(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}, timeout=120)


def _block_after(text: str, marker: str) -> str:
    start = text.index("```\n", text.index(marker)) + 4
    return text[start:text.index("```\n", start)]


def test_readme_rule_table_is_the_output_of_pgpath_rules():
    readme = (ROOT / "README.md").read_text()
    assert _block_after(readme, "([docs/rules/](docs/rules/README.md)):") == _pgpath("rules").stdout


def test_readme_counts_the_rules_there_are():
    import re

    from advisor.rules import RULE_ENTRIES

    readme = (ROOT / "README.md").read_text()
    assert int(re.search(r"^(\d+) rules today", readme, re.M).group(1)) == len(RULE_ENTRIES)


def test_readme_sample_run_is_the_output_of_pgpath_check_samples_risky():
    readme = (ROOT / "README.md").read_text()
    marker = "Real output of the command above (exit code "
    run = _pgpath("check", "samples/risky")
    said_code = readme[readme.index(marker) + len(marker):].split(")", 1)[0]
    assert said_code == str(run.returncode)
    assert _block_after(readme, marker) == run.stdout


def test_readme_path_output_is_the_first_path_pgpath_path_prints():
    readme = (ROOT / "README.md").read_text()
    first = _pgpath("path", "samples/risky").stdout.split("\n\n")[0] + "\n"
    assert _block_after(readme, "`pgpath path samples/risky` (real output, first path of two):") == first


def test_readme_annotations_are_what_a_github_actions_run_prints():
    readme = (ROOT / "README.md").read_text()
    run = subprocess.run([sys.executable, "-m", "advisor", "check", "risky", "--select", "MEM001,PGB003,TLS001"],
                         cwd=ROOT / "samples", capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "GITHUB_ACTIONS": "true"})
    assert _block_after(readme, "Annotations from a real run") == run.stdout
