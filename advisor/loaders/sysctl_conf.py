"""sysctl files: `/etc/sysctl.conf`, `/etc/sysctl.d/*.conf`, and the `[sysctl]` sections of
tuned profiles (`tuned.conf`) and saptune notes.

Read as systemd-sysctl and procps `sysctl -p` read them (sysctl.d(5)): one `key = value` (or
`key=value`) a line; blank lines and lines starting with `#` or `;` are comments; a leading `-`
on the key means "ignore a failure to set it"; a key may use `/` instead of `.` as separator
(`net/ipv4/tcp_keepalive_time`). The last assignment of a key wins. In a file with `[section]`
headers (tuned, saptune), only keys in `[sysctl]` or `[sysctl:...]` sections are sysctls.

The keys that matter on the connection path become `advisor.model.host.HostFacts` (doc.model):
`net.ipv4.tcp_keepalive_time/intvl/probes` (the keepalive timers PostgreSQL, PgBouncer and libpq
fall back to when their own are 0 or unset), `net.ipv4.tcp_retries2`, `net.ipv4.ip_nonlocal_bind` and
`net.ipv6.ip_nonlocal_bind` (whether HAProxy may bind a keepalived VIP the node does not hold), `vm.overcommit_memory`,
`vm.overcommit_ratio`, `vm.overcommit_kbytes`. Every key is also a `Setting` (section = the ini section, if any).
A value that is not an integer where the kernel wants one is an `invalid-value` diagnostic
(reported by SYS001); template placeholders are unknown values.
"""

from __future__ import annotations

import re

from advisor import lazy_re
from advisor.loaders.infra_detect import looks_like_sysctl  # noqa: F401 - re-exported
from advisor.loaders.source import read_text
from advisor.loaders.template import is_template, placeholders
from advisor.model import ConfigDoc, Diagnostic, Setting, Span, Unknown
from advisor.model.client import Value
from advisor.model.host import HostFacts
from advisor.units import decimal, shorten

# sysctl key -> (HostFacts name, unit, minimum, maximum): what the kernel's handler accepts
# (keepalive_time/intvl: proc_dointvec_jiffies, an int; probes: a u8; overcommit_memory: 0..2)
FACTS = {
    "net.ipv4.tcp_keepalive_time": ("tcp_keepalive_time", "s", 0, 2147483647),
    "net.ipv4.tcp_keepalive_intvl": ("tcp_keepalive_intvl", "s", 0, 2147483647),
    "net.ipv4.tcp_keepalive_probes": ("tcp_keepalive_probes", None, 0, 255),
    "net.ipv4.tcp_retries2": ("tcp_retries2", None, 0, 2147483647),
    "vm.overcommit_memory": ("overcommit_memory", None, 0, 2),
    "vm.overcommit_ratio": ("overcommit_ratio", None, 0, 2147483647),
    "vm.overcommit_kbytes": ("overcommit_kbytes", None, 0, 18446744073709551615),  # an unsigned long
    # 0 or 1 in practice; the kernel's handler is proc_dou8vec_minmax with no bounds: 0..255 taken,
    # any non-zero value lets a socket bind an address the host does not hold (a keepalived VIP)
    "net.ipv4.ip_nonlocal_bind": ("ip_nonlocal_bind", None, 0, 255),
    "net.ipv6.ip_nonlocal_bind": ("ipv6_nonlocal_bind", None, 0, 255),
}
_INTEGER = lazy_re.compile(r"[+-]?[0-9]+")


def parse_fact(key: str, text: str) -> tuple[str, str | None, int | None, str] | None:
    """How the kernel takes `text` for a key pgpath reads as a host fact (`/` or `.` separated):
    (fact name, unit, the integer written or None, why the kernel refuses it or ""), or None when
    the key is not one of FACTS. The one reader of sysctl values: sysctl files, Kubernetes/compose
    `sysctls` and Ansible `sysctl_conf` all use it."""
    fact = FACTS.get(normalize_key(key))
    if fact is None:
        return None
    name, unit, low, high = fact
    number = decimal(text.strip()) if _INTEGER.fullmatch(text.strip()) else None  # (of any length)
    if number is None:
        return name, unit, None, "not an integer"
    if not low <= number <= high:
        return name, unit, number, f"outside {low}..{high}"
    return name, unit, number, ""

_SYSCTL_SECTION = lazy_re.compile(r"^[ \t]*\[sysctl(?::[^\]]*)?\][ \t]*\r?$", re.MULTILINE)


def normalize_key(key: str) -> str:
    """`net/ipv4/tcp_keepalive_time` -> `net.ipv4.tcp_keepalive_time` (sysctl.d(5): when the first
    separator is `/`, `/` separates and `.` is part of a name; we only need the common keys)."""
    if "/" in key and ("." not in key or key.index("/") < key.index(".")):
        return key.replace(".", "\0").replace("/", ".").replace("\0", "/")
    return key


def load(path: str, options: dict | None = None) -> ConfigDoc:
    text = read_text(path)
    doc = ConfigDoc(path=path, kind="sysctl")
    doc.files.append(path)
    doc.template = is_template(path, text)
    host = HostFacts(options.get("host_name", "") if options else "", Span(path, 1, 1))
    read_lines(doc, host, path, text)
    doc.model = host
    return doc


def read_lines(doc: ConfigDoc, host: HostFacts, path: str, text: str, line_offset: int = 0) -> None:
    has_sections = _SYSCTL_SECTION.search(text) is not None or text.lstrip().startswith("[")
    section: str | None = None
    depth = 0  # template conditionals open around the line
    for lineno, line in enumerate(text.split("\n"), start=1 + line_offset):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            continue
        if has_sections and not (section or "").lower().startswith("sysctl"):
            continue
        if stripped.startswith(("{%", "{#", "<%")) and not stripped.startswith("<%="):
            word = stripped[2:].lstrip("-+ ").split(" ", 1)[0]
            if word in ("if", "for", "unless", "case", "while"):
                depth += 1
            elif word.startswith("end") and depth:
                depth -= 1
            continue  # a template statement line: what it guards may or may not be rendered
        eq = line.find("=")
        if eq < 0:
            continue  # systemd-sysctl warns and skips a line without '='
        key_text = line[:eq]
        lead = len(key_text) - len(key_text.lstrip())
        key = key_text.strip()
        ignore_failure = key.startswith("-")
        if ignore_failure:
            key = key[1:].lstrip()
        key = normalize_key(key)
        raw_value = line[eq + 1:]
        vlead = len(raw_value) - len(raw_value.lstrip())
        value_text = raw_value.strip()
        value_col = eq + 2 + vlead
        span = Span(path, lineno, lead + 1, lineno, eq + 2 + len(raw_value.rstrip()))
        value_span = Span(path, lineno, value_col, lineno, value_col + len(value_text))
        template = bool(placeholders(value_text)) if doc.template or "{{" in value_text else False
        template = template or depth > 0  # set in one branch of a template condition: unknown
        setting = Setting(key, value_text, Unknown(value_text) if template else value_text, span, value_span,
                          section=section)
        for earlier in doc.settings:
            if earlier.name == key and depth == 0:
                earlier.effective = False
        doc.settings.append(setting)
        fact = FACTS.get(key)
        if fact is None or template:
            if fact is not None:
                host.facts[fact[0]] = Value(Unknown(value_text), value_text, value_span, key=key, unit=fact[1])
            continue
        name, unit, number, why = parse_fact(key, value_text)
        if why:
            doc.diagnostics.append(Diagnostic(
                "sysctl-invalid-value", value_span,
                f"{key} = {shorten(value_text)}: {why}; the kernel refuses it"
                + (" (the leading '-' hides the failure)" if ignore_failure else " and systemd-sysctl logs an error"),
                f"{key} = {_suggest(key, value_text, number, fact[2], fact[3])}"))
            setting.value = None
            continue
        setting.value = number
        host.facts[name] = Value(number, value_text, value_span, key=key, unit=unit)


def _suggest(key: str, text: str, number: int | None, low: int, high: int) -> str:
    if number is not None:
        return str(low if number < low else high) + ("  (the kernel's limit)")
    m = re.fullmatch(r"([0-9]+)\s*s(ec(onds?)?)?", text)
    if m and key in ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl"):
        return f"{m.group(1)}  (plain seconds)"
    return "<integer>"
