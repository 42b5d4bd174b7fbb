"""Which hosts of an Ansible inventory run the configuration files of a role, by what the project says.

An on-premises Ansible project keeps each program's configuration in its role
(`roles/pgbouncer/files/pgbouncer.ini`, `roles/haproxy/templates/haproxy.cfg.j2`) and the
machines in an inventory (`inventory/hosts.ini`: `[db]` / `pg1 ansible_host=10.20.0.11`). Read
alone, an HAProxy `server pg1 10.20.0.11:6432` names no file; with the inventory and the playbook
that applies the role to the hosts, it names the PgBouncer of `roles/pgbouncer/files` on that
host. pgpath places a role's files on hosts only on what the project states:

- the project is the folder holding the `roles/` folder of a file at `roles/<role>/files/...` or
  `roles/<role>/templates/...`;
- its inventory is the one inventory file of the project: `inventory` (a file), the files of an
  `inventory/` folder (outside `group_vars/`, `host_vars/`), `hosts`, `hosts.ini`, `hosts.yml`,
  `inventory.ini`, `inventory.yml` at the project's top. Several (a staging and a production
  inventory) place nothing: which one a run uses is not said. INI (`[group]`, `[group:children]`,
  `[group:vars]`, `name key=value` host lines) and YAML (`all:` / `hosts:` / `children:` / `vars:`)
  are read; a host's address is its `ansible_host`, else its name when it is an IP address or a
  DNS name of two labels or more; a host range (`pg[1:3]`) is expanded when numeric;
- the hosts of a role are those of the plays that apply it (`hosts: db` with `roles: [pgbouncer]`,
  or `- role: pgbouncer`) in the playbooks at the project's top or in its `playbooks/` folder
  (`hosts:` a group, a host, `all`, or several joined by `:` or `,`; a pattern with `!`, `&`,
  `*` or a template places nothing); when no playbook names the role at all, the hosts of the
  inventory group named like it (`[pgbouncer]`); a playbook that names the role in a way pgpath
  does not read (`include_role`, a variable) places nothing;
- a virtual address: a variable whose name says it (`vip`, `virtual_ip`, `floating_ip` in it) of
  a group (its `[group:vars]`, `vars:`, `group_vars/<group>.yml`) or a host (its line,
  `host_vars/<host>.yml`), whose value is an IP address or a DNS name, is an address of that
  group's hosts: a file of a role that runs on every one of them answers there.

What is placed is kept on the document (`meta["_ansible"]`): the role, its hosts (name, address,
where written), how they were found, or why none were; advisor.path.discover reads it. Nothing
is printed but host names, addresses and file locations; variable values other than the virtual
addresses are not kept.
"""

from __future__ import annotations

import os
import re

MAX_FILE_BYTES = 2 * 1024 * 1024
_ROLE_DIRS = ("files", "templates")
_TOP_INVENTORIES = ("inventory", "hosts", "hosts.ini", "hosts.yml", "hosts.yaml", "inventory.ini", "inventory.yml",
                    "inventory.yaml")
_VIP_NAME = re.compile(r"vip|virtual_?ip|floating_?ip", re.IGNORECASE)
_RANGE = re.compile(r"\[(\d+):(\d+)\]")
_PLAIN = re.compile(r"^[A-Za-z0-9_.-]+$")


def project_role(path: str, kinds: tuple[str, ...] = _ROLE_DIRS) -> tuple[str, str] | None:
    """(project folder, role) of a file under `roles/<role>/files/` or `roles/<role>/templates/`
    (`kinds`: which of the two)."""
    parts = os.path.abspath(path).split(os.sep)
    for i in range(len(parts) - 4, 0, -1):
        if parts[i] == "roles" and parts[i + 2] in kinds:
            return os.sep.join(parts[:i]) or os.sep, parts[i + 1]
    return None


class Host:
    __slots__ = ("name", "address", "file", "line", "groups")

    def __init__(self, name: str, file: str, line: int | None) -> None:
        self.name = name
        self.address: str | None = None
        self.file = file
        self.line = line
        self.groups: set[str] = set()

    def at(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class Project:
    """An Ansible project's inventory (hosts, groups) and plays, read once per run."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.inventory: str | None = None
        self.why: str | None = None  # why no inventory is used
        self.hosts: dict[str, Host] = {}
        self.children: dict[str, set[str]] = {}
        self.direct: dict[str, set[str]] = {}  # group -> its own hosts
        self.group_line: dict[str, str] = {}
        self.vips: list[tuple[str, str, str, str]] = []  # (value, group or host:<name>, variable, where)
        self.plays: list[tuple[str, list[str] | None, list[str]]] = []  # (where, host patterns or None, roles)
        self.playbook_words: set[str] = set()
        self.by_address: dict[str, Host] = {}

    # -- hosts of a group or pattern
    def members(self, group: str, seen: frozenset = frozenset()) -> set[str] | None:
        if group == "all":
            return set(self.hosts)
        if group in self.hosts and group not in self.direct and group not in self.children:
            return {group}
        if group not in self.direct and group not in self.children or group in seen:
            return None
        out = set(self.direct.get(group, ()))
        for child in self.children.get(group, ()):
            more = self.members(child, seen | {group})
            out |= more or set()
        return out

    def placement(self, role: str) -> tuple[list[Host], str] | str:
        """(hosts, how) the role runs on, or why none are known."""
        if self.inventory is None:
            return self.why or "no Ansible inventory beside roles/"
        plays = [(where, pats) for where, pats, roles in self.plays if role in roles]
        if plays:
            names: set[str] = set()
            said = []
            for where, pats in plays:
                if pats is None:
                    return f"the play at {where} applies role {role} to hosts given by a pattern pgpath does not read"
                for pat in pats:
                    found = self.members(pat)
                    if found is None:
                        return (f"the play at {where} applies role {role} to {pat}, which is no group or host of "
                                f"{self.inventory}")
                    names |= found
                said.append(f"{where} (hosts: {', '.join(pats)})")
            how = f"the play{'s' if len(said) > 1 else ''} at {'; '.join(said)} appl{'y' if len(said) > 1 else 'ies'} " \
                  f"role {role}"
        elif role in self.playbook_words:
            return f"a playbook beside roles/ names role {role} in a way pgpath does not read (include_role, a variable)"
        elif role in self.direct or role in self.children:
            names = self.members(role) or set()
            how = f"group {role} of {self.group_line.get(role, self.inventory)} is named like role {role}, which no " \
                  "playbook applies otherwise"
        else:
            groups = sorted(g for g in set(self.direct) | set(self.children) if g not in ("all", "ungrouped"))
            plays_said = "no playbook beside roles/ applies it" if not self.plays else \
                "no play of the playbooks beside roles/ applies it"
            return (f"{plays_said} and no group of {self.inventory} is named {role}"
                    + (f" (groups: {', '.join(groups)})" if groups else "")
                    + f"; a play `hosts: <group>` with `roles: [{role}]` in a playbook beside roles/ would place it")
        hosts = [self.hosts[n] for n in sorted(names) if n in self.hosts]
        if not hosts:
            return f"{how}, but to no host of {self.inventory}"
        return hosts, how


def _read(path: str) -> str | None:
    from advisor.loaders.source import InputError, read_text

    try:
        return read_text(path, MAX_FILE_BYTES)
    except (InputError, OSError, UnicodeError, ValueError):
        return None


def _yaml(path: str):
    """The first document of a YAML file (an inventory, a playbook, a variable file), None when it
    cannot be read (advisor.loaders.ansible_vars.first_document)."""
    from advisor.loaders.ansible_vars import first_document

    return first_document(path)


def _shown(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel if not rel.startswith("..") else path


def _exact(value: str) -> bool:
    from advisor.path.discover import exact_host

    return exact_host(value)


def _expand(name: str) -> list[str]:
    m = _RANGE.search(name)
    if m is None:
        return [name]
    lo, hi = m.group(1), m.group(2)
    if len(lo) > 6 or len(hi) > 6 or int(hi) < int(lo) or int(hi) - int(lo) > 1000:  # (5000 digits: int() refuses)
        return []
    width = len(lo) if lo.startswith("0") else 0
    return [y for n in range(int(lo), int(hi) + 1)
            for y in _expand(name[:m.start()] + str(n).zfill(width) + name[m.end():])]


def _inventories(root: str) -> list[str]:
    out = []
    for name in _TOP_INVENTORIES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            out.append(path)
        elif name == "inventory" and os.path.isdir(path):
            try:
                entries = sorted(os.listdir(path))
            except OSError:
                continue
            for entry in entries:
                full = os.path.join(path, entry)
                if os.path.isfile(full) and not entry.startswith(".") and (
                        entry.endswith((".ini", ".yml", ".yaml")) or "." not in entry):
                    out.append(full)
    return out


def _add_host(p: Project, name: str, group: str | None, file: str, line: int | None,
              variables: dict[str, str]) -> None:
    for one in _expand(name):
        host = p.hosts.get(one)
        if host is None:
            host = p.hosts[one] = Host(one, file, line)
        if group:
            host.groups.add(group)
            p.direct.setdefault(group, set()).add(one)
        address = variables.get("ansible_host") or (one if _exact(one) else None)
        if address and host.address is None:
            host.address = address
        for key, value in variables.items():
            if _VIP_NAME.search(key) and _exact(value):
                p.vips.append((value, f"host:{one}", key, f"{file}:{line}" if line else file))


def _ini(p: Project, path: str, text: str) -> None:
    shown = _shown(path, p.root)
    section, kind = "ungrouped", "hosts"
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            name, _, kind = line[1:-1].partition(":")
            section, kind = name.strip(), (kind.strip() or "hosts")
            p.group_line.setdefault(section, f"{shown}:{lineno}")
            if kind == "children":
                p.children.setdefault(section, set())
            elif kind == "hosts":
                p.direct.setdefault(section, set())
            continue
        words = line.split()
        if kind == "children":
            p.children.setdefault(section, set()).add(words[0])
        elif kind == "vars":
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip().strip("'\"")
            if _VIP_NAME.search(key) and _exact(value):
                p.vips.append((value, section, key, f"{shown}:{lineno}"))
        elif kind == "hosts":
            variables = {}
            for word in words[1:]:
                if word.startswith("#"):
                    break
                key, eq, value = word.partition("=")
                if eq:
                    variables[key] = value.strip("'\"")
            _add_host(p, words[0], section, shown, lineno, variables)


def _yaml_group(p: Project, name: str, node, shown: str) -> None:
    if node is None or node.kind != "map":
        p.direct.setdefault(name, set())
        return
    p.group_line.setdefault(name, f"{shown}:{node.line}")
    hosts = node.get("hosts")
    p.direct.setdefault(name, set())
    if hosts is not None and hosts.kind == "map":
        for host, _key, value in hosts.items():
            variables = {k: str(v.value) for k, _, v in value.items() if v.kind == "scalar"} \
                if value is not None and value.kind == "map" else {}
            _add_host(p, str(host), name, shown, _key.line if _key is not None else None, variables)
    variables = node.get("vars")
    if variables is not None and variables.kind == "map":
        for key, _, value in variables.items():
            if value.kind == "scalar" and _VIP_NAME.search(key) and _exact(str(value.value)):
                p.vips.append((str(value.value), name, key, f"{shown}:{value.line}"))
    children = node.get("children")
    if children is not None and children.kind == "map":
        for child, _, value in children.items():
            p.children.setdefault(name, set()).add(str(child))
            _yaml_group(p, str(child), value, shown)


def _var_files(p: Project, folder: str) -> None:
    """group_vars/<group>.yml and host_vars/<host>.yml (or their folders of files) under `folder`:
    the virtual addresses they give."""
    for kind in ("group_vars", "host_vars"):
        base = os.path.join(folder, kind)
        if not os.path.isdir(base):
            continue
        try:
            entries = sorted(os.listdir(base))
        except OSError:
            continue
        for entry in entries:
            full = os.path.join(base, entry)
            files = []
            if os.path.isdir(full):
                try:
                    files = [os.path.join(full, f) for f in sorted(os.listdir(full)) if f.endswith((".yml", ".yaml"))]
                except OSError:
                    pass
                owner = entry
            elif entry.endswith((".yml", ".yaml")) or "." not in entry:
                files = [full]
                owner = entry.rsplit(".", 1)[0] if "." in entry else entry
            else:
                continue
            for f in files:
                root = _yaml(f)
                if root is None or root.kind != "map":
                    continue
                for key, _, value in root.items():
                    if value.kind == "scalar" and _VIP_NAME.search(key) and _exact(str(value.value)):
                        who = owner if kind == "group_vars" else f"host:{owner}"
                        p.vips.append((str(value.value), who, key, f"{_shown(f, p.root)}:{value.line}"))


def _plays(p: Project) -> None:
    books = []
    for folder in (p.root, os.path.join(p.root, "playbooks")):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        books.extend(os.path.join(folder, e) for e in entries if e.endswith((".yml", ".yaml"))
                     and os.path.isfile(os.path.join(folder, e)))
    for book in books:
        root = _yaml(book)
        if root is None or root.kind != "seq":
            continue
        plays = [n for n in root.seq() if n is not None and n.kind == "map"]
        if not plays or not all(n.get("hosts") is not None or n.get("import_playbook") is not None
                                or n.get("ansible.builtin.import_playbook") is not None for n in plays):
            continue  # not a playbook (a variables file, a list of something)
        shown = _shown(book, p.root)
        text = _read(book) or ""
        p.playbook_words |= set(re.findall(r"[A-Za-z0-9_.-]+", text))
        for play in plays:
            hosts = play.get("hosts")
            if hosts is None:
                continue
            pats: list[str] | None
            if hosts.kind == "scalar":
                value = str(hosts.value)
                pats = [x.strip() for x in re.split(r"[:,]", value) if x.strip()]
            elif hosts.kind == "seq":
                pats = [str(x.value).strip() for x in hosts.seq() if x is not None and x.kind == "scalar"]
            else:
                pats = None
            if pats is not None and (not pats or not all(_PLAIN.match(x) for x in pats)):
                pats = None
            roles: list[str] = []
            node = play.get("roles")
            for item in node.seq() if node is not None else ():
                if item is None:
                    continue
                if item.kind == "scalar":
                    roles.append(str(item.value))
                elif item.kind == "map":
                    named = item.get("role") or item.get("name")
                    if named is not None and named.kind == "scalar":
                        roles.append(str(named.value))
            p.plays.append((f"{shown}:{play.line}", pats, roles))


def read_project(root: str) -> Project:
    p = Project(root)
    found = _inventories(root)
    if not found:
        p.why = "no Ansible inventory beside roles/ (inventory/hosts.ini, hosts.yml, ...)"
        return p
    if len(found) > 1:
        names = ", ".join(_shown(f, root) for f in found[:4])
        p.why = f"several inventories ({names}): which one a run uses is not said"
        return p
    path = found[0]
    text = _read(path)
    if text is None:
        p.why = f"{_shown(path, root)} could not be read"
        return p
    stripped = text.lstrip()
    if path.endswith((".yml", ".yaml")) or stripped.startswith(("all:", "---")):
        node = _yaml(path)
        if node is None or node.kind != "map":
            p.why = f"{_shown(path, root)} is no inventory pgpath reads"
            return p
        for name, _, value in node.items():
            _yaml_group(p, str(name), value, _shown(path, root))
    else:
        _ini(p, path, text)
    if not p.hosts:
        p.why = f"{_shown(path, root)} names no host"
        return p
    p.inventory = _shown(path, root)
    _var_files(p, os.path.dirname(path))
    if os.path.dirname(path) != root:
        _var_files(p, root)
    for host in p.hosts.values():
        if host.address:
            p.by_address.setdefault(host.address.lower(), host)
    _plays(p)
    return p


def place(docs: list, options: dict) -> None:
    """meta["_ansible"] of each PgBouncer, HAProxy and PostgreSQL document of a role:
    the project, the role, and the hosts it runs on with how that is known, or why it is not."""
    projects: dict[str, Project] = options.setdefault("ansible_inventories", {})
    for doc in docs:
        if doc.kind not in ("pgbouncer", "haproxy", "postgresql"):
            continue
        found = project_role(doc.path)
        if found is None:
            continue
        root, role = found
        project = projects.get(root)
        if project is None:
            project = projects[root] = read_project(root)
        placed = project.placement(role)
        entry = {"project": project, "role": role}
        if isinstance(placed, str):
            entry["why"] = placed
        else:
            hosts, how = placed
            entry["hosts"] = hosts
            entry["how"] = how
            names = {h.name for h in hosts}
            vips = []
            for value, owner, key, where in project.vips:
                members = {owner[5:]} if owner.startswith("host:") else project.members(owner)
                if members and members <= names:
                    vips.append((value, owner, key, where))
            entry["vips"] = vips
        doc.meta["_ansible"] = entry
