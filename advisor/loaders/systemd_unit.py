"""systemd units of PostgreSQL (`postgresql*.service`, `patroni.service`, and drop-ins
`<unit>.service.d/*.conf`): what they say about memory and the OOM killer (kind `systemd`).

Read as systemd reads unit files (systemd.syntax(7)): `[Section]` headers, `Key=Value` lines,
`#` and `;` comments, a trailing backslash continues a line; a later assignment of a single-value
key wins, and an empty assignment (`Environment=`) resets a list. `Environment=` takes several
space-separated, optionally quoted `NAME=value` words.

Facts (`advisor.model.host.HostFacts`, the doc's model; the unit name in meta["unit"], the data
directory its ExecStart `-D` or `Environment=PGDATA=` names in meta["data_directory"]):
- `oom_score_adj` from `OOMScoreAdjust=` (-1000..1000; -1000 = never chosen by the OOM killer);
- `oom_adjust_children` True when `Environment=PG_OOM_ADJUST_FILE=...` makes the postmaster reset
  its children's score (to PG_OOM_ADJUST_VALUE, default 0), so backends stay killable;
- `memory_limit` from `MemoryMax=` (or the cgroup-v1 `MemoryLimit=`): the cgroup's hard limit,
  the memory that counts for the OOM killer; `memory_high` from `MemoryHigh=` (a throttle, not a
  kill limit). Sizes take K, M, G, T (powers of 1024); `infinity` is no limit; a percentage is
  of the host's RAM (kept unknown unless the RAM is known).
A value systemd refuses is a `systemd-invalid-value` diagnostic (SYS004): systemd then ignores the
line and logs it, so the protection or limit meant is not there.
"""

from __future__ import annotations

import os
import re
import shlex

from advisor.loaders.source import read_text
from advisor.units import scaled, shorten
from advisor.loaders.template import is_template
from advisor.model import ConfigDoc, Diagnostic, Setting, Span, Unknown
from advisor.model.client import Value
from advisor.model.host import HostFacts

_SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([KMGTPEB])?$")
# the data directory an ExecStart gives postgres or pg_ctl(cluster): `-D /var/lib/pgsql/16/data`,
# `--pgdata=...`, `-D/path`; which cluster the unit runs when its name does not say
_DATA_OPTION = re.compile(r"(?:^|\s)(?:-D\s*|--pgdata[=\s]\s*)['\"]?([^\s'\"]+)")
_FACTORS = {None: 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5, "E": 1024**6}


def unit_name(path: str) -> str:
    """`/etc/systemd/system/postgresql@16-main.service.d/oom.conf` -> `postgresql@16-main.service`."""
    base = os.path.basename(path)
    parent = os.path.basename(os.path.dirname(path))
    if parent.endswith(".d") and not base.endswith((".service", ".socket")):
        return parent[:-2]
    return base


# systemd parses sizes into a uint64_t (parse_size): a larger one is refused with ERANGE
MAX_SIZE = 2**64 - 1


def parse_size(text: str) -> int | None:
    """Bytes of a systemd size (`4G`, `1.5G`, `512`), exactly (a float overflowed on 400 digits and
    rounded large ones); None when it is no size."""
    m = _SIZE.match(text.strip())
    if not m:
        return None
    return scaled(m.group(1), _FACTORS[m.group(2)])


def load(path: str, options: dict | None = None) -> ConfigDoc:
    text = read_text(path)
    doc = ConfigDoc(path=path, kind="systemd", files=[path])
    doc.template = is_template(path, text)
    unit = unit_name(path)
    doc.meta["unit"] = unit
    doc.meta["drop_in"] = unit != os.path.basename(path)
    host = HostFacts(unit, Span(path, 1, 1))
    env: dict[str, tuple[str, Span]] = {}
    section = None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            continue
        while line.rstrip().endswith("\\") and i < len(lines):  # continuation
            line = line.rstrip()[:-1] + " " + lines[i].strip()
            i += 1
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        key_col = len(key) - len(key.lstrip()) + 1
        key = key.strip()
        vlead = len(value) - len(value.lstrip())
        value = value.strip()
        vcol = len(line.partition("=")[0]) + 2 + vlead
        span = Span(path, lineno, key_col, lineno, vcol + len(value))
        vspan = Span(path, lineno, vcol, lineno, vcol + len(value))
        if section != "Service":
            doc.settings.append(Setting(key, value, value, span, vspan, section=section))
            continue
        setting = Setting(key, value, value, span, vspan, section=section)
        if key != "Environment":
            for earlier in doc.settings:
                if earlier.name == key and earlier.section == section:
                    earlier.effective = False
        doc.settings.append(setting)
        unknown = doc.template and ("{{" in value or "<%" in value or "${" in value)
        if key == "OOMScoreAdjust":
            _oom(doc, host, value, vspan, unknown)
        elif key in ("MemoryMax", "MemoryLimit", "MemoryHigh"):
            _memory(doc, host, key, value, vspan, unknown)
        elif key == "ExecStart":
            data = _DATA_OPTION.search(value)
            if data:
                doc.meta["data_directory"] = data.group(1)
        elif key == "Environment":
            if not value:
                env.clear()
                continue
            try:
                words = shlex.split(value)
            except ValueError:
                words = value.split()
            for word in words:
                name, eq, val = word.partition("=")
                if eq:
                    env[name] = (val, vspan)
    file_set = env.get("PG_OOM_ADJUST_FILE")
    if file_set is not None:
        host.facts["oom_adjust_children"] = Value(bool(file_set[0]), f"PG_OOM_ADJUST_FILE={file_set[0]}", file_set[1],
                                                  key="PG_OOM_ADJUST_FILE")
        adjust = env.get("PG_OOM_ADJUST_VALUE")
        doc.meta["children_oom_score_adj"] = adjust[0] if adjust else "0"
    doc.meta["environment"] = sorted(env)
    if "PGDATA" in env and "data_directory" not in doc.meta:
        doc.meta["data_directory"] = env["PGDATA"][0]
    doc.model = host
    return doc


def _oom(doc: ConfigDoc, host: HostFacts, value: str, span: Span, unknown: bool) -> None:
    if unknown:
        host.facts["oom_score_adj"] = Value(Unknown(value), value, span, key="OOMScoreAdjust")
        return
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not -1000 <= number <= 1000:
        doc.diagnostics.append(Diagnostic(
            "systemd-invalid-value", span,
            f"OOMScoreAdjust={value}: not an integer in -1000..1000; systemd ignores the line, so the OOM "
            "score is not adjusted", "OOMScoreAdjust=-1000"))
        return
    host.facts["oom_score_adj"] = Value(number, value, span, key="OOMScoreAdjust")


def _memory(doc: ConfigDoc, host: HostFacts, key: str, value: str, span: Span, unknown: bool) -> None:
    fact = "memory_high" if key == "MemoryHigh" else "memory_limit"
    if unknown:
        host.facts[fact] = Value(Unknown(value), value, span, key=key, unit="B")
        return
    if value in ("", "infinity"):
        host.facts.pop(fact, None)
        return
    if value.endswith("%"):
        host.facts[fact] = Value(Unknown(value), value, span, key=key, unit="B", hint="a share of the host's RAM")
        return
    size = parse_size(value)
    if size is None:
        doc.diagnostics.append(Diagnostic(
            "systemd-invalid-value", span,
            f"{key}={value}: not a size (bytes with an optional K, M, G or T suffix, a percentage, or infinity); "
            "systemd ignores the line, so the limit is not set", f"{key}={_size_fix(value)}"))
        return
    if size > MAX_SIZE:
        doc.diagnostics.append(Diagnostic(
            "systemd-invalid-value", span,
            f"{key}={shorten(value)}: too large (systemd's sizes end at 2^64-1 bytes, 16 EiB); systemd ignores "
            "the line, so the limit is not set", f"{key}=infinity  (no limit), or a size such as 4G"))
        return
    host.facts[fact] = Value(size, value, span, key=key, unit="B")


def _size_fix(value: str) -> str:
    """`8gb` -> `8G`, `512 MiB` -> `512M`: the suffix systemd knows."""
    m = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtpe])", value, re.IGNORECASE)
    return f"{m.group(1)}{m.group(2).upper()}" if m else "4G  (bytes, or a K/M/G/T suffix)"
