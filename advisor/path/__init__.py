"""The connection path: which files form one deployment, the hops and legs between client and
server, and when each hop closes an idle connection.

`assemble` is the one entry: it takes the loaded documents and the declared topology and returns
every path (declared deployments first, then those discovered by evidence, see `discover.py`),
each analysed (`timers.py`: legs, keepalive plans, idle timers). Rules read paths through
`ctx.paths` and never re-parse files. This package imports `advisor.model` (and the catalogs of
facts) only.
"""

from __future__ import annotations

from advisor.model import ConfigDoc, Diagnostic, Span
from advisor.path.model import DeploymentPath, Hop, KeepalivePlan, Leg, Timer


def assemble(docs: list[ConfigDoc], config: dict | None = None, config_path: str | None = None,
             marks: dict[str, Span] | None = None) -> tuple[list[DeploymentPath], list[Diagnostic]]:
    """(paths, topology problems) for the loaded documents."""
    from advisor.path import discover as discovery
    from advisor.path.hosts import attach
    from advisor.path.timers import analyse
    from advisor.path.tls import describe

    attach(docs)  # each server's host facts from its host's files, for declared and discovered paths alike

    paths: list[DeploymentPath] = []
    problems: list[Diagnostic] = []
    covered: set[int] = set()
    if config and config.get("deployments"):
        from advisor.path.topology import build

        paths, covered, problems = build(config, config_path or "pgpath.yaml", docs, marks or {})
    # (a pgbouncer.ini mounted where its image deletes it runs nowhere: advisor.loaders.mounts._regenerated)
    rest = [d for d in docs if id(d) not in covered and "replaced_by_image" not in d.meta]
    paths.extend(discovery.discover(rest))
    for path in paths:
        _distinct_labels(path)
        analyse(path)
        describe(path)
    return paths, problems


def _distinct_labels(path: DeploymentPath) -> None:
    """Hops of one path from files of the same name (two-level pooling: app/pgbouncer.ini and
    central/pgbouncer.ini) are labelled with their paths, so that a finding says which."""
    import os

    seen: dict[str, list] = {}
    for hop in path.hops:
        seen.setdefault(hop.label, []).append(hop)
    for same in seen.values():
        if len(same) < 2 or len({h.doc.path for h in same if h.doc is not None}) < 2:
            continue
        for hop in same:
            if hop.doc is not None:
                base = os.path.basename(hop.doc.path)
                hop.label = hop.label.replace(f" {base}", f" {hop.doc.path}", 1)


def connection_paths(paths: list[DeploymentPath]) -> list[DeploymentPath]:
    """The connection paths: more than one hop. `pgpath check` counts these, `pgpath path` shows
    them as `path N`, `pgpath init` writes them, and the PATH rules read them."""
    return [p for p in paths if len(p.hops) > 1]


def single_hops(paths: list[DeploymentPath]) -> list[DeploymentPath]:
    """A proxy, pooler or server alone that still has idle timers: `pgpath path` shows them after
    the connection paths, as `single hop N`, never counted as connection paths."""
    return [p for p in paths if len(p.hops) == 1 and any(not _unread_server(p, t) for t in p.timers)]


def unpaired(paths: list[DeploymentPath]) -> tuple[list[DeploymentPath], list[DeploymentPath]]:
    """(clients, servers) on no connection path, when the run read both (a lone postgresql.conf
    is no pairing missed): each a one-hop path, a client's with the evidence of why it stayed alone.
    `pgpath check` counts them, so that `0 findings` is not read as every path being checked."""
    clients = [p for p in paths if len(p.hops) == 1 and p.hops[0].kind == "client"]
    servers = [p for p in paths if len(p.hops) == 1 and p.hops[0].kind in ("pgbouncer", "haproxy", "postgres")]
    kinds = {h.kind for p in paths for h in p.hops}
    if "client" not in kinds or not kinds & {"pgbouncer", "haproxy", "postgres"}:
        return [], []
    return clients, servers


def unpaired_note(paths: list[DeploymentPath]) -> str | None:
    """`1 client and 2 servers on no path (...)`, or None when every one read is on a path."""
    clients, servers = unpaired(paths)
    if not clients and not servers:
        return None
    parts = ([f"{len(clients)} client{'s' if len(clients) != 1 else ''}"] if clients else []) + (
        [f"{len(servers)} server{'s' if len(servers) != 1 else ''} (PgBouncer, HAProxy or PostgreSQL)"] if servers else [])
    them = "them" if len(clients) + len(servers) != 1 else "it"
    why = "`pgpath path` says why for each client, or " if clients else ""
    return (f"{' and '.join(parts)} on no path: pgpath pairs files only on evidence (a port in one folder, an exact "
            f"address or name in any), so no path rule checked {them}; {why}name {them} on a deployment "
            "(deployments: in pgpath.yaml)")


def _unread_server(path: DeploymentPath, timer) -> bool:
    """A lone server's or PgBouncer's idle timer that is unknown only because pgpath did not read
    all its settings (advisor.path.timers gives it a note saying where): no timer worth a single
    hop of its own (a path through it still says so)."""
    kind = path.hops[timer.hop].kind
    return timer.seconds is None and (kind == "postgres" or kind == "pgbouncer" and timer.name.endswith(" unknown"))


__all__ = ["DeploymentPath", "Hop", "KeepalivePlan", "Leg", "Timer", "assemble", "connection_paths", "single_hops",
           "unpaired", "unpaired_note"]
