"""Host facts from the files of a server's host (advisor.path.hosts): sysctl files and the systemd
units that run the server, in a copy of a host's file system as well as beside postgresql.conf,
with or without a topology (whose `hosts:` are laid over them, never in their place).

Scenario audit 17, D3: s06's `db-host/etc/systemd/system/postgresql@16-main.service.d/override.conf`
(MemoryMax=4G) beside `db-host/etc/postgresql/16/main/postgresql.conf` (shared_buffers 6GB) gave
no MEM001; moved beside postgresql.conf it did, but not once pgpath.yaml declared the deployment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.model.host import host_root, pg_cluster, unit_cluster

S06 = Path(__file__).resolve().parent / "rules" / "MEM001" / "bad_memorymax_host_tree"
PG = ("max_connections = 150\nshared_buffers = 6GB\nwork_mem = 16MB\nmaintenance_work_mem = 512MB\n")
DROP_IN = "[Service]\nOOMScoreAdjust=-1000\nMemoryMax={}\n"
TOPOLOGY = ("deployments:\n  - name: hr\n    hops:\n      - client: {{file: hr.env}}\n"
            "      - postgres: {{file: {conf}{host}}}\nhosts:\n  db01: {{{facts}}}\n")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def report_of(root: Path, *select: str, config: bool = True):
    cwd = os.getcwd()
    os.chdir(root)
    try:
        cli = {"paths": ["."], "select": list(select)}
        if config and (root / "pgpath.yaml").is_file():
            return run(make_settings(cli, config_path="pgpath.yaml"))
        return run(make_settings(cli, use_config=False))
    finally:
        os.chdir(cwd)


def mem001(root: Path, config: bool = True) -> list[str]:
    return [f"{os.path.normpath(f.span.file)}:{f.span.line} {f.severity} {f.message}" for f in report_of(root, "MEM001", config=config).findings]


@pytest.mark.parametrize("config", [True, False])
def test_a_drop_in_in_the_hosts_etc_limits_the_server_of_its_cluster_with_or_without_a_topology(tmp_path, config):
    shutil.copytree(S06, tmp_path / "s06")
    [finding] = mem001(tmp_path / "s06", config)
    assert "warning" in finding and "> memory limit 4 GB" in finding, finding


def test_the_topology_keeps_the_files_facts_and_its_own_win(tmp_path):
    """A declared RAM does not hide the unit's MemoryMax (the smaller memory counts); a declared
    memory_limit replaces the unit's, which the host keeps as overridden (said, not dropped)."""
    write(tmp_path, {"db-host/etc/postgresql/16/main/postgresql.conf": PG,
                     "db-host/etc/systemd/system/postgresql@16-main.service.d/override.conf": DROP_IN.format("4G"),
                     "db-host/etc/sysctl.d/30-postgresql.conf": "vm.overcommit_memory = 0\n",
                     "hr.env": "DATABASE_URL=postgresql://hr@10.50.2.20:5432/hr\n"})
    conf = "db-host/etc/postgresql/16/main/postgresql.conf"
    write(tmp_path, {"pgpath.yaml": TOPOLOGY.format(conf=conf, host=", host: db01", facts="ram: 16GB")})
    [finding] = mem001(tmp_path)
    assert "> memory limit 4 GB" in finding, finding
    report = report_of(tmp_path, "SYS002")
    assert [os.path.normpath(f.span.file) for f in report.findings] == ["db-host/etc/sysctl.d/30-postgresql.conf"], report.findings
    [server] = [h for p in report.paths for h in p.hops if h.kind == "postgres"]
    assert server.host.name == "db01" and server.host.get("ram").origin == "declared"
    assert server.host.get("overcommit_memory").value == 0 and server.host.get("memory_limit").value == 4 * 1024**3

    write(tmp_path, {"pgpath.yaml": TOPOLOGY.format(conf=conf, host=", host: db01", facts="memory_limit: 8GB")})
    report = report_of(tmp_path, "MEM001")
    [server] = [h for p in report.paths for h in p.hops if h.kind == "postgres"]
    assert server.host.get("memory_limit").raw == "8GB"
    assert server.host.overridden["memory_limit"].raw == "4G"
    from advisor.reporters.paths import render

    shown = render(report)
    assert "host db01: memory_limit 8GB declared in the topology, over MemoryMax = 4G in " in shown, shown
    assert "on no path" not in shown, shown  # the unit and the sysctl file are the server's host's
    [finding] = report.findings
    assert "> memory limit 8 GB" in finding.message, finding.message

    write(tmp_path, {"pgpath.yaml": TOPOLOGY.format(conf=conf, host=", host: db01", facts="ram: 2GB")})
    [finding] = mem001(tmp_path)  # a MemoryMax above the machine's RAM limits nothing: the RAM counts
    assert "> RAM 2 GB" in finding, finding

    write(tmp_path, {"pgpath.yaml": TOPOLOGY.format(conf=conf, host="", facts="ram: 16GB")})
    [finding] = mem001(tmp_path)  # no host on the hop: the files' facts all the same
    assert "> memory limit 4 GB" in finding, finding


def test_each_cluster_of_a_host_takes_the_units_that_run_it(tmp_path):
    """Two Debian clusters of one host: postgresql@15-main's drop-in limits 15/main only; the
    template's drop-in (postgresql@.service.d) applies to both, an instance's own drop-in read after
    it by file name; PgBouncer's unit limits no PostgreSQL."""
    write(tmp_path, {"etc/postgresql/15/main/postgresql.conf": PG + "port = 5433\n",
                     "etc/postgresql/16/main/postgresql.conf": PG,
                     "etc/systemd/system/postgresql@15-main.service.d/override.conf": DROP_IN.format("4G"),
                     "etc/systemd/system/pgbouncer.service.d/limits.conf": "[Service]\nMemoryMax=256M\n"})
    found = mem001(tmp_path)
    assert len(found) == 1 and found[0].startswith("etc/postgresql/15/main/") and "memory limit 4 GB" in found[0], found
    write(tmp_path, {"etc/systemd/system/postgresql@.service.d/10-all.conf": DROP_IN.format("6G"),
                     "etc/systemd/system/postgresql@15-main.service.d/override.conf": DROP_IN.format("3G")})
    found = sorted(mem001(tmp_path))
    assert len(found) == 2, found
    assert found[0].startswith("etc/postgresql/15/main/") and "memory limit 3 GB" in found[0], found
    assert found[1].startswith("etc/postgresql/16/main/") and "memory limit 6 GB" in found[1], found


def test_a_pgdg_data_directory_takes_its_majors_unit(tmp_path):
    write(tmp_path, {"db/var/lib/pgsql/16/data/postgresql.conf": PG,
                     "db/etc/systemd/system/postgresql-15.service.d/override.conf": DROP_IN.format("1G"),
                     "db/etc/systemd/system/postgresql-16.service.d/override.conf": DROP_IN.format("4G")})
    [finding] = mem001(tmp_path)
    assert finding.startswith("db/var/lib/pgsql/16/data/") and "memory limit 4 GB" in finding, finding


def test_another_hosts_units_and_an_unknown_cluster_among_several_do_not_count(tmp_path):
    write(tmp_path, {"db1/etc/postgresql/16/main/postgresql.conf": PG,
                     "db2/etc/systemd/system/postgresql@16-main.service.d/override.conf": DROP_IN.format("1G")})
    assert mem001(tmp_path) == []
    # a server whose cluster is not said, on a host with units of two clusters: which runs it is not known
    write(tmp_path, {"db3/postgresql.conf": PG,
                     "db3/postgresql@15-main.service.d/override.conf": DROP_IN.format("1G"),
                     "db3/postgresql@16-main.service.d/override.conf": DROP_IN.format("2G")})
    assert mem001(tmp_path) == []
    # one cluster's unit only: it is the server's
    os.remove(tmp_path / "db3/postgresql@15-main.service.d/override.conf")
    [finding] = mem001(tmp_path)
    assert finding.startswith("db3/postgresql.conf") and "memory limit 2 GB" in finding, finding


@pytest.mark.parametrize("path,root", [
    ("db-host/etc/postgresql/16/main/postgresql.conf", "db-host"),
    ("db-host/etc/systemd/system/postgresql@16-main.service.d/override.conf", "db-host"),
    ("db-host/etc/sysctl.d/30-postgresql.conf", "db-host"),
    ("db-host/etc/sysctl.conf", "db-host"),
    ("db/var/lib/pgsql/16/data/postgresql.conf", "db"),
    ("db/var/lib/postgresql/16/main/postgresql.auto.conf", "db"),
    ("db/usr/lib/systemd/system/postgresql-16.service", "db"),
    ("db/lib/systemd/system/postgresql@.service", "db"),
    ("etc/haproxy/haproxy.cfg", "."),
    ("/etc/postgresql/16/main/postgresql.conf", "/"),
    ("hosts/a/etc/keepalived/keepalived.conf", "hosts/a"),
    # no copy of a host's tree: the file's folder, above a host's /etc folder or a drop-in folder
    ("deploy/haproxy/haproxy.cfg", "deploy"),
    ("deploy/postgresql.conf", "deploy"),
    ("deploy/postgresql.service.d/memory.conf", "deploy"),
    ("deploy/systemd/system/postgresql.service", "deploy"),
    ("repo/etc/app/settings.py", "repo/etc/app"),  # an etc/ folder of an application's: no host tree
    ("postgresql.conf", "."),
])
def test_host_root(path, root):
    assert host_root(path) == root


@pytest.mark.parametrize("unit,data,cluster", [
    ("postgresql@16-main.service", None, (16, "main")),
    ("postgresql@15-reporting.service", None, (15, "reporting")),
    ("postgresql-16.service", None, (16, None)),
    ("postgresql@.service", None, None),
    ("postgresql.service", "/var/lib/pgsql/14/data", (14, None)),
    ("postgresql.service", "/var/lib/postgresql/15/main", (15, "main")),
    ("patroni.service", None, None),
])
def test_unit_cluster(unit, data, cluster):
    assert unit_cluster(unit, data) == cluster


def test_pg_cluster_reads_the_packages_layouts():
    assert pg_cluster("x/etc/postgresql/16/main") == (16, "main")
    assert pg_cluster("x/etc/postgresql/16") is None  # (etc/postgresql/16/pg_hba.conf's folder: no cluster)
    assert pg_cluster("/var/lib/pgsql/15/data") == (15, None)
    assert pg_cluster("/srv/pg/data/postgresql.conf") is None
