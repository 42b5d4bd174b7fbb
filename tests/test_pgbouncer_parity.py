"""Parity with a real PgBouncer: the loader's effective values against `SHOW CONFIG`.

Each case starts PgBouncer (the installed one, on 127.0.0.1 and a free port, as a non-root user)
on a loopback copy of an ini (tests/pgbouncer_harness.py), then loads the very same copy with
the loader for the installed version and checks:

- PgBouncer refused to start  <=>  the loader reports an error that says PgBouncer refuses to start;
- when it started: every `SHOW CONFIG` value equals the loader's effective value (set in the file
  or the version's default), and every database of `SHOW DATABASES` has the host, port, dbname,
  forced user, pool size, reserve pool and pool mode the loader read;
- when it refused: PgBouncer's first error names a line the loader also reports.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pgbouncer_harness as harness
from conftest import corpus_files, require_corpus

from advisor.loaders.pgbouncer_ini import load
from advisor.model import Diagnostic, Span
from advisor.catalogs.pgbouncer import AUTH_QUERY_NEW, AUTH_QUERY_OLD, BY_NAME, DATABASE_KEYS, PARAMS, POOL_MODES, TIME, parse_version

EXE = harness.binary()
pytestmark = pytest.mark.skipif(EXE is None, reason="pgbouncer is not installed (apt-get install pgbouncer)")
VERSION = harness.version(EXE) if EXE else "1.25"

FATAL_KINDS = ("syntax-error", "include-error", "pgbouncer-unknown-key", "pgbouncer-invalid-value",
               "pgbouncer-unit-suffix")
NOT_COMPARED = {"conffile"}  # the path given on the command line
KNOWN_DIFFERENCES: set[str] = set()  # packaging differences from upstream, seen in this run


def refuses(doc) -> list:
    """What the loader says stops PgBouncer here: fatal diagnostics, and includes it could not read
    because they are made where the file is deployed (their warning says PgBouncer does not start
    where they are missing: a missing /etc/... target here is that case)."""
    return [d for d in doc.diagnostics if d.kind in FATAL_KINDS
            and ("refuses to start" in d.message or "cannot listen on TCP" in d.message)] + [
        Diagnostic("include-error", Span(n["file"], n.get("line"), n.get("col")), n["message"])
        for n in doc.meta.get("unresolved_includes", ()) if "does not start where it is missing" in n["message"]]


def compare(ini_text: str, workdir: str, cwd: str | None = None, keep: tuple[str, ...] = ()) -> tuple[bool, list[str]]:
    """(PgBouncer started, the mismatches between it and the loader)."""
    outcome, path = harness.run(ini_text, workdir, cwd, keep=keep)
    doc = load(path, {"pgbouncer_version": VERSION, "pgbouncer_cwd": cwd or workdir})
    errors = refuses(doc)
    problems: list[str] = []
    if outcome.started and errors:
        problems.append("PgBouncer started but the loader says it refuses: "
                        + "; ".join(f"{d.span}: {d.message}" for d in errors))
    if not outcome.started and not errors:
        problems.append("PgBouncer refused to start but the loader reports no error; log:\n" + outcome.log[-800:])
    if not outcome.started:
        if outcome.error_line is not None and errors:
            lines = {d.span.line for d in errors if d.span.file == path}
            with open(path, encoding="utf-8", errors="replace") as f:
                named = f.read().split("\n")[outcome.error_line - 1].strip()
            if not lines and named.startswith("%include"):
                lines = {outcome.error_line}  # the error is inside the included files; PgBouncer names the include
            if outcome.error_line not in lines and "fill_defaults" not in outcome.log:
                problems.append(f"PgBouncer's first error is at line {outcome.error_line}; the loader reports "
                                f"lines {sorted(lines)}")
        return False, problems
    model = doc.model
    for key, shown in outcome.config.items():
        if key in NOT_COMPARED:
            continue
        if key not in BY_NAME or key not in model.values:
            problems.append(f"{key}: in SHOW CONFIG of {VERSION} but not in the loader's table for {VERSION}")
            continue
        mine = model.shown(key)
        if key == "auth_query" and mine == AUTH_QUERY_OLD and shown == AUTH_QUERY_NEW and model.is_default(key):
            KNOWN_DIFFERENCES.add("auth_query: the distribution backported the CVE-2025-2291 default (upstream 1.24.1)")
            continue
        if mine != shown:
            problems.append(f"{key}: PgBouncer {shown!r}, loader {mine!r}")
    for name in model.values:
        if name not in outcome.config and name not in NOT_COMPARED:
            problems.append(f"{name}: in the loader's table for {VERSION} but not in SHOW CONFIG")
    entries = {e.name: e for e in model.effective_databases()}
    for row in outcome.databases:
        if row["name"] == "pgbouncer":
            continue
        entry = entries.get(row["name"])
        if entry is None:
            problems.append(f"database {row['name']}: in SHOW DATABASES, not read by the loader")
            continue
        expected = {
            "host": entry.value("host"),
            "port": entry.value("port", 5432),
            "database": entry.value("dbname", entry.name),
            "force_user": entry.value("user"),
            "pool_size": entry.value("pool_size", model.value("default_pool_size")),
            "reserve_pool": entry.value("reserve_pool", model.value("reserve_pool_size")),
            "pool_mode": entry.value("pool_mode"),
        }
        for column, value in expected.items():
            if column in row and row[column] != value:
                problems.append(f"database {row['name']}.{column}: PgBouncer {row[column]!r}, loader {value!r}")
    users = {u.name: u for u in model.effective_users()}
    for row in outcome.users:
        entry = users.get(row["name"])
        if entry is None:
            continue  # users come from the auth file and from logins too
        for column, key in (("pool_mode", "pool_mode"), ("max_user_connections", "max_user_connections")):
            if column in row and row[column] != entry.value(key, None if column == "pool_mode" else 0):
                problems.append(f"user {row['name']}.{column}: PgBouncer {row[column]!r}, loader {entry.value(key)!r}")
    for name in users:
        if name not in {row["name"] for row in outcome.users}:
            problems.append(f"user {name}: read by the loader, not in SHOW USERS")
    return True, problems


# ------------------------------------------------------------------------------------------------
# hand-written cases: (ini body, PgBouncer starts?)

CASES = {
    "defaults": ("[pgbouncer]\n", True),
    "times": ("[pgbouncer]\nquery_timeout = 1.5\nserver_idle_timeout = 0x10\nserver_lifetime = 1e3\n"
              "client_idle_timeout = 1234567.25\nidle_transaction_timeout = 1e-7\n", True),
    "unit suffix s": ("[pgbouncer]\nquery_timeout = 30s\n", False),
    "unit suffix h": ("[pgbouncer]\nserver_lifetime = 1h\n", False),
    "negative time": ("[pgbouncer]\nquery_timeout = -1\n", False),
    "trailing comment on a number": ("[pgbouncer]\nserver_idle_timeout = 30 ; note\n", False),
    "trailing comment on a string": ("[pgbouncer]\nserver_reset_query = DISCARD ALL ; note\n", True),
    "comment lines": ("; a\n  # b\n[pgbouncer]\n\t; c\npool_mode = transaction\n", True),
    "bool word": ("[pgbouncer]\ntcp_keepalive = on\n", False),
    "bool digits": ("[pgbouncer]\ntcp_keepalive = 0\nserver_round_robin = 1\n", True),
    "octal and hex ints": ("[pgbouncer]\nunix_socket_mode = 0755\ndefault_pool_size = 0x10\n", True),
    "int wraps to 32 bits": ("[pgbouncer]\ndefault_pool_size = 4294967297\n", True),
    "uint from -1": ("[pgbouncer]\nmax_packet_size = -1\n", True),
    "enum case": ("[pgbouncer]\npool_mode = Transaction\nserver_tls_sslmode = ALLOW\n", True),
    "enum invalid": ("[pgbouncer]\npool_mode = transactions\n", False),
    "key case": ("[pgbouncer]\nDefault_pool_size = 3\n", False),
    "unknown key": ("[pgbouncer]\nserver_idle_timeuot = 3\n", False),
    "no equals": ("[pgbouncer]\npool_mode transaction\n", False),
    "unknown section": ("[pgbouncer]\n[pools]\nx = 1\n", False),
    "second pgbouncer header resets": ("[pgbouncer]\ndefault_pool_size = 7\nquery_timeout = 9\n[databases]\n"
                                       "[pgbouncer]\nmax_client_conn = 9\n", True),
    "key after header on one line": ("[pgbouncer] pool_mode = statement\n", True),
    "databases": ("[databases]\nappdb = host=10.0.0.5 port=5433 dbname=app user=u password='p w' pool_size=3 "
                  "reserve_pool=2 pool_mode=transaction connect_query='select ''x'''\n"
                  "other= host=db.internal\n* = host=127.0.0.1\n[pgbouncer]\ndefault_pool_size = 11\n", True),
    "database redefined": ("[databases]\na = host=x port=1\na = host=y\n[pgbouncer]\n", True),
    "database bad key": ("[databases]\na = host=x poolsize=3\n[pgbouncer]\n", False),
    "database bad port": ("[databases]\na = host=x port=abc\n[pgbouncer]\n", False),
    "database empty value": ("[databases]\na = host=\n[pgbouncer]\n", False),
    "database unterminated quote": ("[databases]\na = host='x\n[pgbouncer]\n", False),
    "database reserved name": ("[databases]\npgbouncer = host=x\n[pgbouncer]\n", False),
    "users": ("[users]\nu1 = pool_mode=session max_user_connections=4\n[pgbouncer]\n", True),
    # what a template's quote filter writes (Helm's `{{ $user.name | quote }}`): refused
    "user name in double quotes": ('[users]\n"u1" = pool_mode=session\n[pgbouncer]\n', False),
    "database name in double quotes": ('[databases]\n"d1" = host=127.0.0.1\n[pgbouncer]\n', False),
    # libusual 6b7fc84 ("Support quoted keys in config"), first in PgBouncer 1.25
    "names in single quotes": ("[databases]\n'd 1' = host=127.0.0.1\n[users]\n'u1' = pool_mode=session\n"
                               "[pgbouncer]\n'pool_mode' = transaction\n", parse_version(VERSION) >= (1, 25)),
    "empty quoted name": ("[databases]\n'' = host=127.0.0.1\n[pgbouncer]\n", False),
    "users bad key": ("[users]\nu1 = pool_size=4x\n[pgbouncer]\n", parse_version(VERSION) >= (1, 24)),
    "include missing": ("[pgbouncer]\n%include /nonexistent/pgpath.ini\n", False),
    "include needs a blank": ("[pgbouncer]\n%include\n", False),
    "value without section": ("pool_mode = session\n[pgbouncer]\n", False),
    "tls protocols checked when used": ("[pgbouncer]\nserver_tls_sslmode = prefer\nserver_tls_protocols = tlsv1.0,bogus\n",
                                        False),
    "tls protocols unchecked when off": ("[pgbouncer]\nclient_tls_protocols = bogus\n", True),
    # libusual tls_config_parse_protocols: `tlsv1` (every TLS 1.x) and `!word` are words it takes; a blank
    # after a word, or blanks between words, make the value invalid; `legacy` was dropped in 1.21
    "tls protocols tlsv1 and removals": ("[pgbouncer]\nserver_tls_sslmode = prefer\n"
                                         "server_tls_protocols = tlsv1,!tlsv1.0, !tlsv1.1\n", True),
    "tls protocols blank after a word": ("[pgbouncer]\nserver_tls_sslmode = prefer\n"
                                         "server_tls_protocols = tlsv1.2 ,tlsv1.3\n", False),
    "tls protocols separated by blanks": ("[pgbouncer]\nserver_tls_sslmode = prefer\n"
                                          "server_tls_protocols = tlsv1.2 tlsv1.3\n", False),
    "tls protocols empty": ("[pgbouncer]\nserver_tls_sslmode = prefer\nserver_tls_protocols =\n", True),
    "tls protocols legacy": ("[pgbouncer]\nserver_tls_sslmode = prefer\nserver_tls_protocols = legacy\n",
                             parse_version(VERSION) <= (1, 20)),
    "keepidle above the Linux limit": ("[pgbouncer]\ntcp_keepidle = 32768\n", False),
    "keepidle at the Linux limit": ("[pgbouncer]\ntcp_keepidle = 32767\ntcp_keepcnt = 127\n", True),
    "keepcnt above the Linux limit": ("[pgbouncer]\ntcp_keepcnt = 128\n", False),
    "keepalive options unused when off": ("[pgbouncer]\ntcp_keepalive = 0\ntcp_keepcnt = 500\n", True),
    "negative tcp_user_timeout": ("[pgbouncer]\ntcp_user_timeout = -1\n", False),
    # strtol clamps to LONG_MAX, then the value is cut to an int; strtod gives inf (ERANGE)
    "int beyond long": ("[pgbouncer]\nmax_client_conn = " + "9" * 40 + "\n", True),
    "int of 5000 digits": ("[pgbouncer]\ndefault_pool_size = " + "9" * 5000 + "\n", True),
    "time of 5000 digits": ("[pgbouncer]\nserver_idle_timeout = " + "9" * 5000 + "\n", False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hand_written_case(name, space):
    body, starts = CASES[name]
    started, problems = compare(body, os.path.join(space, "w"))
    assert not problems, "\n".join(problems)
    assert started == starts, f"PgBouncer {VERSION} {'started' if started else 'refused'}; expected the opposite"


# start-up refusals beyond syntax (sbuf_tls_setup): (ini body, PgBouncer starts?); auth_type is kept
# as written. `CERT` is replaced by a throw-away key and certificate made with openssl.
TLS_CASES = {
    "client TLS without key and cert": ("[pgbouncer]\nclient_tls_sslmode = require\n", False),
    "client TLS allow without cert": ("[pgbouncer]\nclient_tls_sslmode = allow\nclient_tls_key_file = KEY\n", False),
    "client TLS prefer without key": ("[pgbouncer]\nclient_tls_sslmode = prefer\nclient_tls_cert_file = CRT\n", False),
    "client TLS with key and cert": ("[pgbouncer]\nclient_tls_sslmode = require\nclient_tls_key_file = KEY\n"
                                     "client_tls_cert_file = CRT\n", True),
    "client TLS off, files unset": ("[pgbouncer]\nclient_tls_sslmode = disable\n", True),
    "verify-full without CA": ("[pgbouncer]\nclient_tls_sslmode = verify-full\nclient_tls_key_file = KEY\n"
                               "client_tls_cert_file = CRT\n", False),
    # (verify-ca without a CA file, and verify-full with one, start; the harness cannot show it:
    # its admin login has no client certificate, which those modes demand)
    "auth_type cert with require": ("[pgbouncer]\nauth_type = cert\nclient_tls_sslmode = require\n"
                                    "client_tls_key_file = KEY\nclient_tls_cert_file = CRT\nclient_tls_ca_file = CRT\n",
                                    False),
    "auth_type cert without CA": ("[pgbouncer]\nauth_type = cert\nclient_tls_sslmode = verify-full\n"
                                  "client_tls_key_file = KEY\nclient_tls_cert_file = CRT\n", False),
    "auth_type cert, TLS off": ("[pgbouncer]\nauth_type = cert\n", False),
}


@pytest.fixture(scope="module")
def cert_files():
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a throw-away certificate")
    with harness.workspace() as path:
        key, crt = os.path.join(path, "server.key"), os.path.join(path, "server.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=pgpath-test",
                        "-days", "2", "-keyout", key, "-out", crt], check=True, capture_output=True)
        for p in (key, crt):
            os.chmod(p, 0o644)
        yield key, crt


@pytest.mark.parametrize("name", list(TLS_CASES))
def test_tls_startup_refusal(name, space, cert_files):
    body, starts = TLS_CASES[name]
    key, crt = cert_files
    body = body.replace("KEY", key).replace("CRT", crt)
    started, problems = compare(body, os.path.join(space, "w"), keep=("auth_type",) if "auth_type" in body else ())
    assert not problems, "\n".join(problems)
    assert started == starts, f"PgBouncer {VERSION} {'started' if started else 'refused'}; expected the opposite"


@pytest.fixture
def space():
    with harness.workspace() as path:
        yield path


def test_include_relative_to_working_directory(space):
    """A relative %include is resolved against PgBouncer's working directory, not the ini's folder."""
    tmp_path = Path(space)
    inc_dir = tmp_path / "cwd"
    inc_dir.mkdir()
    (inc_dir / "extra.ini").write_text("default_pool_size = 13\n")
    os.chmod(inc_dir, 0o755)
    os.chmod(inc_dir / "extra.ini", 0o644)
    body = "[pgbouncer]\n%include extra.ini\n"
    started, problems = compare(body, str(tmp_path / "work"), cwd=str(inc_dir))
    assert started and not problems, problems
    started, problems = compare(body, str(tmp_path / "work2"), cwd=str(tmp_path))  # extra.ini is not there
    assert not started and not problems, problems


def test_include_nesting_limit(space):
    tmp_path = Path(space)
    inc = tmp_path / "inc"
    inc.mkdir()
    os.chmod(inc, 0o755)
    for level in range(12):
        nxt = f"%include {inc}/f{level + 1}.ini\n" if level < 11 else "max_client_conn = 7\n"
        (inc / f"f{level}.ini").write_text(nxt)
        os.chmod(inc / f"f{level}.ini", 0o644)
    started, problems = compare(f"[pgbouncer]\n%include {inc}/f0.ini\n", str(tmp_path / "w"))
    assert not started and not problems, problems
    # 9 more levels (10 in all with the main file) are fine
    (inc / "f9.ini").write_text("max_client_conn = 7\n")
    started, problems = compare(f"[pgbouncer]\n%include {inc}/f0.ini\n", str(tmp_path / "w2"))
    assert started and not problems, problems


# ------------------------------------------------------------------------------------------------
# generated inis

def _strategies():
    from hypothesis import strategies as st

    ints = st.one_of(st.integers(-5, 5000).map(str), st.sampled_from(
        ["0x1f", "010", "0", "1", "-1", "2147483648", "99999999999", "on", "off", "yes", "1s", "12abc", "", " 1",
         "1 ; c", "+3", "1.5"]))
    times = st.one_of(
        st.floats(0, 1e7, allow_nan=False).map(lambda f: repr(round(f, 3))),
        st.integers(0, 100000).map(str),
        st.sampled_from(["30s", "1h", "5min", "500ms", "-1", "1.5", "1e2", "0x10", ".5", "5.", "", "30 ; c", "1,5",
                         "0.0000001", "1e400"]))
    enums = {
        "pool_mode": st.sampled_from(list(POOL_MODES) + ["Session", "TRANSACTION", "sessions", ""]),
        "server_tls_sslmode": st.sampled_from(["disable", "allow", "prefer", "Disable", "secure"]),
    }
    strings = {"server_reset_query": st.sampled_from(["DISCARD ALL", "", "select 1 ; x", "RESET ALL"]),
               "server_check_query": st.sampled_from(["select 1", "", "SELECT 2"]),
               "ignore_startup_parameters": st.sampled_from(["extra_float_digits", "", "options,search_path"])}
    safe_ints = [p.name for p in PARAMS if p.type in ("int", "uint") and not p.restart and p.name not in (
        "verbose", "peer_id", "syslog", "tcp_defer_accept", "max_packet_size", "sbuf_loopcnt", "stats_period")]
    safe_times = [p.name for p in PARAMS if p.type == TIME]

    def known(name):
        return BY_NAME[name].known_in(parse_version(VERSION))

    line = st.one_of(
        st.tuples(st.sampled_from([n for n in safe_ints if known(n)]), ints),
        st.tuples(st.sampled_from([n for n in safe_times if known(n)]), times),
        st.sampled_from(sorted(enums)).flatmap(lambda k: st.tuples(st.just(k), enums[k])),
        st.sampled_from(sorted(strings)).flatmap(lambda k: st.tuples(st.just(k), strings[k])),
    )
    connstr_value = st.sampled_from(["10.0.0.1", "db", "'a b'", "5433", "0", "abc", "transaction", "x''y"])
    db_key = st.sampled_from([k for k, (_, since) in DATABASE_KEYS.items() if parse_version(VERSION) >= since
                              and k not in ("auth_user",)] + ["poolsize"])
    db_line = st.tuples(st.sampled_from(["a", "b", "c"]),
                        st.lists(st.tuples(db_key, connstr_value), min_size=1, max_size=4))
    user_line = st.tuples(st.sampled_from(["u1", "u2"]), st.lists(st.tuples(
        st.sampled_from(["pool_mode", "max_user_connections", "pool_size"]),
        st.sampled_from(["transaction", "Session", "3", "x"])), min_size=1, max_size=2))
    return st.tuples(st.lists(line, max_size=8), st.lists(db_line, max_size=3), st.booleans(),
                     st.lists(user_line, max_size=2))


def _render(lines, dbs, reset, users=()) -> str:
    out = []
    if users:
        out.append("[users]")
        out += [f"{name} = " + " ".join(f"{k}={v}" for k, v in pairs) for name, pairs in users]
    if dbs:
        out.append("[databases]")
        out += [f"{name} = " + " ".join(f"{k}={v}" for k, v in pairs) for name, pairs in dbs]
    out.append("[pgbouncer]")
    half = len(lines) // 2
    for i, (k, v) in enumerate(lines):
        if reset and i == half:
            out.append("[pgbouncer]")
        out.append(f"{k} = {v}")
    return "\n".join(out) + "\n"


GENERATED: list[tuple[str, bool, list[str]]] = []


def test_generated_inis(space):
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(_strategies())
    def check(case):
        text = _render(*case)
        started, problems = compare(text, os.path.join(space, "gen"))
        GENERATED.append((text, started, problems))
        assert not problems, text + "\n" + "\n".join(problems)

    check()
    starts = sum(1 for _, s, _ in GENERATED if s)
    assert 0 < starts < len(GENERATED), "the generated inis should include both valid and invalid ones"


# ------------------------------------------------------------------------------------------------
# the corpus

def _corpus_cases():
    from advisor.loaders import detect_kind, read_text
    from advisor.loaders.template import is_sed_template, is_template

    out = []
    for path in corpus_files("pgbouncer"):
        text = read_text(str(path))
        if (detect_kind(str(path)) or detect_kind(str(path), text)) != "pgbouncer":
            continue
        if is_template(str(path), text) or is_sed_template(text) or "[pgbouncer]" not in text:
            continue  # templates (sed targets too) cannot run before deploy; fragments only run inside their includer
        out.append(path)
    return out


@pytest.mark.parametrize("path", _corpus_cases() or [None], ids=lambda p: p.name if p else "absent")
def test_corpus_file(path, space):
    require_corpus()
    if path is None:
        pytest.skip("no runnable PgBouncer file in the corpus")
    started, problems = compare(path.read_text(encoding="utf-8", errors="replace"), os.path.join(space, "w"),
                                cwd=str(path.parent))  # PgBouncer reads includes relative to its cwd
    assert not problems, "\n".join(problems)


# auth_type = hba: PgBouncer starts whatever auth_hba_file holds, but without a readable file every
# login is rejected (the harness's admin login included): PGB006 is an error exactly then
HBA_CASES = {
    "hba without auth_hba_file": ("[pgbouncer]\nauth_type = hba\n", False),
    "hba with a missing file": ("[pgbouncer]\nauth_type = hba\nauth_hba_file = HBA_DIR/missing_hba.conf\n", False),
    "hba with a file that allows the login": ("[pgbouncer]\nauth_type = hba\nauth_hba_file = HBA_DIR/pg_hba.conf\n",
                                              True),
}


@pytest.mark.parametrize("name", list(HBA_CASES))
def test_hba_without_file_rejects_every_login(name, space):
    body, logs_in = HBA_CASES[name]
    hba_dir = os.path.join(space, "hba")
    os.makedirs(hba_dir)
    os.chmod(hba_dir, 0o755)
    with open(os.path.join(hba_dir, "pg_hba.conf"), "w") as f:
        f.write("host all all 127.0.0.1/32 trust\nlocal all all trust\n")
    os.chmod(os.path.join(hba_dir, "pg_hba.conf"), 0o644)
    body = body.replace("HBA_DIR", hba_dir)
    outcome, path = harness.run(body, os.path.join(space, "w"), keep=("auth_type", "auth_hba_file"))
    assert outcome.started == logs_in, outcome.log[-600:]
    if not logs_in:
        assert "login rejected" in outcome.log  # PgBouncer ran and turned the login away
    doc = load(path, {"pgbouncer_version": VERSION, "check_roots": [space]})
    errors = [d for d in doc.diagnostics if d.kind == "pgbouncer-hba-file" and d.severity is None]
    assert bool(errors) == (not logs_in), [d.message for d in doc.diagnostics]
