"""MEM001's third alternative for a container: the memory limit under which the estimate fits,
written in the file's own unit style; applied as an operator would, it clears the finding."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from advisor.engine import make_settings, run

RULES = Path(__file__).resolve().parent / "rules" / "MEM001"


def _mem001(path: Path):
    report = run(make_settings({"paths": [str(path)], "select": ["MEM001"]}, use_config=False))
    return [f for f in report.findings if f.code == "MEM001"]


@pytest.mark.parametrize("fixture,written,style", [
    ("bad_cnpg_cluster.yaml", "memory: 1Gi", r"\d+Mi|\d+Gi"),
    ("bad_compose.yml", "mem_limit: 4g", r"\d+m|\d+g"),
])
def test_the_raised_limit_is_in_the_files_style_and_clears_the_finding(tmp_path, fixture, written, style):
    path = tmp_path / fixture
    shutil.copy(RULES / fixture, path)
    [finding] = _mem001(path)
    limit = re.search(r"or a memory limit of (\S+) \(now ([^)]+)\)", finding.fix)
    assert limit and re.fullmatch(style, limit.group(1)) and written.endswith(limit.group(2)), finding.fix
    path.write_text(path.read_text().replace(written, written.replace(limit.group(2), limit.group(1))))
    assert _mem001(path) == []


def test_no_limit_is_proposed_for_a_machines_ram(tmp_path):
    (tmp_path / "postgresql.conf").write_text("# pgpath: ram=16GB\nmax_connections = 2000\nwork_mem = 64MB\n")
    [finding] = _mem001(tmp_path / "postgresql.conf")
    assert "behind a pooler" in finding.fix and "memory limit of" not in finding.fix
