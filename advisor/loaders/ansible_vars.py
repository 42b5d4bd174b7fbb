"""Ansible variables for the Jinja templates of the same Ansible project.

An Ansible project keeps a role's configuration templates (`roles/haproxy/templates/haproxy.cfg.j2`)
and the values they are rendered with (`roles/common/defaults/main.yml`, `group_vars/all.yml`) in
one tree. Read alone, `timeout client {{ haproxy_timeout.client }}` is unknown; read with the
project's variables it is `60m`, and the path rules can judge it. pgpath renders only what it can
know for every host the template is deployed to:

- the project is the folder holding the `roles/` folder of a template at
  `roles/<role>/templates/...`;
- its variables are the top-level keys of every role's `defaults/main.yml` (or `defaults/main/*.yml`),
  overridden by `group_vars/all.yml` (or `group_vars/all/*.yml`, at the project's top or in an
  inventory folder below it), overridden by every role's `vars/main.yml` — Ansible's precedence
  among these files; a variable two files of one level give different values is not known (which
  wins depends on the play);
- a variable any other `group_vars/<group>` or `host_vars/<host>` file sets is not known either:
  its value differs between hosts;
- an expression is rendered only when it is a variable, with attributes or keys
  (`haproxy_timeout.client`, `pools['main']`), and at most the filters `int`, `string`, `trim`
  and `default(<literal>)`, to a number or a string (itself rendered once more when it is a
  template); anything else (loops, conditions, facts, lookups) stays unknown, as before;
- the rendered value replaces the expression padded with spaces to the expression's length, so
  every column of the line stays where it is written (an expression inside quotes, or with a
  value longer than itself, is left as it is).

What was rendered is kept on the document (`meta["ansible_rendered"]`: line, column, variable,
value and where the value is set) and every finding on such a line names that place as a related
location (advisor.engine), so the fix is made where the value lives.
"""

from __future__ import annotations

import os

from advisor import lazy_re
from advisor.model import Span
from advisor.units import digits

MAX_VAR_FILE_BYTES = 2 * 1024 * 1024
_ROLE_DEFAULTS, _GROUP_ALL, _ROLE_VARS = 1, 2, 3  # Ansible's order among the files read here
_EXPRESSION = lazy_re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<path>(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\s*(?:'[^']*'|\"[^\"]*\"|\d+)\s*\])*)"
    r"(?P<filters>(?:\s*\|\s*[a-z_]+(?:\([^()]*\))?)*)\s*$")
_FILTER = lazy_re.compile(r"\|\s*([a-z_]+)(?:\(([^()]*)\))?")
_TAG = lazy_re.compile(r"\{\{(.*?)\}\}")
_NUMBER = lazy_re.compile(r"-?\d+(?:\.\d+)?")
_STEP = lazy_re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|\"([^\"]*)\"|(\d+))\s*\]")


def project_root(path: str) -> str | None:
    """The Ansible project a template belongs to: the folder above `roles/<role>/templates/`."""
    from advisor.loaders.ansible_inventory import project_role

    found = project_role(path, ("templates",))
    return found[0] if found is not None else None


class Variables:
    """The project's variables known for every host: name -> (YAML node, file, level); `varies`:
    names some hosts set otherwise; `ambiguous`: names two files of one level set differently."""

    def __init__(self) -> None:
        self.defs: dict[str, tuple] = {}
        self.varies: set[str] = set()
        self.ambiguous: set[str] = set()
        # variable files Ansible loads that cannot be read: (path, why, line); any of them may set
        # any variable (and the play fails on it), so then no variable is known
        self.unreadable: list[tuple[str, str, int]] = []

    def add(self, name: str, node, path: str, level: int) -> None:
        have = self.defs.get(name)
        if have is None or level > have[2]:
            self.defs[name] = (node, path, level)
            self.ambiguous.discard(name)
        elif level == have[2] and not _same(have[0], node):
            self.ambiguous.add(name)

    def lookup(self, name: str):
        """(node, path) of a variable known for every host, else None."""
        if self.unreadable or name in self.varies or name in self.ambiguous:
            return None
        have = self.defs.get(name)
        return None if have is None else (have[0], have[1])


def _same(a, b) -> bool:
    return a.kind == b.kind == "scalar" and a.value == b.value


def variables_of(root: str) -> Variables:
    """Read the project's variable files (each at most 2 MiB). One of the files every host loads
    (defaults, vars, group_vars/all) that cannot be read is in `unreadable`, and then no variable
    is known; another group's or host's file that cannot be read is left out (it varies anyway)."""
    import glob

    out = Variables()
    roles = os.path.join(glob.escape(root), "roles", "*")
    for level, pattern in ((_ROLE_DEFAULTS, "defaults"), (_ROLE_VARS, "vars")):
        for path in _files([os.path.join(roles, pattern, "main.yml"), os.path.join(roles, pattern, "main.yaml"),
                            os.path.join(roles, pattern, "main", "*.yml"),
                            os.path.join(roles, pattern, "main", "*.yaml")]):
            _read_into(out, path, level)
    for folder in _group_vars_folders(root):
        base = glob.escape(folder)
        for path in _files([os.path.join(base, "all.yml"), os.path.join(base, "all.yaml"), os.path.join(base, "all"),
                            os.path.join(base, "all", "*.yml"), os.path.join(base, "all", "*.yaml")]):
            _read_into(out, path, _GROUP_ALL)
        for path in _files([os.path.join(base, "*"), os.path.join(base, "*", "*")]):
            if os.path.relpath(path, folder).split(os.sep)[0] in ("all", "all.yml", "all.yaml"):
                continue
            out.varies.update(_names(path))
    for folder in _folders_named(root, "host_vars"):
        for path in _files([os.path.join(glob.escape(folder), "*"), os.path.join(glob.escape(folder), "*", "*")]):
            out.varies.update(_names(path))
    return out


def _files(patterns: list[str]) -> list[str]:
    import glob

    seen: list[str] = []
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path) and path not in seen:
                seen.append(path)
    return seen


def _group_vars_folders(root: str) -> list[str]:
    return _folders_named(root, "group_vars")


def _folders_named(root: str, name: str, depth: int = 3) -> list[str]:
    """`name` folders at the project's top or up to `depth` levels below it (an inventory folder),
    not inside roles/."""
    out = []
    for here, dirs, _ in os.walk(root):
        level = os.path.relpath(here, root).count(os.sep) + (0 if here == root else 1)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "roles") if level < depth else []
        if name in dirs:
            out.append(os.path.join(here, name))
            dirs.remove(name)
    return out


def first_document(path: str, problems: list | None = None):
    """The first document of an Ansible YAML file (a variable file, an inventory, a playbook), None
    when there is none or it cannot be read; why not is appended to `problems` as (path, message,
    line) when given."""
    from advisor.loaders.source import InputError, read_text
    from advisor.loaders.yaml_nodes import TooLarge, YamlError, compose

    try:
        docs = compose(read_text(path, MAX_VAR_FILE_BYTES))
    except InputError as exc:
        if problems is not None:
            problems.append((path, exc.message, exc.line or 1))
        return None
    except YamlError as exc:
        if problems is not None:
            problems.append((path, exc.message, exc.line))
        return None
    except (TooLarge, OSError, UnicodeError, ValueError) as exc:
        if problems is not None:
            problems.append((path, f"not read ({type(exc).__name__})", 1))
        return None
    return docs[0] if docs else None


def _root_map(path: str, problems: list | None = None):
    root = first_document(path, problems)
    return root if root is not None and root.kind == "map" else None


def _read_into(out: Variables, path: str, level: int) -> None:
    root = _root_map(path, out.unreadable)
    if root is None:
        return
    for name, _key, value in root.items():
        out.add(name, value, path, level)


def _names(path: str) -> set[str]:
    root = _root_map(path)
    return {name for name, _, _ in root.items()} if root is not None else set()


# ------------------------------------------------------------------------------------------------
# rendering

def _value(node, depth: int, variables: Variables, seen: frozenset) -> str | None:
    """A scalar's text as Jinja prints it, a template in it rendered once more; None otherwise."""
    if node is None or node.kind != "scalar" or node.tag in ("null", "bool"):
        return None
    text = str(node.value)
    if "{{" in text or "{%" in text:
        if depth >= 3 or "{%" in text:
            return None
        return _render_string(text, variables, depth + 1, seen)
    return text


def _render_string(text: str, variables: Variables, depth: int, seen: frozenset) -> str | None:
    out, pos = [], 0
    for m in _TAG.finditer(text):
        got = _evaluate(m.group(1), variables, depth, seen)
        if got is None:
            return None
        out.append(text[pos:m.start()])
        out.append(got[0])
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _evaluate(expression: str, variables: Variables, depth: int = 0, seen: frozenset = frozenset()):
    """(text, variable, node, file) of an expression pgpath can render, else None."""
    m = _EXPRESSION.match(expression.strip("-+ \t"))
    if m is None:
        return None
    name = m.group("name")
    if name in seen or name in variables.varies or name in variables.ambiguous or \
            name in ("true", "false", "none", "True", "False", "None"):
        return None  # (a value some hosts set otherwise is unknown, whatever default() says)
    filters = _FILTER.findall(m.group("filters") or "")
    if any(f not in ("int", "string", "trim", "default", "d") for f, _ in filters):
        return None
    found = variables.lookup(name)
    node, file, label = None, None, name
    if found is not None:
        node, file = found
        for step in _STEP.finditer(m.group("path") or ""):
            key = next(g for g in step.groups() if g is not None)
            label += f".{key}" if step.group(1) else step.group(0)
            if node is None:
                break
            if node.kind == "map":
                node = node.get(key)
            elif node.kind == "seq" and digits(key) is not None and digits(key) < len(node.seq()):
                node = node.seq()[digits(key)]
            else:
                node = None
    text = _value(node, depth, variables, seen | {name}) if node is not None else None
    if text is None:
        default = next((arg for f, arg in filters if f in ("default", "d")), None)
        if default is None or found is not None and node is not None:
            return None  # unknown, or set to something pgpath cannot print
        literal = _literal(default.split(",")[0].strip())
        if literal is None:
            return None
        text, node, file = literal, None, None
    for f, _ in filters:
        if f == "int":
            try:
                text = str(int(float(text)))
            except ValueError:
                text = "0"
        elif f == "trim":
            text = text.strip()
    return text, label, node, file


def _literal(arg: str) -> str | None:
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        return arg[1:-1]
    if _NUMBER.fullmatch(arg):
        return arg
    return None


def render(path: str, text: str, variables: Variables) -> tuple[str, list[dict]]:
    """The template's text with each expression pgpath can render replaced in place (padded to the
    expression's length), and what was rendered: [{line, col, variable, value, set_at}]."""
    if "{{" not in text:
        return text, []
    lines = text.split("\n")
    rendered: list[dict] = []
    for n, line in enumerate(lines):
        if "{{" not in line:
            continue
        pieces, pos, changed = [], 0, False
        for m in _TAG.finditer(line):
            before = line[:m.start()]
            if before.count("'") % 2 or before.count('"') % 2:
                continue  # inside quotes: spaces would become part of the value
            got = _evaluate(m.group(1), variables)
            if got is None:
                continue
            value, label, node, file = got
            width = m.end() - m.start()
            if len(value) > width or not value or any(c.isspace() for c in value):
                continue
            pieces.append(line[pos:m.start()])
            pieces.append(value.ljust(width))
            pos = m.end()
            changed = True
            entry = {"line": n + 1, "col": m.start() + 1, "variable": label, "value": value}
            if node is not None and file is not None:
                entry["set_at"] = Span(file, node.line, node.col, node.end_line, node.end_col).to_dict()
            rendered.append(entry)
        if changed:
            pieces.append(line[pos:])
            lines[n] = "".join(pieces)
    return "\n".join(lines), rendered


def rendered_text(path: str, text: str, options: dict | None,
                  diagnostics: list | None = None) -> tuple[str, list[dict]]:
    """`render` with the variables of the template's project (read once per run and project, kept
    in options["ansible_projects"]); the text unchanged for a file that is no role template. A
    variable file of the project that cannot be read is an include-error (ADV003) in `diagnostics`
    (the template is then not rendered: that file may set any of its variables)."""
    if options is None or not path.lower().endswith((".j2", ".jinja", ".jinja2")) or "{{" not in text:
        return text, []
    root = project_root(path)
    if root is None:
        return text, []
    if not os.path.isabs(path):
        root = os.path.relpath(root)  # where values are set is said in the form the template was given
    projects = options.get("ansible_projects")
    if projects is None:
        projects = {}
    variables = projects.get(root)
    if variables is None:
        variables = projects[root] = variables_of(root)
    if variables.unreadable and diagnostics is not None:
        from advisor.model import Diagnostic, Span

        for file, why, line in variables.unreadable:
            diagnostics.append(Diagnostic(
                "include-error", Span(file, line, 1),
                f"cannot read {os.path.relpath(file, root)}: {why}; Ansible loads it for this role's hosts (the "
                "play fails on it), so no variable of the project is known for this template",
                "correct the file (ansible-inventory --list or the play itself shows the error)"))
    if not variables.defs or variables.unreadable:
        return text, []
    return render(path, text, variables)
