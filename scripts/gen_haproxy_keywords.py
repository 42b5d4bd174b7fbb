#!/usr/bin/env python3
"""Write advisor/loaders/haproxy_keywords.py: the keywords HAProxy accepts, per section.

Sources (both from the HAProxy actually installed, Debian 2.6 here):
- doc/configuration.txt: the "Proxy keywords matrix" (4.1: keyword x defaults/frontend/listen/
  backend, "(*)" = may be negated with `no`) and the list of "global" keywords (section 3);
- `haproxy -dKcfg`: the keywords registered at run time by the binary (2.6+), which adds
  keywords the matrix omits (e.g. `clitimeout`, `option` names registered by modules).

Keywords of newer HAProxy versions that pgpath knows about are added by hand in `NEWER` below,
so a configuration written for 3.x is not flagged as unknown.

    python3 scripts/gen_haproxy_keywords.py [/usr/share/doc/haproxy/configuration.txt.gz]
"""

from __future__ import annotations

import gzip
import pprint
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "advisor" / "loaders" / "haproxy_keywords.py"

# keywords and option/timeout names of HAProxy 2.7 .. 3.x (configuration.txt of those versions)
NEWER = {
    "proxy": {
        "http-restrict-req-hdr-names": "dflb",  # option, 2.7
        "log-steps": "dflb",
        "guid": "flb",
        "hash-preserve-affinity": "dlb",
        "quic-initial": "dfl",
    },
    "options": {"http-restrict-req-hdr-names": "dflb", "idle-close-on-response": "dfl"},
    "timeouts": {"client-hs": "dfl"},  # 2.8
    # server/default-server keywords -> number of arguments (src/server.c, cfgparse-ssl.c,
    # cfgparse-tcp.c, check.c of 3.x: srv_kws tables)
    "server": {
        "cc": 1, "check-pool-conn-name": 1, "check-reuse-pool": 0, "check-sni-auto": 0, "client-sigalgs": 1,
        "curves": 1, "guid": 1, "hash-key": 1, "idle-ping": 1, "init-state": 1, "ktls": 1, "log-bufsize": 1,
        "no-check-reuse-pool": 0, "no-check-sni-auto": 0, "no-renegotiate": 0, "no-sni-auto": 0,
        "pool-conn-name": 1, "renegotiate": 0, "shard": 1, "sigalgs": 1, "sni-auto": 0, "strict-maxconn": 0,
        "tcp-md5sig": 1,
    },
    "global": [
        "expose-experimental-directives", "expose-deprecated-directives", "harden.reject-privileged-ports.tcp",
        "harden.reject-privileged-ports.quic", "ocsp-update.disable", "ocsp-update.maxdelay", "ocsp-update.mindelay",
        "ocsp-update.httpproxy", "ocsp-update.mode", "limited-quic", "tune.quic.frontend.max-idle-timeout",
        "setenv", "presetenv", "resetenv", "unsetenv", "stats-file", "dns-accept-family", "cpu-policy",
        "key-base", "ssl-security-level", "tune.disable-fast-forward", "tune.disable-zero-copy-forwarding",
        "warn-blocked-traffic-after", "tune.idletimer", "thread-hard-limit", "shm-stats-file",
    ],
}

# server keywords `default-server` refuses: `haproxy -c` (2.6) on `default-server <kw>` says "'<kw>' option
# is not accepted in default-server sections" and goes on (the flag default_ok = 0 in srv_kws; `guid` 3.x)
SERVER_NOT_DEFAULT = ("id", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "guid")

SECTION_COLS = "dflb"  # defaults, frontend, listen, backend


def read_doc(path: str) -> str:
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def matrix(doc: str) -> dict[str, dict]:
    """keyword -> {"sections": "dflb" subset, "neg": bool, "named_only": "d" if (!)}."""
    start = doc.index("4.1. Proxy keywords matrix\n---")
    end = doc.index("4.2. Alphabetically sorted keywords reference\n---")
    out: dict[str, dict] = {}
    row = re.compile(r"^([a-z0-9][^ ]*(?: [a-z0-9<>\[\]_.-][^ ]*)*)\s+(\(\*\)\s+)?(X|-)(\s*\(!\))?\s+(X|-)\s+(X|-)\s+(X|-)")
    for line in doc[start:end].splitlines():
        m = row.match(line)
        if not m:
            continue
        keyword = m.group(1).strip()
        if "(deprecated)" in keyword:
            keyword = keyword.replace("(deprecated)", "").strip()
        cols = [m.group(3), m.group(5), m.group(6), m.group(7)]
        sections = "".join(c for c, flag in zip(SECTION_COLS, cols) if flag == "X")
        out[keyword] = {"sections": sections, "neg": bool(m.group(2))}
    return out


def global_keywords(doc: str) -> set[str]:
    start = doc.index('The following keywords are supported in the "global" section :')
    end = doc.index("3.1. Process management and security\n---")
    return {m.group(1) for m in re.finditer(r"^   - ([a-z0-9][^ \n]*)", doc[start:end], re.M)}


def dump_registered() -> dict[str, set[str]]:
    try:
        out = subprocess.run(["haproxy", "-dKcfg", "-q", "-c", "-f", "/dev/null"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    sections: dict[str, set[str]] = {}
    current = None
    for line in out.splitlines():
        if line and not line.startswith(("\t", "#")):
            current = line.strip()
            continue
        if current and line.startswith("\t"):
            sections.setdefault(current, set()).add(line.strip())
    return sections


def main() -> int:
    doc_path = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/doc/haproxy/configuration.txt.gz"
    doc = read_doc(doc_path)
    version = re.search(r"version (\d+\.\d+)", doc[:2000])
    mat = matrix(doc)
    proxy: dict[str, str] = {}
    options: dict[str, str] = {}
    negatable: set[str] = set()
    timeouts: dict[str, str] = {}
    for keyword, info in mat.items():
        words = keyword.split()
        if words[0] == "option" and len(words) >= 2:
            options[words[1]] = info["sections"]
            if info["neg"]:
                negatable.add(words[1])
        elif words[0] == "timeout" and len(words) >= 2:
            timeouts[words[1]] = info["sections"]
        proxy.setdefault(words[0], "")
        proxy[words[0]] = "".join(sorted(set(proxy[words[0]]) | set(info["sections"]), key=SECTION_COLS.index))
    glob = global_keywords(doc)
    registered = dump_registered()
    server: dict[str, int] = {}
    for entry in registered.get("listen", ()):
        m = re.match(r"^server <name> <addr> (\S+)(?: \+(-?\d+))?$", entry)
        if m:
            server[m.group(1)] = int(m.group(2) or 0)
    for name, count in NEWER["server"].items():
        server.setdefault(name, count)
    for entry in registered.get("global", ()):
        glob.add(entry.split()[0])
    for entry in registered.get("listen", ()):
        words = entry.split()
        if words[0] in ("bind", "server") or "<" in entry:
            continue
        if words[0] == "option" and len(words) >= 2:
            if words[1] not in options:
                scope = entry[entry.find("[") + 1:entry.find("]")].split() if "[" in entry else []
                options[words[1]] = ("d" + ("f" if "FE" in scope else "") + "l" + ("b" if "BE" in scope else ""))
            continue
        proxy.setdefault(words[0], "dflb")
    for name, sections in NEWER["proxy"].items():
        proxy.setdefault(name, sections)
    for name, sections in NEWER["options"].items():
        options.setdefault(name, sections)
    for name, sections in NEWER["timeouts"].items():
        timeouts.setdefault(name, sections)
    glob.update(NEWER["global"])
    text = [
        '"""Keywords HAProxy accepts per section. GENERATED by scripts/gen_haproxy_keywords.py: do not edit.',
        "",
        f"From HAProxy {version.group(1) if version else '?'} configuration.txt (keyword matrix, global list), the",
        "binary's `haproxy -dKcfg` dump (also the `server` keywords), and a short hand list of keywords added in 2.7 .. 3.x.",
        "Section letters: d = defaults, f = frontend, l = listen, b = backend.",
        '"""',
        "",
        f"DOC_VERSION = {version.group(1)!r}" if version else "DOC_VERSION = None",
        "",
        "# first word of a proxy keyword -> sections where some form of it is allowed",
        f"PROXY = {pprint.pformat(dict(sorted(proxy.items())), width=110)}",
        "",
        "# `option <name>` -> sections",
        f"OPTIONS = {pprint.pformat(dict(sorted(options.items())), width=110)}",
        "",
        "# options that accept the `no` / `default` prefix",
        f"NEGATABLE_OPTIONS = {pprint.pformat(frozenset(sorted(negatable)), width=110)}",
        "",
        "# `timeout <name>` -> sections",
        f"TIMEOUTS = {pprint.pformat(dict(sorted(timeouts.items())), width=110)}",
        "",
        "# `server` and `default-server` keywords -> how many words follow each (-1: `source`, which reads",
        "# its own: <addr>[:<port>] then `usesrc <addr>` / `interface <name>`)",
        f"SERVER = {pprint.pformat(dict(sorted(server.items())), width=110)}",
        "",
        "# server keywords a `default-server` line refuses (HAProxy says so and ignores them)",
        "SERVER_NOT_DEFAULT = frozenset({%s})" % ", ".join(repr(k) for k in sorted(SERVER_NOT_DEFAULT)),
        "",
        "# keywords of the global section (first word)",
        f"GLOBAL = {pprint.pformat(frozenset(sorted(glob)), width=110)}",
        "",
    ]
    OUT.write_text("\n".join(text))
    print(f"wrote {OUT.relative_to(ROOT)}: {len(proxy)} proxy keywords, {len(options)} options, "
          f"{len(timeouts)} timeouts, {len(server)} server keywords, {len(glob)} global keywords")
    return 0


if __name__ == "__main__":
    sys.exit(main())
