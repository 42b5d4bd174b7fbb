#!/usr/bin/env python3
"""Paste into README.md the real output of the runs it shows (tests/test_readme.py checks them):
the rule table, `pgpath check samples/risky`, the first path of `pgpath path samples/risky` and
the GitHub annotations of a run from samples/.

    python3 scripts/refresh_readme.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pgpath(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **env}, check=False)


def replace_block(text: str, marker: str, body: str) -> str:
    start = text.index("```\n", text.index(marker)) + 4
    return text[:start] + body + text[text.index("```\n", start):]


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    text = replace_block(text, "([docs/rules/](docs/rules/README.md)):", pgpath("rules").stdout)
    run = pgpath("check", "samples/risky")
    marker = "Real output of the command above (exit code "
    i = text.index(marker) + len(marker)
    text = text[:i] + str(run.returncode) + text[text.index(")", i):]
    text = replace_block(text, marker, run.stdout)
    first = pgpath("path", "samples/risky").stdout.split("\n\n")[0] + "\n"
    text = replace_block(text, "`pgpath path samples/risky` (real output, first path of two):", first)
    annotations = pgpath("check", "risky", "--select", "MEM001,PGB003,TLS001", cwd=ROOT / "samples",
                         GITHUB_ACTIONS="true").stdout
    text = replace_block(text, "Annotations from a real run", annotations)
    readme.write_text(text)


if __name__ == "__main__":
    main()
