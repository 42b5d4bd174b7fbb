"""The HAProxy loader: words, time values, sections, inheritance, conditions, groups, corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.loaders import detect_kind
from advisor.loaders.haproxy_cfg import group_for, load, load_many, tokenize
from advisor.model.haproxy import idle_timeout
from advisor.model import Unknown
from advisor.units import hap_format_ms, hap_parse_time
from conftest import ROOT, corpus_files, require_corpus

ERROR_KINDS = ("syntax-error", "haproxy-unknown-keyword", "haproxy-unknown-timeout", "haproxy-config-error")


def words(line, env=None):
    ws, comment, error = tokenize(line, None, env)
    return [w.text for w in ws], error


@pytest.mark.parametrize("line,expected", [
    ("timeout client 30s", ["timeout", "client", "30s"]),
    ("  timeout\tclient   30s  # idle", ["timeout", "client", "30s"]),
    ("timeout client 2s#x", ["timeout", "client", "2s"]),  # '#' starts a comment even inside a word
    ('log-format "%t %s"', ["log-format", "%t %s"]),
    ("log-format '%t \\ %s'", ["log-format", "%t \\ %s"]),  # nothing is special inside single quotes
    ('a "x\\"y" b', ["a", 'x"y', "b"]),
    ("a x\\ y", ["a", "x y"]),
    ("a \\#x", ["a", "#x"]),
    ("a 2\\s", ["a", "2\\s"]),  # an unsupported escape keeps its backslash
    ("a \\x41\\n", ["a", "A\n"]),
    ('a "b"\'c\'d', ["a", "bcd"]),
    ('a ""', ["a", ""]),
    ("a '#' \"#\"", ["a", "#", "#"]),
])
def test_words(line, expected):
    got, error = words(line)
    assert error is None
    assert got == expected


def test_unmatched_quotes_are_errors_at_the_quote():
    for line, col in (("timeout client '2s", 15), ('timeout client "2s', 15), ("a 'b\"c", 2)):
        _, error = words(line)
        assert error is not None and error[0] == col, (line, error)


def test_environment_variables_expand_only_in_double_quotes():
    ws, _, _ = tokenize('bind "${ADDR}:5432" ${PORT} \'${X}\'')
    assert ws[1].unknown and not ws[2].unknown and not ws[3].unknown
    assert ws[2].text == "${PORT}" and ws[3].text == "${X}"
    ws, _, _ = tokenize('bind "${ADDR}:5432" "${NOPE-1.2.3.4}" "$HOME"', None, {"ADDR": "127.0.0.1", "HOME": "/h"})
    assert [w.text for w in ws[1:]] == ["127.0.0.1:5432", "1.2.3.4", "/h"]
    assert not any(w.unknown for w in ws)


@pytest.mark.parametrize("text,unit,value,error", [
    ("30s", "ms", 30000, None), ("5000", "ms", 5000, None), ("1m", "ms", 60000, None), ("2h", "ms", 7200000, None),
    ("1d", "ms", 86400000, None), ("1us", "ms", 1, None), ("1500us", "ms", 2, None), ("0", "ms", 0, None),
    ("1", "s", 1, None), ("1500ms", "s", 2, None), ("2m", "s", 120, None), ("10ms1", "ms", 10, None),
    ("1S", "ms", None, "unexpected character 'S'"), ("1.5s", "ms", None, "unexpected character '.'"),
    ("-1", "ms", None, "unexpected character '-'"), ("", "ms", None, "expects an integer value"),
    ("1min", "ms", 60000, None),  # 'm' then junk: HAProxy 2.6 warns only
])
def test_time_values(text, unit, value, error):
    got, err, _warning = hap_parse_time(text, unit)
    assert got == value
    assert err == error


def test_format_ms():
    assert [hap_format_ms(v) for v in (1800000, 90000, 1500, 86400000)] == ["30m", "90s", "1500ms", "1d"]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def load_text(tmp_path, text, **options):
    return load(write(tmp_path, "haproxy.cfg", text), options)


def errors(doc):
    return [d for d in doc.diagnostics if d.kind in ERROR_KINDS]


def proxy(doc, label):
    return next(p for p in doc.model.proxies if p.label == label)


INHERIT = """\
defaults base
    mode tcp
    timeout client 3s
    timeout server 3s
    option tcpka

defaults
    timeout client 1s
    timeout server 1s

listen a from base
    bind 127.0.0.1:1
    server s 127.0.0.1:2

listen b
    bind 127.0.0.1:3
    timeout client 500ms
    server s 127.0.0.1:2

defaults second from base
    timeout tunnel 1h

frontend f
    bind 127.0.0.1:4
    no option clitcpka
    default_backend be

backend be
    timeout server 10s
    server s 127.0.0.1:2
"""


def test_inheritance_from_named_and_last_defaults(tmp_path):
    doc = load_text(tmp_path, INHERIT)
    assert errors(doc) == []
    a, b, f, be = (proxy(doc, x) for x in ("listen a", "listen b", "frontend f", "backend be"))
    assert a.timeout("client").value == 3000 and a.timeout("client").origin.startswith("defaults base")
    assert a.effective_mode() == "tcp" and a.keepalive("client")["enabled"].value is True
    # the anonymous defaults reset everything: no mode, no tcpka
    assert b.timeout("client").value == 500 and b.timeout("client").origin == "listen b"
    assert b.timeout("server").value == 1000 and b.mode is None and b.keepalive("server")["enabled"] is None
    # `defaults second from base` inherits base and adds a tunnel, and is the last defaults for f and be
    assert f.defaults == "defaults second" and be.timeout("tunnel").value == 3_600_000
    assert f.keepalive("client")["enabled"].value is False
    assert be.keepalive("server")["enabled"].value is True
    assert be.timeout("server").value == 10000 and be.timeout("server").span.line == 29
    assert idle_timeout(b, b).ms == 500
    assert idle_timeout(f, be).ms == 3_600_000 and idle_timeout(f, be).via_tunnel
    routes = [r.label for r in doc.model.routes()]
    assert routes == ["listen a", "listen b", "frontend f -> backend be"]
    data = json.loads(json.dumps(doc.to_dict(), default=str))
    assert data["model"]["routes"][2]["idle_timeout"]["ms"] == 3_600_000


def test_spans_point_at_the_value(tmp_path):
    doc = load_text(tmp_path, "defaults\n  timeout  client   45s\n")
    s = doc.get("timeout client")
    assert (s.span.line, s.span.col) == (2, 3)
    assert (s.value_span.line, s.value_span.col, s.value_span.end_col) == (2, 21, 24)
    assert s.value == 45000 and s.unit == "ms"


@pytest.mark.parametrize("text,kind,line", [
    ("maxconn 10\n", "syntax-error", 1),
    ("global\n  maxconnn 10\n", "haproxy-unknown-keyword", 2),
    ("defaults\n  timeout clinet 1s\n", "haproxy-unknown-timeout", 2),
    ("defaults\n  timeout client 1.5s\n", "haproxy-config-error", 2),
    ("defaults\n  timeout client '1s\n", "syntax-error", 2),
    ("listen a from nope\n  bind :1\n", "haproxy-config-error", 1),
    ("listen a\n  bind :1\nlisten a\n  bind :2\n", "haproxy-config-error", 3),
    ("listen a\n  no option tcpka\n", "haproxy-config-error", 2),
    ("frontend f\n  bind :1\n  default_backend nope\n", "haproxy-config-error", 3),
    ("defaults\n  server s 1.2.3.4:5\n", "haproxy-config-error", 2),
    (".if 1\n", "syntax-error", 1),
    (".endif\n", "syntax-error", 1),
    (".if nonsense(1)\n.endif\n", "syntax-error", 1),
    (".if 1\n.alert \"stop\"\n.endif\n", "haproxy-config-error", 2),
])
def test_errors(tmp_path, text, kind, line):
    doc = load_text(tmp_path, text)
    found = [(d.kind, d.span.line) for d in doc.diagnostics]
    assert (kind, line) in found, found


def test_frontend_and_backend_may_share_a_name(tmp_path):
    doc = load_text(tmp_path, "frontend pg\n  bind :1\n  default_backend pg\nbackend pg\n  server s 1.2.3.4:5432\n")
    assert errors(doc) == []


def test_conditions(tmp_path):
    text = """\
defaults
.if version_atleast(2.2) && !streq(a,b)
  timeout client 1s
.elif 1
  timeout client 2s
.else
  timeout client 3s
.endif
.if 0
  this is not parsed at all
.endif
.if defined(LONG)
  timeout tunnel 1h
.endif
"""
    doc = load_text(tmp_path, text)
    d = doc.model.defaults[0]
    assert d.timeout("client").value == 1000
    assert isinstance(d.timeout("tunnel").value, Unknown)
    kinds = [x.kind for x in doc.diagnostics]
    assert kinds == ["haproxy-undecided-condition"]
    decided = load_text(tmp_path, text, haproxy_env={"LONG": "1"})
    assert decided.model.defaults[0].timeout("tunnel").value == 3_600_000
    assert [x.kind for x in decided.diagnostics] == []
    newer = load_text(tmp_path, ".if version_atleast(2.8)\ndefaults\n  timeout client 1s\n.endif\n",
                      haproxy_version="2.6.12")
    assert newer.model.defaults == [] and newer.diagnostics == []


def test_numbered_files_are_read_first(tmp_path):
    write(tmp_path, "10-global.cfg", "global\n  maxconn 10\ndefaults\n  mode tcp\n  timeout client 7s\n")
    write(tmp_path, "20-more.cfg", "defaults\n  mode tcp\n  timeout client 9s\n  timeout server 9s\n")
    main = write(tmp_path, "postgres.cfg", "listen pg\n  bind :5432\n  server s 1.2.3.4:5432\n")
    assert [os.path.basename(p) for p in group_for(main)] == ["10-global.cfg", "20-more.cfg", "postgres.cfg"]
    doc = load(main)
    assert doc.files[0] == main and doc.meta["read_order"][-1] == main
    assert proxy(doc, "listen pg").timeout("client").value == 9000  # the last defaults read
    first = load(str(tmp_path / "10-global.cfg"))
    assert first.meta["read_order"] == [str(tmp_path / "10-global.cfg")]
    many = load_many([str(tmp_path / "10-global.cfg"), main])
    assert proxy(many, "listen pg").timeout("client").value == 7000


def test_a_file_starts_outside_any_section(tmp_path):
    a = write(tmp_path, "a.cfg", "defaults\n  mode tcp\n")
    b = write(tmp_path, "b.cfg", "  maxconn 5\nlisten x\n  bind :1\n")
    doc = load_many([a, b])
    assert [(d.kind, d.span.file, d.span.line) for d in errors(doc)] == [("syntax-error", b, 1)]


def test_templates_read_placeholders_as_unknown(tmp_path):
    text = ("defaults\n  mode tcp\n  timeout client {{ t_client }}\n  timeout server 30m\n"
            "listen pg\n  bind {{ vip }}:5000\n{% for h in hosts %}\n  server {{ h }} {{ h }}:5432 check\n{% endfor %}\n")
    doc = load(write(tmp_path, "haproxy.cfg.j2", text))
    assert doc.template and errors(doc) == []
    pg = proxy(doc, "listen pg")
    assert isinstance(pg.timeout("client").value, Unknown)
    assert isinstance(idle_timeout(pg, pg).ms, Unknown)
    assert pg.servers[0].port == 5432 and pg.servers[0].check.value is True


def test_detection():
    assert detect_kind("haproxy.cfg") == "haproxy"
    assert detect_kind("deploy/haproxy.cfg.j2") == "haproxy"
    assert detect_kind("patroni_haproxy.tmpl") == "haproxy"
    assert detect_kind("lb.cfg", "global\n  maxconn 1\nlisten pg\n  bind :5432\n  server a b:5432\n") == "haproxy"
    assert detect_kind("setup.cfg", "[metadata]\nname = x\n") is None


def test_dump_prints_the_model(tmp_path):
    path = write(tmp_path, "haproxy.cfg", INHERIT)
    out = subprocess.run([sys.executable, "-m", "advisor", "dump", path], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    a = next(p for p in data["model"]["proxies"] if p["name"] == "a")
    assert a["timeouts"]["client"]["value"] == 3000 and a["timeouts"]["client"]["set_in"].startswith("defaults base")
    assert a["keepalive"]["server"]["enabled"]["value"] is True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.sampled_from(list("abcdeflistnmoutb \t\"'\\#$.{}%()!&|:0123456789\n")),
    st.sampled_from(["listen x", "defaults", "timeout client ", ".if ", ".endif", "{{ a }}", "option ", "\n",
                     "frontend f", "backend b", "server s 1.2.3.4:5432", "from ", "${X}", "default_backend b"]),
), max_size=120).map("".join))
def test_no_input_makes_the_loader_raise(tmp_path, text):
    doc = load_text(tmp_path, text)
    json.dumps(doc.to_dict(), default=str)


def test_every_corpus_file_loads():
    require_corpus()
    files = corpus_files("haproxy")
    assert files, "no HAProxy files in the corpus"
    for path in files:
        doc = load(str(path))
        assert doc.kind == "haproxy" and doc.model is not None
        json.dumps(doc.to_dict(), default=str)
        # templates and real files alike: nothing the loader reports is an error in these files
        assert errors(doc) == [], (path.name, [(d.span.line, d.message) for d in errors(doc)])


def test_tls_ranges(tmp_path):
    doc = load_text(tmp_path, """\
global
    ssl-default-bind-options no-sslv3 no-tlsv10 no-tlsv11
    ssl-default-server-options ssl-min-ver TLSv1.3
frontend f
    bind :443 ssl crt x.pem
    bind :444 ssl crt x.pem ssl-min-ver TLSv1.0 ssl-max-ver TLSv1.2
    bind :445
    default_backend b
backend b
    server s1 10.0.0.1:5432 ssl verify none
    server s2 10.0.0.1:5432 ssl verify none ssl-max-ver TLSv1.2 ssl-min-ver TLSv1.1
""")
    f, b = proxy(doc, "frontend f"), proxy(doc, "backend b")
    r = [{k: (v.value, v.origin) for k, v in x.tls_range.items()} for x in f.binds + b.servers]
    assert r == [
        {"min": ("TLSv1.2", "global"), "max": (None, "no limit")},
        {"min": ("TLSv1.0", "frontend f"), "max": ("TLSv1.2", "frontend f")},
        {},
        {"min": ("TLSv1.3", "global"), "max": (None, "no limit")},
        {"min": ("TLSv1.1", "backend b"), "max": ("TLSv1.2", "backend b")},
    ]
    plain = load_text(tmp_path, "frontend f\n    bind :443 ssl crt x.pem\n")
    assert proxy(plain, "frontend f").binds[0].tls_range["min"].value == "TLSv1.2"
    assert proxy(plain, "frontend f").binds[0].tls_range["min"].origin.startswith("HAProxy default")


def test_numbered_files_that_are_not_haproxy_stay_out(tmp_path):
    write(tmp_path, "10-global.cfg", "global\n  maxconn 10\n")
    write(tmp_path, "20-setup.cfg", "[metadata]\nname = x\n")
    main = write(tmp_path, "haproxy.cfg", "listen pg\n  bind :5432\n")
    assert [os.path.basename(p) for p in group_for(main)] == ["10-global.cfg", "haproxy.cfg"]


def test_numbered_files_with_a_common_prefix_are_read_first(tmp_path):
    """A copy of the `10-global.cfg` + `postgres.cfg` layout whose names carry a prefix (as in the
    corpus: harisekhon_10-global.cfg beside harisekhon_postgres.cfg) is one configuration."""
    (tmp_path / "site_10-global.cfg").write_text("defaults\n    mode tcp\n    timeout client 10s\n"
                                                 "    timeout server 10s\n    timeout connect 5s\n")
    (tmp_path / "site_postgres.cfg").write_text("listen pg\n    bind *:5432\n    server a 10.0.0.1:5432\n")
    (tmp_path / "other_postgres.cfg").write_text("listen pg\n    bind *:5432\n    server a 10.0.0.1:5432\n")
    doc = load(str(tmp_path / "site_postgres.cfg"))
    assert [os.path.basename(f) for f in doc.meta["read_order"]] == ["site_10-global.cfg", "site_postgres.cfg"]
    assert doc.model.proxies[0].timeout("client").value == 10_000
    other = load(str(tmp_path / "other_postgres.cfg"))  # another prefix: read alone
    assert [os.path.basename(f) for f in other.meta["read_order"]] == ["other_postgres.cfg"]
