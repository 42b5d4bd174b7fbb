"""Baselines (keyed by rule, file and content, counted), --exit-zero, --no-inline-ignores and
--hook (changed files: their deployments checked, only findings touching them reported)."""

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

from advisor.schemas import validate

ROOT = Path(__file__).resolve().parent.parent


def pgpath(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


PG = "ssl = off\nwork_mem = 8mb\nstatement_timeout = 5min\n"
SELECT = ("--select", "ALL,PG010")  # PG010 is opt-in


def test_baseline_round_trip_survives_moved_lines_and_counts_duplicates(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text(PG)
    r = pgpath("check", ".", "--no-config", *SELECT, "--write-baseline", "pgpath-baseline.json", cwd=tmp_path)
    assert r.returncode == 0 and "wrote pgpath-baseline.json: 3 findings" in r.stderr, r.stderr
    data = json.loads((tmp_path / "pgpath-baseline.json").read_text())
    assert validate(data, "baseline.schema.json") is None
    assert {e["code"] for e in data["findings"]} == {"TLS001", "PG002", "PG010"}
    assert all(e["file"] == "postgresql.conf" for e in data["findings"])

    r = pgpath("check", ".", "--no-config", *SELECT, "--baseline", "pgpath-baseline.json", cwd=tmp_path)
    assert r.returncode == 0 and "0 findings" in r.stdout and "3 in the baseline" in r.stdout

    # lines move: still baselined
    conf.write_text("# header\n\n" + PG)
    r = pgpath("check", ".", "--no-config", *SELECT, "--baseline", "pgpath-baseline.json", cwd=tmp_path)
    assert r.returncode == 0 and "0 findings" in r.stdout, r.stdout
    # a new problem is reported, the baselined ones are not
    conf.write_text(PG + "ssl_min_protocol_version = 'TLSv1'\n")
    r = pgpath("check", ".", "--no-config", *SELECT, "--baseline", "pgpath-baseline.json", "--fail-on", "info", cwd=tmp_path)
    assert r.returncode == 1
    assert "TLS002" in r.stdout and "PG002" not in r.stdout and "1 finding " in r.stdout
    # a changed value is a different finding
    conf.write_text(PG.replace("5min", "7min"))
    r = pgpath("check", ".", "--no-config", *SELECT, "--baseline", "pgpath-baseline.json", "--fail-on", "info", cwd=tmp_path)
    assert "PG010" in r.stdout and "1 finding " in r.stdout and r.returncode == 1
    # from another working directory the baseline still applies (paths relative to its folder)
    conf.write_text(PG)
    sub = tmp_path / "sub"
    sub.mkdir()
    r = pgpath("check", "..", "--no-config", *SELECT, "--baseline", "../pgpath-baseline.json", cwd=sub)
    assert r.returncode == 0 and "3 in the baseline" in r.stdout, r.stdout


def test_identical_findings_are_counted(tmp_path):
    from advisor import baseline
    from advisor.findings import Finding, Severity
    from advisor.model import Span

    def finding(line):
        return Finding("PGB005", "pgbouncer-inline-comment", Severity.WARNING, "a ; comment kept in the value",
                       Span(str(tmp_path / "pgbouncer.ini"), line, 5))

    path = str(tmp_path / "b.json")
    assert baseline.write(path, [finding(3), finding(9)]) == 1
    assert json.loads(Path(path).read_text())["findings"][0]["count"] == 2
    files, rules = {str(tmp_path / "pgbouncer.ini")}, {"PGB005"}
    kept, dropped, stale = baseline.apply(path, [finding(4), finding(10), finding(20)], files, rules)
    assert (len(kept), dropped, stale) == (1, 2, [])
    kept, dropped, stale = baseline.apply(path, [finding(4)], files, rules)
    assert (kept, dropped, [s.count for s in stale]) == ([], 1, [1])


def test_fixed_findings_are_stale(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text(PG)
    pgpath("check", ".", "--no-config", "--write-baseline", "b.json", cwd=tmp_path)
    conf.write_text(PG.replace("ssl = off", "ssl = on"))
    r = pgpath("check", ".", "--no-config", "--baseline", "b.json", cwd=tmp_path)
    assert r.returncode == 0 and "1 baselined finding fixed (stale: --baseline-stale" in r.stdout
    r = pgpath("check", ".", "--no-config", "--baseline", "b.json", "--baseline-stale", cwd=tmp_path)
    assert r.returncode == 1
    assert "postgresql.conf: TLS001 baselined finding no longer reported: ssl = off" in r.stdout
    # rewriting the baseline drops the fixed entry
    pgpath("check", ".", "--no-config", "--write-baseline", "b.json", cwd=tmp_path)
    assert "TLS001" not in (tmp_path / "b.json").read_text()
    assert pgpath("check", ".", "--no-config", "--baseline", "b.json", "--baseline-stale", cwd=tmp_path).returncode == 0
    # entries of files or rules outside this run are not stale
    pgpath("check", ".", "--no-config", "--write-baseline", "b.json", cwd=tmp_path)
    r = pgpath("check", ".", "--no-config", "--baseline", "b.json", "--baseline-stale", "--select", "PG002",
               cwd=tmp_path)
    assert r.returncode == 0, r.stdout


def test_an_entry_of_a_retired_rule_is_stale(tmp_path):
    """PGB021 was retired (PATH005 judges its risk on the path): its baseline entries never match
    again, so they are stale, not kept silently forever."""
    from advisor import baseline
    from advisor.findings import Finding, Severity
    from advisor.model import Span

    ini = str(tmp_path / "pgbouncer.ini")
    old = Finding("PGB021", "pgbouncer-session-pool-too-small", Severity.INFO, "session pool", Span(ini, 4, 1))
    path = str(tmp_path / "b.json")
    baseline.write(path, [old])
    kept, dropped, stale = baseline.apply(path, [], {ini}, {"PGB016"})
    assert (kept, dropped, [(s.code, s.count) for s in stale]) == ([], 0, [("PGB021", 1)])


def test_bad_baseline_is_a_usage_error(tmp_path):
    (tmp_path / "postgresql.conf").write_text(PG)
    (tmp_path / "b.json").write_text('{"tool": "pgpath", "version": 1, "findings": [{"code": 1}]}')
    r = pgpath("check", ".", "--no-config", "--baseline", "b.json", cwd=tmp_path)
    assert r.returncode == 2 and "b.json: not a pgpath baseline" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "b.json").write_text("{")
    r = pgpath("check", ".", "--no-config", "--baseline", "b.json", cwd=tmp_path)
    assert r.returncode == 2 and "invalid JSON" in r.stderr
    r = pgpath("check", ".", "--no-config", "--baseline", "nope.json", cwd=tmp_path)
    assert r.returncode == 2 and "nope.json" in r.stderr
    r = pgpath("check", ".", "--no-config", "--baseline-stale", cwd=tmp_path)
    assert r.returncode == 2 and "--baseline-stale needs --baseline" in r.stderr


def test_exit_zero_and_no_inline_ignores(tmp_path):
    (tmp_path / "postgresql.conf").write_text("ssl = off  # pgpath: ignore[TLS001] TLS at the sidecar\n"
                                               "tcp_keepalives_idle = 60\n")
    r = pgpath("check", ".", "--no-config", cwd=tmp_path)
    assert r.returncode == 0 and "TLS001" not in r.stdout
    r = pgpath("check", ".", "--no-config", "--no-inline-ignores", "--fail-on", "info", cwd=tmp_path)
    assert r.returncode == 1 and "TLS001" in r.stdout and "ADV002" not in r.stdout
    r = pgpath("check", ".", "--no-config", "--no-inline-ignores", "--fail-on", "info", "--exit-zero", cwd=tmp_path)
    assert r.returncode == 0 and "TLS001" in r.stdout
    r = pgpath("check", "missing.conf", "--no-config", "--exit-zero", cwd=tmp_path)
    assert r.returncode == 2


def test_hook_mode_checks_the_deployment_and_reports_what_touches_changed_files(tmp_path):
    shutil.copytree(ROOT / "samples" / "risky", tmp_path / "risky")
    (tmp_path / "README.md").write_text("# not a config\n")
    (tmp_path / "script.py").write_text("print('hi')\n")
    # pgbouncer.ini changed: PGB013 compares it with postgresql.conf of the same folder
    r = pgpath("check", "--no-config", "--hook", "risky/pgbouncer.ini", "README.md", "script.py", "gone.conf",
               cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr == ""  # unrecognised and deleted files are skipped quietly
    found = [ln for ln in r.stdout.splitlines() if re.match(r"^\S+:\d+:\d+: ", ln)]
    assert found and all(ln.startswith("risky/pgbouncer.ini:") for ln in found[1:]), found
    # the one elsewhere touches pgbouncer.ini by its related place (its ignore_startup_parameters is the fix)
    assert found[0].startswith("risky/app/application.properties:2:23: PATH007 warning"), found
    assert "see: risky/pgbouncer.ini:3:1" in r.stdout
    assert "PGB013" in r.stdout and "see: risky/postgresql.conf:19:21" in r.stdout
    # postgresql.conf changed: PGB013 touches it by its related place, so it is reported too
    r = pgpath("check", "--no-config", "--hook", "risky/postgresql.conf", cwd=tmp_path)
    assert "risky/pgbouncer.ini:18:17: PGB013" in r.stdout
    assert "HAP003" not in r.stdout and "APP0" not in r.stdout  # not about the changed file
    # only unrecognised files: nothing to do, exit 0, no complaint
    r = pgpath("check", "--no-config", "--hook", "README.md", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "" and "0 findings" in r.stdout


def test_hook_mode_follows_the_changed_files_path(tmp_path):
    """A changed client file in app/ brings the deployment above it: its path's findings (the
    client requires TLS the server does not offer) are reported, those of other folders are not."""
    shutil.copytree(ROOT / "samples" / "risky", tmp_path / "risky")
    shutil.copytree(ROOT / "samples" / "risky", tmp_path / "other")
    r = pgpath("check", "--no-config", "--hook", "risky/app/.env", cwd=tmp_path)
    assert "risky/app/.env:2:93: PATH004 error" in r.stdout, r.stdout
    assert "see: risky/postgresql.conf:9:7" in r.stdout
    assert "other/" not in r.stdout
    # and the server file changed: the same path finding touches it (its related place)
    r = pgpath("check", "--no-config", "--hook", "risky/postgresql.conf", cwd=tmp_path)
    assert "risky/app/.env:2:93: PATH004" in r.stdout, r.stdout
