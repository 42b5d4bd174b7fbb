"""Configuration from pgpath.yaml or `[tool.pgpath]` in pyproject.toml: discovery by walking
up (the nearer file wins), validation with file and key, per-file-ignores and rule-options."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pgpath(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


def repo(tmp_path):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "deploy" / "db"
    sub.mkdir(parents=True)
    (sub / "postgresql.conf").write_text("ssl = off\nwork_mem = 8mb\n")
    return tmp_path, sub


def test_pyproject_table_found_walking_up(tmp_path):
    top, sub = repo(tmp_path)
    (top / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.pgpath]\nselect = ["TLS001"]\n'
                                        'severity = { TLS001 = "error" }\n')
    r = pgpath("check", ".", cwd=sub)
    assert r.returncode == 1, r.stderr
    assert "TLS001 error" in r.stdout and "PG002" not in r.stdout


def test_nearer_file_wins_either_way(tmp_path):
    top, sub = repo(tmp_path)
    (top / "pgpath.yaml").write_text("select: [PG002]\n")
    (sub / "pyproject.toml").write_text('[tool.pgpath]\nselect = ["TLS001"]\n')
    r = pgpath("check", ".", cwd=sub)
    assert "TLS001" in r.stdout and "PG002" not in r.stdout
    (sub / "pyproject.toml").unlink()
    (top / "pgpath.yaml").unlink()
    (top / "pyproject.toml").write_text('[tool.pgpath]\nselect = ["TLS001"]\n')
    (sub / "pgpath.yaml").write_text("select: [PG002]\n")
    r = pgpath("check", ".", cwd=sub)
    assert "PG002" in r.stdout and "TLS001" not in r.stdout


def test_without_a_settings_file_above_the_working_directory_the_checked_folders_is_used(tmp_path):
    """The scenario audit's M2: `pgpath check s08` from a folder with no settings file above it used
    none, though s08 has its pgpath.yaml (a topology): the checked folder's nearest file is used then."""
    (tmp_path / "repo").mkdir()
    top, sub = repo(tmp_path / "repo")
    (top / "pgpath.yaml").write_text("select: [TLS001]\nseverity: {TLS001: error}\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    r = pgpath("check", str(sub), cwd=outside)
    assert r.returncode == 1 and "TLS001 error" in r.stdout and "PG002" not in r.stdout, r.stdout + r.stderr
    # two checked folders with different settings files: none is taken for both
    (tmp_path / "other").mkdir()
    other, _ = repo(tmp_path / "other")
    (other / "pgpath.yaml").write_text("select: [PG002]\n")
    r = pgpath("check", str(sub), str(other / "deploy" / "db"), cwd=outside)
    assert "TLS001 info" in r.stdout and "PG002" in r.stdout, r.stdout + r.stderr


def test_in_one_folder_pgpath_yaml_wins_and_a_pyproject_without_the_table_is_passed_by(tmp_path):
    top, sub = repo(tmp_path)
    (sub / "pgpath.yaml").write_text("select: [PG002]\n")
    (sub / "pyproject.toml").write_text('[tool.pgpath]\nselect = ["TLS001"]\n')
    r = pgpath("check", ".", cwd=sub)
    assert "PG002" in r.stdout and "TLS001" not in r.stdout
    (sub / "pgpath.yaml").unlink()
    (sub / "pyproject.toml").write_text('[tool.ruff]\nline-length = 100\n# tool.pgpath is not here\n')
    (top / "pyproject.toml").write_text('[tool.pgpath]\nselect = ["TLS001"]\n')
    r = pgpath("check", ".", cwd=sub)
    assert "TLS001" in r.stdout and "PG002" not in r.stdout


def test_pyproject_errors_name_file_and_key(tmp_path):
    top, sub = repo(tmp_path)
    (top / "pyproject.toml").write_text('[tool.pgpath]\nselct = ["TLS001"]\n')
    r = pgpath("check", ".", cwd=sub)
    assert r.returncode == 2
    # named relative to the working directory, as every path pgpath prints
    assert os.path.relpath(top / "pyproject.toml", sub) in r.stderr and str(top) not in r.stderr
    assert "[tool.pgpath]" in r.stderr and "'selct'" in r.stderr
    (top / "pyproject.toml").write_text('[tool.pgpath]\nrule-options = { MEM001 = { safe-shar = 0.5 } }\n')
    r = pgpath("check", ".", cwd=sub)
    assert r.returncode == 2 and "rule-options/MEM001" in r.stderr and "'safe-shar'" in r.stderr
    (top / "pyproject.toml").write_text('[tool.pgpath\nselect = 1\n')
    r = pgpath("check", ".", cwd=sub)
    assert r.returncode == 2 and "invalid TOML" in r.stderr and "line 1" in r.stderr
    assert "Traceback" not in r.stderr


def test_explicit_toml_config(tmp_path):
    top, sub = repo(tmp_path)
    (top / "ci.toml").write_text('[tool.pgpath]\nselect = ["PG002"]\n')
    r = pgpath("check", ".", "--config", str(top / "ci.toml"), cwd=sub)
    assert "PG002" in r.stdout and "TLS001" not in r.stdout
    (top / "other.toml").write_text('[tool.black]\nx = 1\n')
    r = pgpath("check", ".", "--config", str(top / "other.toml"), cwd=sub)
    assert r.returncode == 2 and "no [tool.pgpath] table" in r.stderr


def test_per_file_ignores(tmp_path):
    top, sub = repo(tmp_path)
    staging = top / "staging"
    staging.mkdir()
    (staging / "postgresql.conf").write_text("ssl = off\n")
    (top / "pgpath.yaml").write_text('per-file-ignores:\n  "staging/*": [TLS]\n  "*.conf": invalid-value\n')
    r = pgpath("check", ".", cwd=top)
    assert "deploy/db/postgresql.conf:1:7: TLS001" in r.stdout, r.stdout
    assert "staging/postgresql.conf:1:7: TLS001" not in r.stdout
    assert "PG002" not in r.stdout  # by file name, anywhere
    # the globs are relative to the configuration file's folder, wherever pgpath runs
    r = pgpath("check", "../..", cwd=sub)
    assert "staging/postgresql.conf:1:7: TLS001" not in r.stdout and "db/postgresql.conf:1:7: TLS001" in r.stdout
    (top / "pgpath.yaml").write_text('per-file-ignores:\n  "staging/*": [NOPE01]\n')
    r = pgpath("check", ".", cwd=top)
    assert r.returncode == 2 and "unknown rule 'NOPE01'" in r.stderr


def test_rule_options_change_the_thresholds(tmp_path):
    conf = tmp_path / "postgresql.conf"
    # one work_mem each: 64 MB shared + 2 MB wal + 192 MB autovacuum + (100 + 8) × 4 MB = 690 MB
    conf.write_text("shared_buffers = 64MB\nmax_connections = 100\nwork_mem = 4MB\nssl = on\n"
                    "tcp_keepalives_idle = 60\n")
    base = ("check", "postgresql.conf", "--select", "MEM001")
    assert "MEM001" not in pgpath(*base, "--ram", "1GB", "--no-config", cwd=tmp_path).stdout
    r = pgpath(*base, "--ram", "512MB", "--no-config", cwd=tmp_path)
    assert "MEM001 info peak memory estimate 690 MB > RAM 512 MB" in r.stdout and "≤ 80% of 512 MB" in r.stdout, r.stdout
    (tmp_path / "pgpath.yaml").write_text("rule-options:\n  MEM001: {safe-share: 0.6}\n")
    r = pgpath(*base, "--ram", "512MB", cwd=tmp_path)
    assert "≤ 60% of 512 MB" in r.stdout, r.stdout + r.stderr  # the proposals fit the floor into 60 %
    (tmp_path / "pgpath.yaml").write_text("rule-options:\n  MEM001: {sort-nodes: 3, hash-nodes: 2}\n")
    r = pgpath(*base, "--ram", "512MB", cwd=tmp_path)
    assert "(3 sort + 2 hash × hash_mem_multiplier 2" in r.stdout, r.stdout
    # the busy-server bound (3 sorts and 2 hashes each: 3.7 GB) is context, never a finding by itself
    assert "MEM001" not in pgpath(*base, "--ram", "1GB", cwd=tmp_path).stdout


def test_hap005_warn_below_option(tmp_path):
    (tmp_path / "haproxy.cfg").write_text(
        "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30m\n    timeout server 30m\n"
        "listen pg\n    bind :5000\n    option pgsql-check user haproxy\n    server pg1 10.0.0.1:5432 check\n")
    r = pgpath("check", "haproxy.cfg", "--no-config", "--select", "HAP005", cwd=tmp_path)
    # 30 min is above the warning threshold (600 s): info, since no client was read
    assert "HAP005 info" in r.stdout and "HAP005 warning" not in r.stdout, r.stdout
    (tmp_path / "pgpath.yaml").write_text("rule-options:\n  HAP005: {warn-below: 3600}\n")
    r = pgpath("check", "haproxy.cfg", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005 warning" in r.stdout, r.stdout


def test_hap005_report_up_to_option(tmp_path):
    (tmp_path / "haproxy.cfg").write_text(
        "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 1h\n    timeout server 1h\n"
        "listen pg\n    bind :5000\n    option pgsql-check user haproxy\n    server pg1 10.0.0.1:5432 check\n")
    # an hour: no client read shows a failure (validating pools survive any timer, and common pools that
    # retire idle connections have done so by 30 min; pools that never retire them are judged where their
    # configuration is read)
    r = pgpath("check", "haproxy.cfg", "--no-config", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005" not in r.stdout, r.stdout
    # 30 min (Patroni's example): within common pools' default retirement, info naming the clients to give
    (tmp_path / "haproxy.cfg").write_text((tmp_path / "haproxy.cfg").read_text().replace(" 1h\n", " 30m\n"))
    r = pgpath("check", "haproxy.cfg", "--no-config", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005 info" in r.stdout and "closed after 30m = 1800 s" in r.stdout, r.stdout
    assert "no client of this route was read" in r.stdout and "HikariCP maxLifetime=1770000" in r.stdout, r.stdout
    # 31 min: past every common pool's default retirement, not reported
    (tmp_path / "haproxy.cfg").write_text((tmp_path / "haproxy.cfg").read_text().replace(" 30m\n", " 31m\n"))
    r = pgpath("check", "haproxy.cfg", "--no-config", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005" not in r.stdout, r.stdout
    (tmp_path / "haproxy.cfg").write_text((tmp_path / "haproxy.cfg").read_text().replace(" 31m\n", " 30m\n"))
    # 9 min: below psycopg_pool's max_idle, a warning by default
    (tmp_path / "haproxy.cfg").write_text((tmp_path / "haproxy.cfg").read_text().replace(" 30m\n", " 9m\n"))
    r = pgpath("check", "haproxy.cfg", "--no-config", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005 warning" in r.stdout and "closed after 9m = 540 s" in r.stdout, r.stdout
    (tmp_path / "haproxy.cfg").write_text((tmp_path / "haproxy.cfg").read_text().replace(" 9m\n", " 30m\n"))
    # a warn-below above the timer makes it a warning, whatever the reporting limit
    (tmp_path / "pgpath.yaml").write_text("rule-options:\n  HAP005: {warn-below: 7200}\n")
    r = pgpath("check", "haproxy.cfg", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005 warning" in r.stdout, r.stdout
    (tmp_path / "haproxy.cfg").write_text((tmp_path / "haproxy.cfg").read_text().replace(" 30m\n", " 1h\n"))
    # clients that never retire idle connections (SQLAlchemy's default pool): the operator raises it
    (tmp_path / "pgpath.yaml").write_text("rule-options:\n  HAP005: {report-up-to: 86400}\n")
    r = pgpath("check", "haproxy.cfg", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005 info" in r.stdout and "closed after 1h = 3600 s" in r.stdout, r.stdout


def test_hap005_names_the_clients_read_whose_pools_are_not(tmp_path):
    """A connection string read on the route names no pool: the 30 min info says whose pool is not in
    the files, not that no client was read; with no client file it says no client was read."""
    (tmp_path / "haproxy.cfg").write_text(
        "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30m\n    timeout server 30m\n"
        "listen pg\n    bind :5000\n    option pgsql-check user haproxy\n    server pg1 10.0.0.1:5432 check\n")
    r = pgpath("check", ".", "--no-config", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005 info" in r.stdout and "no client of this route was read" in r.stdout, r.stdout
    assert "give pgpath the clients' configuration" in r.stdout, r.stdout
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://app@haproxy.internal:5000/app\n")
    r = pgpath("check", ".", "--no-config", "--select", "HAP005", cwd=tmp_path)
    assert "HAP005 info" in r.stdout, r.stdout
    assert "the pool of DATABASE_URL (libpq) is not in the files read" in r.stdout, r.stdout
    assert "no client of this route was read" not in r.stdout and "give pgpath" not in r.stdout, r.stdout
