"""Reporters: pure functions `Report -> str`, one module per output format."""

from __future__ import annotations

import importlib

FORMATS = {
    "text": "advisor.reporters.text",
    "json": "advisor.reporters.json_report",
}


def render(report, fmt: str, **kwargs) -> str:
    return importlib.import_module(FORMATS[fmt]).render(report, **kwargs)
