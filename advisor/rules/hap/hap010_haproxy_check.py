"""What `haproxy -c` itself says about the configuration (only with `--haproxy-binary`).

## What it checks
When `pgpath check` is given `--haproxy-binary PATH` (or `haproxy_binary` in pgpath.yaml), this
rule runs `PATH -c -f <file> [-f <file> ...]` on each HAProxy configuration, with the files of
a numbered group (`10-global.cfg` before `postgres.cfg`) in HAProxy's read order, and turns
every `[ALERT]` (error) and `[WARNING]` (warning) line into a finding at the file and line
HAProxy names (`parsing [file:line]`). Messages without a location are reported on the file.
Templates are skipped: their placeholders are not valid HAProxy syntax. Without the option the
rule does nothing.

This rule is the one place in pgpath that runs a program: rules otherwise do no I/O. It lives
here rather than in the loader so that the run is selected, suppressed and documented like any
other rule, and so that loading (used by `pgpath dump` and every other rule) never starts a
process.

## Why it matters
pgpath models the keywords and values that matter for the connection path; HAProxy checks
everything else too: certificate files, ACL pattern files, resolvable server addresses, maps,
Lua, and the rules of the exact version you run.

## Fix
Follow HAProxy's message.

## References
- HAProxy management guide: 3 Starting HAProxy (`-c`, `-f`) — https://docs.haproxy.org/2.6/management.html#3
"""

from __future__ import annotations

import os
import subprocess

from advisor import lazy_re
from advisor.findings import Severity
from advisor.model import Span
from advisor.rules.hap._common import haproxy_docs
from advisor.rules.rule import Rule

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


def check(ctx):
    binary = ctx.options.get("haproxy_binary")
    if not binary:
        return
    for doc in haproxy_docs(ctx):
        if doc.template:
            continue
        files = list(doc.meta.get("read_order") or doc.files)
        code, output = run_haproxy(str(binary), files)
        if code is None:
            yield RULE.finding(Span(doc.path), f"haproxy -c could not run: {output}",
                               "give --haproxy-binary the path of an installed haproxy")
            continue
        for level, span, message in parse_output(output, files, doc.path):
            severity = Severity.ERROR if level == "ALERT" else Severity.WARNING
            yield RULE.finding(span, f"haproxy -c: {message}", "follow HAProxy's message", severity=severity)


RULE = Rule(
    code="HAP010",
    name="haproxy-check",
    severity=Severity.ERROR,
    summary="What `haproxy -c` reports (with --haproxy-binary)",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
