"""Ansible role variables that set the database hosts' kernel parameters (`sysctl_conf`, autobase)
and their swap file (`swap_file_size_mb`): host facts of the PostgreSQL document of that file."""

from __future__ import annotations

from advisor.engine import make_settings, run
from advisor.findings import Severity
from advisor.loaders.infra_yaml import load
from advisor.model import Unknown
from conftest import CORPUS, require_corpus

PARAMS = ("postgresql_parameters:\n"
          "  - { option: \"max_connections\", value: \"200\" }\n")


def _docs(tmp_path, text, name="main.yml"):
    p = tmp_path / name
    p.write_text(text)
    docs = load(str(p), {})
    pg = [d for d in docs if d.kind == "postgresql"]
    sysctl = [d for d in docs if d.kind == "sysctl"]
    return pg, sysctl


def test_database_group_entries_become_the_servers_host_facts(tmp_path):
    text = (PARAMS +
            "swap_file_create: true\n"
            "swap_file_size_mb: \"4096\" # change this value\n"
            "sysctl_conf:\n"
            "  etcd_cluster: []\n"
            "  postgres_cluster:\n"
            "    - { name: \"vm.overcommit_memory\", value: \"2\" }\n"
            "    - { name: \"net.ipv4.tcp_keepalive_time\", value: \"300\" }\n"
            "    - { name: \"net.ipv4.ip_local_port_range\", value: \"10000 65535\" }\n"
            "  balancers:\n"
            "    - { name: \"vm.overcommit_ratio\", value: \"80\" }\n"
            "    - { name: \"net.ipv4.tcp_keepalive_time\", value: \"60\" }\n")
    [pg], [sysctl] = _docs(tmp_path, text)
    assert [d.kind for d in load(str(tmp_path / "main.yml"), {})] == ["postgresql", "sysctl"]  # dump shows the server
    host = pg.host
    assert host is not None and host is sysctl.model
    memory = host.get("overcommit_memory")
    assert memory.value == 2 and (memory.span.line, memory.span.col) == (8, 47)
    assert host.get("tcp_keepalive_time").value == 300  # the balancers' 60 is another host's
    assert host.get("overcommit_ratio") is None
    swap = host.get("swap")
    assert swap.value == 4096 * 1024**2 and swap.span.line == 4 and swap.key == "swap_file_size_mb"
    # every entry of the group is a setting of the sysctl document, at its line
    assert [(s.name, s.span.line) for s in sysctl.settings] == [
        ("vm.overcommit_memory", 8), ("net.ipv4.tcp_keepalive_time", 9), ("net.ipv4.ip_local_port_range", 10)]


def test_a_flat_list_applies_to_the_hosts_of_the_role(tmp_path):
    [pg], _ = _docs(tmp_path, PARAMS + "sysctl_conf:\n"
                                       "  - { name: \"vm.overcommit_memory\", value: 2 }\n"
                                       "  - { name: \"vm.overcommit_ratio\", value: \"{{ ratio }}\" }\n")
    assert pg.host.get("overcommit_memory").value == 2
    ratio = pg.host.get("overcommit_ratio")
    assert isinstance(ratio.value, Unknown) and ratio.span.line == 5


def test_no_database_group_no_facts_and_sysctl_set_false_applies_nothing(tmp_path):
    [pg], sysctl = _docs(tmp_path, PARAMS + "sysctl_conf:\n  balancers:\n"
                                            "    - { name: \"vm.overcommit_memory\", value: \"2\" }\n")
    assert pg.host is None and sysctl == []
    [pg], sysctl = _docs(tmp_path, PARAMS + "sysctl_set: false\nswap_file_create: false\n"
                                            "swap_file_size_mb: 2048\nsysctl_conf:\n  postgres_cluster:\n"
                                            "    - { name: \"vm.overcommit_memory\", value: \"2\" }\n")
    assert pg.host is None and sysctl == []


def test_template_swap_size_is_unknown(tmp_path):
    [pg], _ = _docs(tmp_path, PARAMS + "swap_file_size_mb: \"{{ (ansible_memtotal_mb / 2) | int }}\"\n")
    assert isinstance(pg.host.get("swap").value, Unknown)


def _only_finding(tmp_path, overcommit_memory: str, rule: str):
    """The one finding of `rule` on Ansible defaults whose database hosts set vm.overcommit_memory."""
    (tmp_path / "main.yml").write_text(PARAMS + "sysctl_conf:\n  postgres_cluster:\n"
                                                f"    - {{ name: \"vm.overcommit_memory\", value: \"{overcommit_memory}\" }}\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": [rule]}, use_config=False))
    [finding] = report.findings
    return finding


def test_invalid_value_is_reported_by_sys001_at_its_line(tmp_path):
    finding = _only_finding(tmp_path, "strict", "SYS001")
    assert finding.span.line == 5 and "vm.overcommit_memory = strict" in finding.message
    assert "Ansible" in finding.message


def test_sys002_reads_the_database_hosts_mode_from_ansible(tmp_path):
    finding = _only_finding(tmp_path, "1", "SYS002")
    assert finding.span.line == 5 and "vm.overcommit_memory = 1" in finding.message


def test_corpus_autobase_defaults():
    require_corpus()
    path = CORPUS / "postgresql" / "autobase_common_defaults_main.yml"
    docs = load(str(path), {})
    [pg] = [d for d in docs if d.kind == "postgresql"]
    assert pg.host.get("overcommit_memory").value == 2 and pg.host.get("overcommit_memory").span.line == 924
    assert pg.host.get("swap").value == 4096 * 1024**2 and pg.host.get("swap").span.line == 912
    report = run(make_settings({"paths": [str(path)], "select": ["SYS005"]}, use_config=False))
    [finding] = report.findings
    assert finding.span.line == 924 and finding.severity == Severity.INFO
    assert "CommitLimit = swap 4 GB" in finding.message and "50%" in finding.message
    assert "vm.overcommit_ratio" in finding.fix


def test_corpus_sysctl_files_are_not_reported():
    require_corpus()
    report = run(make_settings({"paths": [str(CORPUS / "sysctl")], "select": ["SYS005"]}, use_config=False))
    assert report.findings == []


def test_a_declared_host_with_strict_overcommit(tmp_path):
    """The topology's host facts: RAM, swap and the overcommit mode declared for the server's host."""
    (tmp_path / "postgresql.conf").write_text("max_connections = 400\nwork_mem = 16MB\nshared_buffers = 2GB\n")
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: ha\n    hops:\n"
                                          "      - postgres: {file: postgresql.conf, host: db1}\n"
                                          "hosts:\n  db1: {ram: 8GB, swap: 1GB, overcommit_memory: 2}\n")
    settings = make_settings({"paths": [str(tmp_path)], "select": ["SYS005"]}, config_path=str(tmp_path / "pgpath.yaml"))
    [finding] = run(settings).findings
    # 1 GB + 50% × 8 GB = 5 GB < MEM001's floor: 2 GB + 16 MB + 3 × 64 MB + (400 + 8) × 16 MB = 8.6 GB
    assert finding.severity == Severity.WARNING and finding.span.file.endswith("pgpath.yaml")
    assert "CommitLimit = swap 1 GB (swap 1GB) + 50% × RAM 8 GB = 5 GB" in finding.message, finding.message
    assert "= 8.6 GB" in finding.message and "(max_connections 400 + max_parallel_workers 8) × work_mem 16MB" in finding.message
    # (8.58 GB − 1 GB) / 8 GB = 94.7%: 100 at most, which leaves less than 10 points for the rest of the host
    assert finding.fix.startswith("vm.overcommit_ratio = 100 on the host (and overcommit_ratio: 100 in its hosts:")
    assert "= 9 GB ≥ 8.6 GB, with less than 10% of the RAM left" in finding.fix and "MEM001" in finding.fix
    # the ratio declared too: 1 GB + 100% × 8 GB = 9 GB covers it
    (tmp_path / "pgpath.yaml").write_text((tmp_path / "pgpath.yaml").read_text().replace(
        "overcommit_memory: 2", "overcommit_memory: 2, overcommit_ratio: 100"))
    settings = make_settings({"paths": [str(tmp_path)], "select": ["SYS005"]}, config_path=str(tmp_path / "pgpath.yaml"))
    assert run(settings).findings == []


def test_a_kbytes_of_zero_leaves_the_ratio_in_force_and_a_set_ratio_above_default_is_not_judged_blind(tmp_path):
    (tmp_path / "postgresql.conf").write_text("max_connections = 100\n")
    (tmp_path / "60-db.conf").write_text("vm.overcommit_memory = 2\nvm.overcommit_kbytes = 0\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["SYS005"]}, use_config=False))
    assert [f.span.line for f in report.findings] == [1]
    (tmp_path / "60-db.conf").write_text("vm.overcommit_memory = 2\nvm.overcommit_ratio = 60\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["SYS005"]}, use_config=False))
    assert report.findings == []

import pytest  # noqa: E402


# --- strict overcommit with the RAM unknown: the least RAM the settings need (corpus audit 12, miss 5) ---

def _least_ram(message: str) -> float:
    import re

    m = re.search(r"the worst case of these settings \(every connection holding one work_mem at once\) fits under "
                  r"this host's overcommit limit only from ([\d.]+) GB of RAM", message)
    assert m, message
    return float(m.group(1))


def test_corpus_autobase_settings_need_a_least_ram_under_the_overcommit_limit():
    """autobase's defaults: max_connections 1000 × work_mem 64MB, autovacuum_max_workers 5 ×
    maintenance_work_mem 512MB, wal_buffers 32MB and shared_buffers a quarter of the RAM, under
    CommitLimit = 4 GB swap + 50% × RAM: 0.25 × RAM + 65 GB ≤ 4 GB + 0.5 × RAM from about 244 GB."""
    require_corpus()
    path = CORPUS / "postgresql" / "autobase_common_defaults_main.yml"
    [finding] = run(make_settings({"paths": [str(path)], "select": ["SYS005"]}, use_config=False)).findings
    assert finding.severity == Severity.INFO
    assert "shared_buffers {{ (ansible_memtotal_mb * 0.25) | int }}MB (25% of RAM)" in finding.message
    assert "max_connections 1000 × work_mem 64MB = 62.5 GB" in finding.message
    assert "autovacuum_max_workers 5 × maintenance_work_mem 512MB = 2.5 GB" in finding.message
    assert "(50% − 25%)" in finding.message
    assert 240 < _least_ram(finding.message) < 250, finding.message
    # autobase reserves huge pages for shared_buffers (huge_pages = try): out of the commit and of the
    # RAM the ratio applies to, 4 GB + 50% × 75% × RAM covers the other 65 GB from (65 − 4) / 0.375
    import re

    huge = re.search(r"with shared_buffers in huge pages reserved for it .*?: from ([\d.]+) GB\)", finding.message)
    assert huge and 160 < float(huge.group(1)) < 165, finding.message
    assert {r.line for r in finding.related} >= {342, 354, 436, 912}  # the settings and the swap it computed with


@pytest.mark.parametrize("ratio_line", ["", '    - { name: "vm.overcommit_ratio", value: "40" }\n'])
def test_the_least_ram_is_where_the_known_ram_check_starts_to_pass(tmp_path, ratio_line):
    """The symbolic check and the one with the RAM declared agree: declared just below the least
    RAM, the settings do not fit (a warning); just above it, they do (nothing reported)."""
    text = ("postgresql_parameters:\n  - { option: \"max_connections\", value: \"400\" }\n"
            "  - { option: \"work_mem\", value: \"32MB\" }\n"
            "local_postgresql_parameters:\n"
            "  - { option: \"shared_buffers\", value: \"{{ (ansible_memtotal_mb * 0.25) | int }}MB\" }\n"
            "swap_file_size_mb: \"2048\"\nsysctl_conf:\n  postgres_cluster:\n"
            "    - { name: \"vm.overcommit_memory\", value: \"2\" }\n" + ratio_line)
    (tmp_path / "main.yml").write_text(text)

    def findings(ram=None):
        options = {"paths": [str(tmp_path / "main.yml")], "select": ["SYS005"]}
        if ram:
            options["ram"] = ram
        return run(make_settings(options, use_config=False)).findings

    [finding] = findings()
    least = _least_ram(finding.message)
    below, above = findings(f"{int(least * 1024) - 64}MB"), findings(f"{int(least * 1024) + 64}MB")
    assert [f.severity for f in below] == [Severity.WARNING], below
    assert above == []


@pytest.mark.parametrize("raw, share", [
    ("{{ (ansible_memtotal_mb * 0.25) | int }}MB", 0.25),  # autobase
    ("{{ ansible_memtotal_mb // 4 }}MB", 0.25),
    ("{{ (ansible_memtotal_mb / 8) | round | int }}MB", 0.125),
    ("{{ (ansible_memtotal_mb * 0.25) | int }}kB", None),  # another unit: not that share
    ("{{ ansible_memtotal_mb * 0.25 * 2 }}MB", None),
    ("{{ postgresql_shared_buffers }}", None),
])
def test_shared_buffers_as_a_share_of_the_hosts_ram(tmp_path, raw, share):
    from advisor.model import RamShare

    [pg], _ = _docs(tmp_path, f"postgresql_parameters:\n  - {{ option: \"shared_buffers\", value: \"{raw}\" }}\n")
    value = pg.get("shared_buffers").value
    assert isinstance(value, Unknown) and (value.share if isinstance(value, RamShare) else None) == share
    from advisor.catalog import value_or_default
    assert value_or_default(pg, "shared_buffers")[0] is None  # still unknown to rules that compute in bytes


@pytest.mark.parametrize("huge_pages,clause", [("", "from 17.4 GB"), ("huge_pages = off\n", None)])
def test_the_least_ram_with_shared_buffers_in_huge_pages(tmp_path, huge_pages, clause):
    """shared_buffers 4GB in huge pages leaves the commit and the ratio's RAM: 50% × (RAM − 4 GB)
    must cover the other 6.7 GB (16 MB + 192 MB + 208 × 32 MB), from 6.7 / 0.5 + 4 = 17.4 GB (no swap),
    against 21.4 GB without huge pages; with huge_pages = off there are none, and the message says
    nothing of them."""
    (tmp_path / "60-db.conf").write_text("vm.overcommit_memory = 2\n")
    (tmp_path / "postgresql.conf").write_text(f"shared_buffers = 4GB\nmax_connections = 200\nwork_mem = 32MB\n{huge_pages}")
    [finding] = run(make_settings({"paths": [str(tmp_path)], "select": ["SYS005"]}, use_config=False)).findings
    assert 21 < _least_ram(finding.message) < 22, finding.message
    if clause is None:
        assert "huge pages" not in finding.message
    else:
        assert f"huge_pages = try — it is out of the commit and of the RAM the ratio applies to: {clause})" \
            in finding.message, finding.message
