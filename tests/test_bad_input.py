"""Bad input through the real command line: never a traceback, always a clear message and exit code.

Exit codes: 0 clean (info findings do not fail), 1 findings at error/warning, 2 unreadable input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT, require_corpus


def pgpath(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True,
                       cwd=cwd or ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    assert "internal error" not in r.stderr, r.stderr
    return r


def check(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return pgpath("check", "--no-config", "--pg-version", "15", *extra, str(path))


def codes_at(r: subprocess.CompletedProcess) -> list[str]:
    """`CODE file:line:col` of each finding in the text output."""
    out = []
    for line in r.stdout.splitlines():
        if line[:1].isspace():
            continue  # the fix line under a finding
        parts = line.split(": ", 2)
        if len(parts) >= 2 and " " in parts[1]:
            out.append(f"{parts[1].split()[0]} {parts[0]}")
    return out


def test_binary_file(tmp_path):
    p = tmp_path / "postgresql.conf"
    p.write_bytes(b"work_mem = 1MB\nshared_buffers = 1GB\n\x00\x01\x02 binary")
    r = check(p)
    assert r.returncode == 2
    text = r.stdout + r.stderr
    # named by an absolute path outside the working directory: shown relative to what was checked
    assert "postgresql.conf:3" in text and str(tmp_path) not in text
    assert "binary" in text and "offset 36" in text


def test_unreadable_paths(tmp_path):
    dangling = tmp_path / "postgresql.conf"
    dangling.symlink_to(tmp_path / "nowhere.conf")
    r = check(dangling)
    assert r.returncode == 2 and "postgresql.conf" in r.stdout + r.stderr and str(tmp_path) not in r.stdout

    fifo = tmp_path / "fifo" / "postgresql.conf"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    r = check(fifo)  # must not block reading it
    assert r.returncode == 2 and "not a regular file" in r.stdout + r.stderr
    r = check(fifo.parent)  # nor when found by walking a directory
    assert r.returncode == 2 and "not a regular file" in r.stdout + r.stderr

    r = pgpath("dump", "--pg-version", "15", str(tmp_path / "missing" / "postgresql.conf"))
    assert r.returncode == 2 and "no such file" in r.stderr


def test_unreadable_by_permission(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root, which can read a mode-000 file; the FIFO, directory and dangling-symlink "
                    "cases cover unreadable input")
    p = tmp_path / "postgresql.conf"
    p.write_text("work_mem = 1MB\n")
    p.chmod(0)
    try:
        r = check(p)
    finally:
        p.chmod(0o644)
    assert r.returncode == 2 and "permission denied" in r.stdout + r.stderr


def test_included_directory_is_an_include_error(tmp_path):
    (tmp_path / "sub.conf").mkdir()
    p = tmp_path / "postgresql.conf"
    p.write_text("include 'sub.conf'\nwork_mem = 1MB\n")
    r = check(p, "--select", "ADV003")
    assert r.returncode == 1
    assert codes_at(r) == ["ADV003 postgresql.conf:1:9"]
    assert "directory" in r.stdout


def test_unterminated_quote(tmp_path):
    p = tmp_path / "postgresql.conf"
    p.write_text("work_mem = 1MB\ncluster_name = 'main\nfsync = off\n")
    r = check(p, "--select", "ADV001")
    assert r.returncode == 1
    assert codes_at(r) == ["ADV001 postgresql.conf:2:16"]
    assert "close the quoted value" in r.stdout


def test_include_loop(tmp_path):
    (tmp_path / "a.conf").write_text("include 'b.conf'\n")
    (tmp_path / "b.conf").write_text("include 'a.conf'\n")
    p = tmp_path / "postgresql.conf"
    p.write_text("include 'a.conf'\n")
    r = check(p, "--select", "ADV003")
    assert r.returncode == 1
    assert codes_at(r) == ["ADV003 b.conf:1:9"]  # beside the file named: relative to its folder
    assert "include loop: postgresql.conf -> a.conf -> b.conf -> a.conf" in r.stdout


def test_missing_include(tmp_path):
    p = tmp_path / "postgresql.conf"
    p.write_text("work_mem = 1MB\ninclude 'absent.conf'\ninclude_if_exists 'absent2.conf'\n")
    r = check(p, "--select", "ADV003")
    assert r.returncode == 1
    assert codes_at(r) == ["ADV003 postgresql.conf:2:9"]
    assert "absent.conf" in r.stdout and "absent2" not in r.stdout


def test_include_nesting_deeper_than_10(tmp_path):
    p = tmp_path / "postgresql.conf"
    p.write_text("include 'd1.conf'\n")
    for i in range(1, 12):
        (tmp_path / f"d{i}.conf").write_text(f"include 'd{i + 1}.conf'\n" if i < 11 else "work_mem = 1MB\n")
    r = check(p, "--select", "ADV003")
    assert r.returncode == 1
    assert codes_at(r) == ["ADV003 d10.conf:1:9"]
    assert "maximum nesting depth exceeded (10)" in r.stdout


def test_huge_file(tmp_path):
    p = tmp_path / "postgresql.conf"
    line = b"# " + b"x" * 1021 + b"\n"
    with p.open("wb") as f:
        for _ in range(17 * 1024):
            f.write(line)
    assert p.stat().st_size > 16 * 1024 * 1024
    r = check(p)
    assert r.returncode == 2
    assert "too large" in r.stdout + r.stderr and "17.0 MiB" in r.stdout + r.stderr


@pytest.mark.parametrize("content", [b"", b"# only comments\n   # indented\n\t\n#work_mem = 1m\n"],
                         ids=["empty", "only comments"])
def test_empty_and_comment_only_files(tmp_path, content):
    p = tmp_path / "postgresql.conf"
    p.write_bytes(content)
    r = check(p)
    assert r.returncode == 0, r.stdout
    assert " error " not in r.stdout and " warning " not in r.stdout


def _dump(p: Path) -> dict:
    r = pgpath("dump", "--pg-version", "15", str(p))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_crlf_line_endings(tmp_path):
    p = tmp_path / "postgresql.conf"
    p.write_bytes(b"work_mem = 8MB\r\n# c\r\nshared_buffers = '1GB'  # x\r\nfsync = off\r\n")
    d = _dump(p)
    assert d["diagnostics"] == []
    assert {s["name"]: s["value"] for s in d["settings"]} == {"work_mem": 8192, "shared_buffers": 131072, "fsync": False}
    assert [s["span"]["line"] for s in d["settings"]] == [1, 3, 4]


def test_utf8_bom_is_read_as_postgresql_reads_it(tmp_path):
    p = tmp_path / "postgresql.conf"
    p.write_bytes(b"\xef\xbb\xbfwork_mem = 8MB\nfsync = off\n")
    r = check(p, "--select", "PG001")
    assert r.returncode == 1
    assert codes_at(r) == ["PG001 postgresql.conf:1:1"]
    assert "byte order mark" in r.stdout


def test_latin1_bytes(tmp_path):
    p = tmp_path / "postgresql.conf"
    p.write_bytes(b"cluster_name = 'caf\xe9'\nwork_mem = 8MB # r\xe9glage\n")
    d = _dump(p)
    assert d["diagnostics"] == []
    assert {s["name"]: s["value"] for s in d["settings"]}["work_mem"] == 8192
    assert check(p).returncode == 0


def test_whole_corpus_never_crashes():
    """`pgpath check` over every folder of ../shared/corpus: exit 0, 1 or 2, never a traceback."""
    require_corpus()
    folders = sorted(p for p in CORPUS.iterdir() if p.is_dir())
    assert folders
    r = pgpath("check", "--no-config", *map(str, folders))
    assert r.returncode in (0, 1, 2), r.stderr
    assert r.stdout.strip(), "no output"
    r = pgpath("check", "--no-config", "--format", "json", *map(str, folders))  # and the JSON reporter
    assert r.returncode in (0, 1, 2), r.stderr
    json.loads(r.stdout)


def test_numbers_longer_than_python_converts(tmp_path):
    """A 5000-digit number (Python refuses int() of more than 4300 digits) is an invalid or
    out-of-range value at its line in every format, never an internal error."""
    d = "9" * 5000
    (tmp_path / "postgresql.conf").write_text(f"work_mem = {d}\nstatement_timeout = {d}kB\nrecovery_target_xid = '{d}'\n")
    (tmp_path / "pgbouncer.ini").write_text(f"[databases]\na = host=x port={d}\n[pgbouncer]\nserver_idle_timeout = {d}\n")
    (tmp_path / "haproxy.cfg").write_text(f"defaults\n  mode tcp\n  timeout client {d}\n  timeout server 1m\n"
                                          "  timeout connect 5s\nlisten x\n  bind :5432\n  server a 127.0.0.1:5433 check\n"
                                          f"  server b 127.0.0.1:{d} check\n")
    (tmp_path / ".env").write_text(f"DATABASE_URL=postgresql://u@h:{d}/db?connect_timeout={d}\n")
    (tmp_path / "application.yml").write_text(f"spring:\n  datasource:\n    url: jdbc:postgresql://h/db\n"
                                              f"    hikari:\n      max-lifetime: {d}\n")
    r = check(tmp_path)  # (pgpath() asserts: no traceback, no internal error)
    assert r.returncode == 1, r.stdout + r.stderr
    found = codes_at(r)
    for expected in ("PG002 ", "PGB002 ", "HAP008 ", "APP009 "):
        assert any(c.startswith(expected) for c in found), (expected, found)


# ------------------------------------------------------------------------------------------------
# found by the folder harness (fuzz/folder.py, session 15): each input minimised, each run through
# the command line (pgpath() asserts no traceback and no internal error); the message, its line
# and the exit code are asserted

BIG = "1" + "0" * 400  # float() of it is infinity; float(int(it)) an OverflowError


def check_here(folder: Path, *extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`pgpath check .` run in `folder`: the result, and each finding's `CODE file:line:col`."""
    r = pgpath("check", "--no-config", "--pg-version", "15", *extra, ".", cwd=folder)
    return r, sorted(c.replace(" ./", " ") for c in codes_at(r) if c.split(" ")[0][-3:].isdigit())


def test_systemd_size_past_uint64(tmp_path):
    (tmp_path / "postgresql.service").write_text(
        f"[Service]\nExecStart=/usr/lib/postgresql/16/bin/postgres\nMemoryMax={BIG}\nMemoryHigh=1.5G\n")
    r, found = check_here(tmp_path, "--select", "SYS004")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["SYS004 postgresql.service:3:11"]
    assert "MemoryMax=1000000000000000000000000000000000000000... (401 characters): too large" in r.stdout
    assert "systemd ignores the line" in r.stdout


def test_kubernetes_and_compose_memory_limit_past_int64(tmp_path):
    (tmp_path / "pg.yaml").write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: pg\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: postgres\n          image: postgres:16\n          resources:\n"
        f"            limits:\n              memory: {BIG}Ei\n")
    (tmp_path / "docker-compose.yml").write_text(
        f"services:\n  db:\n    image: postgres:16\n    mem_limit: {BIG}g\n")
    r, found = check_here(tmp_path, "--select", "PG002")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["PG002 docker-compose.yml:4:16", "PG002 pg.yaml:13:23"], r.stdout
    assert r.stdout.count("over 8 EiB") == 2


def test_django_conn_max_age_past_a_float(tmp_path):
    (tmp_path / "settings.py").write_text(
        'DATABASES = {\n    "default": {\n        "ENGINE": "django.db.backends.postgresql",\n'
        f'        "HOST": "db.internal",\n        "NAME": "app",\n        "CONN_MAX_AGE": {BIG},\n    }}\n}}\n')
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "settings.py").write_text(
        "import dj_database_url\nDATABASES = {\"default\": dj_database_url.config("
        f"default=\"postgres://u@db.internal/app\", conn_max_age={BIG})}}\n")
    r, found = check_here(tmp_path, "--select", "APP009")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["APP009 other/settings.py:2:101", "APP009 settings.py:6:25"], r.stdout
    assert "CONN_MAX_AGE 1000000000000000000000000000000000000000... (401 characters) is too large" in r.stdout
    assert "conn_max_age 1000000000000000000000000000000000000000... (401 characters) is too large" in r.stdout


@pytest.mark.parametrize("number, shown", [
    (BIG, "1000000000000000000000000000000000000000... (401 characters)"),  # was OverflowError in {:g}
    ("9" * 5000, "9999999999999999999999999999999999999999... (5000 characters)"),  # was unknown, not a word
])
def test_terraform_timeout_past_a_float(tmp_path, number, shown):
    (tmp_path / "nlb.tf").write_text(
        'resource "aws_lb_listener" "primary" {\n  load_balancer_arn = aws_lb.pg.arn\n  port = 5432\n'
        f'  protocol = "TCP"\n  tcp_idle_timeout_seconds = {number}\n}}\n')
    r, found = check_here(tmp_path, "--select", "CLD001")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["CLD001 nlb.tf:5:30"], r.stdout
    assert f"tcp_idle_timeout_seconds = {shown} is outside the range the provider accepts (60-6000 s)" in r.stdout


def test_statement_pooling_user_without_a_databases_entry(tmp_path):
    """PATH008 when the user's [users] line sets pool_mode=statement and no [databases] entry
    serves the client's database (was AttributeError on entry.name)."""
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql+psycopg://billing@pgbouncer.internal:6432/billing\n")
    (tmp_path / "pgbouncer.ini").write_text("[users]\nbilling = pool_mode=statement\n\n[pgbouncer]\nlisten_addr = *\n"
                                            "listen_port = 6432\npool_mode = transaction\n")
    r, found = check_here(tmp_path, "--select", "PATH008")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["PATH008 .env:1:14"], r.stdout
    assert "fix: pool_mode=transaction in the [users] entry of billing" in r.stdout


@pytest.mark.parametrize("yml", [
    # a section that merges itself twice: walked 2^32 times (a hang)
    "default: &default\n  adapter: postgresql\n  host: db.internal\n  <<: *default\n  <<: *default\n\n"
    "production:\n  <<: *default\n  database: shop\n",
    # fifteen anchors, each merging the one before four times: 4^15 flattenings (3^15 took 17 s)
    "a0: &a0\n  adapter: postgresql\n  host: db.internal\n"
    + "".join(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 16))
    + "production:\n  <<: *a15\n  database: shop\n",
])
def test_rails_merge_keys_that_repeat_or_loop(tmp_path, yml):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "database.yml").write_text(yml)
    r, found = check_here(tmp_path, "--select", "APP001")  # (timeout 120 s)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(found) == 1 and found[0].startswith("APP001 config/database.yml:"), r.stdout
    assert "production (rails) to db.internal/shop" in r.stdout


def test_json_nested_past_pythons_stack(tmp_path):
    """Cloud JSON (read with positions, two Python frames a level) nested 250 deep, a client's
    JSON 3,000 deep (json's C scanner: RecursionError), a package.json 3,000 deep beside
    node-postgres code, and a baseline 100,000 deep: messages with file:line, no internal error."""
    deep = "[" * 3000 + "]" * 3000
    (tmp_path / "proxies.json").write_text('{"LoadBalancers": [{"Type": "network", "x": ' + "[" * 250 + "]" * 250 + "}]}")
    (tmp_path / "db.json").write_text('{"DATABASE_URL": "postgres://u@h/d", "x": ' + deep + "}")
    r, found = check_here(tmp_path, "--select", "ADV001")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["ADV001 db.json:1:1", "ADV001 proxies.json:1:243"], r.stdout
    assert "db.json:1:1: ADV001 error invalid JSON: nested too deeply" in r.stdout
    assert "proxies.json:1:243: ADV001 error invalid JSON: nested more than 200 levels deep" in r.stdout

    node = tmp_path / "node"
    (node / "app" / "src").mkdir(parents=True)
    (node / "app" / "package.json").write_text('{"name": "@shop/api", "dependencies": {"pg": ' + deep + "}}")
    (node / "app" / "src" / "db.js").write_text("const { Pool } = require('pg');\nmodule.exports = new Pool({max: 10});\n")
    (node / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: api\n          image: registry.example.com/shop/api:2.1.0\n"
        "          env:\n            - {name: PGHOST, value: db}\n")
    r, found = check_here(node)
    assert r.returncode == 0 and found == [], r.stdout + r.stderr
    assert "0 findings (0 error, 0 warning, 0 info) in 2 files" in r.stdout  # the code and the Deployment

    (tmp_path / "baseline.json").write_text("[" * 100_000)
    r = pgpath("check", "--no-config", "--baseline", "baseline.json", "db.json", cwd=tmp_path)
    assert r.returncode == 2 and "baseline.json: not a pgpath baseline (invalid JSON: nested too deeply)" in r.stderr


def test_symbolic_link_loops_and_broken_links(tmp_path):
    """A folder with a link to its parent (a loop os.walk does not follow), a link to itself, a
    broken link and a looping link under configuration names: each is said with its path, never
    followed, and named ones are unreadable (exit 2), with what is wrong with the link."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "up").symlink_to("..")
    (tmp_path / "self").symlink_to("self")
    (tmp_path / "postgresql.conf").symlink_to("nowhere.conf")
    (tmp_path / "pgbouncer.ini").symlink_to("pgbouncer.ini")
    (tmp_path / "haproxy.cfg").write_text("defaults\n  mode tcp\n")
    r = pgpath("check", "--no-config", "--verbose", ".", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "pgbouncer.ini: cannot read: a symbolic link that loops (too many levels of symbolic links)" in r.stdout
    assert "postgresql.conf: cannot read: a broken symbolic link (to nowhere.conf, which does not exist)" in r.stdout
    assert "in 1 file (2 other files skipped, not configuration pgpath reads); 2 unreadable" in r.stdout
    assert "pgpath: skipped ./self: a symbolic link that loops (too many levels of symbolic links)" in r.stderr
    assert "pgpath: skipped ./a/up: a symbolic link to a folder, not followed" in r.stderr

    r = pgpath("check", "--no-config", "self", cwd=tmp_path)  # named: unreadable, not "no such file"
    assert r.returncode == 2 and "self: cannot read: a symbolic link that loops" in r.stdout, r.stdout


def test_yaml_flow_collections_nested_20000_deep(tmp_path):
    """A line of 20,000 `[` in a compose file and a Spring application.yml (the folder harness's
    Ansible defaults input timed out): refused at the bracket past 200 levels, before PyYAML's
    scanner spends the square of the depth on it (was "nesting too deep" at 1:1, after 1 s a file)."""
    deep = "[" * 20_000 + "]" * 20_000
    (tmp_path / "docker-compose.yml").write_text(f"services:\n  db:\n    image: postgres:16\n    x: {deep}\n")
    (tmp_path / "application.yml").write_text(f"spring:\n  datasource:\n    url: jdbc:postgresql://db/app\n    x: {deep}\n")
    r, found = check_here(tmp_path, "--select", "ADV001")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["ADV001 application.yml:4:208", "ADV001 docker-compose.yml:4:208"], r.stdout
    assert r.stdout.count("invalid YAML: flow collections ([ or {) nested more than 200 deep") == 2


@pytest.mark.parametrize("value, shown", [
    (BIG, "1000000000000000000000000000000000000000... (401 characters)"),  # was OverflowError in float()
    ("-5", "-5"), (".nan", "nan"), (".inf", "inf"),  # were taken as timers of -5 s, nan s, and no timeout
])
def test_topology_timers_that_are_no_duration(tmp_path, value, shown):
    """A hop's idle_timeout and a host's tcp_keepalive_time (an integer or a string in the schema,
    which refuses .nan and .inf itself) that are no duration are ADV004 at their line; a host's was
    left unknown silently."""
    host_value = value if value.lstrip("-").isdigit() else "300"
    (tmp_path / "app.env").write_text("DATABASE_URL=postgresql://app@10.0.0.5:5432/orders\n")
    (tmp_path / "postgresql.conf").write_text("port = 5432\n")
    (tmp_path / "pgpath.yaml").write_text(
        "deployments:\n  - name: orders\n    hops:\n      - client: app.env\n"
        f"      - azure-lb: {{idle_timeout: {value}}}\n      - postgres: {{file: postgresql.conf, host: db1}}\n"
        f"hosts:\n  db1: {{ram: 16GB, tcp_keepalive_time: {host_value}}}\n")
    r = pgpath("check", "--select", "ADV004", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"pgpath.yaml:5:9: ADV004 error deployment orders: cannot read idle_timeout {shown}: not a duration of " \
           "0 to 1,000,000,000 s" in r.stdout
    said = f"pgpath.yaml:8:3: ADV004 error host db1: cannot read tcp_keepalive_time {shown}: not a duration"
    assert (said in r.stdout) == (host_value == value), r.stdout


def test_topology_number_longer_than_python_converts(tmp_path):
    (tmp_path / "pgpath.yaml").write_text("deployments:\n  - name: orders\n    hops:\n"
                                          f"      - azure-lb: {{idle_timeout: {'9' * 5000}}}\n")
    r = pgpath("check", ".", cwd=tmp_path)  # was ValueError out of PyYAML's int constructor
    assert r.returncode == 2
    assert "pgpath: error: pgpath.yaml:4:34: invalid YAML: a number of 5000 digits (pgpath reads up to 4000)" in r.stderr


@pytest.mark.parametrize("make, said", [
    (lambda p: p.mkdir(), "is a directory, not a file"),
    (lambda p: p.write_bytes(b'"app" "md5x"\n\x00\x00'), "binary file (NUL byte at offset 13)"),
    (lambda p: p.symlink_to(p.name), "a symbolic link that loops"),
])
def test_pgbouncer_auth_file_that_cannot_be_read(tmp_path, make, said):
    """An auth_file among the checked files that is a folder, binary or a looping link: ADV003
    warning at auth_file's value (it was left out without a word, PGB022 silently not checked)."""
    (tmp_path / "pgbouncer.ini").write_text("[databases]\n* = host=db\n[pgbouncer]\nlisten_port = 6432\n"
                                            "auth_type = scram-sha-256\nauth_file = userlist.txt\n")
    make(tmp_path / "userlist.txt")
    r, found = check_here(tmp_path, "--select", "ADV003")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["ADV003 pgbouncer.ini:6:13"], r.stdout
    assert f"warning auth_file userlist.txt: cannot read userlist.txt: {said}" in r.stdout
    assert "PGB022 not checked" in r.stdout


# found by a sweep of the folder seeds with every number replaced by one of fuzz.folder.NUMBERS


def test_pgbouncer_pool_size_of_two_billion(tmp_path):
    """PGB016's fix counted a pool_size down one by one to the largest that fits (a hang for
    2,000,000,000); it bisects: the same answer in 31 steps."""
    (tmp_path / "pgbouncer.ini").write_text(
        "[databases]\norders = host=127.0.0.1 port=5432 dbname=orders pool_size=2000000000\n"
        "billing = host=127.0.0.1 port=5432 dbname=billing pool_size=20\n\n[pgbouncer]\nlisten_addr = *\n"
        "listen_port = 6432\n")
    (tmp_path / "postgresql.conf").write_text("listen_addresses = '*'\nport = 5432\nmax_connections = 100\n")
    r, found = check_here(tmp_path, "--select", "PGB016")  # (timeout 120 s)
    assert r.returncode == 1 and found == ["PGB016 pgbouncer.ini:2:49"], r.stdout + r.stderr
    assert "orders 2000000000 + 0 + billing 20 + 0 = 2000000020 server connections" in r.stdout
    assert "fix: pool_size=77 in the [databases] line of orders (the sum stays within 97)" in r.stdout


def test_pgbouncer_deployment_scaled_to_zero(tmp_path):
    """A PgBouncer Deployment of replicas: 0 behind an autoscaled client: PATH005 divided the
    clients among 0 copies (ZeroDivisionError); none run, so there is no budget to check."""
    import shutil

    shutil.copytree(ROOT / "tests" / "rules" / "PATH005" / "bad_client_autoscaled", tmp_path / "case")
    deployment = tmp_path / "case" / "pgbouncer" / "deployment.yaml"
    text = deployment.read_text()
    assert "\n  replicas: " in text
    deployment.write_text("".join(("  replicas: 0\n" if line.startswith("  replicas: ") else line + "\n")
                                  for line in text.splitlines()))
    r, found = check_here(tmp_path / "case", "--select", "PATH005,PGB016")
    assert r.returncode == 0 and found == [], r.stdout + r.stderr
    assert "0 findings (0 error, 0 warning, 0 info) in 2 files" in r.stdout


def test_cloudsql_custom_tier_of_400_digits(tmp_path):
    """db-custom-2-<400 digits> MiB: no machine has it (format_bytes overflowed a float); the tier
    is unknown, as any tier pgpath does not know, and the rest of the file is checked."""
    (tmp_path / "cloudsql.tf").write_text(
        'resource "google_sql_database_instance" "ledger" {\n  name = "ledger"\n  database_version = "POSTGRES_16"\n'
        f'  settings {{\n    tier = "db-custom-2-{BIG}"\n    database_flags {{\n      name  = "idle_session_timeout"\n'
        '      value = "300000"\n    }\n  }\n}\n')
    r, found = check_here(tmp_path)
    assert r.returncode == 1 and found == ["PG011 cloudsql.tf:8:15"], r.stdout + r.stderr


def test_rails_timers_past_a_float_and_a_pool_past_4300_digits(tmp_path):
    """database.yml idle_timeout and checkout_timeout of 400 digits (Ruby's to_f: Infinity; was an
    OverflowError) and a pool of 5000 digits (Ruby's to_i takes it; int() refused it)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "database.yml").write_text(
        f"production:\n  adapter: postgresql\n  host: db.internal\n  database: shop\n  pool: {'9' * 5000}\n"
        f"  idle_timeout: {BIG}\n  checkout_timeout: {BIG}\n")
    r, found = check_here(tmp_path)
    assert r.returncode == 0 and found == ["APP001 config/database.yml:1:1"], r.stdout + r.stderr
    r = pgpath("dump", "config/database.yml", cwd=tmp_path)
    assert r.returncode == 0 and '"value": "never"' in r.stdout  # the checkout wait: Infinity, as Ruby reads it


# session 16 (fuzz/targeted.py and hand-made inputs aimed at Terraform, cloud JSON, Kubernetes,
# SQL, client code, host files and certificates)


@pytest.mark.parametrize("name, text", [
    ("lb.json", (ROOT / "tests" / "rules" / "CLD004" / "bad_lb.json").read_text()),
    ("nlb.tf", (ROOT / "samples" / "risky" / "infra" / "nlb.tf").read_text()),
    ("init.sql", "ALTER SYSTEM SET idle_session_timeout = '5min';\n"),
])
def test_utf16_files_of_sniffed_kinds(tmp_path, name, text):
    """A cloud output, Terraform file or SQL script saved as UTF-16 (Windows PowerShell 5's `>`)
    was skipped as "JSON with no shape pgpath reads" / "Terraform without any resource": it is
    sniffed from its UTF-16 text and reported unreadable, saying why (exit 2)."""
    (tmp_path / name).write_bytes(text.encode("utf-16"))
    (tmp_path / "postgresql.conf").write_bytes("port = 5432\n".encode("utf-16"))
    r = check_here(tmp_path)[0]
    assert r.returncode == 2, r.stdout + r.stderr
    for file in (name, "postgresql.conf"):
        assert f"{file}:1: cannot read: UTF-16 text (it starts with a UTF-16 byte order mark), not UTF-8: save it " \
               "as UTF-8" in r.stdout + r.stderr, r.stdout + r.stderr
    assert "0 findings (0 error, 0 warning, 0 info) in 0 files; 2 unreadable" in r.stdout
    assert "skipped" not in r.stdout + r.stderr


def test_sniffed_files_over_the_read_limit_or_binary(tmp_path):
    """A Terraform file or plan over the 16 MiB read limit, or a plan with a NUL byte, was skipped
    as holding nothing pgpath reads; a large or binary file of no kind is still skipped."""
    lb = 'resource "aws_lb" "db" {\n  load_balancer_type = "network"\n}\n'
    (tmp_path / "main.tf").write_text(lb + "# " + "x" * (17 * 1024 * 1024) + "\n")
    plan = (ROOT / "tests" / "rules" / "CLD006" / "bad_plan_json" / "plan.json").read_bytes()
    (tmp_path / "plan.json").write_bytes(plan[:-2] + b"\x00" + plan[-2:])
    (tmp_path / "data.json").write_text("[" + "1," * (9 * 1024 * 1024) + "1]")  # no shape pgpath reads
    (tmp_path / "blob").write_bytes(b"\x00\x01[pgbouncer]\nlisten_port = 6432\n")  # no suffix: a program's data
    r = pgpath("check", "--no-config", "-v", ".", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert "main.tf: cannot read: file is too large (17.0 MiB; the limit is 16 MiB)" in out, out
    line = plan[:-2].count(b"\n") + 1
    assert f"plan.json:{line}: cannot read: binary file (NUL byte at offset {len(plan) - 2})" in out
    assert "skipped ./data.json: JSON with no shape pgpath reads" in out
    assert "skipped ./blob:" in out
    assert "2 unreadable" in r.stdout


_MANIFESTS = """apiVersion: postgresql.cnpg.io/v1
kind: Pooler
metadata:
  name: app-pooler-rw
spec:
  cluster:
    name: app
  instances: {v}
  type: rw
  pgbouncer:
    poolMode: transaction
---
apiVersion: acid.zalan.do/v1
kind: postgresql
metadata:
  name: acid-orders
spec:
  teamId: acid
  numberOfInstances: 2
  postgresql:
    version: "{v}"
---
apiVersion: v1
kind: Service
metadata:
  name: postgres-external
  annotations:
    service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout: "{v}"
spec:
  type: LoadBalancer
  selector:
    app: postgres
  ports:
    - port: {v}
      targetPort: 5432
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pgbouncer
spec:
  replicas: {v}
  template:
    spec:
      containers:
        - name: pgbouncer
          image: bitnami/pgbouncer:1.22.0
          env:
            - {{name: POSTGRESQL_HOST, value: db}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: pgbouncer
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: pgbouncer}}
  minReplicas: 1
  maxReplicas: {v}
"""


@pytest.mark.parametrize("value", ["\u00b2", "\u2460", "9" * 5000])
def test_kubernetes_compose_ansible_counts_that_int_refuses(tmp_path, value):
    """A CloudNativePG Pooler's instances, a Zalando version, a Service port and Azure idle-timeout
    annotation, a Deployment's replicas, an HPA's maxReplicas, compose replicas and a published
    port range, Ansible's pgbouncer_processes and swap_file_size_mb written as ² or ① (which
    str.isdigit() takes and int() refuses) or with 5000 digits (past Python's conversion limit)
    were internal errors (ValueError): they are no count pgpath knows, as Kubernetes, compose and
    Ansible refuse them, and the rest of each file is checked."""
    (tmp_path / "manifests.yaml").write_text(_MANIFESTS.format(v=value))
    (tmp_path / "docker-compose.yml").write_text(
        f"services:\n  pgbouncer:\n    image: bitnami/pgbouncer:1.24.0\n    deploy:\n      replicas: {value}\n"
        f"    ports:\n      - \"{value}:6432-{value}\"\n    environment:\n      POSTGRESQL_HOST: db\n"
        "      PGBOUNCER_AUTH_TYPE: trust\n")
    (tmp_path / "vars.yml").write_text(
        'postgresql_parameters:\n  - { option: "max_connections", value: "200" }\npgbouncer_install: true\n'
        f"pgbouncer_processes: {value}\npgbouncer_listen_port: 6432\nswap_file_size_mb: {value}\n")
    r, found = check_here(tmp_path, "--select", "CLD005,PGB017")
    assert r.returncode == 0, r.stdout + r.stderr
    assert found == ["CLD005 manifests.yaml:30:9", "PGB017 docker-compose.yml:7:10"]
    assert f"forwards PostgreSQL's port {value[:40]}" in r.stdout
    assert "in 3 files" in r.stdout


def test_haproxy_numbers_past_int_conversion(tmp_path):
    """A global maxconn, a bind address's port and IPv4 part, a server's `port` and `weight` of
    5000 digits (past Python's 4300-digit conversion limit), and a check port written `²`, were
    internal errors (ValueError): they are read as HAProxy's C conversions read them."""
    big = "9" * 5000
    (tmp_path / "haproxy.cfg").write_text(
        f"global\n  maxconn {big}\ndefaults\n  mode tcp\n  timeout client 30m\n  timeout server 30m\n"
        f"  timeout connect 5s\nlisten pg\n  bind {big}.1.1.1:{big}\n  server db 10.0.0.5:5432 check port {big} "
        f"weight {big}\n  server db2 10.0.0.6:5432 check port \u00b2\n")
    r, found = check_here(tmp_path, "--select", "HAP008")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == [f"HAP008 haproxy.cfg:10:{len(big) + 46}", "HAP008 haproxy.cfg:9:8"], r.stdout
    assert "weight of server db is not within 0 and 256 (-1)" in r.stdout  # atol: LONG_MAX, cut to 32 bits


def test_sysctl_value_past_int_conversion(tmp_path):
    """A sysctl value of 5000 digits in a sysctl.d file or a pod's securityContext sysctls was an
    internal error (ValueError out of int()); it is outside the kernel's range (SYS001 at the
    value), the message shortening it."""
    big = "9" * 5000
    (tmp_path / "99-pg.conf").write_text(f"net.ipv4.tcp_keepalive_time = {big}\nvm.overcommit_memory = 2\n")
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: db\nspec:\n  securityContext:\n    sysctls:\n"
        f"      - name: net.ipv4.tcp_keepalive_time\n        value: \"{big}\"\n  containers:\n"
        "    - name: postgres\n      image: postgres:16\n")
    r, found = check_here(tmp_path, "--select", "SYS001")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["SYS001 99-pg.conf:1:31", "SYS001 pod.yaml:9:17"], r.stdout
    assert r.stdout.count(f"net.ipv4.tcp_keepalive_time = {big[:40]}... (5000 characters): outside 0..2147483647; "
                          ) == 2, r.stdout
    assert "the kernel refuses it and systemd-sysctl logs an error" in r.stdout
    assert "the pod cannot start (the kubelet rejects the sysctl)" in r.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html", "markdown", "junit"])
def test_sql_syntax_error_quoting_a_role_password(tmp_path, fmt):
    """An unterminated dollar quote makes PostgreSQL's parser quote the rest of the script "at or
    near" it, a later ALTER ROLE ... PASSWORD 'x' included: the password was in every format."""
    (tmp_path / "init.sql").write_text(
        "ALTER SYSTEM SET work_mem = '4MB';\nDO $$ BEGIN\nALTER SYSTEM SET max_wal_size = '4GB';\n"
        "ALTER ROLE app WITH LOGIN PASSWORD 'Kq7-secret-role';\nCREATE USER bob ENCRYPTED PASSWORD E'it''s-Zx9';\n")
    r = pgpath("check", "--no-config", "--format", fmt, ".", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Kq7-secret-role" not in r.stdout + r.stderr and "Zx9" not in r.stdout + r.stderr
    assert "unterminated dollar-quoted string" in r.stdout
    if fmt == "text":
        assert "init.sql:2:4: ADV001 error SQL unterminated dollar-quoted string at or near" in r.stdout
        assert "PASSWORD '***'" in r.stdout


def test_nul_character_in_pgpath_settings(tmp_path):
    """A hop's file written "\\0" in pgpath.yaml (or any string of [tool.pgpath]) was an internal
    error (ValueError: embedded null byte, out of os.path.realpath); a usage error at the value."""
    (tmp_path / "postgresql.conf").write_text("port = 5432\n")
    (tmp_path / "pgpath.yaml").write_text(
        'deployments:\n  - name: orders\n    hops:\n      - client: {file: app.env}\n      - haproxy: "\\0"\n'
        "      - postgres: postgresql.conf\n")
    r = pgpath("check", ".", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "pgpath: error: pgpath.yaml:5:18: invalid YAML: a NUL character (\\0) in a string: pgpath.yaml names " \
           "files, hosts and patterns, which cannot hold one" in r.stderr
    (tmp_path / "pgpath.yaml").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.pgpath]\nexclude = ["ok", "a\\u0000b"]\n')
    r = pgpath("check", ".", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "pgpath: error: pyproject.toml: [tool.pgpath] at exclude/1: a NUL character (\\0) in a string" in r.stderr


def test_certificate_file_of_unterminated_begin_lines(tmp_path):
    """20,000 `-----BEGIN CERTIFICATE-----` lines with no END (a truncated or concatenated bundle):
    the block regex scanned to the end of the file from each (2,000 lines took 5 s, 20,000 about
    8 minutes); the block after them is still found, at its line."""
    (tmp_path / "server.crt").write_text("-----BEGIN CERTIFICATE-----\n" * 20_000
                                         + "-----BEGIN X509 CERTIFICATE-----\nAAAA\n-----END X509 CERTIFICATE-----\n")
    r, found = check_here(tmp_path, "--select", "TLS014")  # (timeout 120 s)
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["TLS014 server.crt:20001:1"], r.stdout
    assert "certificate cannot be read (ValueError)" in r.stdout


def test_certificate_blocks_as_the_regex_found_them():
    import random
    import re

    from advisor.loaders.cert_file import blocks

    regex = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.S)
    pieces = ["-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----", "-----BEGIN RSA PRIVATE KEY-----\r\n",
              "-----END RSA PRIVATE KEY-----", "abc\n", "\n", "-----BEGIN A-----", "-----END A-----",
              "-----BEGIN A-----\n", "-----", "BEGIN ", "X", " "]
    rnd = random.Random(16)
    for _ in range(5000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14)))
        assert list(blocks(text)) == [(m.group(1), m.start(), m.end()) for m in regex.finditer(text)], text


def test_pom_with_unclosed_comments(tmp_path):
    """A pom.xml ending in 50,000 unclosed `<!--` (or `<dependency>`): the comment and dependency
    regexes (`<!--.*?-->`, re.S) scanned to the end of the file from each opener (10,000 took
    10 s, 50,000 minutes); the pgjdbc version before them is still read."""
    import shutil

    shutil.copytree(ROOT / "tests" / "rules" / "PATH007" / "bad_pgjdbc_42_7_4_extra_float_digits", tmp_path / "case")
    pom = tmp_path / "case" / "pom.xml"
    pom.write_text(pom.read_text() + "<!-- " * 50_000 + "<dependency> " * 50_000)
    r, found = check_here(tmp_path / "case", "--select", "PATH007")  # (timeout 120 s)
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["PATH007 src/main/resources/application.properties:1:23"], r.stdout
    assert "pgjdbc 42.7.4 (org.postgresql:postgresql 42.7.4 in pom.xml:8)" in r.stdout, r.stdout


def test_helm_template_line_of_unclosed_tags(tmp_path):
    """A Helm-templated manifest (read with its tags masked) with a line of 40,000 `{{` that no
    `}}` closes: the masking regex restarted at each of them (20,000 took 55 s); the Pooler is
    still read."""
    (tmp_path / "pooler.yaml").write_text(
        "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: {{ .Release.Name }}-pooler\nspec:\n"
        "  cluster:\n    name: app\n  instances: {{ .Values.pooler.instances }}\n  type: rw\n"
        f"  # {'{{' * 40_000}\n  pgbouncer:\n    poolMode: transaction\n")
    r = pgpath("check", "--no-config", ".", cwd=tmp_path)  # (timeout 120 s)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 findings (0 error, 0 warning, 0 info) in 1 file; PgBouncer " in r.stdout
    assert "the operator runs its default image" in r.stdout


@pytest.mark.parametrize("value", ["9" * 5000, "0", "4001", "\u00b2"])
def test_classic_elb_idle_annotation_outside_what_aws_takes(tmp_path, value):
    """aws-load-balancer-connection-idle-timeout of 5000 digits was an internal error on the path
    (OverflowError: int too large to convert to float); 0 and 4001 were taken as the ELB's timer,
    which AWS refuses (1 to 4000 s), as Azure's idle timeout outside 4 to 100 min and an NLB's
    tcp.idle_timeout.seconds outside 60 to 6000 s: the timer is not known."""
    import shutil

    case = tmp_path / "case"
    shutil.copytree(ROOT / "tests" / "rules" / "PATH002" / "bad_classic_elb_20min_unread_clients", case)
    manifest = case / "pooler.yaml"
    assert 'idle-timeout: "1200"' in manifest.read_text()
    manifest.write_text(manifest.read_text().replace('idle-timeout: "1200"', f'idle-timeout: "{value}"'))
    r = pgpath("path", ".", cwd=case)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"closes first: not known: AWS Classic ELB pooler-rw idle timeout {value}" in r.stdout, r.stdout


def test_compose_build_context_with_a_nul_character(tmp_path):
    """A compose service built from "./api\\0" (or `context: "./w\\0"`) beside node-postgres and
    Python code that read DATABASE_URL: joining the code with the container that builds it was an
    internal error (ValueError: embedded null byte); such a context is no folder."""
    (tmp_path / "api").mkdir()
    (tmp_path / "docker-compose.yml").write_text(
        'services:\n  api:\n    build: "./api\\0"\n    environment:\n      DATABASE_URL: postgres://app@haproxy:5432/app\n'
        '  worker:\n    build:\n      context: "./w\\0"\n    environment:\n'
        "      DATABASE_URL: postgres://app@haproxy:5432/app\n")
    (tmp_path / "api" / "db.js").write_text(
        "const { Pool } = require('pg');\nconst pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 25 });\n")
    (tmp_path / "api" / "package.json").write_text('{"name": "api", "dependencies": {"pg": "^8.11.3"}}\n')
    (tmp_path / "api" / "db.py").write_text(
        'import os\nfrom sqlalchemy import create_engine\nengine = create_engine(os.environ["DATABASE_URL"], pool_size=5)\n')
    r, found = check_here(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert found == ["APP007 api/db.py:3:10"], r.stdout


@pytest.mark.parametrize("make, line, said", [
    (lambda p: p.write_text("idle_timeout = [[[\n"), 2, "not valid HCL: unexpected end of file at line 2, column 1"),
    (lambda p: p.write_bytes(b"idle_timeout = 5\x00\n"), 1, "binary file (NUL byte at offset 16)"),
    (lambda p: p.write_bytes("idle_timeout = 5\n".encode("utf-16")), 1, "UTF-16 text"),
    (lambda p: p.mkdir(), 1, "is a directory, not a file"),
])
def test_terraform_tfvars_that_cannot_be_read(tmp_path, make, line, said):
    """A terraform.tfvars that is no HCL, binary, UTF-16 or a folder was passed over without a word,
    and var.idle_timeout read as its default (100 s) though Terraform refuses to plan and the file
    may set it: ADV003 at the file, and the load balancer's timer is not known."""
    (tmp_path / "main.tf").write_text(
        'variable "idle_timeout" {\n  default = 100\n}\n\nresource "aws_lb" "api" {\n  load_balancer_type = '
        '"application"\n  internal = true\n  idle_timeout = var.idle_timeout\n}\n')
    make(tmp_path / "terraform.tfvars")
    r, found = check_here(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == [f"ADV003 terraform.tfvars:{line}:1"], r.stdout
    assert f"error cannot read terraform.tfvars: {said}" in r.stdout
    assert "Terraform loads it for every plan of this folder (terraform plan fails), so no var.* value of the " \
           "folder is known" in r.stdout
    dumped = json.loads(pgpath("dump", "main.tf", cwd=tmp_path).stdout)
    idle = dumped["model"]["middleboxes"][0]["idle_timeout"]
    assert idle["value"] != 100 and idle["raw"] == "${var.idle_timeout}", idle


@pytest.mark.parametrize("write, line, said", [
    (lambda p: p.write_text("idle: [[[\n"), 2, "invalid YAML: expected the node content, but found '<stream end>'"),
    (lambda p: p.write_bytes(b"idle: 30\x00\n"), 1, "binary file (NUL byte at offset 8), not a configuration file"),
])
def test_ansible_group_vars_that_cannot_be_read(tmp_path, write, line, said):
    """group_vars/all.yml that does not parse was left out without a word, and the template was
    rendered with the role default it overrides (server_idle_timeout 600 where the play, which
    fails on that file, sets 30): ADV003 at the file, and the template's variables are unknown."""
    role = tmp_path / "roles" / "pgbouncer"
    (role / "templates").mkdir(parents=True)
    (role / "defaults").mkdir()
    (tmp_path / "group_vars").mkdir()
    (role / "templates" / "pgbouncer.ini.j2").write_text(
        "[databases]\n* = host=10.0.0.5\n[pgbouncer]\nlisten_port = 6432\npool_mode = transaction\n"
        "server_idle_timeout = {{ idle }}\nauth_type = scram-sha-256\n")
    (role / "defaults" / "main.yml").write_text("idle: 600\n")
    write(tmp_path / "group_vars" / "all.yml")
    r, found = check_here(tmp_path, "--select", "ADV003")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == [f"ADV003 group_vars/all.yml:{line}:1"], r.stdout
    assert f"error cannot read group_vars/all.yml: {said}; Ansible loads it for this role's hosts (the play " \
           "fails on it), so no variable of the project is known for this template" in r.stdout
    dumped = pgpath("dump", "roles/pgbouncer/templates/pgbouncer.ini.j2", cwd=tmp_path).stdout
    assert '"raw": "600"' not in dumped and "{{ idle }}" in dumped


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_hcl_error_after_an_unterminated_heredoc_password(tmp_path, fmt):
    """python-hcl2's error quoted the token it stopped at, whole: an unterminated heredoc
    `password = <<EOT` ran on over the secret (`Token('STRING_CHARS', '<<EOT\\nsecret...')`). The
    token is named by its kind."""
    (tmp_path / "main.tf").write_text('resource "aws_db_instance" "db" {\n  engine = "postgres"\n'
                                      "  password = <<EOT\nVq8-heredoc-secret\n")
    r = pgpath("check", "--no-config", "--format", fmt, ".", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Vq8-heredoc-secret" not in r.stdout + r.stderr
    assert "not valid HCL: unexpected STRING_CHARS at line 3, column 14" in r.stdout
    if fmt == "text":
        assert "main.tf:3:14: ADV001 error" in r.stdout


def test_patroni_refused_max_connections_of_400_digits(tmp_path):
    """A Zalando manifest's max_connections of 400 digits, which Patroni refuses: MEM001 weighed
    the memory at that many connections (OverflowError: int too large to convert to float); it
    counts at most PostgreSQL's 262,143 backends."""
    (tmp_path / "pg.yaml").write_text(
        "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: acid-small\nspec:\n  teamId: acid\n"
        "  numberOfInstances: 2\n  postgresql:\n    version: '17'\n    parameters:\n      shared_buffers: 32MB\n"
        f"      max_connections: \"{BIG}\"\n  resources:\n    limits:\n      memory: 500Mi\n")
    r, found = check_here(tmp_path, "--select", "PG014,MEM001")
    assert r.returncode == 0, r.stdout + r.stderr
    assert found == ["MEM001 pg.yaml:2:7", "PG014 pg.yaml:12:7"], r.stdout
    assert "max_connections 100 (Patroni's default: it refuses the 1000" in r.stdout
    assert "peak memory estimate" in r.stdout


def test_compose_build_context_with_a_nul_character_beside_a_server(tmp_path):
    """The same context beside a PostgreSQL service (the compose file read for its servers, each
    built service's context tied to the application it holds): ValueError, an internal error."""
    (tmp_path / "docker-compose.yml").write_text(
        'services:\n  db:\n    image: postgres:16\n    command: ["postgres", "-c", "work_mem=1"]\n'
        '  web:\n    build: "./w\\0"\n  worker:\n    build:\n      context: "./x\\0"\n')
    r, found = check_here(tmp_path, "--select", "PG003")
    assert r.returncode == 1, r.stdout + r.stderr
    assert found == ["PG003 docker-compose.yml:4:43"], r.stdout


def test_an_azure_lb_rule_port_written_superscript_is_no_postgres_port(tmp_path):
    """A Terraform azurerm_lb_rule whose frontend_port is "²": str.isdigit() took it and int() refused
    it, an internal error (exit 3) in CLD004 (found reading the change again). It is no port: no
    finding, no error."""
    (tmp_path / "lb.tf").write_text(
        'resource "azurerm_lb_rule" "pg" {\n  name = "pg"\n  loadbalancer_id = "x"\n  protocol = "Tcp"\n'
        '  frontend_port = "\u00b2"\n  backend_port = "\u00b2"\n  frontend_ip_configuration_name = "fe"\n}\n')
    r = check(tmp_path)
    assert r.returncode == 0 and "internal error" not in r.stderr, r.stdout + r.stderr
