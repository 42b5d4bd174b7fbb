"""Say it as the file says it (issue 12): messages quote values as written and name no absolute path.

1. Every rule fixture (tests/rules/*/): each `name = value`, `name=value`, `name <figure>`, `"NAME": value`
   and HAProxy `timeout <name> <value>` a message quotes is checked against the lines the finding
   points at (its span and related spans): when the name is on such a line, the value must be
   written there as quoted (`timeout tunnel 300s`, never a normalised `5m`; `statement_timeout =
   '2min' (120 s)`, the figure after it in parentheses).
2. The same check on values written in other spellings than the fixtures use (PostgreSQL `120s`,
   `'2min'`, `120000`; HAProxy `60000` beside `60s`; PgBouncer `0600`), with the exact wording.
3. No output of any format, nor `dump` or `path`, carries an absolute path of the machine, whether
   the tree is named by an absolute path inside or outside the working directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.reporters import FORMATS, render
from rule_cases import RULES_DIR, cases, run_case

ROOT = Path(__file__).resolve().parent.parent

# `name = value` / `name=value` (libpq, PgBouncer, PostgreSQL), `"NAME": value` (Django), and
# HAProxy `timeout <name> <value>` / keepalive parameters; a value ends at a blank, comma,
# semicolon or parenthesis
_PAIRS = (
    re.compile(r"(?<![\w.\-])([A-Za-z_][A-Za-z0-9_.]*)(?: = |=)('[^']*'|\"[^\"]*\"|[^\s,;()]+)"),
    re.compile(r"\"([A-Z_]+)\": ('[^']*'|\"[^\"]*\"|[^\s,;()]+)"),
    # `idle_session_timeout 300000 ms`, `keepaliveTime 900 s`: a setting name, a blank and a figure
    # (the form a normalised value took before the fix)
    re.compile(r"(?<![\w.\-])([a-z][a-z0-9]*_[a-z0-9_]+|[a-z]+[A-Z][A-Za-z]+) ([0-9'\"][^\s,;()]*)"),
    re.compile(r"\b(timeout (?:client|server|tunnel|connect|check|queue|http-request|http-keep-alive|client-fin|"
               r"server-fin)|(?:cli|srv)tcpka-(?:idle|intvl|cnt)) ([0-9\"'$][^\s,;()]*)"),  # a value, not prose
)


# a unit ending a figure of a sum (`3 × 64 MB = 192 MB`) is no setting name
_UNITS = frozenset({"B", "kB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "ms", "s", "min", "h", "d"})


def quoted_pairs(message: str) -> list[tuple[str, str]]:
    out = []
    for pattern in _PAIRS:
        for m in pattern.finditer(message):
            if m.group(1) not in _UNITS:
                out.append((m.group(1), m.group(2).rstrip(".:")))
    return out


def lines_at(base: Path, finding) -> list[str]:
    """The text of the lines the finding points at (span and related spans, in files on disk)."""
    out = []
    for span in (finding.span, *finding.related):
        if not span.line:
            continue
        path = base / span.file
        if not path.is_file():
            continue
        lines = path.read_text(errors="replace").split("\n")
        if span.line <= len(lines):
            out.append(lines[span.line - 1])
    return out


def mismatches(base: Path, findings) -> tuple[int, list[str]]:
    """(pairs checked, pairs whose value is not written where the name is)."""
    checked, bad = 0, []
    for f in findings:
        texts = lines_at(base, f)
        if not texts:
            continue
        for name, value in quoted_pairs(f.message):
            words = name.split()
            on = [t for t in texts if re.search(r"(?<![\w.\-])" + r"\s+".join(map(re.escape, words)) + r"(?![\w\-])", t)]
            if not on:
                continue
            checked += 1
            bare = value.strip("'\"")
            # the value as a whole token of the line (`900` is not in `keepaliveTime=900000`); a long
            # value a message shortens (`ram=9999...`) as a prefix
            shortened = f.message[f.message.find(value) + len(value):].startswith(("...", "…"))
            token = re.compile(r"(?<![0-9A-Za-z_.])" + re.escape(bare) + ("" if shortened else r"(?![0-9A-Za-z_])"))
            if not any(token.search(t) for t in on):
                bad.append(f"{f.span} {f.code}: message says {name} {value!r}, the line says {on[0].strip()!r}")
    return checked, bad


def test_every_fixture_message_quotes_values_as_written():
    checked, bad = 0, []
    for code, case in cases():
        report, _ = run_case(code, case)
        n, wrong = mismatches(case.parent, report.findings)
        checked += n
        bad += wrong
    assert not bad, "\n".join(bad)
    assert checked >= 40, checked  # the check saw the quoted values (it can fail)


def test_the_check_sees_a_normalised_value():
    """A message that normalises a value (`5m` for `300s`) is caught by the check above."""
    from advisor.findings import Finding, Severity
    from advisor.model import Span

    base = RULES_DIR / "HAP005"
    line = (base / "bad_haproxy.cfg").read_text().split("\n")[3]  # `    timeout client 2m`
    assert "timeout client 2m" in line
    f = Finding("HAP005", "x", Severity.WARNING, "timeout client 120s closes it", Span("bad_haproxy.cfg", 4, 5))
    assert mismatches(base, [f])[1]
    f.message = "timeout client 2m closes it"
    assert mismatches(base, [f]) == (1, [])
    # a PostgreSQL value in its base unit instead of as written (PGB012 before the fix)
    base = RULES_DIR / "PGB012" / "bad_idle_session"
    assert "idle_session_timeout = '5min'" in (base / "postgresql.conf").read_text()
    line = next(i for i, t in enumerate((base / "postgresql.conf").read_text().split("\n"), 1) if "idle_session" in t)
    f = Finding("PGB012", "x", Severity.WARNING, "PostgreSQL idle_session_timeout 300000 ms (300 s)",
                Span("postgresql.conf", line, 1))
    assert mismatches(base, [f])[1]
    f.message = "PostgreSQL idle_session_timeout = '5min' (300 s)"
    assert mismatches(base, [f]) == (1, [])
    # a client pool timer in seconds instead of the milliseconds written (APP006 before the fix)
    base = RULES_DIR / "APP006"
    f = Finding("APP006", "x", Severity.WARNING, "HikariCP keepaliveTime 900 s >= maxLifetime 600 s",
                Span("bad/hikari.properties", 4, 15), related=(Span("bad/hikari.properties", 3, 13),))
    assert len(mismatches(base, [f])[1]) == 2
    f.message = "HikariCP keepaliveTime=900000 (900 s) >= maxLifetime=600000 (600 s)"
    assert mismatches(base, [f]) == (2, [])


HAPROXY = ("defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60000\n"
           "listen pg\n  bind :5000\n  server pg1 10.0.0.1:5432 check\n")


@pytest.mark.parametrize("written, seconds", [("120s", 120), ("'2min'", 120), ("120000", 120), ("'2h'", 7200)])
def test_postgresql_values_in_any_spelling_are_quoted_as_written(tmp_path, written, seconds):
    (tmp_path / "haproxy.cfg").write_text(HAPROXY)
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://127.0.0.1:5000/app\n")
    (tmp_path / "postgresql.conf").write_text(f"statement_timeout = {written}\nidle_session_timeout = {written}\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PG010", "PG011", "PATH003"]}, use_config=False))
    by_code = {f.code: f for f in report.findings}
    assert set(by_code) == {"PG010", "PG011", "PATH003"}, report.findings
    assert by_code["PG010"].message.startswith(f"statement_timeout = {written} ({seconds} s)")
    assert by_code["PG011"].message.startswith(f"idle_session_timeout = {written} ({seconds} s)")
    # both HAProxy timeouts as the file writes them, the figure after them
    assert (f"statement_timeout = {written} ({seconds} s) > HAProxy listen pg timeout client 60s and "
            "timeout server 60000 (60 s)") in by_code["PATH003"].message
    checked, bad = mismatches(tmp_path, report.findings)
    assert not bad and checked >= 4, bad


def test_pgbouncer_values_are_quoted_as_written(tmp_path):
    (tmp_path / "pgbouncer.ini").write_text(
        "[databases]\napp = host=10.0.0.1\n[pgbouncer]\nlisten_port = 6432\npool_mode = transaction\n"
        "client_idle_timeout = 0600\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PGB015"]}, use_config=False))
    (f,) = report.findings
    assert f.message.startswith("client_idle_timeout = 0600 (600 s) with pool_mode = transaction"), f.message
    assert f.span.line == 6
    assert mismatches(tmp_path, report.findings) == (2, [])


# ------------------------------------------------------------------------------------------------
# no absolute path of this machine

@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    """The rule fixtures (every format pgpath reads) in a tree, and a folder outside it."""
    base = tmp_path_factory.mktemp("abs")
    shutil.copytree(RULES_DIR, base / "tree", ignore=shutil.ignore_patterns("*.expected"))
    (base / "elsewhere").mkdir()
    return base


def _no_absolute(text: str, base: Path) -> list[str]:
    marks = {str(base), os.path.realpath(base)}
    return sorted({m.group() for mark in marks for m in re.finditer(re.escape(mark) + r"[^\s\"'<]*", text)})


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("cwd", ["inside", "outside"])
def test_no_output_format_carries_an_absolute_path(every_kind, monkeypatch, fmt, cwd):
    monkeypatch.chdir(every_kind if cwd == "inside" else every_kind / "elsewhere")
    report = run(make_settings({"paths": [str(every_kind / "tree")]}, use_config=False))
    assert len(report.docs) > 100 and report.findings
    kinds = {d.kind for d in report.docs}
    assert {"postgresql", "pgbouncer", "haproxy", "client", "cloud", "terraform", "sql"} <= kinds, kinds
    out = render(report, fmt)
    if fmt == "sarif":
        # SARIF's base for relative URIs is the working directory (%SRCROOT%), except for paths shown
        # relative to what was checked (given outside it): then no base is claimed
        data = json.loads(out)
        base = data["runs"][0].pop("originalUriBaseIds", None)["%SRCROOT%"]
        assert ("uri" in base) == (cwd == "inside"), base
        out = json.dumps(data)
    assert not _no_absolute(out, every_kind), _no_absolute(out, every_kind)[:5]
    if fmt == "text":
        first = out.splitlines()[0]
        assert first.startswith("tree/"), first  # relative to what was checked, in both cases


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def test_dump_path_and_verbose_carry_no_absolute_path(every_kind):
    outside = every_kind / "elsewhere"
    tree = every_kind / "tree"
    for name in ("ADV001/bad_postgresql.conf", "PGB015/bad_pgbouncer.ini", "HAP008/bad_bind_haproxy.cfg",
                 "APP001/bad.env", "CLD001/bad_listener.tf", "SYS001/bad_60-keepalive.conf"):
        proc = _cli("dump", str(tree / name), cwd=outside)
        assert proc.returncode == 0, proc.stderr
        assert not _no_absolute(proc.stdout + proc.stderr, every_kind), (name, _no_absolute(proc.stdout, every_kind))
        assert json.loads(proc.stdout)["path"] == Path(name).name
    for fmt in ("text", "json"):
        proc = _cli("path", str(tree / "PATH003"), "--format", fmt, "--no-config", cwd=outside)
        assert "PATH003/bad_statement_timeout" in proc.stdout, proc.stdout + proc.stderr
        assert not _no_absolute(proc.stdout + proc.stderr, every_kind)
    proc = _cli("check", str(tree / "ADV001"), "--verbose", "--no-config", cwd=outside)
    assert "pgpath: skipped ADV001/" in proc.stderr or "pgpath: skipped" not in proc.stderr
    assert not _no_absolute(proc.stdout + proc.stderr, every_kind)


def test_cloud_fields_are_named_as_their_file_writes_them():
    """A Terraform file says `require_tls`, `idle_timeout_in_minutes`; the API's JSON says
    `RequireTLS`, `idleTimeoutInMinutes`: each message uses the file's own name and value."""
    said = {}
    for code, case in cases():
        if code in ("CLD002", "CLD004") and case.name.startswith("bad"):
            report, _ = run_case(code, case)
            said.update({case.name: f.message for f in report.findings})
    assert "require_tls = false:" in said["bad_proxy.tf"] and "RequireTLS" not in said["bad_proxy.tf"]
    assert "RequireTLS = false:" in said["bad_db_proxies.json"]
    assert "tcp_reset_enabled not set (default false)" in said["bad_lb_rule.tf"]
    assert "idle_timeout_in_minutes = 15 (900 s)" in said["bad_lb_rule.tf"]
    assert "idleTimeoutInMinutes = 30 (1800 s)" in said["bad_lb.json"]
    for name in ("bad_proxy.tf", "bad_lb_rule.tf"):
        text = (RULES_DIR / ("CLD002" if "proxy" in name else "CLD004") / name).read_text()
        assert ("require_tls" if "proxy" in name else "idle_timeout_in_minutes") in text
