"""Which PostgreSQL: the major the files say when --pg-version is not given, said in the output,
and removed parameters worded as such."""

from __future__ import annotations

import json

import pytest

from advisor.engine import make_settings, run
from advisor.reporters import render


def check(tmp_path, **cli):
    return run(make_settings({"paths": [str(tmp_path)], **cli}, use_config=False))


@pytest.mark.parametrize("files,major,why", [
    ({"docker-compose.yml": "services:\n  db:\n    image: postgres:15.6-alpine\n    command: postgres -c work_mem=4MB\n"},
     15, "image postgres:15.6-alpine in"),
    ({"Dockerfile": "FROM postgres:16\nCOPY postgresql.conf /etc/postgresql/\n"}, 16, "image postgres:16 in"),
    ({"cluster.yaml": "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: pg\nspec:\n"
                      "  imageName: ghcr.io/cloudnative-pg/postgresql:17.2\n  instances: 3\n"},
     17, "image ghcr.io/cloudnative-pg/postgresql:17.2"),
    ({"timescale.yml": "services:\n  db:\n    image: timescale/timescaledb:2.14.2-pg16\n"}, 16, "timescaledb"),
    ({}, 15, "/var/lib/postgresql/15 in"),
    ({"docker-compose.yml": "services:\n  db:\n    image: postgres:13\n"}, 14,
     "the files are for PostgreSQL 13, per image postgres:13"),
])
def test_major_from_the_tree(tmp_path, files, major, why):
    (tmp_path / "postgresql.conf").write_text("data_directory = '/var/lib/postgresql/15/main'\n" if not files else
                                              "work_mem = 4MB\n")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    report = check(tmp_path)
    conf = next(d for d in report.docs if d.path.endswith("postgresql.conf"))
    assert conf.meta["pg_version"] == major and why in conf.meta["pg_version_reason"]
    # its own evidence, or the file beside it that says
    assert conf.meta["pg_version_source"] == ("file" if not files else "neighbourhood")
    assert {d.meta.get("pg_version") for d in report.docs if d.kind == "postgresql"} == {major}
    text = render(report, "text")
    assert f"PostgreSQL {major}" in text.splitlines()[-1] and why in text.splitlines()[-1]
    data = json.loads(render(report, "json"))
    assert data["pg_version"] == major and [m["major"] for m in data["pg_versions"]] == [major]
    doc = next(d for d in data["documents"] if d["path"].endswith("postgresql.conf"))
    assert doc["pg_version"]["major"] == major and why in doc["pg_version"]["reason"]


@pytest.mark.parametrize("text,found", [
    ("postgresql_version: 16  # the major\n", [16]),
    ('engine_version = "15.4"\n', [15]),
    ("pg_version=17\n", [17]),
    ('engine_version       = "15.4"\n', [15]),  # terraform fmt aligns the equals signs
    ('engine_version => "14"\n', [14]),
    ('"engine_version": ["16"]\n', [16]),
    ("<EngineVersion>16.2</EngineVersion>\n", [16]),
    ("ARG PG_VERSION=16\n", [16]),
    ('database_version = "POSTGRES_15"\n', [15]),
    # a comparison in a template condition or a comment names no version the files are for
    ("# keep the stats in tmpfs (if postgresql_version < 15)\n", []),
    ("{% if postgresql_version >= 13 %}x{% endif %}\n", []),
    ("{% if pg_version == 12 %}x{% endif %}\n", []),
    ("{% if pg_version > 13 %}x{% endif %}\n", []),
])
def test_a_version_is_evidence_only_where_it_is_assigned(text, found):
    from advisor.pgversion import evidence_in

    assert [major for major, _ in evidence_in("vars.yml", text + "# postgres\n")] == found


def test_default_says_so_and_a_given_version_wins(tmp_path):
    (tmp_path / "postgresql.conf").write_text("work_mem = 4MB\n")
    report = check(tmp_path)
    assert [d.meta["pg_version"] for d in report.docs] == [18]
    assert report.docs[0].meta["pg_version_source"] == "default"
    assert "PostgreSQL 18 assumed (the newest supported; no version given or found in the files, set --pg-version" \
        in render(report, "text").splitlines()[-1]
    (tmp_path / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:15\n")
    report = check(tmp_path, pg_version="16")
    assert {d.meta["pg_version"] for d in report.docs if "pg_version" in d.meta} == {16}
    assert render(report, "text").splitlines()[-1].endswith("PostgreSQL 16 (given with --pg-version)")


def test_sample_parameter_list_says_its_major(tmp_path):
    from conftest import CORPUS

    sample = CORPUS / "postgresql" / "postgres_12beta1_postgresql.conf.sample"
    if not sample.is_file():
        pytest.skip("the corpus sample is absent")
    (tmp_path / "postgresql.conf.sample").write_text(sample.read_text())
    report = check(tmp_path)
    assert {d.meta["pg_version"] for d in report.docs} == {14}
    assert all("the files are for PostgreSQL 12" in d.meta["pg_version_reason"] for d in report.docs)


def test_removed_parameter_is_worded_with_its_major_and_the_way_out(tmp_path):
    (tmp_path / "postgresql.conf").write_text("db_user_namespace = off\nwal_keep_segments = 8\n")
    report = check(tmp_path, select=["PG001"])
    first, second = report.findings
    assert "removed in PostgreSQL 17" in first.message and "--pg-version 16" in first.fix
    assert "removed in PostgreSQL 13" in second.message and "wal_keep_size" in second.fix
    # no version given or found: the refusal holds only from the major that removed it on
    assert [str(f.severity) for f in report.findings] == ["info", "info"]  # (a version no file shows)
    assert "PostgreSQL 17 and later refuse to start with it" in first.message
    assert "the default: no version given or found" in first.message
    report = check(tmp_path, select=["PG001"], pg_version="16")
    assert [f.span.line for f in report.findings] == [2]  # db_user_namespace is a 16 parameter
    assert str(report.findings[0].severity) == "error"  # a version given: PostgreSQL 16 refuses it
    report = check(tmp_path, select=["PG001"], pg_version="18")
    assert [str(f.severity) for f in report.findings] == ["error", "error"]
    assert all("the server refuses to start with it" in f.message for f in report.findings)


def test_supabase_template_from_corpus_is_dated_by_its_settings(tmp_path):
    from conftest import CORPUS

    path = CORPUS / "postgresql" / "supabase_ansible_postgresql.conf.j2"
    if not path.is_file():
        pytest.skip("the corpus file is absent")
    report = run(make_settings({"paths": [str(path)], "select": ["PG001"]}, use_config=False))
    # no version in any file, but it sets db_user_namespace (removed in 17): a file for 16 or older
    # (Supabase built it for 15 and 16), not one PostgreSQL 18 refuses
    [doc] = [d for d in report.docs if d.kind == "postgresql"]
    assert (doc.meta["pg_version"], doc.meta["pg_version_source"]) == (16, "file")
    assert "sets db_user_namespace, which PostgreSQL 17 removed" in doc.meta["pg_version_reason"]
    assert not [f for f in report.findings if "db_user_namespace" in f.message]
    report = run(make_settings({"paths": [str(path)], "select": ["PG001"], "pg_version": "18"}, use_config=False))
    found = [f for f in report.findings if "db_user_namespace" in f.message]
    assert found and str(found[0].severity) == "error"


@pytest.mark.parametrize("conf,major,finding", [
    ("db_user_namespace = off\nwork_mem = 4MB\n", 16, None),
    ("promote_trigger_file = '/tmp/promote'\ndb_user_namespace = off\n", 15, None),
    # a name no supported major knows (a typo) dates nothing; the others still do
    ("promote_trigger_file = '/tmp/x'\nwork_memm = 4MB\n", 15, "work_memm"),
    # set by a newer and an older major at once: no major knows both, the default stays
    ("db_user_namespace = off\ntransaction_timeout = 0\n", 18, "db_user_namespace"),
    # commented out, it sets nothing
    ("#db_user_namespace = off\n", 18, None),
    # nothing the newest major does not know
    ("summarize_wal = off\n", 18, None),
])
def test_a_configuration_with_no_evidence_is_dated_by_the_parameters_it_sets(tmp_path, conf, major, finding):
    (tmp_path / "postgresql.conf").write_text(conf)
    report = check(tmp_path, select=["PG001"])
    [doc] = [d for d in report.docs if d.kind == "postgresql"]
    assert doc.meta["pg_version"] == major, doc.meta.get("pg_version_reason")
    assert doc.meta["pg_version_source"] == ("default" if major == 18 else "file")
    assert [f.message.split('"')[1] for f in report.findings] == ([finding] if finding else [])


def test_a_version_beside_the_file_wins_over_its_settings(tmp_path):
    """Evidence of the deployment (an image tag beside it) says what runs: the removed parameter is
    then the server's refusal, an error."""
    (tmp_path / "postgresql.conf").write_text("db_user_namespace = off\n")
    (tmp_path / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:18\n")
    report = check(tmp_path, select=["PG001"])
    assert [(str(f.severity), "db_user_namespace" in f.message) for f in report.findings] == [("error", True)]


@pytest.mark.parametrize("name,major", [("postgresql.conf-17.j2", 17), ("anxs_postgresql.conf-16.j2", 16),
                                        ("postgresql.conf-9.6.j2", 18), ("postgresql.conf.j2", 18)])
def test_a_configuration_named_for_its_major(tmp_path, name, major):
    """A role's per-version template (ANXS's postgresql.conf-17.j2) says its major in its name;
    9.6 is no major of one number, and a name without one says nothing (the default, 18)."""
    (tmp_path / name).write_text("work_mem = 4MB\n")
    [doc] = [d for d in check(tmp_path).docs if d.kind == "postgresql"]
    assert doc.meta["pg_version"] == major, doc.meta.get("pg_version_reason")
    if major != 18:
        assert f"the file's name, {name}" in doc.meta["pg_version_reason"]


def test_a_file_that_says_no_major_takes_the_only_one_the_run_says(tmp_path):
    """A migration folder's `ALTER ROLE ... SET` says no major and has no neighbour that does; when
    every file that says one says the same (the server's Debian path), it is checked as that major,
    said as such. Two majors in the run: it stays the default, said as such."""
    (tmp_path / "etc" / "postgresql" / "16" / "main").mkdir(parents=True)
    (tmp_path / "etc/postgresql/16/main/postgresql.conf").write_text(
        "data_directory = '/var/lib/postgresql/16/main'\nmax_connections = 100\n")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations/V1__roles.sql").write_text("ALTER ROLE app SET statement_timeout = '30s';\n")

    def sql_choice():
        report = check(tmp_path)
        doc = next(d for d in report.docs if d.path.endswith(".sql"))
        return doc.meta["pg_version"], doc.meta["pg_version_source"], doc.meta["pg_version_reason"], report

    major, source, reason, report = sql_choice()
    assert (major, source) == (16, "run") and "/var/lib/postgresql/16" in reason and "the only major read" in reason
    assert "1 as the others say (/var/lib/postgresql/16" in render(report, "text")
    (tmp_path / "docker-compose.yml").write_text("services:\n  old:\n    image: postgres:14\n")
    major, source, reason, _ = sql_choice()
    assert (major, source) == (18, "default"), reason


# ------------------------------------------------------------------------------------------------
# the packages' layouts: PGDG/RHEL as well as Debian, in the text or in the file's own path
# (scenario audit 17, D13: s08's db/var/lib/pgsql/16/data/postgresql.conf was "PostgreSQL 18 assumed")

@pytest.mark.parametrize("text,found", [
    ("data_directory = '/var/lib/pgsql/16/data'\n", [16]),
    ("# billing db01 - /var/lib/pgsql/15/data/postgresql.conf\n", [15]),
    ("ExecStart=/usr/pgsql-14/bin/postmaster -D ${PGDATA}\n", [14]),
    ("archive_command = 'cp %p /var/lib/pgsql/13/backups/%f'\n", [13]),
    ("data_directory = '/var/lib/pgsql/data'\n", []),  # the distribution's own package: no major in it
])
def test_pgdg_paths_in_the_text_are_evidence(text, found):
    from advisor.pgversion import evidence_in

    assert [major for major, _ in evidence_in("x.conf", "postgres\n" + text)] == found


@pytest.mark.parametrize("path,major,why", [
    ("db/var/lib/pgsql/16/data/postgresql.conf", 16, "the PGDG/RHEL data directory of 16"),
    ("db-host/etc/postgresql/15/main/postgresql.conf", 15, "Debian's cluster 15/main"),
    ("var/lib/postgresql/14/main/postgresql.auto.conf", 14, "Debian's cluster 14/main"),
])
def test_a_files_own_path_in_a_packages_layout_says_its_major(tmp_path, path, major, why):
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text("port = 5432\n")
    [conf] = check(tmp_path).docs
    assert conf.meta["pg_version"] == major and conf.meta["pg_version_source"] == "file", conf.meta
    assert why in conf.meta["pg_version_reason"] and "its path, " in conf.meta["pg_version_reason"]


def test_s08s_pgdg_server_is_checked_as_16(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    shutil.copytree(Path(__file__).resolve().parent / "scenarios" / "audit17" / "s08", tmp_path / "s08")
    monkeypatch.chdir(tmp_path / "s08")
    text = render(run(make_settings({"paths": ["."]}, config_path="pgpath.yaml")), "text")
    assert "PostgreSQL 16 assumed (/var/lib/pgsql/16/data in db/var/lib/pgsql/16/data/postgresql.conf:1)" in text, text
