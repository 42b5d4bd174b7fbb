"""A fix is a value that works: for every rule fixture whose finding proposes values in a syntax
an operator edits line by line, writing those values as the operator would makes that finding go
away, and brings no error or warning of any rule that was not there before (a fix never breaks
another hop; an info the first problem hid may appear). The syntaxes applied:

- `name = value` (and `a = 1, b = 2`) into the postgresql.conf, pgbouncer.ini or sysctl.conf the
  finding points at;
- HAProxy `timeout <name> <value>` (`... and timeout server 1h`) into the section the fix names
  (`in listen pg`), else the one the finding points at; of HAP005's two alternatives, the proxy's
  own (`add timeout tunnel 1h to listen a and listen b`);
- libpq `key=value ... in the connection string` into the URL of the .env the finding points at;
- a Java properties file's `key=value` (HikariCP under Spring Boot or in hikari.properties), and a
  Pyramid/Alembic ini file's `sqlalchemy.pool_recycle = 300`, into the file the finding points at;
- a manifest's `name: "value" ... in spec.postgresql.parameters` (an operator's or Patroni's keys)
  and an Ansible `- { option: "name", value: "value" } in postgresql_parameters`, into the YAML
  document the finding points at (comments are not kept: the test reads values, not layout).

- a removal: `remove the X line` (postgresql.conf), `remove X from spec.postgresql.parameters`
  (a manifest's key), `remove -c X=... from its command` (a container's command line);
- a container's `-c X=value in its command`;
- `ALTER SYSTEM SET X = value in the same script`, appended to the SQL script;
- a value moved where it has effect (`X in bootstrap.dcs..., and remove X from postgresql.parameters`);
- a Spring Boot application.yml key (`max-lifetime: 1800000 under spring.datasource.hikari`);
- a Django settings module's DATABASES entry (`"CONN_MAX_AGE": 210`, `"CONN_HEALTH_CHECKS": True`),
  set in the entry the finding points at, and libpq keys in its OPTIONS dict (`"keepalives_idle": 170,
  ... in DATABASES['default']['OPTIONS']`);
- libpq keys in the query of a SQLAlchemy URL (`keepalives_idle=170&... in the query of the URL`),
  on the line the finding points at.

Not applied here: fixes that need a file pgpath cannot know (`client_tls_key_file = <key file>`),
PGB016's removal of a database's own pool_size (its property test applies it:
test_pgb016_fix.py), and fixes for other syntaxes (Terraform, JSON, connection strings in code).
Each syntax must be applied at least once (test_every_syntax_is_applied).
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.rules import RULE_ENTRIES
from rule_cases import cases, options_for, run_case

_ASSIGNMENT = re.compile(r"([A-Za-z_][\w.]*) = (\S+)")
_NOTE = re.compile(r"  \(| \(|; | or |, or | behind | if ")
_FILES = (".conf", ".ini")  # postgresql.conf, pgbouncer.ini, sysctl.conf


_CONNINFO = re.compile(r"((?:\w+=\S+ )*\w+=\S+) in the connection string")
_YAML_KEYS = re.compile(r'((?:[\w.]+: "[^"]*"(?:, | and ))*[\w.]+: "[^"]*") in ([\w.]+)')
_YAML_OPTION = re.compile(r'- \{ option: "([\w.]+)", value: "([^"]*)" \} in ([\w.]+)')
_ENVIRONMENT = re.compile(r"([A-Z][A-Z0-9_]*)=(\S+) in its environment")
_DJANGO_ENTRY = re.compile(r'"([A-Z_]+)": (\S+)(?: \(|$)')
# libpq keys in a Django database's OPTIONS dict: `"keepalives_idle": 170, ... in DATABASES['default']['OPTIONS']`
_DJANGO_OPTIONS = re.compile(r'((?:"\w+": [^,<]+?, )*"\w+": [^,<]+?) in DATABASES\[\'\w+\'\]\[\'OPTIONS\'\]')
# libpq keys in a SQLAlchemy URL's query: `keepalives_idle=170&keepalives_count=3 in the query of the URL (...)`
_URL_QUERY = re.compile(r"((?:\w+=[^&\s<]+&)*\w+=[^&\s<]+) in the query of the URL\b")


def _pairs(fix: str) -> list[tuple[str, str]] | None:
    """The values a fix writes (`a = 1 and b = 2  (why)`), or None when it is not only that."""
    if "remove" in fix:
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
    if re.search(r"\(with [^)]*(_file|_FILE|<)", fix) or "[databases] line" in fix:
        return None  # a certificate or key file to provide; PGB016's own property test
    yaml_file = span_file.endswith((".yaml", ".yml"))
    # a value moved (PG014): `<the value where it belongs>, and remove X from <where it has no effect>`
    m = re.fullmatch(r"(.+), and remove (\w+) from ([\w.]+)", fix)
    if m and yaml_file:
        first = _edit(m.group(1), span_file)
        return ("move", span_file, [first, ("remove", m.group(2), m.group(3))]) if first else None
    # a Spring Boot application.yml key: `max-lifetime: 1800000 under spring.datasource.hikari`
    m = re.match(r"([\w.\-]+): (\S+) under ([\w.\-]+)", fix)
    if m and yaml_file:
        return "yaml", (span_file, m.group(3)), [(m.group(1), m.group(2))]
    m = re.match(r"remove the (?:(\w+) )?line\b", fix)
    if m and (Path(span_file).suffix in (".conf", ".ini") or "." not in Path(span_file).name):
        return "remove-line", span_file, [(m.group(1), None)]
    m = re.match(r"(ALTER SYSTEM SET \w+ = \S+) in the same script", fix)
    if m and span_file.endswith(".sql"):
        return "sql", span_file, [(m.group(1), None)]
    m = re.match(r"remove (\w+) from (\w+[._][\w.]+)\b", fix)  # a key path, not `from the client`
    if m and yaml_file:
        return "remove-key", (span_file, m.group(2)), [(m.group(1), None)]
    m = re.match(r"remove -c (\w+)=\S* from its command", fix)
    if m and yaml_file:
        return "remove-c", span_file, [(m.group(1), None)]
    m = re.match(r"((?:-c \w+=\S+(?:, | and ))*-c \w+=\S+) in its command", fix)
    if m and yaml_file:
        return "command", span_file, re.findall(r"-c (\w+)=(\S+)", m.group(1))
    if "remove" in fix:
        return None
    m = _YAML_KEYS.match(fix)
    if m and span_file.endswith((".yaml", ".yml")):
        return "yaml", (span_file, m.group(2)), re.findall(r'([\w.]+): "([^"]*)"', m.group(1))
    m = _YAML_OPTION.match(fix)
    if m and span_file.endswith((".yaml", ".yml")):
        return "options", (span_file, m.group(3)), [(m.group(1), m.group(2))]
    m = _ENVIRONMENT.fullmatch(fix)
    if m and span_file.endswith((".yaml", ".yml")):
        return "environment", span_file, [(m.group(1), m.group(2))]
    m = _DJANGO_OPTIONS.match(fix)
    if m and span_file.endswith(".py"):
        return "django-options", span_file, re.findall(r'"(\w+)": ([^,]+)(?:, |$)', m.group(1))
    m = _URL_QUERY.match(fix)
    if m:
        return "url-query", span_file, [tuple(kv.split("=", 1)) for kv in m.group(1).split("&")]
    m = _DJANGO_ENTRY.match(fix)
    if m and span_file.endswith(".py"):
        return "django", span_file, [(m.group(1), m.group(2))]
    m = _CONNINFO.match(fix)
    if m and span_file.endswith(".env"):
        return "conninfo", span_file, [tuple(kv.split("=", 1)) for kv in m.group(1).split()]
    head = _NOTE.split(fix, maxsplit=1)[0]
    # HAProxy's `keep client pools' idle time below 120 s (...), or add timeout tunnel 1h to listen a and
    # listen b` (HAP005): the alternative this test can write is the proxy's own
    tunnel = re.search(r"(?:add|raise) (timeout \w+) (?:in \S+ \S+ \(e\.g\. timeout \w+ )?(\S+?)\)?(?: to ((?:(?:listen|backend|frontend) \S+(?: and )?)+))?$",
                       fix.split(", or ", 1)[-1])
    if head.startswith("keep client pools") and tunnel:
        name, value = tunnel.group(1).split()[1], tunnel.group(2)
        sections = re.findall(r"(?:listen|backend|frontend) \S+", tunnel.group(3) or "")
        return "haproxy", None, [(sec, name, value) for sec in sections] or [(None, name, value)]
    if head.startswith("timeout "):
        # `timeout client 1m in frontend a and timeout server 1m in backend b`: each timer goes to the
        # section named after it, or after the last one, or (none named) the finding's own section
        pieces, pending = [], []
        for part in (p.strip() for p in re.split(r", | and ", head)):
            m = re.fullmatch(r"timeout (\w+) (\S+)(?: in ((?:listen|backend|frontend|defaults) \S+))?", part)
            if m is None:
                return None
            pending.append((m.group(1), m.group(2)))
            if m.group(3):
                pieces += [(m.group(3), n, v) for n, v in pending]
                pending = []
        return "haproxy", None, pieces + [(None, n, v) for n, v in pending]
    m = re.match(r"([\w.\-]+)=(\S+)(?: \(|$)", fix)
    if m and span_file.endswith(".properties"):
        return "properties", span_file, [(m.group(1), m.group(2))]
    if Path(span_file).suffix in _FILES and (pairs := _pairs(fix)):
        return "assignment", span_file, pairs
    return None


def _remove_line(path: Path, line: int, name: str | None) -> None:
    """Delete the line the finding points at when it sets `name` (any name: `remove the line`),
    else the last line that does."""
    lines = path.read_text().split("\n")
    pattern = rf"\s*{re.escape(name)}\s*=" if name else r"\s*[\w.]+\s*="
    sets = [i for i, text in enumerate(lines) if re.match(pattern, text, re.I)]
    at = line - 1 if line - 1 in sets else sets[-1]
    del lines[at]
    path.write_text("\n".join(lines))


def _yaml_document(path: Path, line: int):
    """(every document of the file, the index of the one that holds `line`)."""
    import yaml

    text = path.read_text()
    nodes = list(yaml.compose_all(text))
    index = max(i for i, node in enumerate(nodes) if node is not None and node.start_mark.line + 1 <= max(line, 1))
    return list(yaml.safe_load_all(text)), index


def _remove_entry(path: Path, line: int, at: str, name: str) -> None:
    """Remove `name` from the mapping or Ansible option list at the key path `at`."""
    import yaml

    docs, index = _yaml_document(path, line)
    here = docs[index]
    keys = at.split(".")
    for key in keys[:-1]:
        here = here[key]
    if isinstance(here[keys[-1]], list):
        here[keys[-1]] = [item for item in here[keys[-1]] if item.get("option") != name]
    else:
        del here[keys[-1]][name]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def _edit_command(path: Path, line: int, pairs) -> None:
    """Set (or, with value None, remove) each `-c name=value` in the command of the compose service
    that holds `line` (a list, or one string)."""
    import yaml

    root = yaml.compose(path.read_text())
    services = next(v for k, v in root.value if k.value == "services")
    service = next(k.value for k, v in services.value if k.start_mark.line + 1 <= line <= v.end_mark.line + 1)
    data = yaml.safe_load(path.read_text())
    command = data["services"][service]["command"]
    kept = command.split() if isinstance(command, str) else list(command)
    for name, value in pairs:
        words, kept, i = kept, [], 0
        while i < len(words):
            if words[i] == "-c" and i + 1 < len(words) and words[i + 1].split("=", 1)[0] == name:
                i += 2
                continue
            kept.append(words[i])
            i += 1
        if value is not None:
            kept += ["-c", f"{name}={value}"]
    data["services"][service]["command"] = " ".join(kept) if isinstance(command, str) else kept
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _write_properties(path: Path, pairs) -> None:
    """Set `key=value` where the file sets that key, else add the line."""
    lines = path.read_text().split("\n")
    for key, value in pairs:
        at = [i for i, line in enumerate(lines) if re.match(rf"\s*{re.escape(key)}\s*[=:]", line)]
        if at:
            lines[at[-1]] = f"{key}={value}"
        else:
            lines.append(f"{key}={value}")
    path.write_text("\n".join(lines))


def _write_django(path: Path, line: int, pairs) -> None:
    """Set `"KEY": value` in the DATABASES entry (a dict with an "ENGINE" key) that holds `line`:
    the key's value where the entry has it, else a new line before the entry's closing brace."""
    import ast

    text = path.read_text()
    lines = text.split("\n")
    entries = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Dict)
               and any(isinstance(k, ast.Constant) and k.value == "ENGINE" for k in n.keys)]
    entry = next(n for n in entries if n.lineno <= line <= n.end_lineno)
    for key, value in pairs:
        node = next((v for k, v in zip(entry.keys, entry.values) if isinstance(k, ast.Constant) and k.value == key),
                    None)
        if node is not None:
            assert node.lineno == node.end_lineno, "a one-line value"
            row = lines[node.lineno - 1]
            lines[node.lineno - 1] = row[:node.col_offset] + value + row[node.end_col_offset:]
        else:
            indent = " " * entry.keys[0].col_offset
            lines.insert(entry.end_lineno - 1, f'{indent}"{key}": {value},')
    path.write_text("\n".join(lines))


def _write_django_options(path: Path, line: int, pairs) -> None:
    """Set `"key": value` in the OPTIONS dict of the DATABASES entry that holds `line` (a new line
    before its closing brace, or the key's value where it is already there)."""
    import ast

    text = path.read_text()
    lines = text.split("\n")
    entries = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Dict)
               and any(isinstance(k, ast.Constant) and k.value == "ENGINE" for k in n.keys)]
    entry = next(n for n in entries if n.lineno <= line <= n.end_lineno)
    options = next(v for k, v in zip(entry.keys, entry.values) if isinstance(k, ast.Constant) and k.value == "OPTIONS")
    assert isinstance(options, ast.Dict) and options.keys, "a literal OPTIONS dict with keys"
    for key, value in reversed(pairs):
        node = next((v for k, v in zip(options.keys, options.values) if isinstance(k, ast.Constant) and k.value == key),
                    None)
        if node is not None:
            row = lines[node.lineno - 1]
            lines[node.lineno - 1] = row[:node.col_offset] + value + row[node.end_col_offset:]
        else:
            lines.insert(options.end_lineno - 1, f'{" " * options.keys[0].col_offset}"{key}": {value},')
    path.write_text("\n".join(lines))


def _write_url_query(path: Path, line: int, pairs) -> None:
    """Append the keys to the query of the URL on `line` (`?` or `&`)."""
    lines = path.read_text().split("\n")
    row = lines[line - 1]
    m = re.search(r"\w[\w+.-]*://\S+", row)
    url = m.group(0)
    extra = "&".join(f"{k}={v}" for k, v in pairs)
    lines[line - 1] = row[:m.start()] + url + ("&" if "?" in url else "?") + extra + row[m.end():]
    path.write_text("\n".join(lines))


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

    docs, index = _yaml_document(path, line)
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


def _write_container_env(path: Path, line: int, pairs) -> None:
    """Set the variables in the `env:` list of the Kubernetes container that holds `line`."""
    import yaml

    def containers(node, data):
        # (node, data) of every mapping with an image: a container of a Pod template
        if isinstance(node, yaml.MappingNode):
            if "image" in data:
                yield node, data
            for k, v in node.value:
                yield from containers(v, data[k.value])
        elif isinstance(node, yaml.SequenceNode):
            for n, d in zip(node.value, data):
                yield from containers(n, d)

    text = path.read_text()
    nodes, docs = list(yaml.compose_all(text)), list(yaml.safe_load_all(text))
    container = next(d for node, data in zip(nodes, docs) for n, d in containers(node, data)
                     if n.start_mark.line + 1 <= line <= n.end_mark.line + 1)
    env = container.setdefault("env", [])
    for key, value in pairs:
        env[:] = [e for e in env if e.get("name") != key] + [{"name": key, "value": value}]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def _write_environment(path: Path, line: int, pairs) -> None:
    """Set the variables in the environment of the compose service that holds `line`."""
    import yaml

    root = yaml.compose(path.read_text())
    if not any(k.value == "services" for k, _ in root.value):
        return _write_container_env(path, line, pairs)
    services = next(v for k, v in root.value if k.value == "services")
    name = next(k.value for k, v in services.value if k.start_mark.line + 1 <= line <= v.end_mark.line + 1)
    data = yaml.safe_load(path.read_text())
    env = data["services"][name].setdefault("environment", {})
    for key, value in pairs:
        if isinstance(env, list):
            env[:] = [e for e in env if not str(e).startswith(key + "=")] + [f"{key}={value}"]
        else:
            env[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _write_haproxy(folder: Path, finding, pieces) -> None:
    """Set each timeout in the section the fix names for it (in the finding's file, else whichever
    file holds it: a template's sections count), else in
    the section that holds the finding's line; a timeout line the finding points at (a misspelt
    name, a bad value) is the one replaced, any other existing line of that timer too."""
    _SECTIONS = r"(global|listen|backend|frontend|defaults|resolvers|peers|userlist)\b"
    pointed = folder / finding.span.file
    for section, name, value in pieces:
        if section is None:
            path = pointed
            lines = path.read_text().split("\n")
            header = max(i for i, line in enumerate(lines[:finding.span.line]) if re.match(_SECTIONS, line))
        else:
            for path in [pointed] + sorted(p for p in folder.rglob("*") if p.is_file() and p != pointed):
                lines = path.read_text().split("\n")
                found = [i for i, line in enumerate(lines) if line.split()[:2] == section.split()]
                if found:
                    header = found[0]
                    break
            else:
                raise AssertionError(f"no {section} in {folder}")
        end = next((i for i in range(header + 1, len(lines)) if re.match(_SECTIONS, lines[i])), len(lines))
        at = [i for i in range(header + 1, end) if re.match(rf"\s*timeout\s+{name}\s", lines[i])]
        line_index = (finding.span.line or 0) - 1
        if path == pointed and header < line_index < end and re.match(r"\s*timeout\s", lines[line_index]):
            at = [line_index]
        if at:
            lines[at[-1]] = f"    timeout {name} {value}"
        else:
            lines.insert(header + 1, f"    timeout {name} {value}")
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


def _apply(folder: Path, finding, edit=None) -> None:
    """Write the finding's fix into the files under `folder`, as an operator would."""
    how, where, values = edit or _edit(finding.fix, finding.span.file)
    if how == "move":
        first, (_, name, at) = values
        _apply(folder, finding, first)
        _remove_entry(folder / where, finding.span.line or 1, at, name)
    elif how == "assignment":
        _write(folder / where, values)
    elif how in ("yaml", "options"):
        _write_yaml(folder / where[0], finding.span.line or 1, where[1], values, how == "options")
    elif how == "environment":
        _write_environment(folder / where, finding.span.line or 1, values)
    elif how == "remove-line":
        _remove_line(folder / where, finding.span.line or 0, values[0][0])
    elif how == "remove-key":
        _remove_entry(folder / where[0], finding.span.line or 1, where[1], values[0][0])
    elif how in ("remove-c", "command"):
        _edit_command(folder / where, finding.span.line or 1, values)
    elif how == "sql":
        path = folder / where
        path.write_text(path.read_text().rstrip("\n") + f"\n{values[0][0]};\n")
    elif how == "properties":
        _write_properties(folder / where, values)
    elif how == "conninfo":
        _write_conninfo(folder / where, values)
    elif how == "django":
        _write_django(folder / where, finding.span.line or 1, values)
    elif how == "django-options":
        _write_django_options(folder / where, finding.span.line or 1, values)
    elif how == "url-query":
        _write_url_query(folder / where, finding.span.line or 1, values)
    else:
        _write_haproxy(folder, finding, values)


OPT_IN = [e.code for e in RULE_ENTRIES if e.opt_in]  # run only when named (PG010)


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
    assert len(APPLICABLE) >= 80, len(APPLICABLE)  # the check below is no empty loop


def test_every_syntax_is_applied():
    """No writer of this test goes unused (a syntax whose fixes all stopped matching would)."""
    used = {_edit(p.values[2].fix, p.values[2].span.file)[0] for p in APPLICABLE}
    assert used >= {"assignment", "haproxy", "conninfo", "yaml", "options", "properties", "remove-line",
                    "remove-key", "remove-c", "command", "sql", "move", "django", "django-options", "url-query"}, used


def _judge(before, after, finding) -> None:
    """The fixed finding is gone, and no other rule's error or warning is new (nor a warning
    become an error). Findings are counted per rule, file and severity, not matched by line: an edit moves the lines below it (a YAML document is written
    anew), and a message may change with the values (one missing timeout fewer)."""
    def tally(findings, severe):
        return Counter((f.code, f.span.file, str(f.severity)) for f in findings
                       if not severe or str(f.severity) != "info")

    def of_its_kind(findings):  # the rule, file and severity of the finding fixed
        return [f for f in findings if (f.code, f.span.file, f.severity) == (finding.code, finding.span.file,
                                                                             finding.severity)]

    assert len(of_its_kind(after)) < len(of_its_kind(before)), \
        f"after {finding.fix!r}: {[f.message for f in of_its_kind(after)]}"
    # what the fixed rule says next (a weaker finding: PGB006's file now named but not in the tree)
    # is its own business; another rule's new error or warning is a fix that breaks something
    grown = {k for k, n in tally(after, True).items() if k[0] != finding.code and n > tally(before, True)[k]}
    broken = [f"{f.code} {f.message}" for f in after if (f.code, f.span.file, str(f.severity)) in grown]
    assert not broken, f"after {finding.fix!r}: {broken}"


@pytest.mark.parametrize("code,case,finding", APPLICABLE)
def test_applying_the_fix_clears_the_finding_and_breaks_nothing(tmp_path, code, case, finding):
    copy = tmp_path / case.name
    (shutil.copytree if case.is_dir() else shutil.copy)(case, copy)
    select = ["ALL", *OPT_IN]  # every rule, opt-in ones too: a fix must break no other rule's finding
    before = _findings(tmp_path, case, select)
    _apply(tmp_path, finding)
    _judge(before, _findings(tmp_path, case, select), finding)


# -- PATH001's other fixes: after its first, it offers the other end's keepalives in that end's own
# file (`; or at the other end, in <file>: <settings>`) and a HikariCP pool's keepaliveTime (`; or,
# for the connections idle in the pool only, <key>=<ms> (ms: ...`): each, applied alone, must clear
# the finding and break nothing, as the first does

_OTHER_END = re.compile(r"; or at the other end, in (\S+): (.+?)(?=; or |$)")
_POOL_KEEPALIVE = re.compile(r"; or, for the connections idle in the pool only, (.+?) \(ms: ")


def _alternative_edits(finding):
    """(label, edit) for each of a finding's other fixes that this test can write."""
    out = []
    for m in _OTHER_END.finditer(finding.fix):
        edit = _edit(m.group(2), m.group(1))
        if edit is not None:
            out.append((f"other end {Path(m.group(1)).name}", edit))
    m = _POOL_KEEPALIVE.search(finding.fix)
    if m:
        client = next(s.file for s in (finding.span, *finding.related)
                      if s.file.endswith((".properties", ".yml", ".yaml")) and Path(s.file).name != "pgpath.yaml")
        edit = _edit(m.group(1), client)
        assert edit is not None, m.group(1)
        out.append(("pool keepalive", edit))
    return out


def _alternatives():
    out = []
    for code, case in cases():
        if code != "PATH001" or not case.name.startswith("bad"):
            continue
        report, _ = run_case(code, case)
        for f in report.findings:
            if f.code == code and f.fix:
                out.extend(pytest.param(case, f, edit, id=f"{case.name}:{label}") for label, edit in _alternative_edits(f))
    return out


ALTERNATIVES = _alternatives()


def test_path001_fixtures_hold_other_fixes_of_each_form():
    forms = {p.values[2][0] for p in ALTERNATIVES}
    assert {"assignment", "properties"} <= forms, forms  # the other end's file; a HikariCP keepalive
    assert len(ALTERNATIVES) >= 5, [p.id for p in ALTERNATIVES]


@pytest.mark.parametrize("case,finding,edit", ALTERNATIVES)
def test_each_other_fix_of_path001_clears_it_too(tmp_path, case, finding, edit):
    shutil.copytree(case, tmp_path / case.name)
    before = _findings(tmp_path, case, None)
    _apply(tmp_path, finding, edit)
    after = _findings(tmp_path, case, None)
    # counted in every file: the finding follows the end whose keepalive is written, so a value
    # written at the other end that is still too long would move it, not clear it
    assert sum(f.code == finding.code for f in after) < sum(f.code == finding.code for f in before), \
        [f"{f.span.file}: {f.message}" for f in after if f.code == finding.code]
    _judge(before, after, finding)


# -- the same on the real files of ../shared/corpus: each finding whose fix this test can write,
# applied to a copy of the corpus folder that holds the file, then pgpath run on that folder again

from conftest import CORPUS  # noqa: E402  (../shared/corpus, or PGPATH_SHARED's)


def _run_folder(folder: Path):
    cwd = os.getcwd()
    os.chdir(folder.parent)
    try:
        return run(make_settings({"paths": [folder.name], "select": ["ALL", *OPT_IN]}, use_config=False)).findings
    finally:
        os.chdir(cwd)


def _corpus_applicable():
    if not CORPUS.is_dir():
        return []
    out = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        for f in _run_folder(folder):
            if f.fix and _edit(f.fix, f.span.file):
                out.append(pytest.param(folder, f, id=f"{f.code}/{Path(f.span.file).name}:{f.span.line}"))
    return out


CORPUS_APPLICABLE = _corpus_applicable()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the project (the corpus of real "
                                                "configuration files the project is judged on)")
def test_the_corpus_holds_fixes_to_apply():
    # 2 since corpus audit 12 judged two findings noise (MEM001 on CNPG's cluster-example-full, PGB017
    # on its pooler-external), MEM001 on Zalando's manifest is PG014's (its refused max_connections) and
    # APP008 leaves netbox's localhost database alone (corpus audit 16): what is left to apply is
    # PATH001 and PG010 (opt-in, selected by the harness)
    assert len(CORPUS_APPLICABLE) >= 2, [p.id for p in CORPUS_APPLICABLE]


@pytest.mark.parametrize("folder,finding", CORPUS_APPLICABLE)
def test_a_corpus_fix_clears_its_finding_and_breaks_nothing(tmp_path, folder, finding):
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    before = _run_folder(copy)
    _apply(tmp_path, finding)
    _judge(before, _run_folder(copy), finding)
