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

    __slots__ = ("name", "span", "facts", "overridden")

    def __init__(self, name: str, span: Span | None = None, facts: dict[str, Value] | None = None) -> None:
        self.name = name
        self.span = span
        self.facts = {} if facts is None else facts
        # fact name -> a value read from a file that a declared one replaced (with_declared)
        self.overridden: dict[str, Value] = {}

    def get(self, name: str) -> Value | None:
        return self.facts.get(name)

    def memory_bytes(self) -> Value | None:
        """The memory that counts for the OOM killer: the container/cgroup limit, else the RAM;
        the smaller when both are known (a MemoryMax= above the machine's RAM limits nothing)."""
        limit = self.facts.get("memory_limit")
        ram = self.facts.get("ram")
        if limit is not None and limit.known:
            if ram is not None and ram.known and isinstance(ram.value, (int, float)) and \
                    isinstance(limit.value, (int, float)) and 0 < ram.value < limit.value:
                return ram
            return limit
        return ram

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
        if self.overridden:
            out["overridden"] = {k: v.to_dict() for k, v in self.overridden.items()}
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out


# the folders of one host's /etc that hold the files pgpath reads of it: a file in one of them
# belongs to the host whose /etc is the folder above (etc/haproxy/haproxy.cfg and
# etc/sysctl.d/90-net.conf are one host's); any other file to the host of its own folder
ETC_FOLDERS = frozenset(("haproxy", "keepalived", "sysctl.d", "postgresql", "pgbouncer", "patroni", "systemd"))
# a copy of a host's file system: `etc/<one of ETC_FOLDERS>/...` (etc/postgresql/16/main,
# etc/systemd/system/postgresql@16-main.service.d), a file right in `etc/` (etc/sysctl.conf),
# PostgreSQL's data directories (var/lib/postgresql/16/main, PGDG's var/lib/pgsql/16/data) and the
# packages' units (usr/lib/systemd/system, lib/systemd/system): the host is the folder above
_DATA_TREES = (("var", "lib", "postgresql"), ("var", "lib", "pgsql"), ("usr", "lib", "systemd"), ("lib", "systemd"))


def host_root(path: str) -> str:
    """The folder that stands for the machine a configuration file is on: the one function that
    says which files are of one host (sysctl files, systemd units and the servers they apply to;
    HAProxy and keepalived for HAP012). The folder above a copy of the host's file system (see
    _DATA_TREES: `db-host/etc/postgresql/16/main/postgresql.conf` and
    `db-host/etc/systemd/system/postgresql@16-main.service.d/override.conf` are both `db-host`'s);
    else the file's folder, or the one above when that folder is one of a host's /etc folders or a
    unit's drop-in folder (`haproxy/haproxy.cfg` beside `sysctl.d/90-net.conf`,
    `postgresql.service.d/memory.conf` beside `postgresql.conf`). An absolute and a relative path
    of one file give the same root only when both are made absolute first (callers comparing
    paths of several origins use os.path.abspath)."""
    import os

    folder = os.path.dirname(os.path.normpath(path))
    parts = folder.split(os.sep) if folder else []
    for i in range(len(parts) - 1, -1, -1):  # the deepest copy of a host's tree
        name = parts[i]
        tree = name == "etc" and (i + 1 == len(parts) or parts[i + 1] in ETC_FOLDERS)
        tree = tree or any(tuple(parts[i:i + len(t)]) == t for t in _DATA_TREES)
        if tree and not (name == "lib" and i > 0 and parts[i - 1] == "usr"):
            return os.sep.join(parts[:i]) or (os.sep if folder.startswith(os.sep) else ".")
    if folder.endswith(".service.d") or os.path.basename(folder) == "system" and \
            os.path.basename(os.path.dirname(folder)) == "systemd":
        folder = os.path.dirname(folder)  # a drop-in folder, systemd/system
        if os.path.basename(folder) == "system" and os.path.basename(os.path.dirname(folder)) == "systemd":
            folder = os.path.dirname(folder)
    if os.path.basename(folder) in ETC_FOLDERS:
        folder = os.path.dirname(folder)
    return folder or "."


# where a PostgreSQL cluster lives in the packages' layouts: Debian/Ubuntu's configuration and data
# directories (/etc/postgresql/16/main, /var/lib/postgresql/16/main: major and cluster name) and
# the PGDG/RHEL data directory (/var/lib/pgsql/16/data: the major; one cluster per major)
_DEBIAN_CLUSTER = lazy_re.compile(r"(?:^|/)(?:etc|var/lib)/postgresql/(\d{1,2})/([^/\s'\"]+)(?:/|$|[\s'\"])")
_PGDG_DATA = lazy_re.compile(r"(?:^|/)var/lib/pgsql/(\d{1,2})/data(?:/|$|[\s'\"])")
# the units that run one: Debian's postgresql@16-main.service, PGDG's postgresql-16.service
_DEBIAN_UNIT = lazy_re.compile(r"^postgresql@(\d{1,2})-(.+)\.service$")
_PGDG_UNIT = lazy_re.compile(r"^postgresql-(\d{1,2})\.service$")


def pg_cluster(path: str) -> tuple[int, str | None] | None:
    """(major, cluster name or None) a folder of the packages' layouts names (see above), else
    None: `etc/postgresql/16/main` -> (16, "main"), `/var/lib/pgsql/15/data` -> (15, None). Give a
    file's folder, not the file (`etc/postgresql/16/pg_hba.conf` names no cluster)."""
    path = path.replace("\\", "/")
    m = _DEBIAN_CLUSTER.search(path)
    if m:
        return int(m.group(1)), m.group(2)
    m = _PGDG_DATA.search(path)
    return (int(m.group(1)), None) if m else None


def unit_program(unit: str) -> str:
    """The server a unit runs, by its name: `pgbouncer`, `haproxy`, else `postgresql` (the systemd
    loader reads only the units and drop-ins of those; a drop-in outside a `<unit>.d` folder, whose
    unit is not named, is taken for PostgreSQL's)."""
    name = unit.lower()
    for program in ("pgbouncer", "haproxy"):
        if name.startswith(program):
            return program
    return "postgresql"


def unit_cluster(unit: str, data_directory: str | None = None) -> tuple[int, str | None] | None:
    """(major, cluster or None) of the one cluster a PostgreSQL unit runs: its name
    (`postgresql@16-main.service`, `postgresql-16.service`), else the data directory its
    ExecStart `-D` or `PGDATA` names; None for a unit of every cluster (`postgresql@.service`,
    `postgresql.service`, `patroni.service`) or one that does not say."""
    m = _DEBIAN_UNIT.match(unit)
    if m:
        return int(m.group(1)), m.group(2)
    m = _PGDG_UNIT.match(unit)
    if m:
        return int(m.group(1)), None
    return pg_cluster(data_directory) if data_directory else None


def same_cluster(a: tuple[int, str | None], b: tuple[int, str | None]) -> bool:
    """Two (major, cluster) name one cluster: the same major, and the same name when both have one."""
    return a[0] == b[0] and (a[1] is None or b[1] is None or a[1] == b[1])


def with_declared(base: "HostFacts | None", declared: "HostFacts") -> "HostFacts":
    """A host the topology declares, over what the files of the host say (`base`): every fact of
    both, the declared value winning; a file's value it replaces is kept in `overridden` (said by
    `pgpath path`), never dropped unseen."""
    out = HostFacts(declared.name, declared.span, dict(base.facts) if base is not None else {})
    for name, value in declared.facts.items():
        earlier = out.facts.get(name)
        if earlier is not None and earlier.origin != "declared" and earlier.value != value.value:
            out.overridden[name] = earlier
        out.facts[name] = value
    if base is not None:
        out.overridden = {**base.overridden, **out.overridden}
    return out
