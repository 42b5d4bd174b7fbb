"""A fix is a value that works: for every rule fixture whose finding proposes values in the file's
own `name = value` syntax (postgresql.conf, pgbouncer.ini, sysctl.conf), writing those values
into the file as an operator would makes that finding go away, and brings no error or warning of
any rule that was not there before (a fix never breaks something else; an info the first
problem hid may appear).

Not applied here: fixes that need a value pgpath cannot know (`(with client_tls_key_file ...)`)
or that remove lines (PGB016's, whose property test applies them: test_pgb016_fix.py), and
fixes for other syntaxes (YAML, Terraform, JSON, connection strings), whose own tests cover them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from rule_cases import cases, options_for, run_case

_ASSIGNMENT = re.compile(r"([A-Za-z_][\w.]*) = (\S+)")
_NOTE = re.compile(r"  \(| \(|; | or |, or ")
_FILES = (".conf", ".ini")  # postgresql.conf, pgbouncer.ini, sysctl.conf


def _pairs(fix: str) -> list[tuple[str, str]] | None:
    """The values a fix writes (`a = 1 and b = 2  (why)`), or None when it is not only that."""
    if "(with " in fix or "remove" in fix:
        return None
    head = _NOTE.split(fix, maxsplit=1)[0]
    out = []
    for part in re.split(r", | and ", head):
        m = _ASSIGNMENT.fullmatch(part.strip())
        if m is None:
            return None
        out.append((m.group(1), m.group(2)))
    return out


def _write(path: Path, pairs) -> None:
    """Set each value where the file sets it (its last line for that name, a leading `-` of a
    sysctl.conf kept), else add it: under [pgbouncer] in a pgbouncer.ini, at the end otherwise."""
    lines = path.read_text().split("\n")
    ini = any(line.strip() == "[pgbouncer]" for line in lines)
    for name, value in pairs:
        at = [i for i, line in enumerate(lines) if re.match(rf"\s*-?{re.escape(name)}\s*=", line)]
        if at:
            lines[at[-1]] = f"{name} = {value}"
        elif ini:
            header = next(i for i, line in enumerate(lines) if line.strip() == "[pgbouncer]")
            lines.insert(header + 1, f"{name} = {value}")
        else:
            lines.append(f"{name} = {value}")
    path.write_text("\n".join(lines))


def _findings(folder: Path, case: Path, select):
    cli = {k.replace("-", "_"): v for k, v in options_for(case).items()}
    cli["paths"] = [case.name]
    if select:
        cli["select"] = select
    else:
        cli.pop("select", None)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return run(make_settings(cli, use_config=False)).findings
    finally:
        os.chdir(cwd)


def _applicable():
    out = []
    for code, case in cases():
        if not case.name.startswith("bad") or (case.is_dir() and (case / "pgpath.yaml").is_file()):
            continue
        report, _ = run_case(code, case)
        for f in report.findings:
            if f.code == code and f.fix and Path(f.span.file).suffix in _FILES and _pairs(f.fix):
                out.append(pytest.param(code, case, f, id=f"{code}/{case.name}:{f.span.line}"))
    return out


APPLICABLE = _applicable()


def test_the_fixtures_hold_fixes_to_apply():
    assert len(APPLICABLE) >= 40, len(APPLICABLE)  # the check below is no empty loop


@pytest.mark.parametrize("code,case,finding", APPLICABLE)
def test_applying_the_fix_clears_the_finding_and_breaks_nothing(tmp_path, code, case, finding):
    copy = tmp_path / case.name
    (shutil.copytree if case.is_dir() else shutil.copy)(case, copy)
    before = {(f.code, f.message) for f in _findings(tmp_path, case, None)}
    _write(tmp_path / finding.span.file, _pairs(finding.fix))
    still = [f for f in _findings(tmp_path, case, [code])
             if f.span.file == finding.span.file and f.span.line == finding.span.line]
    assert not still, f"after {finding.fix!r}: {[f.message for f in still]}"
    broken = [f for f in _findings(tmp_path, case, None)
              if (f.code, f.message) not in before and f.code != code and str(f.severity) != "info"]
    assert not broken, f"after {finding.fix!r}: {[f'{f.code} {f.message}' for f in broken]}"
