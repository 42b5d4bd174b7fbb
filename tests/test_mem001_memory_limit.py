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


# --- the floor: one work_mem per connection and parallel worker (corpus audit 12, finding 6) ---

from hypothesis import HealthCheck, example, given, settings, strategies as st  # noqa: E402

MB = 1024**2
_ASSIGN = re.compile(r"(\w+) = (\d+)(kB|MB|GB)?\b")


def _floor(shared_mb, connections, work_mem_kb, maint_mb, av_kb=None, workers=8):
    """PostgreSQL 18's defaults elsewhere: wal_buffers -1 (shared_buffers / 32, 64kB..16MB),
    autovacuum_max_workers 3, max_parallel_workers 8 (= max_worker_processes 8)."""
    shared = shared_mb * MB
    wal = min(max(shared / 32, 64 * 1024), 16 * MB)
    av_each = av_kb * 1024 if av_kb is not None else maint_mb * MB
    return shared + wal + 3 * av_each + (connections + min(workers, 8)) * work_mem_kb * 1024


def _conf(values: dict) -> str:
    units = {"shared_buffers": "MB", "work_mem": "kB", "maintenance_work_mem": "MB", "autovacuum_work_mem": "kB"}
    return "".join(f"{k} = {v}{units.get(k, '')}\n" for k, v in values.items())


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shared_mb=st.integers(16, 8192), connections=st.integers(10, 2000), work_mem_kb=st.integers(1024, 262144),
       maint_mb=st.integers(16, 2048), ram_mb=st.integers(512, 65536))
# found by this test: too few connections fit beside shared_buffers at 68% of the RAM, and the first
# proposal was autovacuum_work_mem with advice; a quarter of the RAM for shared_buffers fits
@example(shared_mb=1210, connections=10, work_mem_kb=1025, maint_mb=176, ram_mb=1770)
def test_reported_exactly_when_one_work_mem_each_exceeds_the_ram_and_the_fix_fits_it(
        tmp_path, shared_mb, connections, work_mem_kb, maint_mb, ram_mb):
    """MEM001 reports when the floor — shared_buffers + wal_buffers + autovacuum's memory +
    (max_connections + parallel workers) × one work_mem — is above the RAM, never on the busy-server
    bound alone; and the values its first proposal writes bring that floor within 80 % of the RAM
    (the fixed-part proposal: the fixed part within the RAM)."""
    conf = tmp_path / "postgresql.conf"
    values = {"shared_buffers": shared_mb, "max_connections": connections, "work_mem": work_mem_kb,
              "maintenance_work_mem": maint_mb}
    conf.write_text(f"# pgpath: ram={ram_mb}MB\n" + _conf(values))
    found = _mem001(conf)
    ram = ram_mb * MB
    assert bool(found) == (_floor(shared_mb, connections, work_mem_kb, maint_mb) > ram), found
    if not found:
        return
    [finding] = found
    first = finding.fix.split("; or ")[0]
    if not re.match(r"\w+ = ", first):
        return  # "lower max_connections (...) or shared_buffers (...); or work_mem = ...": advice, no value first
    applied = dict(values)
    for name, number, unit in _ASSIGN.findall(first):
        scale = {"kB": 1, "MB": 1024, "GB": 1024**2}
        if name in ("work_mem", "autovacuum_work_mem"):
            applied[name] = int(number) * scale[unit]
        elif name in ("shared_buffers", "maintenance_work_mem"):
            applied[name] = int(number) * scale[unit] // 1024
        else:
            applied[name] = int(number)
    assert applied != values, finding.fix
    after = _floor(applied["shared_buffers"], applied["max_connections"], applied["work_mem"],
                   applied["maintenance_work_mem"], applied.get("autovacuum_work_mem"),
                   applied.get("max_parallel_workers", 8))
    if "fixed part alone" in finding.message:
        fixed = after - (applied["max_connections"] + applied.get("max_parallel_workers", 8)) * applied["work_mem"] * 1024
        assert fixed <= ram, (finding.fix, fixed, ram)
    else:
        assert after <= 0.8 * ram, (finding.fix, after, ram)
        conf.write_text(f"# pgpath: ram={ram_mb}MB\n" + _conf(applied))
        assert _mem001(conf) == []
