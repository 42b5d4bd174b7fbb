"""The progress bar: on stderr, only on a terminal, only with text output, only after the run
has lasted PGPATH_PROGRESS_DELAY seconds (default 1), erased before the report; small runs never
import it. Terminals are real pseudo-terminals (pty)."""

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_with_tty_stderr(args, cwd, env_extra=None, code=None):
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env.update({"PYTHONPATH": str(ROOT), **(env_extra or {})})
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "advisor", *args]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    import select
    import threading
    import time

    collected = []
    reader = threading.Thread(target=lambda: collected.append(proc.stdout.read()))  # a full pipe would block it
    reader.start()
    chunks = []

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break  # exited, and nothing more to read
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    reader.join(timeout=120)
    out = collected[0].decode()
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def tree(tmp_path, n=40):
    for i in range(n):
        d = tmp_path / f"db{i:02d}"
        d.mkdir()
        (d / "postgresql.conf").write_text("ssl = off\ntcp_keepalives_idle = 60\n")
    return tmp_path


def test_bar_on_a_terminal_then_erased(tmp_path):
    tree(tmp_path)
    code, out, err = run_with_tty_stderr(["check", ".", "--no-config", "--fail-on", "info"], tmp_path,
                                         {"PGPATH_PROGRESS_DELAY": "0"})
    assert code == 1
    assert "pgpath [" in err and "/40 files" in err, repr(err[:300])
    assert err.endswith("\r\x1b[K")  # the line is erased before the report
    # the report itself is the same as without a terminal
    plain = subprocess.run([sys.executable, "-m", "advisor", "check", ".", "--no-config"], cwd=tmp_path,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out == plain.stdout and plain.stderr == ""


def test_no_bar_for_machine_formats_or_without_a_terminal(tmp_path):
    tree(tmp_path)
    _, out, err = run_with_tty_stderr(["check", ".", "--no-config", "--format", "json"], tmp_path,
                                      {"PGPATH_PROGRESS_DELAY": "0"})
    assert err == "" and out.startswith("{")
    _, out, err = run_with_tty_stderr(["check", ".", "--no-config", "-o", "sarif=-"], tmp_path,
                                      {"PGPATH_PROGRESS_DELAY": "0"})
    assert err == ""
    _, out, err = run_with_tty_stderr(["check", ".", "--no-config", "--color", "never"], tmp_path,
                                      {"PGPATH_PROGRESS_DELAY": "0"})
    assert err == ""
    r = subprocess.run([sys.executable, "-m", "advisor", "check", ".", "--no-config"], cwd=tmp_path,
                       capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "PGPATH_PROGRESS_DELAY": "0"})
    assert r.stderr == ""


def test_a_short_run_never_imports_the_bar(tmp_path):
    tree(tmp_path, 3)
    code = ("import sys; sys.argv = ['pgpath', 'check', '.', '--no-config']\n"
            "from advisor.cli import run_app\nrun_app()\n"
            "print('IMPORTED' if 'advisor.progress' in sys.modules else 'NOT IMPORTED')\n")
    _, out, err = run_with_tty_stderr([], tmp_path, code=code)
    assert out.strip().endswith("NOT IMPORTED") and err == ""
    _, out, err = run_with_tty_stderr([], tmp_path, {"PGPATH_PROGRESS_DELAY": "0"}, code=code)
    assert out.strip().endswith("IMPORTED") and not out.strip().endswith("NOT IMPORTED")
    assert "pgpath [" in err
