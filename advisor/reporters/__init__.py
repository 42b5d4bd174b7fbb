"""Reporters: pure functions `Report -> str`, one module per output format.

Each module is imported only when its format is chosen (`pgpath check` stays fast). Reporters
read the Report only (findings, documents, input errors, settings, rules' metadata), never
`advisor.rules`, and print nothing a finding does not already carry (secrets are redacted there).
"""

from __future__ import annotations

import importlib

FORMATS = {
    "text": "advisor.reporters.text",
    "json": "advisor.reporters.json_report",
    "sarif": "advisor.reporters.sarif",
    "github": "advisor.reporters.github",
    "junit": "advisor.reporters.junit",
    "gitlab": "advisor.reporters.gitlab",
    "markdown": "advisor.reporters.markdown",
    "html": "advisor.reporters.html",
}


def render(report, fmt: str, **kwargs) -> str:
    return importlib.import_module(FORMATS[fmt]).render(report, **kwargs)
