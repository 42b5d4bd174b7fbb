"""ADV004 names what a misspelt name in pgpath.yaml most likely meant (scenario audit 17, D12):
s08's `postgresql.con` beside `postgresql.conf`, host `db-01` where hosts: has `db01`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.path.topology import near_miss

S08 = Path(__file__).resolve().parent / "scenarios" / "audit17" / "s08"


def adv004(root: Path, monkeypatch) -> list[tuple[int, str, str]]:
    monkeypatch.chdir(root)
    report = run(make_settings({"paths": ["."], "select": ["ADV004"]}, config_path="pgpath.yaml"))
    return [(f.span.line, f.message, f.fix) for f in report.findings]


def test_s08s_mistakes_each_name_the_near_miss(tmp_path, monkeypatch):
    shutil.copytree(S08, tmp_path / "s08")
    assert adv004(tmp_path / "s08", monkeypatch) == [
        (4, "deployment billing-worker: worker/.env has no client setting 'DB_URL'", "variable: one of DATABASE_URL"),
        (5, "deployment billing-worker: db/var/lib/pgsql/16/data/postgresql.con does not exist (did you mean "
            "'db/var/lib/pgsql/16/data/postgresql.conf'?)", "file: db/var/lib/pgsql/16/data/postgresql.conf"),
        (9, "deployment billing-web: host 'db-01' is not in hosts: (did you mean 'db01'?)",
         "host: db01 (or add db-01 under hosts:)")]


def test_a_file_read_as_another_kind_says_which(tmp_path, monkeypatch):
    (tmp_path / "app.env").write_text("DATABASE_URL=postgresql://app@db:5432/app\n")
    (tmp_path / "postgresql.conf").write_text("port = 5432\n")
    (tmp_path / "pgpath.yaml").write_text(
        "deployments:\n  - name: a\n    hops:\n      - client: app.env\n      - postgres: postgresql.conf\n"
        "  - name: b\n    hops:\n      - client: app.env\n      - pgbouncer: postgresql.conf\n")
    [(line, message, fix)] = adv004(tmp_path, monkeypatch)
    assert line == 9 and message == "deployment b: postgresql.conf was read as a postgresql file, not a pgbouncer file"


@pytest.mark.parametrize("word,names,meant", [
    ("db-01", ["db01", "db02"], "db01"),
    ("postgresql.con", ["postgresql.conf", "pg_hba.conf", "server.crt"], "postgresql.conf"),
    ("pg_replica", ["pg_primary"], None),  # another name, not a misspelling
    ("db1", [], None),
    # another number is another thing: a host not declared, another listener, another cluster's file
    ("db2", ["db1"], None),
    ("pg-6432", ["pg-5432"], None),
    ("postgresql-15.conf", ["postgresql-16.conf"], None),
])
def test_near_miss(word, names, meant):
    assert near_miss(word, names) == meant
