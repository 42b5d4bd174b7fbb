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


def test_a_systemd_limit_is_raised_as_memorymax_with_systemds_units(tmp_path):
    """The second scenario audit's D7: systemd's MemoryMax= takes K/M/G/T (base 1024), not
    Kubernetes' Gi; applied to the unit, the raised limit clears the finding."""
    (tmp_path / "override.conf").write_text("[Service]\nMemoryMax=2G\n")
    (tmp_path / "postgresql.conf").write_text("max_connections = 300\nshared_buffers = 1GB\nwork_mem = 16MB\n")
    [finding] = _mem001(tmp_path)
    m = re.search(r"or MemoryMax=(\d+[MG]) \(now MemoryMax=2G\)", finding.fix)
    assert m, finding.fix
    (tmp_path / "override.conf").write_text(f"[Service]\nMemoryMax={m.group(1)}\n")
    assert _mem001(tmp_path) == []


def test_a_fixed_part_above_the_limit_is_a_warning_not_an_error(tmp_path):
    """The server starts when shared_buffers + autovacuum's caps exceed the cgroup limit (checked in
    a 128 MB cgroup with shared_buffers 256MB: it ran until the buffers filled): ordinary use ends
    it, which is a warning under the severity contract."""
    (tmp_path / "override.conf").write_text("[Service]\nMemoryMax=4G\n")
    (tmp_path / "postgresql.conf").write_text("shared_buffers = 3GB\nmaintenance_work_mem = 512MB\n")
    [finding] = _mem001(tmp_path)
    assert str(finding.severity) == "warning" and "fixed part alone" in finding.message


@pytest.mark.parametrize("conf,memory,severity", [
    ("", "512M", "info"),                      # PostgreSQL's defaults: 756 MB at one work_mem each, 15 queries fit
    ("shared_buffers = 6GB\nwork_mem = 64MB\nmax_connections = 200\n", "8G", "warning"),  # 9 queries fit
])
def test_concurrency_estimates_are_info_unless_ten_queries_do_not_fit(tmp_path, conf, memory, severity):
    """The corpus audit's point: an estimate that needs every connection busy is saturation, not
    ordinary use (PostgreSQL's defaults in a 512M container reach 756 MB and run); a server where
    fewer than ten queries fit beside its fixed part fails under ordinary load."""
    (tmp_path / "override.conf").write_text(f"[Service]\nMemoryMax={memory}\n")
    (tmp_path / "postgresql.conf").write_text(conf or "port = 5432\n")
    [finding] = _mem001(tmp_path)
    assert str(finding.severity) == severity, finding.message
    assert ("fewer than 10: ordinary load reaches it" in finding.message) == (severity == "warning")
