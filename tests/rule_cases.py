"""Running one rule on one fixture case, as `pgpath check` would, and rendering its text."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from advisor.engine import make_settings, run
from advisor.reporters import render

RULES_DIR = Path(__file__).resolve().parent / "rules"


def cases() -> list[tuple[str, Path]]:
    out = []
    for folder in sorted(p for p in RULES_DIR.iterdir() if p.is_dir()):
        for case in sorted(folder.iterdir()):
            if case.name.startswith(("bad", "good")) and not case.name.endswith((".expected", ".options.yaml")):
                out.append((folder.name, case))
    return out


def options_for(case: Path) -> dict:
    options: dict = {}
    for candidate in (case.parent / "options.yaml", case.parent / f"{case.name}.options.yaml"):
        if candidate.is_file():
            options.update(yaml.safe_load(candidate.read_text()) or {})
    return options


def run_case(code: str, case: Path):
    """The report of `pgpath check <case> --select <code>` run from the rule's folder."""
    cli = {k.replace("-", "_"): v for k, v in options_for(case).items()}
    cli["paths"] = [case.name]
    cli.setdefault("select", [code])
    cwd = os.getcwd()
    os.chdir(case.parent)
    try:
        # a case folder may carry its own topology (pgpath.yaml), as a user's repository does
        topology = case / "pgpath.yaml"
        if case.is_dir() and topology.is_file():
            settings = make_settings(cli, config_path=str(Path(case.name) / "pgpath.yaml"))
        else:
            settings = make_settings(cli, use_config=False)
        report = run(settings)
        return report, render(report, "text")
    finally:
        os.chdir(cwd)
