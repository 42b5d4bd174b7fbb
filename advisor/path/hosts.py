"""The host facts of each server from the files of its host, before any path is assembled.

A sysctl file and a systemd unit or drop-in say something of the machine a server runs on; which
machine is `advisor.model.host.host_root` (the server's own folder, or the folder above a copy of
the host's file system: `db-host/etc/postgresql/16/main/postgresql.conf` and
`db-host/etc/systemd/system/postgresql@16-main.service.d/override.conf` are both `db-host`'s).
Every file of a server's host gives it its sysctls (a later file's value wins, as in sysctl.d);
of the systemd units, only those that run it (`unit_for`). The facts go to the server's document
(`doc.host`, what the memory rules read) once, for discovered and declared deployments alike: a
topology's `hosts:` declaration is laid over them (`advisor.model.host.with_declared`), never in
their place. A document whose loader gave it host facts of its own (a container's limit and a
pod's sysctls) keeps those.
"""

from __future__ import annotations

import os

from advisor.model import ConfigDoc
from advisor.model.host import HostFacts, host_root, pg_cluster, same_cluster, unit_cluster, unit_program

SERVER_KINDS = ("postgresql", "pgbouncer", "haproxy")


def attach(docs: list[ConfigDoc]) -> None:
    """Give each server document without host facts of its own those of its host's files."""
    by_root: dict[str, list[ConfigDoc]] = {}
    for doc in docs:
        if _host_file(doc):
            by_root.setdefault(host_root(os.path.abspath(doc.path)), []).append(doc)
    if not by_root:
        return
    for doc in docs:
        if doc.kind not in SERVER_KINDS or doc.host is not None:
            continue
        files = by_root.get(host_root(os.path.abspath(doc.path)))
        if files:
            facts = facts_of(doc, files)
            if facts.facts:
                doc.host = facts


def _host_file(doc: ConfigDoc) -> bool:
    """A file of a host's own: a sysctl file (sysctl.d, tuned, saptune) or a systemd unit. Not the
    sysctls a manifest or compose file sets (meta "source": a pod's `securityContext.sysctls`, a
    compose service's `sysctls`, a Multus network's tuning, Ansible's `sysctl_conf`): those are
    of one pod, container or inventory group, and their loader gives them to its servers."""
    return doc.kind in ("sysctl", "systemd") and doc.model is not None and "source" not in doc.meta


def facts_of(server: ConfigDoc, files: list[ConfigDoc]) -> HostFacts:
    """What the files of a server's host say of it: every sysctl file in read order, then the
    units that run it (`unit_for`) as systemd merges them. The host is unnamed: each fact says
    the file and line it comes from."""
    out = HostFacts("", files[0].model.span)
    for doc in files:
        if doc.kind == "sysctl":
            out.merge(doc.model)
    for doc in unit_for(server, [d for d in files if d.kind == "systemd"]):
        out.merge(doc.model)
    return out


def cluster_of(server: ConfigDoc) -> tuple[int, str | None] | None:
    """(major, cluster) of a PostgreSQL server from the packages' layout of its path
    (`etc/postgresql/16/main`, `var/lib/pgsql/16/data`), else of its `data_directory`."""
    got = pg_cluster(os.path.dirname(os.path.abspath(server.path)))
    if got is not None:
        return got
    from advisor.catalog import value_or_default

    data = value_or_default(server, "data_directory")[0] if server.kind == "postgresql" else None
    return pg_cluster(data) if isinstance(data, str) else None


def unit_for(server: ConfigDoc, units: list[ConfigDoc]) -> list[ConfigDoc]:
    """The unit files and drop-ins of one host that run `server`, in the order systemd reads them
    (the unit file, then the drop-ins by file name: `postgresql@.service.d/` and
    `postgresql@16-main.service.d/` together). A unit of the server's program (PostgreSQL,
    PgBouncer or HAProxy, by its name) runs it when it names no cluster (`postgresql.service`,
    `postgresql@.service`, `patroni.service`, a drop-in outside a `.d` folder), or names the
    server's (`postgresql@16-main.service` for etc/postgresql/16/main; `postgresql-16.service` for
    var/lib/pgsql/16/data; or the data directory of its ExecStart `-D`). A server whose cluster is
    not known takes a unit naming one only when every such unit of the host names the same."""
    mine = [u for u in units if unit_program(u.meta.get("unit", "")) == server.kind]
    if not mine:
        return []
    named = {id(u): unit_cluster(u.meta.get("unit", ""), u.meta.get("data_directory")) for u in mine}
    clusters = {c for c in named.values() if c is not None}
    own = cluster_of(server) if server.kind == "postgresql" else None
    chosen = []
    for u in mine:
        c = named[id(u)]
        if c is None or (own is not None and same_cluster(own, c)) or (own is None and len(clusters) == 1):
            chosen.append(u)
    return sorted(chosen, key=lambda u: (bool(u.meta.get("drop_in")), os.path.basename(u.path),
                                         named[id(u)] is not None))
