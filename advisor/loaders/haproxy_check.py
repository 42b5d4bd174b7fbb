"""`haproxy -c`: the real HAProxy's own verdict on a configuration, read at load time.

Run only when the user names a binary (`--haproxy-binary`); each ALERT/WARNING line becomes a
`haproxy-check` diagnostic at the file and line HAProxy names (HAP010 reports them). Running a
program is I/O, so it belongs to the loading stage, never to a rule.
"""

from __future__ import annotations

import os
import subprocess

from advisor import lazy_re
from advisor.model import ConfigDoc, Diagnostic, Span

KIND = "haproxy-check"
TIMEOUT_S = 30
_LINE = lazy_re.compile(r"^\[(ALERT|WARNING)\]\s*(?:\(\d+\)\s*)?:\s*(?:config\s*:\s*)?(.*)$")
_WHERE = lazy_re.compile(r"^(?:\[[^\]]*\]\s*:\s*)?(?:[Pp]arsing\s*)?\[([^\[\]]+?):(\d+)\]\s*:?\s*")
_SUMMARY = ("Error(s) found in configuration file", "Fatal errors found in configuration", "Warnings were found")


def run_haproxy(binary: str, files: list[str]) -> tuple[int | None, str]:
    """(exit code, combined output) of `binary -c -f f1 -f f2 ...`; exit code None if it did not run."""
    args = [binary, "-c"]
    for f in files:
        args += ["-f", f]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S, errors="replace")
    except FileNotFoundError:
        return None, f"no such program: {binary}"
    except PermissionError:
        return None, f"not executable: {binary}"
    except subprocess.TimeoutExpired:
        return None, f"{binary} -c did not finish within {TIMEOUT_S} s"
    except OSError as exc:
        return None, f"cannot run {binary}: {exc.strerror or exc}"
    return proc.returncode, proc.stdout + proc.stderr


def parse_output(output: str, files: list[str], main: str) -> list[tuple[str, Span, str]]:
    """(level, span, message) of each ALERT/WARNING in haproxy -c output."""
    by_name = {f: f for f in files}
    by_name.update({os.path.abspath(f): f for f in files})
    out: list[tuple[str, Span, str]] = []
    for line in output.splitlines():
        m = _LINE.match(line)
        if not m:
            if out and line.startswith("   |"):
                level, span, message = out[-1]
                out[-1] = (level, span, f"{message} {line.strip(' |')}".strip())
            continue
        level, text = m.group(1), m.group(2).strip()
        if any(text.startswith(s) for s in _SUMMARY):
            continue
        w = _WHERE.match(text)
        span = Span(main)
        if w:
            name = w.group(1)
            path = by_name.get(name) or by_name.get(os.path.abspath(name)) or name
            span = Span(path, int(w.group(2)), 1)
            text = text[w.end():].strip()
        out.append((level, span, text))
    return out



def check_with_binary(doc: ConfigDoc, binary: str) -> None:
    """Run `binary -c` on the files of `doc` (in HAProxy's read order) and add its diagnostics."""
    files = list(doc.meta.get("read_order") or doc.files)
    code, output = run_haproxy(binary, files)
    if code is None:
        doc.diagnostics.append(Diagnostic(KIND, Span(doc.path), f"haproxy -c could not run: {output}",
                                          "give --haproxy-binary the path of an installed haproxy"))
        return
    for level, span, message in parse_output(output, files, doc.path):
        doc.diagnostics.append(Diagnostic(KIND, span, f"haproxy -c: {message}", "follow HAProxy's message",
                                          severity="error" if level == "ALERT" else "warning"))
