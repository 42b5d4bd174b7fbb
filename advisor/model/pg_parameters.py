"""How a fix writes a PostgreSQL parameter where pgpath read the server's parameters.

A fix is copied as it stands, so it must be in the syntax of the file it is about: a
postgresql.conf line (`work_mem = 4MB`), a key of an operator's or Patroni's parameters
(`work_mem: "4MB" in spec.postgresql.parameters`), an item of an Ansible role's option list
(`- { option: "work_mem", value: "4MB" } in postgresql_parameters`), or a container's command line
(`-c work_mem=4MB in its command`).

The loader that builds a `postgresql` document from such a file says where it read each
parameter, as the setting's `section` (the key path: `spec.config.parameters`), and where a fix
adds one the file does not set: `meta["parameters_at"]`, or `meta["parameters_at_for"][name]`
for a parameter that belongs elsewhere (Patroni's DCS-only ones). `meta["parameters_forms"]`
names the key paths written as Ansible option lists (`- { option: ..., value: ... }`); the others
are mappings. A container's document is known by its `image` and `service`. Anything else is a
configuration file.
"""

from __future__ import annotations

from advisor import lazy_re
from advisor.model import ConfigDoc, Setting

# a fix in postgresql.conf syntax, as the loaders write it: `name = value`, then an optional
# note after two spaces; or the removal of the line that sets `name`
_CONF_ASSIGNMENT = lazy_re.compile(r"(?P<name>[A-Za-z_][\w.]*) = (?P<value>(?:(?!  ).)+)(?P<note>  .*)?")
_CONF_REMOVAL = lazy_re.compile(r"(?P<verb>remove|fix or remove) the (?P<name>[A-Za-z_][\w.]*) line")


def _plain(value) -> str:
    """A postgresql.conf value without its single quotes (`'a, b'` -> `a, b`), for YAML and `-c`."""
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1].replace("''", "'")
    return text


def in_command(doc: ConfigDoc, name: str | None = None, setting: Setting | None = None) -> bool:
    """A fix goes on the container's command line: a container's server, unless it reads a mounted
    configuration file (advisor.loaders.mounts), where a fix goes unless the command line writes
    the setting (`setting`, or the effective occurrence of `name`)."""
    if not (doc.meta.get("image") and doc.meta.get("service")):
        return False
    if not doc.meta.get("mounted_in"):
        return True
    if setting is None or (name is not None and setting.name != name):
        setting = doc.get(name) if name else None
    own = [f for f in doc.files if f not in doc.meta.get("_also_read", ())]
    return setting is not None and setting.span.file not in own


def _command_key(doc: ConfigDoc) -> str:
    """Where a container's `-c` flags go: compose's `command`, a Kubernetes container's `args` (its
    `command` replaces the image's entrypoint)."""
    from advisor.model import KUBERNETES_WORKLOADS

    return "args" if doc.meta.get("source") in KUBERNETES_WORKLOADS else "command"


def _where(doc: ConfigDoc, name: str, setting: Setting | None = None) -> str | None:
    """The key path a fix writes `name` at: where a parameter Patroni takes from elsewhere belongs,
    else where the file sets it (`setting`, or its effective occurrence), else where the file
    keeps its parameters."""
    special = (doc.meta.get("parameters_at_for") or {}).get(name.lower())
    if special:
        return special
    if setting is None or setting.name != name:
        setting = doc.get(name)
    if setting is not None and setting.section and doc.meta.get("parameters_at"):
        return setting.section
    return doc.meta.get("parameters_at")


def assignment(doc: ConfigDoc, name: str, value, setting: Setting | None = None) -> str:
    """`name = value` as the file that configures this server writes it (`setting`: the occurrence
    the fix is about, when the caller has it)."""
    at = _where(doc, name, setting)
    form = (doc.meta.get("parameters_forms") or {}).get(at)
    if at and form == "options":
        return f'- {{ option: "{name}", value: "{_plain(value)}" }} in {_running(at)}'
    if at:
        return f'{name}: "{_plain(value)}" in {_running(at)}'
    if in_command(doc, name, setting):
        text = f"{name}={_plain(value)}"
        return f"-c {text if ' ' not in text else repr(text)} in its {_command_key(doc)}"
    return f"{name} = {value}"


def _running(at: str) -> str:
    """Where a fix is written, with how a running Patroni cluster takes it: Patroni reads
    `bootstrap.dcs` once, when it creates the cluster; afterwards the DCS holds the values and
    `patronictl edit-config` changes them."""
    from advisor.model.patroni import PATRONI_DCS

    if at == PATRONI_DCS:
        return f"{at} (on a running cluster: patronictl edit-config)"
    return at


def removal(doc: ConfigDoc, setting: Setting, what: str = "line") -> str:
    """`remove the line` (or `the statement`), said as the file writes the setting."""
    at = setting.section if setting.section and doc.meta.get("parameters_at") else doc.meta.get("parameters_at")
    if at:
        return f"remove {setting.spelling or setting.name} from {_running(at)}"
    if in_command(doc, setting.name, setting):
        return f"remove -c {setting.spelling or setting.name}={_plain(setting.raw)} from its {_command_key(doc)}"
    return f"remove the {what}"


def in_place(doc: ConfigDoc, setting: Setting, fix: str | None) -> str | None:
    """A fix written in postgresql.conf syntax (`name = value  (note)`, `remove the name line`),
    said as the file that holds `setting` writes it; any other fix as it is."""
    if not fix or not (doc.meta.get("parameters_at") or in_command(doc, getattr(setting, "name", None), setting)):
        return fix
    m = _CONF_ASSIGNMENT.fullmatch(fix)
    if m:
        return assignment(doc, m["name"], m["value"], setting) + (m["note"] or "")
    m = _CONF_REMOVAL.fullmatch(fix)
    if m:
        gone = removal(doc, setting)
        return gone if m["verb"] == "remove" else f"fix or {gone}"
    return fix
