"""Byte-identical output, and no side effects.

- The same files give the same bytes in every output format, whatever PYTHONHASHSEED is and in
  whatever order the files were created (directory listings follow creation order on most
  file systems).
- pgpath opens no network connection, runs no program and executes no project file (Python
  settings modules are parsed, never imported), and writes nothing but the --output file: a
  `pgpath check` runs under an audit hook (sys.addaudithook) that records every socket, process
  and write-mode open.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

EXTRA = {
    "app/settings.py": (
        "import os\nopen(os.environ.get('PGPATH_MARKER', '/dev/null'), 'w').write('executed')\n"
        "os.system('touch executed-by-system')\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'HOST': 'db.internal', "
        "'PASSWORD': 'x', 'CONN_MAX_AGE': 60}}\n"
    ),
    "app/docker-compose.yml": "services:\n  api:\n    environment:\n      DATABASE_URL: postgres://u@db.internal:5432/app\n",
}


def _tree(base: Path, reverse: bool) -> Path:
    """samples/ plus a few client files, files created in sorted or reversed order."""
    files = {str(p.relative_to(SAMPLES)): p.read_bytes() for p in SAMPLES.rglob("*") if p.is_file()}
    files.update({k: v.encode() for k, v in EXTRA.items()})
    for name in sorted(files, reverse=reverse):
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
    return base


def _run(args: list[str], cwd: Path, seed: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed, "NO_COLOR": "1", **(extra_env or {})}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, env=env, capture_output=True,
                          timeout=300)


def _formats() -> list[str]:
    from advisor.reporters import FORMATS

    return sorted(FORMATS)


def test_output_is_byte_identical_across_hash_seeds_and_creation_orders(tmp_path):
    """Two trees with the same files created in opposite orders, at the same path (paths may be
    part of an output, e.g. SARIF's base URI), each checked with two hash seeds."""
    where = tmp_path / "t"
    outputs: dict[str, set] = {}
    listings = []
    for reverse, seeds in ((False, ("0", "4242")), (True, ("1", "random"))):
        tree = _tree(where, reverse)
        listings.append(os.listdir(tree / "risky"))
        for fmt in _formats() + ["dump"]:
            for seed in seeds:
                args = ["dump", "risky/pgbouncer.ini"] if fmt == "dump" else ["check", ".", "--no-config",
                                                                               "--format", fmt]
                proc = _run(args, tree, seed)
                assert proc.returncode in (0, 1), proc.stderr
                assert proc.stdout, fmt
                outputs.setdefault(fmt, set()).add(proc.stdout)
        shutil.rmtree(where)
    differ = sorted(fmt for fmt, seen in outputs.items() if len(seen) != 1)
    assert not differ, f"formats whose output changed between runs: {differ}"
    assert sorted(listings[0]) == sorted(listings[1])


_AUDIT = r"""
import json, os, sys
allowed = os.path.realpath(sys.argv[1])
events = []
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
def hook(event, args):
    if event.startswith(("socket.", "subprocess.", "os.exec", "os.posix_spawn", "os.fork", "os.system",
                         "os.spawn", "pty.", "urllib.", "http.", "ftplib.", "smtplib.")):
        events.append([event, repr(args)[:200]])
    elif event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & WRITE)
        if writing and isinstance(path, (str, bytes)) and os.path.realpath(path) != allowed:
            events.append([event, repr(args)[:200]])
    elif event in ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "shutil.rmtree", "os.truncate"):
        events.append([event, repr(args)[:200]])
sys.addaudithook(hook)
sys.argv = ["pgpath"] + sys.argv[2:]
from advisor.cli import run_app
code = run_app()
sys.stdout.flush()
sys.stderr.write("\nAUDIT " + json.dumps({"code": code, "events": events}) + "\n")
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_check_opens_no_socket_runs_no_program_executes_no_project_file(tmp_path, fmt):
    tree = _tree(tmp_path / "t", reverse=False)
    marker = tmp_path / "marker"
    out = tmp_path / "report.out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", "PGPATH_MARKER": str(marker)}
    proc = subprocess.run([sys.executable, "-c", _AUDIT, str(out), "check", ".", "--no-config", "--format", fmt,
                           "--output", str(out)], cwd=tree, env=env, capture_output=True, text=True, timeout=300)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("AUDIT ")]
    assert line, proc.stderr
    audit = json.loads(line[-1][6:])
    assert audit["code"] in (0, 1), proc.stderr
    assert audit["events"] == [], audit["events"]
    assert out.stat().st_size > 0  # the one file it was told to write
    assert not marker.exists() and not (tree / "app" / "executed-by-system").exists()
    assert "client" in out.read_text() or "APP0" in out.read_text()  # settings.py was read (parsed)


def test_the_audit_would_see_a_connection(tmp_path):
    """The hook above records sockets: a run that resolves a name is caught."""
    code = _AUDIT.replace("from advisor.cli import run_app\ncode = run_app()",
                          "import socket\ntry:\n    socket.getaddrinfo('localhost', 5432)\nexcept OSError:\n"
                          "    pass\ncode = 0")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x")], capture_output=True, text=True,
                          timeout=60)
    audit = json.loads([ln for ln in proc.stderr.splitlines() if ln.startswith("AUDIT ")][-1][6:])
    assert any(e[0] == "socket.getaddrinfo" for e in audit["events"])


def test_in_process_check_with_sockets_refused(monkeypatch, tmp_path):
    """The same, in process: socket creation raises; the check still completes."""
    import socket

    def refuse(*_a, **_k):
        raise AssertionError("pgpath opened a socket")

    tree = _tree(tmp_path / "t", reverse=True)
    monkeypatch.setattr(socket.socket, "__init__", refuse)  # (the class stays a class: ssl subclasses it)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from advisor.engine import make_settings, run
    from advisor.reporters import render

    report = run(make_settings({"paths": [str(tree)]}, use_config=False))
    assert report.findings
    for fmt in _formats():
        assert render(report, fmt)
    shutil.rmtree(tree)


def test_dump_of_a_patroni_file_is_the_same_whatever_the_hash_seed(tmp_path):
    """`pgpath dump` of a Patroni configuration listed where each DCS-only parameter goes (meta
    parameters_at_for) in set order, which PYTHONHASHSEED changes."""
    conf = tmp_path / "patroni.yml"
    conf.write_text("scope: demo\nbootstrap:\n  dcs:\n    postgresql:\n      parameters:\n        max_connections: 100\n"
                    "postgresql:\n  listen: 0.0.0.0:5432\n  parameters:\n    work_mem: 8MB\n")
    outs = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run([sys.executable, "-m", "advisor", "dump", str(conf)], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=60)
        assert r.returncode == 0, r.stderr
        outs.add(r.stdout)
    assert len(outs) == 1
    assert "parameters_at_for" in next(iter(outs))
