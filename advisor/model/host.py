"""Host facts: what the machine (or container) an endpoint runs on contributes to the path.

A PostgreSQL server, PgBouncer or a client falls back to its host's `net.ipv4.tcp_keepalive_*`
sysctls when its own keepalive settings are 0 or unset; the memory that counts for the OOM killer
is the container or cgroup limit when there is one, else the host's RAM. Sources: sysctl files,
Kubernetes `securityContext.sysctls`, container limits (compose, Kubernetes, CloudNativePG),
systemd units, or the topology's `hosts:` declarations. Every fact is a `Value` with the span
that set it (origin `set` from a file, `declared` from the topology, `default` for Linux's).
"""

from __future__ import annotations

from typing import Any

from advisor import lazy_re
from advisor.model import Record, Span
from advisor.model.client import Value

_LOOPBACK = lazy_re.compile(r"^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback|[\w.-]+\.localhost|"
                            r"127(\.\d{1,3}){3}|\[?::1\]?|\[?0*:0*:0*:0*:0*:0*:0*:0*1\]?)$")


def loopback(host: str) -> bool:
    """A host or listen address that reaches only its own machine's (or container's) network
    namespace: a loopback name or address (localhost, `*.localhost`, 127.0.0.0/8, ::1), a Unix
    socket (a path, `@name` in the abstract namespace, or `unix socket` as the path model shows
    one). An empty host is not known to be either (libpq's default is the socket, a URL left to
    the environment may point anywhere): callers decide."""
    host = host.strip()
    return host == "unix socket" or host.startswith(("/", "@")) or bool(_LOOPBACK.match(host.lower()))


# Linux defaults (tcp(7)): net.ipv4.tcp_keepalive_time / _intvl / _probes, tcp_retries2
LINUX_KEEPALIVE_TIME = 7200
LINUX_KEEPALIVE_INTVL = 75
LINUX_KEEPALIVE_PROBES = 9
LINUX_TCP_RETRIES2 = 15

FACT_NAMES = ("ram", "memory_limit", "tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes",
              "tcp_retries2", "overcommit_memory", "overcommit_ratio", "overcommit_kbytes", "swap", "oom_score_adj",
              "oom_adjust_children", "memory_high", "ip_nonlocal_bind", "ipv6_nonlocal_bind")
# Linux default of vm.overcommit_ratio (mm/util.c): the share of RAM strict overcommit lets be committed
LINUX_OVERCOMMIT_RATIO = 50


class HostFacts(Record):
    """What is known about one host: each fact a `Value` (bytes, seconds, counts), or absent.

    `ram` / `memory_limit` / `swap` (swap space known to exist: at least this much) in bytes;
    `tcp_keepalive_time` / `_intvl` in seconds; `tcp_keepalive_probes`, `tcp_retries2`,
    `overcommit_memory`, `overcommit_ratio` (percent), `overcommit_kbytes`, `oom_score_adj` plain integers;
    `oom_adjust_children` True when PG_OOM_ADJUST_FILE makes backends killable again.
    """

    __slots__ = ("name", "span", "facts")

    def __init__(self, name: str, span: Span | None = None, facts: dict[str, Value] | None = None) -> None:
        self.name = name
        self.span = span
        self.facts = {} if facts is None else facts

    def get(self, name: str) -> Value | None:
        return self.facts.get(name)

    def memory_bytes(self) -> Value | None:
        """The memory that counts for the OOM killer: the container/cgroup limit, else the RAM."""
        limit = self.facts.get("memory_limit")
        if limit is not None and limit.known:
            return limit
        return self.facts.get("ram")

    def keepalive(self) -> tuple[Value, Value, Value]:
        """(time, intvl, probes) this host gives sockets that do not set their own."""
        def fact(name: str, default: int) -> Value:
            v = self.facts.get(name)
            return v if v is not None and v.known else Value(default, origin="default", unit="s")
        return (fact("tcp_keepalive_time", LINUX_KEEPALIVE_TIME), fact("tcp_keepalive_intvl", LINUX_KEEPALIVE_INTVL),
                fact("tcp_keepalive_probes", LINUX_KEEPALIVE_PROBES))

    def merge(self, other: "HostFacts") -> None:
        """Take the facts `other` knows (later sources win, as a later sysctl file does)."""
        self.facts.update(other.facts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "facts": {k: v.to_dict() for k, v in self.facts.items()}}
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out


# the folders of one host's /etc that hold the files pgpath reads of it: a file in one of them
# belongs to the host whose /etc is the folder above (etc/haproxy/haproxy.cfg and
# etc/sysctl.d/90-net.conf are one host's); any other file to the host of its own folder
ETC_FOLDERS = frozenset(("haproxy", "keepalived", "sysctl.d", "postgresql", "pgbouncer", "patroni", "systemd"))


def host_root(path: str) -> str:
    """The folder that stands for the machine a configuration file is on (see ETC_FOLDERS): the
    file's folder, or the one above when the file's folder is one of a host's /etc folders."""
    import os

    folder = os.path.dirname(os.path.normpath(path))
    if os.path.basename(folder) in ETC_FOLDERS:
        folder = os.path.dirname(folder)
    return folder
