"""HAP010: how `haproxy -c` output becomes findings, and when the rule runs at all."""

from __future__ import annotations

import shutil

import pytest

from advisor.engine import make_settings, run
from advisor.loaders.haproxy_check import parse_output

OUTPUT = """\
[NOTICE]   (15733) : haproxy version is 2.6.12-1+deb12u4
[ALERT]    (15733) : config : parsing [a.cfg:8] : unexpected character 'x' in 'timeout client'
[ALERT]    (15840) : config : parsing [b.cfg:9]: unmatched quote at position 17:
  timeout client '2s
                 ^
[ALERT]    (18420) : config : [b.cfg:8] : parsing [b.cfg:8] : 'server' not allowed because frontend 'f' has no backend capability.
[ALERT]    (16238) : config : Parsing [b.cfg:1]: proxy 'a' has the same name as proxy 'a' declared at a.cfg:6.
[WARNING]  (15885) : config : missing timeouts for proxy 'a'.
   | While not properly invalid, you will certainly encounter various problems
[ALERT]    (18425) : config : Proxy 'b': unable to find required default_backend: 'x'.
[ALERT]    (15733) : config : Error(s) found in configuration file : a.cfg
[ALERT]    (15733) : config : Fatal errors found in configuration.
"""


def test_output_lines_map_to_file_and_line():
    got = [(level, span.file, span.line, message) for level, span, message in parse_output(OUTPUT, ["a.cfg", "b.cfg"], "b.cfg")]
    assert got == [
        ("ALERT", "a.cfg", 8, "unexpected character 'x' in 'timeout client'"),
        ("ALERT", "b.cfg", 9, "unmatched quote at position 17:"),
        ("ALERT", "b.cfg", 8, "'server' not allowed because frontend 'f' has no backend capability."),
        ("ALERT", "b.cfg", 1, "proxy 'a' has the same name as proxy 'a' declared at a.cfg:6."),
        ("WARNING", "b.cfg", None, "missing timeouts for proxy 'a'. While not properly invalid, you will certainly "
                                   "encounter various problems"),
        ("ALERT", "b.cfg", None, "Proxy 'b': unable to find required default_backend: 'x'."),
    ]


def _run(path, **extra):
    cli = {"paths": [str(path)], "select": ["HAP010"], **extra}
    return run(make_settings(cli, use_config=False))


CFG = "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" \
      "listen a\n  bind 127.0.0.1:1\n  timeout client 1x\n  server s 127.0.0.1:2\n"


def test_nothing_runs_without_the_option(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(CFG)
    assert _run(path).findings == []


def test_a_missing_binary_is_one_finding(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(CFG)
    report = _run(path, haproxy_binary=str(tmp_path / "no-such-haproxy"))
    assert [f.message for f in report.findings] == [f"haproxy -c could not run: no such program: {tmp_path / 'no-such-haproxy'}"]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_real_haproxy_alerts_become_findings(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(CFG)
    report = _run(path, haproxy_binary="haproxy")
    assert [(f.span.line, str(f.severity)) for f in report.findings] == [(8, "error")]
    assert "unexpected character 'x'" in report.findings[0].message
