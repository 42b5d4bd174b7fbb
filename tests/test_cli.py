"""The command line as a user meets it: exit codes, formats, selection, config, errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.schemas import validate

ROOT = Path(__file__).resolve().parent.parent


def pgpath(*args, cwd=None, env=None):
    run_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=run_env, timeout=60)


@pytest.fixture
def conf(tmp_path):
    def write(text, name="postgresql.conf"):
        path = tmp_path / name
        path.write_text(text)
        return path
    return write


def test_clean_file_exits_0(conf):
    path = conf("ssl = on\ntcp_keepalives_idle = 60\n")
    r = pgpath("check", str(path), "--no-config")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 findings" in r.stdout


def test_findings_exit_1_with_flake8_style_lines(conf):
    path = conf("ssl = on\ntcp_keepalives_idle = 60\nwork_mem = 8mb\n")
    r = pgpath("check", str(path), "--no-config")
    assert r.returncode == 1
    first = r.stdout.splitlines()[0]
    # a file named by an absolute path outside the working directory is shown relative to what
    # was checked (issue 12: no absolute path of the machine in any output)
    assert first.startswith(f"{path.name}:3:12: PG002 error ")
    assert str(path.parent) not in r.stdout
    assert "\x1b[" not in r.stdout  # no colour when not on a terminal
    assert "    fix: work_mem = '8MB'" in r.stdout


def test_info_findings_do_not_fail_by_default_but_fail_on_info_does(conf):
    path = conf("x = 1\n").with_name("pgbouncer.ini")
    path.write_text("[databases]\napp = host=db.example.com dbname=app\n[pgbouncer]\npool_mode = transaction\ntcp_keepalive = 0\n")  # PGB010: info
    only = ("--no-config", "--select", "PGB010")  # (its server over a network also gets PGB018, a warning)
    assert "PGB010 info" in pgpath("check", str(path), *only).stdout
    assert pgpath("check", str(path), *only).returncode == 0
    assert pgpath("check", str(path), *only, "--fail-on", "info").returncode == 1


def test_select_and_ignore(conf):
    path = conf("ssl = off\nwork_mem = 8mb\n")
    only_tls = pgpath("check", str(path), "--no-config", "--select", "TLS")
    assert "TLS001" in only_tls.stdout and "PG002" not in only_tls.stdout
    no_pg002 = pgpath("check", str(path), "--no-config", "--ignore", "invalid-value")
    assert "PG002" not in no_pg002.stdout and "TLS001" in no_pg002.stdout


def test_unknown_rule_is_a_usage_error(conf):
    r = pgpath("check", str(conf("ssl = on\n")), "--no-config", "--select", "XYZ999")
    assert r.returncode == 2
    assert "unknown rule 'XYZ999'" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_path_exits_2(tmp_path):
    r = pgpath("check", str(tmp_path / "nope.conf"), "--no-config")
    assert r.returncode == 2
    assert "no such file or directory" in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_json_output_matches_schema_and_shows_restart_or_reload(conf):
    path = conf("shared_buffers = 1GB\nwork_mem = 8MB\nssl = of\n")
    r = pgpath("check", str(path), "--no-config", "--format", "json")
    data = json.loads(r.stdout)
    assert validate(data, "report.schema.json") is None
    settings = {s["name"]: s for s in data["documents"][0]["settings"]}
    assert settings["shared_buffers"]["applies"] == "restart"
    assert settings["shared_buffers"]["value"] == 131072 and settings["shared_buffers"]["unit"] == "8kB"
    assert settings["work_mem"]["applies"] == "reload"
    assert settings["ssl"]["value"] is False
    assert data["exit_code"] == r.returncode


def test_pg_version_changes_the_catalog(conf):
    path = conf("ssl = on\ntcp_keepalives_idle = 60\ntransaction_timeout = '1min'\n")
    assert pgpath("check", str(path), "--no-config", "--pg-version", "17").returncode == 0
    r16 = pgpath("check", str(path), "--no-config", "--pg-version", "16")
    assert r16.returncode == 1 and 'PG001 error unrecognized configuration parameter "transaction_timeout"' in r16.stdout
    bad = pgpath("check", str(path), "--no-config", "--pg-version", "9.6")
    assert bad.returncode == 2 and "not supported" in bad.stderr


def test_config_file_then_cli_precedence(tmp_path):
    (tmp_path / "postgresql.conf").write_text("ssl = off\nwork_mem = 8mb\n")
    (tmp_path / "pgpath.yaml").write_text("select: [TLS001]\nseverity: {TLS001: error}\nfail-on: error\n")
    r = pgpath("check", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert "TLS001 error" in r.stdout and "PG002" not in r.stdout
    r2 = pgpath("check", ".", "--select", "PG002", cwd=tmp_path)
    assert "PG002" in r2.stdout and "TLS001" not in r2.stdout


def test_invalid_config_file_is_reported_with_its_path(tmp_path):
    (tmp_path / "postgresql.conf").write_text("ssl = on\n")
    (tmp_path / "pgpath.yaml").write_text("selct: [TLS001]\n")
    r = pgpath("check", ".", cwd=tmp_path)
    assert r.returncode == 2
    assert "pgpath.yaml" in r.stderr and "selct" in r.stderr
    (tmp_path / "pgpath.yaml").write_text("select: [TLS001\n")
    r = pgpath("check", ".", cwd=tmp_path)
    assert r.returncode == 2 and "pgpath.yaml:" in r.stderr and "invalid YAML" in r.stderr


def test_inline_suppression_with_reason(conf):
    path = conf("ssl = off  # pgpath: ignore[TLS001] TLS is terminated by the sidecar\ntcp_keepalives_idle = 60\n")
    r = pgpath("check", str(path), "--no-config")
    assert r.returncode == 0, r.stdout
    assert "TLS001" not in r.stdout


def test_rules_and_explain():
    r = pgpath("rules")
    assert r.returncode == 0
    assert "PG001" in r.stdout and "MEM001" in r.stdout
    e = pgpath("explain", "worst-case-memory")
    assert e.returncode == 0
    assert e.stdout.startswith("# MEM001 worst-case-memory")
    for section in ("## What it checks", "## Why it matters", "## Example", "## Fix"):
        assert section in e.stdout
    missing = pgpath("explain", "NOPE123")
    assert missing.returncode == 2 and "unknown rule" in missing.stderr
    retired = pgpath("explain", "pgb021")  # a retired code shows the rule that took its risk over, and says so
    assert retired.returncode == 0 and retired.stdout.startswith("PGB021 was retired; its risk is PATH005's now:\n\n"
                                                                 "# PATH005 connection-budget")


def test_dump_prints_every_occurrence_with_base_units(conf):
    # line 1 is skipped by PostgreSQL (line 3 is spelled the same): dump types it all the same
    path = conf("work_mem = 4MB\nWork_Mem = '1.5MB'\nwork_mem = 2MB\nstatement_timeout = 90\n")
    r = pgpath("dump", str(path))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert validate(data, "dump.schema.json") is None
    work = [s for s in data["settings"] if s["name"] == "work_mem"]
    assert [(s["value"], s["effective"], s["span"]["line"]) for s in work] == [
        (4096, False, 1), (1536, False, 2), (2048, True, 3)]
    st = next(s for s in data["settings"] if s["name"] == "statement_timeout")
    assert (st["value"], st["unit"]) == (90, "ms")


def test_dump_of_a_file_of_several_configurations_shows_them_all(tmp_path):
    """A compose file holds a PostgreSQL server, a PgBouncer and a client: all three are dumped (the
    first as the top object, the others under more_documents), passwords hidden."""
    path = tmp_path / "docker-compose.yml"
    path.write_text("services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: s3cr3t-pw\n"
                    "  pgbouncer:\n    image: edoburu/pgbouncer:v1.25.1-p0\n    environment:\n"
                    "      - DATABASE_URL=postgres://app:s3cr3t-pw@db:5432/app\n"
                    "  app:\n    image: app:1\n    environment:\n"
                    "      DATABASE_URL: postgresql://app:s3cr3t-pw@pgbouncer:5432/app\n")
    r = pgpath("dump", str(path))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert validate(data, "dump.schema.json") is None
    assert [data["kind"]] + [d["kind"] for d in data["more_documents"]] == ["postgresql", "pgbouncer", "client"]
    assert "s3cr3t-pw" not in r.stdout


def test_version():
    r = pgpath("--version")
    assert r.returncode == 0 and r.stdout.startswith("pgpath ")


def test_output_is_complete_when_the_process_leaves_without_teardown(conf, tmp_path):
    """main() ends with os._exit after flushing: a large piped output and a report file arrive whole."""
    path = conf("".join(f"work_mem = {i + 64}kB\n" for i in range(20000)))
    r = pgpath("dump", str(path))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)  # ~4 MB through a pipe: truncated JSON would not parse
    assert len(data["settings"]) == 20000 and data["settings"][-1]["value"] == 20063
    report = tmp_path / "report.json"
    r = pgpath("check", "--format", "json", "--output", str(report), str(ROOT / "samples" / "risky"))
    assert r.returncode == 1 and r.stdout == ""
    assert json.loads(report.read_text())["summary"]["error"] >= 1


def test_a_closed_pipe_is_not_an_error_worth_a_traceback(conf):
    path = conf("".join(f"work_mem = {i + 64}kB\n" for i in range(20000)))  # far more than a pipe holds
    proc = subprocess.Popen([sys.executable, "-m", "advisor", "dump", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    proc.stdout.readline()
    proc.stdout.close()  # `pgpath dump ... | head -1`
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err
    assert proc.returncode in (0, 1)


def test_a_settings_file_found_by_search_keeps_paths_relative(tmp_path):
    """pgpath.yaml found in the working directory (or a parent) names files relative to itself:
    the report shows them relative to the working directory, never as this machine's absolute
    paths (issue 12)."""
    (tmp_path / ".git").mkdir()  # the search stops at the repository root
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "postgresql.conf").write_text("port = 5432\nssl = off\n")
    (tmp_path / "db" / "pgbouncer.ini").write_text(
        "[databases]\napp = host=127.0.0.1 port=5432\n[pgbouncer]\nlisten_port = 6432\ntcp_keepalive = 0\n")
    (tmp_path / "pgpath.yaml").write_text(
        "paths: [db]\ndeployments:\n  - name: app\n    hops:\n      - pgbouncer: db/pgbouncer.ini\n"
        "      - aws-nlb: {}\n      - postgres: db/postgresql.conf\n")
    # (SARIF gives a file outside its %SRCROOT%, the working directory, as an absolute file URI)
    for cwd, formats in ((tmp_path, ("text", "json", "sarif", "markdown")), (tmp_path / "db", ("text", "json", "markdown"))):
        for fmt in formats:
            r = subprocess.run([sys.executable, "-m", "advisor", "check", "--format", fmt], cwd=cwd,
                               capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            assert r.returncode == 1, r.stderr
            out = r.stdout
            if fmt == "sarif":  # SARIF's one absolute URI: the base its relative locations resolve against
                data = json.loads(out)
                assert data["runs"][0].pop("originalUriBaseIds")["%SRCROOT%"]["uri"].startswith("file://")
                out = json.dumps(data)
            assert "PATH001" in out and str(tmp_path) not in out + r.stderr, (cwd, fmt)



@pytest.mark.parametrize("argv", [["check", "--help"], ["dump", "--help"], ["check", "--bogus", "x"],
                                  ["explain", "PG001"], ["rules"], ["chek"], ["--help"], ["check", "samples/risky"],
                                  ["check"], ["path", "samples/healthy"]])
def test_a_run_builds_only_the_command_it_invokes_and_says_the_same(argv):
    """run_app leaves the other commands out of the group when the first argument names one
    (typer builds each command's options on every run): output and exit code are those of the
    whole group (_run_app alone)."""
    code = ("import sys\nsys.argv = ['pgpath', *sys.argv[1:]]\nfrom advisor import cli\n"
            "sys.exit(cli.{}())\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "100"}
    one, whole = (subprocess.run([sys.executable, "-c", code.format(fn), *argv], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=120) for fn in ("run_app", "_run_app"))
    assert (one.returncode, one.stdout, one.stderr) == (whole.returncode, whole.stdout, whole.stderr)
    assert one.stdout or one.stderr


def test_the_group_has_every_command_again_after_a_run(monkeypatch, capsys):
    from advisor import cli

    before = list(cli.app.registered_commands)
    monkeypatch.setattr(sys, "argv", ["pgpath", "rules"])
    assert cli.run_app() == 0
    assert cli.app.registered_commands == before and len(before) == 7


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: pgbouncer\nspec:\n  ports:\n    - port: 6432\n",
    "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: pgb\nspec:\n"
    "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: pgbouncer}\n  maxReplicas: 4\n",
])
def test_dump_of_a_manifest_with_no_configuration_says_so(tmp_path, text):
    """The fourth scenario audit's D8: a ClusterIP Service or an autoscaler alone holds nothing pgpath
    dumps; it said 'internal error: IndexError' (exit 3)."""
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    r = pgpath("dump", str(path))
    assert r.returncode == 2 and "nothing in it that pgpath reads as a configuration" in r.stderr, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
