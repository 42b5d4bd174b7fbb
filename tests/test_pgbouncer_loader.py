"""The pgbouncer.ini loader: values and spans, diagnostics, versions, templates, corpus, no raise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ROOT, corpus_files, require_corpus

from advisor.loaders import detect_kind, load_file, read_text
from advisor.loaders.pgbouncer_ini import load, parse_connstr
from advisor.model import Unknown


def write(tmp_path, text: str, name: str = "pgbouncer.ini") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def kinds(doc) -> list[str]:
    return [d.kind for d in doc.diagnostics]


@pytest.mark.parametrize("line,name,value", [
    ("query_timeout = 1.5", "query_timeout", 1.5),
    ("query_timeout = 0x10", "query_timeout", 16.0),
    ("server_lifetime = 1e3", "server_lifetime", 1000.0),
    ("idle_transaction_timeout = 1e-7", "idle_transaction_timeout", 0.0),
    ("default_pool_size = 010", "default_pool_size", 8),
    ("default_pool_size = 4294967297", "default_pool_size", 1),
    ("max_packet_size = -1", "max_packet_size", 4294967295),
    ("pool_mode = Transaction", "pool_mode", "transaction"),
    ("server_reset_query = ", "server_reset_query", ""),
    ("tcp_keepalive = 0", "tcp_keepalive", 0),
])
def test_values(tmp_path, line, name, value):
    doc = load(write(tmp_path, f"[pgbouncer]\n{line}\n"))
    assert not doc.diagnostics, doc.diagnostics
    assert doc.model.value(name) == value
    s = doc.model.setting(name)
    assert (s.span.line, s.span.col) == (2, 1)
    assert s.value_span.col == line.index("=") + 3 if line.split("=", 1)[1].strip() else True


@pytest.mark.parametrize("line,kind,fix", [
    ("query_timeout = 30s", "pgbouncer-unit-suffix", "query_timeout = 30"),
    ("server_lifetime = 1h", "pgbouncer-unit-suffix", "server_lifetime = 3600"),
    ("server_idle_timeout = 5min", "pgbouncer-unit-suffix", "server_idle_timeout = 300"),
    ("query_timeout = 500ms", "pgbouncer-unit-suffix", "query_timeout = 0.5"),
    ("tcp_keepidle = 60s", "pgbouncer-unit-suffix", "tcp_keepidle = 60"),
    ("tcp_keepalive = on", "pgbouncer-invalid-value", "tcp_keepalive = 1"),
    ("log_connections = off", "pgbouncer-invalid-value", "log_connections = 0"),
    ("server_idle_timeout = 30 ; note", "pgbouncer-invalid-value", "server_idle_timeout = 30"),
    ("pool_mode = transaction ; note", "pgbouncer-invalid-value", "pool_mode = transaction"),
    ("query_timeout = -1", "pgbouncer-invalid-value", None),
    ("Pool_mode = session", "pgbouncer-unknown-key", "did you mean pool_mode?"),
    ("server_idle_timeuot = 3", "pgbouncer-unknown-key", "did you mean server_idle_timeout?"),
    ("server_reset_query = DISCARD ALL ; note", "pgbouncer-inline-comment", "server_reset_query = DISCARD ALL"),
])
def test_diagnostics(tmp_path, line, kind, fix):
    doc = load(write(tmp_path, f"[pgbouncer]\n{line}\n"))
    assert kinds(doc) == [kind], doc.diagnostics
    d = doc.diagnostics[0]
    assert d.span.line == 2
    if fix:
        assert d.fix.startswith(fix), d.fix


def test_second_header_resets(tmp_path):
    doc = load(write(tmp_path, "[pgbouncer]\ndefault_pool_size = 7\n[databases]\n[pgbouncer]\nmax_client_conn = 9\n"))
    assert kinds(doc) == ["pgbouncer-section-reset"]
    assert doc.diagnostics[0].span.line == 4
    assert doc.model.value("default_pool_size") == 20 and doc.model.value("max_client_conn") == 9
    assert [s.effective for s in doc.settings if s.name == "default_pool_size"] == [False]


def test_version_defaults(tmp_path):
    path = write(tmp_path, "[pgbouncer]\n")
    new, old = load(path), load(path, {"pgbouncer_version": "1.18"})
    assert new.model.value("server_check_query") == "<empty>" and old.model.value("server_check_query") == "select 1"
    assert new.model.value("server_tls_sslmode") == "prefer" and old.model.value("server_tls_sslmode") == "disable"
    assert load(path, {"pgbouncer_version": "1.6"}).model.value("query_wait_timeout") == 0.0
    assert new.model.value("query_wait_timeout") == 120.0
    assert load(path, {"pgbouncer_version": "1.12"}).model.value("client_tls_protocols") == "all"
    assert "transaction_timeout" in new.model.values and "transaction_timeout" not in old.model.values
    doc = load(write(tmp_path, "[pgbouncer]\ntransaction_timeout = 5\n"), {"pgbouncer_version": "1.18"})
    assert kinds(doc) == ["pgbouncer-unknown-key"] and "added in 1.25" in doc.diagnostics[0].message


def test_databases_connection_strings(tmp_path):
    text = "[databases]\nappdb = host=10.0.0.5 port=5433 password='s e''cret' pool_size=3 pool_mode=Transaction\n[pgbouncer]\n"
    doc = load(write(tmp_path, text))
    assert not doc.diagnostics
    db = doc.model.databases[0]
    assert db.value("host") == "10.0.0.5" and db.value("port") == 5433 and db.value("pool_size") == 3
    assert db.value("pool_mode") == "transaction"
    pw = db.params["password"]
    assert pw.secret and pw.value == "s e'cret" and pw.span.col == text.split("\n")[1].index("password") + 1
    dumped = json.dumps(doc.to_dict())
    assert "cret" not in dumped, "a password leaked into the dump"
    assert db.params["port"].value_span.col == text.split("\n")[1].index("5433") + 1


@pytest.mark.parametrize("value,error", [
    ("host=a port=1", None), ("host='a b'", None), ("host=", "empty value"), ("host='a", "unterminated"),
    ("=a", "expected key=value"), ("host a", "expected key=value"),
])
def test_parse_connstr(value, error):
    pairs, problem = parse_connstr(value)
    assert (problem is None) == (error is None) and (error is None or error in problem[1])


def test_include_relative_to_cwd(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "extra.ini").write_text("default_pool_size = 13\n")
    path = write(tmp_path, "[pgbouncer]\n%include extra.ini\n")
    doc = load(path, {"pgbouncer_cwd": str(tmp_path / "sub")})
    assert not doc.diagnostics and doc.model.value("default_pool_size") == 13
    doc = load(path, {"pgbouncer_cwd": str(tmp_path)})
    assert kinds(doc) == ["include-error"] and "working directory" in doc.diagnostics[0].message


def test_include_loop(tmp_path):
    a = tmp_path / "a.ini"
    a.write_text(f"[pgbouncer]\n%include {a}\n")
    doc = load(str(a))
    assert kinds(doc) == ["include-error"] and "loop" in doc.diagnostics[0].message


def test_auth_file_read_for_the_kind_of_each_secret_only(tmp_path):
    (tmp_path / "userlist.txt").write_text('"admin" "topsecret"\n')
    doc = load(write(tmp_path, f"[pgbouncer]\nauth_file = {tmp_path}/userlist.txt\n"))
    assert "topsecret" not in json.dumps(doc.to_dict()) and "topsecret" not in repr(doc.model)
    assert [(u.name, u.kind) for u in doc.model.auth_file.users] == [("admin", "plain")]
    assert doc.files == [str(tmp_path / "pgbouncer.ini"), str(tmp_path / "userlist.txt")]


def test_template_placeholders_are_unknown(tmp_path):
    text = ("[databases]\n<%= db %> = host=<%= host %>\n* = host={{ h }} port={{ p }} pool_size=10\n"
            "[pgbouncer]\n<% if x %>\npool_mode = <%= @pool_mode %>\nlisten_port = $PORT\n<% end %>\n"
            "%include <%= @inc %>\n")
    doc = load(write(tmp_path, text, "pgbouncer.ini.erb"))
    # no diagnostic: the templated %include is recorded as not read (it exists where the template is rendered)
    assert doc.diagnostics == [] and [i["line"] for i in doc.meta["unresolved_includes"]] == [9]
    assert isinstance(doc.model.value("pool_mode"), Unknown)
    assert isinstance(doc.model.value("listen_port"), Unknown)
    star = doc.model.databases[0]
    assert isinstance(star.params["host"].value, Unknown) and star.value("pool_size") == 10


def test_dump_cli(tmp_path):
    path = write(tmp_path, "[databases]\nx = host=a password=hunter2\n[pgbouncer]\npool_mode = transaction\n")
    out = subprocess.run([sys.executable, "-m", "advisor", "dump", path], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    text = json.dumps(data)
    assert "hunter2" not in text
    assert '"transaction"' in text and "server_idle_timeout" in text


def test_detection():
    assert detect_kind("etc/pgbouncer.ini") == "pgbouncer"
    assert detect_kind("x/pgbouncer.ini.j2") == "pgbouncer"
    assert detect_kind("x/userlist.txt", '"a" "b"\n') is None
    assert detect_kind("x/pool.ini", "[databases]\nx = host=a\n") == "pgbouncer"
    assert detect_kind("x/any.ini", "[pgbouncer]\n") == "pgbouncer"


@pytest.mark.parametrize("name", ["pgbouncer_test_test.ini", "pgbouncer_etc_pgbouncer.ini"])
def test_upstream_configs_are_valid_for_newest(name):
    """PgBouncer's own reference and test configs (1.25 source) load without a diagnostic."""
    require_corpus()
    paths = [p for p in corpus_files("pgbouncer") if p.name == name]
    if not paths:
        pytest.skip(f"{name} is not in the corpus")
    doc = load(str(paths[0]))
    assert not doc.diagnostics, [f"{d.span}: {d.message}" for d in doc.diagnostics]
    assert doc.model.value("pool_mode") in ("session", "statement")


def test_corpus_loads():
    require_corpus()
    files = corpus_files("pgbouncer")
    assert files
    loaded = 0
    for path in files:
        text = read_text(str(path))
        kind = detect_kind(str(path)) or detect_kind(str(path), text)
        if kind != "pgbouncer":
            continue
        doc = load_file(str(path), kind, {})
        json.dumps(doc.to_dict())
        loaded += 1
    assert loaded >= 10


_CHARS = st.sampled_from(list("[]=;#% \t\n'abcdeklnoprstu_.-*019") + ["%include ", "[pgbouncer]\n", "[databases]\n",
                                                                      "pool_mode", "host=", "{{ x }}", "<%= y %>"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_CHARS, max_size=60).map("".join))
def test_never_raises(tmp_path, text):
    path = write(tmp_path, text, "fuzz.ini")
    for version in (None, "1.18"):
        doc = load(path, {"pgbouncer_version": version, "pgbouncer_cwd": str(tmp_path)})
        json.dumps(doc.to_dict())
    os.unlink(path)


def test_unreadable_include_makes_defaults_unknown(tmp_path):
    """A template line or %include that cannot be read may set anything: defaults are not claimed."""
    doc = load(write(tmp_path, "[pgbouncer]\npool_mode = transaction\n%include <%= @extra %>\n", "pgbouncer.ini.erb"))
    assert doc.diagnostics == [] and len(doc.meta["unresolved_includes"]) == 1  # counted, not reported
    assert doc.model.value("pool_mode") == "transaction"
    assert isinstance(doc.model.value("tcp_keepidle"), Unknown)
    doc = load(write(tmp_path, "[pgbouncer]\n%include /nonexistent/extra.ini\n"))
    assert kinds(doc) == [] and isinstance(doc.model.value("tcp_keepidle"), Unknown)
    assert [n["line"] for n in doc.meta["unresolved_includes"]] == [2]  # listed as not read
    doc = load(write(tmp_path, "[pgbouncer]\n[databases]\n%include /nonexistent/dbs.ini\n", "x.ini.j2"))
    assert doc.model.value("tcp_keepidle") == 0  # the include is in [databases]


@pytest.mark.parametrize("connstr", [
    "host=a password=hunter2 port=x", "host=a password='hunter2", "password='hun ter2' bad", "password=hunter2 =x",
    "host='a password=hunter2",
])
def test_password_never_shown(tmp_path, connstr):
    doc = load(write(tmp_path, f"[databases]\ndb = {connstr}\n[pgbouncer]\n"))
    text = json.dumps(doc.to_dict()) + " ".join(f"{d.message} {d.fix}" for d in doc.diagnostics)
    assert "hunter2" not in text and "hun ter2" not in text


def test_sed_targets_are_unknown_values(tmp_path):
    """`default_pool_size = DEFAULT_POOL_SIZE`, `port=PG_PORT`: a file a deploy script fills in
    with sed; one such value alone is taken at its word (PgBouncer would refuse it)."""
    text = ("[databases]\n* = host=PG_SERVICE port=PG_PORT auth_user=pgbouncer\n[pgbouncer]\n"
            "default_pool_size = DEFAULT_POOL_SIZE\npool_mode = POOL_MODE\nclient_tls_sslmode = REQUIRE\n"
            "client_tls_key_file = /k\nclient_tls_cert_file = /c\n")
    doc = load(write(tmp_path, text))
    assert doc.diagnostics == []
    assert isinstance(doc.model.value("default_pool_size"), Unknown)
    assert doc.model.value("client_tls_sslmode") == "require"  # a valid value in capitals stays a value
    doc = load(write(tmp_path, "[pgbouncer]\npool_mode = POOL_MODE\n"))
    assert kinds(doc) == ["pgbouncer-invalid-value"]


def test_crunchy_sed_template_from_corpus():
    from conftest import CORPUS, require_corpus

    require_corpus()
    path = CORPUS / "pgbouncer" / "crunchy-containers_pgbouncer.ini"
    if not path.is_file():
        pytest.skip("crunchy-containers_pgbouncer.ini is not in this corpus")
    doc = load(str(path))
    assert [d for d in doc.diagnostics if d.kind == "pgbouncer-invalid-value"] == []


def test_include_outside_the_checked_tree_is_a_warning(tmp_path):
    from conftest import CORPUS

    doc = load(write(tmp_path, "[pgbouncer]\n%include /etc/pgbouncer-custom/extra.ini\n%include missing.ini\n"),
               {"check_roots": [str(tmp_path)], "pgbouncer_cwd": str(tmp_path)})
    got = [(d.span.line, d.severity) for d in doc.diagnostics if d.kind == "include-error"]
    assert got == [(3, None)]  # inside the tree: missing, an error
    # outside: made at deploy time, a warning of what was not read (not a finding)
    assert [(n["line"], "outside the files given to check" in n["message"]) for n in doc.meta["unresolved_includes"]] \
        == [(2, True)]
    supabase = CORPUS / "pgbouncer" / "supabase_all-in-one_pgbouncer.ini"
    if supabase.is_file():
        doc = load(str(supabase))
        assert [d for d in doc.diagnostics if d.kind == "include-error"] == []
        assert len(doc.meta["unresolved_includes"]) == 2



@pytest.mark.parametrize("line,reported", [
    ("{{ $user.name | quote }} = pool_mode=session", True),          # Helm (sprig): "bob"
    ("{{ quote $user.name }} = pool_mode=session", True),
    ("{{- $u.name | toJson -}} = pool_mode=session", True),
    ("{{ . | quote }} = pool_mode=session", True),                   # ranging over a list of names
    ('{{ include "pgb.user" . | quote }} = pool_mode=session', True),
    ("{{ $user.name | quote | lower }} = pool_mode=session", True),  # a filter after quote keeps the quotes
    ('{{ printf "%q" $user.name }} = pool_mode=session', True),
    ("{{ $user.name | squote }} = pool_mode=session", False),        # single quotes (PgBouncer 1.25 reads them)
    ("max_user_connections = {{ $user.max | quote }}", False),       # a value, not a key
    ("{{ $user.name }} = pool_mode=session", False),
    ("{{ user.name | tojson }} = pool_mode=session", True),          # Jinja: JSON, double quotes
    ("{{ user.name | quote }} = pool_mode=session", False),          # Ansible's quote: shell quoting
])
def test_a_template_key_written_in_double_quotes_stops_pgbouncer(tmp_path, line, reported):
    p = tmp_path / "pgbouncer.ini.tpl"
    p.write_text("[users]\n" + line + "\n[pgbouncer]\nlisten_addr = 127.0.0.1\n")
    doc = load(str(p), {})
    found = [d for d in doc.diagnostics if d.kind == "syntax-error"]
    assert bool(found) == reported, [d.message for d in doc.diagnostics]
    if reported:
        assert found[0].span.line == 2 and "refuses to start" in found[0].message


@pytest.mark.parametrize("version,reported", [("1.24", True), ("1.25", False)])
def test_a_template_key_written_in_single_quotes_stops_pgbouncer_before_1_25(tmp_path, version, reported):
    p = tmp_path / "pgbouncer.ini.tpl"
    p.write_text("[users]\n{{ $user.name | squote }} = pool_mode=session\n[pgbouncer]\nlisten_addr = 127.0.0.1\n")
    doc = load(str(p), {"pgbouncer_version": version})
    found = [d for d in doc.diagnostics if d.kind == "syntax-error"]
    assert bool(found) == reported, [d.message for d in doc.diagnostics]
    if reported:
        assert "single quotes" in found[0].message and "checked as 1.24" in found[0].message


def test_names_in_single_quotes_are_read_from_pgbouncer_1_25(tmp_path):
    # libusual 6b7fc84 (PgBouncer 1.25): a key in single quotes, any characters but a quote
    text = ("[databases]\n'my db' = host=10.0.0.5 dbname=app\n[users]\n'u.1' = pool_mode=session\n"
            "[pgbouncer]\n'pool_mode' = transaction\n")
    doc = load(write(tmp_path, text), {"pgbouncer_version": "1.25"})
    assert [d.message for d in doc.diagnostics if d.kind == "syntax-error"] == []
    model = doc.model
    assert model.value("pool_mode") == "transaction"
    assert [e.name for e in model.databases] == ["my db"]
    assert [u.name for u in model.effective_users()] == ["u.1"]
    # before 1.25 the same file does not start: the first quoted name is a syntax error, with the version
    old = load(write(tmp_path, text, "old.ini"), {"pgbouncer_version": "1.24"})
    errors = [d for d in old.diagnostics if d.kind == "syntax-error"]
    assert [(d.span.line, d.span.col) for d in errors] == [(2, 1), (4, 1), (6, 1)]
    assert "reads only from 1.25 (this is checked as 1.24)" in errors[0].message


@pytest.mark.parametrize("line,problem", [
    ("'' = host=x", "an empty name"),
    ("'mydb = host=x", "without its closing quote"),
    ('"mydb" = host=x', 'near "\\"mydb\\"'),   # never double quotes
])
def test_malformed_quoted_names_stop_pgbouncer(tmp_path, line, problem):
    doc = load(write(tmp_path, "[databases]\n" + line + "\n[pgbouncer]\n"), {"pgbouncer_version": "1.25"})
    found = [d for d in doc.diagnostics if d.kind == "syntax-error"]
    assert len(found) == 1 and found[0].span.line == 2, [d.message for d in doc.diagnostics]
    assert "refuses to start" in found[0].message
