"""systemd units of PostgreSQL -> HostFacts (OOM score, PG_OOM_ADJUST_FILE, cgroup memory limits)."""

from __future__ import annotations

from advisor.loaders import detect_kind
from advisor.loaders.systemd_unit import load, parse_size, unit_name
from advisor.model import Unknown


def test_facts_spans_and_environment(tmp_path):
    p = tmp_path / "postgresql@.service"
    p.write_text("[Unit]\nDescription=PostgreSQL\n[Service]\nOOMScoreAdjust=-900\nOOMScoreAdjust=-1000\n"
                 "Environment=PGDATA=/srv/pg \"PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj\" \\\n"
                 "    PG_OOM_ADJUST_VALUE=0\nMemoryMax=4G\nMemoryHigh=3584M\n"
                 "ExecStart=/usr/lib/postgresql/16/bin/postgres -D ${PGDATA}\n")
    assert detect_kind(str(p), p.read_text()) == "systemd"
    doc = load(str(p))
    facts = doc.model.facts
    assert facts["oom_score_adj"].value == -1000 and facts["oom_score_adj"].span.line == 5
    assert facts["oom_adjust_children"].value is True and doc.meta["children_oom_score_adj"] == "0"
    assert facts["memory_limit"].value == 4 * 1024**3 and facts["memory_high"].value == 3584 * 1024**2
    assert doc.model.memory_bytes().value == 4 * 1024**3
    assert doc.meta["unit"] == "postgresql@.service" and not doc.meta["drop_in"]


def test_empty_environment_resets_and_drop_in_names_its_unit(tmp_path):
    d = tmp_path / "postgresql@16-main.service.d"
    d.mkdir()
    p = d / "oom.conf"
    p.write_text("[Service]\nEnvironment=PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj\nEnvironment=\n"
                 "MemoryMax=infinity\nMemoryHigh=80%\n")
    assert detect_kind(str(p), p.read_text()) == "systemd"
    doc = load(str(p))
    assert unit_name(str(p)) == "postgresql@16-main.service" and doc.meta["drop_in"]
    assert "oom_adjust_children" not in doc.model.facts and "memory_limit" not in doc.model.facts
    assert isinstance(doc.model.facts["memory_high"].value, Unknown)


def test_invalid_values(tmp_path):
    p = tmp_path / "patroni.service"
    p.write_text("[Service]\nExecStart=/usr/bin/patroni /etc/patroni.yml\nOOMScoreAdjust=low\nMemoryMax=4 gigs\n")
    doc = load(str(p))
    assert [(d.kind, d.span.line, d.span.col) for d in doc.diagnostics] == [("systemd-invalid-value", 3, 16),
                                                                             ("systemd-invalid-value", 4, 11)]
    assert doc.model.facts == {}


def test_sizes_and_detection():
    assert parse_size("1024") == 1024 and parse_size("2K") == 2048 and parse_size("1.5G") == int(1.5 * 1024**3)
    assert parse_size("4gb") is None
    assert detect_kind("nginx.service", "[Service]\nExecStart=/usr/sbin/nginx\n") is None
    assert detect_kind("override.conf", "[Service]\nOOMScoreAdjust=-1000\n") == "systemd"
    assert detect_kind("app.conf", "[main]\nkey=1\n") != "systemd"
