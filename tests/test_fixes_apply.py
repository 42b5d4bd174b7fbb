"""A fix is a value that works: for every rule fixture whose finding proposes values in a syntax
an operator edits line by line, writing those values as the operator would makes that finding go
away, and brings no error or warning of any rule that was not there before (a fix never breaks
another hop; an info the first problem hid may appear). The syntaxes applied:

- `name = value` (and `a = 1, b = 2`) into the postgresql.conf, pgbouncer.ini or sysctl.conf the
  finding points at;
- HAProxy `timeout <name> <value>` (`... and timeout server 1h`) into the section the fix names
  (`in listen pg`), else the one the finding points at;
- libpq `key=value ... in the connection string` into the URL of the .env the finding points at;
- a manifest's `name: "value" ... in spec.postgresql.parameters` (an operator's or Patroni's keys)
  and an Ansible `- { option: "name", value: "value" } in postgresql_parameters`, into the YAML
  document the finding points at (comments are not kept: the test reads values, not layout).

Not applied here: fixes that need a value pgpath cannot know (`(with client_tls_key_file ...)`)
or that remove lines (PGB016's, whose property test applies them: test_pgb016_fix.py), and
fixes for other syntaxes (YAML, Terraform, JSON, Java properties), whose own tests cover them.
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


_TIMEOUT = re.compile(r"timeout (\w+) (\S+)")
_SECTION = re.compile(r" in ((?:listen|backend|frontend|defaults) \S+)")
_CONNINFO = re.compile(r"((?:\w+=\S+ )*\w+=\S+) in the connection string")
_YAML_KEYS = re.compile(r'((?:[\w.]+: "[^"]*"(?:, | and ))*[\w.]+: "[^"]*") in ([\w.]+)')
_YAML_OPTION = re.compile(r'- \{ option: "([\w.]+)", value: "([^"]*)" \} in ([\w.]+)')


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


def _edit(fix: str, span_file: str):
    """(how, file, values) for a fix this test applies, or None."""
    if "(with " in fix or "remove" in fix:
        return None
    m = _YAML_KEYS.match(fix)
    if m and span_file.endswith((".yaml", ".yml")):
        return "yaml", (span_file, m.group(2)), re.findall(r'([\w.]+): "([^"]*)"', m.group(1))
    m = _YAML_OPTION.match(fix)
    if m and span_file.endswith((".yaml", ".yml")):
        return "options", (span_file, m.group(3)), [(m.group(1), m.group(2))]
    m = _CONNINFO.match(fix)
    if m and span_file.endswith(".env"):
        return "conninfo", span_file, [tuple(kv.split("=", 1)) for kv in m.group(1).split()]
    head = _NOTE.split(fix, maxsplit=1)[0]
    if head.startswith("timeout "):
        parts = [p.strip() for p in re.split(r", | and ", _SECTION.sub("", head))]
        timeouts = [_TIMEOUT.fullmatch(p) for p in parts]
        if all(timeouts):
            section = _SECTION.search(head)
            return "haproxy", section.group(1) if section else None, [(t.group(1), t.group(2)) for t in timeouts]
        return None
    if Path(span_file).suffix in _FILES and (pairs := _pairs(fix)):
        return "assignment", span_file, pairs
    return None


def _write_conninfo(path: Path, pairs) -> None:
    """Append the keywords to the URL (or key=value string) on each line of the .env file."""
    lines = path.read_text().split("\n")
    for i, line in enumerate(lines):
        name, sep, value = line.partition("=")
        if not sep or not value.strip():
            continue
        extra = "&".join(f"{k}={v}" for k, v in pairs)
        if "://" in value:
            lines[i] = f"{name}={value}{'&' if '?' in value else '?'}{extra}"
        else:
            lines[i] = f"{name}={value} " + " ".join(f"{k}={v}" for k, v in pairs)
    path.write_text("\n".join(lines))


def _write_yaml(path: Path, line: int, at: str, pairs, options: bool) -> None:
    """Set the keys under the dotted path of the YAML document that holds `line` (made when
    missing), or set the items of an Ansible option list."""
    import yaml

    text = path.read_text()
    nodes = list(yaml.compose_all(text))
    index = max(i for i, node in enumerate(nodes) if node is not None and node.start_mark.line + 1 <= max(line, 1))
    docs = list(yaml.safe_load_all(text))
    here = docs[index]
    keys = at.split(".")
    for key in keys[:-1]:
        here = here.setdefault(key, {})
    if options:
        items = here.setdefault(keys[-1], [])
        for name, value in pairs:
            for item in items:
                if item.get("option") == name:
                    item["value"] = value
                    break
            else:
                items.append({"option": name, "value": value})
    else:
        here = here.setdefault(keys[-1], {}) if keys[-1] not in here or here[keys[-1]] is None else here[keys[-1]]
        here.update(dict(pairs))
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def _write_haproxy(folder: Path, section: str | None, finding, pairs) -> None:
    """Set each timeout in the section the fix names (in whichever .cfg holds it), else in the
    section that holds the finding's line: its line replaced, or added after the header."""
    if section is None:
        path = folder / finding.span.file
        lines = path.read_text().split("\n")
        header = max(i for i, line in enumerate(lines[:finding.span.line])
                     if re.match(r"(listen|backend|frontend|defaults)\b", line))
    else:
        for path in sorted(folder.rglob("*.cfg")):
            lines = path.read_text().split("\n")
            found = [i for i, line in enumerate(lines) if line.split() == section.split()]
            if found:
                header = found[0]
                break
        else:
            raise AssertionError(f"no {section} in {folder}")
    end = next((i for i in range(header + 1, len(lines))
                if re.match(r"(global|listen|backend|frontend|defaults|resolvers|peers|userlist)\b", lines[i])),
               len(lines))
    for name, value in pairs:
        at = [i for i in range(header + 1, end) if re.match(rf"\s*timeout\s+{name}\s", lines[i])]
        if at:
            lines[at[-1]] = f"    timeout {name} {value}"
        else:
            lines.insert(header + 1, f"    timeout {name} {value}")
            end += 1
    path.write_text("\n".join(lines))


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
        topology = Path(case.name) / "pgpath.yaml"
        if topology.is_file():  # a case folder's own topology, as run_case reads it
            return run(make_settings(cli, config_path=str(topology))).findings
        return run(make_settings(cli, use_config=False)).findings
    finally:
        os.chdir(cwd)


def _applicable():
    out = []
    for code, case in cases():
        if not case.name.startswith("bad"):
            continue
        report, _ = run_case(code, case)
        for f in report.findings:
            if f.code == code and f.fix and _edit(f.fix, f.span.file):
                out.append(pytest.param(code, case, f, id=f"{code}/{case.name}:{f.span.line}"))
    return out


APPLICABLE = _applicable()


def test_the_fixtures_hold_fixes_to_apply():
    assert len(APPLICABLE) >= 60, len(APPLICABLE)  # the check below is no empty loop


@pytest.mark.parametrize("code,case,finding", APPLICABLE)
def test_applying_the_fix_clears_the_finding_and_breaks_nothing(tmp_path, code, case, finding):
    copy = tmp_path / case.name
    (shutil.copytree if case.is_dir() else shutil.copy)(case, copy)
    # a finding is known by where it points: its message may change with the values (one missing
    # timeout fewer) without being a new problem
    before = {(f.code, f.span.file, f.span.line) for f in _findings(tmp_path, case, None)}
    how, where, values = _edit(finding.fix, finding.span.file)
    if how == "assignment":
        _write(tmp_path / where, values)
    elif how in ("yaml", "options"):
        _write_yaml(tmp_path / where[0], finding.span.line or 1, where[1], values, how == "options")
    elif how == "conninfo":
        _write_conninfo(tmp_path / where, values)
    else:
        _write_haproxy(tmp_path, where, finding, values)
    still = [f for f in _findings(tmp_path, case, [code])
             if f.span.file == finding.span.file and f.span.line == finding.span.line]
    assert not still, f"after {finding.fix!r}: {[f.message for f in still]}"
    broken = [f for f in _findings(tmp_path, case, None)
              if (f.code, f.span.file, f.span.line) not in before and f.code != code and str(f.severity) != "info"]
    assert not broken, f"after {finding.fix!r}: {[f'{f.code} {f.message}' for f in broken]}"
