"""`pgpath path`: each assembled path, its legs, and when each hop closes an idle connection.

`render(report)` is the text form, `render_json(report)` the JSON form (schemas/path.schema.json),
`render_topology(report)` the `deployments:` YAML that `pgpath init` writes.
"""

from __future__ import annotations

import json
import os


def _secs(seconds) -> str:
    if seconds is None:
        return "unknown"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds:g} s ({seconds / 3600:g} h)"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds:g} s ({seconds / 60:g} min)"
    return f"{seconds:g} s"


def _to_know(path, timer) -> str:
    """What would make an unknown timer known: the cloud of a cloud load balancer, the rendered
    value of a template placeholder."""
    hop = path.hops[timer.hop]
    if hop.kind in ("postgres", "pgbouncer") and timer.note:  # a server that reads settings pgpath did not
        return timer.note
    if hop.kind == "cloud-lb":
        return "name the cloud: cloud: in pgpath.yaml, or declare the load balancer's kind on a deployment"
    if hop.doc is None:  # a middlebox declared by kind, without its idle timeout
        return f"declare it: {hop.kind}: {{idle_timeout: <seconds>}} on the deployment"
    return "its value is filled in where the file is deployed: check the rendered file"


def render(report, **_: object) -> str:
    from advisor.path import connection_paths, single_hops
    from advisor.reporters import files_read

    lines: list[str] = []
    multi, single = connection_paths(report.paths), single_hops(report.paths)
    shown = [("path", n, p) for n, p in enumerate(multi, 1)] + [("single hop", n, p) for n, p in enumerate(single, 1)]
    for what, n, path in shown:
        source = "declared" if path.source == "topology" else "assumed"
        lines.append(f"{what} {n} ({source}): {path.name}")
        for ev in path.evidence:
            lines.append(f"  evidence: {ev}")
        for i, hop in enumerate(path.hops):
            where = f"  [{hop.span}]" if hop.span is not None and hop.span.file else ""
            lines.append(f"  {i}. {hop.kind:<10} {hop.label}{where}")
            if hop.kind == "client" and getattr(hop.detail, "overrides", ""):
                lines.append(f"     {'':<10} {hop.detail.overrides}")
            version = hop.pg_version()
            if version is not None:
                verb = "" if version["source"] in ("option", "topology") else " assumed"
                lines.append(f"     {'':<10} PostgreSQL {version['major']}{verb} ({version['reason']})")
            for name, was in sorted((getattr(hop.host, "overridden", None) or {}).items()):
                # a file's host fact the topology's hosts: replaced: said, not dropped unseen
                now = hop.host.get(name)
                at = f" in {was.span.file}:{was.span.line}" if was.span is not None and was.span.line else ""
                lines.append(f"     {'':<10} host {hop.host.name}: {name} {now.raw if now is not None else '?'} "
                             f"declared in the topology, over {was.key or name} = {was.raw}{at}")
            if hop.kind == "pgbouncer" and hop.doc is not None:
                from advisor.pgbversion import version_of

                bouncer = version_of(hop.doc)
                if bouncer is not None:
                    verb = "" if bouncer["source"] == "option" else " assumed"
                    lines.append(f"     {'':<10} PgBouncer {bouncer['version']}{verb} ({bouncer['reason']})")
            if hop.next_hop is not None:
                lines.append(f"     {'':<10} next hop: {hop.next_hop['why']}")
        for leg in path.legs:
            a, b = leg.labels(path.hops)
            best = leg.keepalive()
            via = f" via {', '.join(path.hops[m].label for m in leg.middleboxes)}" if leg.middleboxes else ""
            ka = (f"keepalives leave it silent at most {_secs(best.probes_every)} ({best.text})" if best
                  else "no keepalive probes")
            if leg.socket:
                ka = f"a Unix socket ({leg.socket}): no TCP, so no keepalives and no middlebox"
            lines.append(f"  leg {a} -> {b}{via}: {ka}")
            if leg.tls:
                lines.append(f"      {leg.tls}")
        if path.timers:
            lines.append("  an idle connection:")
            for t in sorted(path.timers, key=lambda t: (t.seconds is None, t.seconds or 0)):
                if t.defeated:
                    state = t.note or "kept open"  # (the note says "kept open by ...")
                elif not t.closes_client:
                    state = f"not seen by the client: {t.effect}" + (f" ({t.note})" if t.note else "")
                elif t.seconds is None:
                    state = t.note or "unknown value"
                else:
                    state = f"closed after {_secs(t.seconds)}: {t.effect}" + _pool_check(path, t)
                lines.append(f"    - {t.name}: {state}")
        first = path.first_close()
        if first is not None:
            lines.append(f"  closes first: {first.name}, after {_secs(first.seconds)} idle")
        elif unknown := [t for t in path.timers if t.closes_client and not t.defeated and t.seconds is None]:
            name = unknown[0].name if unknown[0].name.endswith("unknown") else f"{unknown[0].name} is not known"
            lines.append(f"  closes first: not known: {name} ({_to_know(path, unknown[0])})")
        else:
            lines.append("  closes first: nothing on this path closes an idle connection")
        lines.append("")
    from advisor.path import unpaired

    for path in unpaired(report.paths)[0]:  # why each client read stayed alone
        lines.append(f"client on no path: {path.name}" + (f": {'; '.join(path.evidence)}" if path.evidence else ""))
    if unpaired(report.paths)[0]:
        lines.append("")
    on_path = {f for _, _, p in shown for h in p.hops if h.doc is not None for f in (h.doc.files or [h.doc.path])}
    # (the sysctl files and systemd units a hop's host facts come from are on its path too)
    on_path |= {v.span.file for _, _, p in shown for h in p.hops if h.host is not None
                for v in h.host.facts.values() if v.span is not None and v.span.file}
    alone = len(set(files_read(report)) - on_path)
    summary = f"{len(multi)} connection path{'s' if len(multi) != 1 else ''} (more than one hop, as `pgpath check` counts them)"
    if single:
        summary += (f" and {len(single)} single hop{'s' if len(single) != 1 else ''} with idle timers (a proxy, pooler "
                    "or server alone)")
    lines.append(summary + (f"; {alone} file{'s' if alone != 1 else ''} on no path" if alone else ""))
    return "\n".join(lines) + "\n"


def render_json(report, **_: object) -> str:
    data = {"paths": [p.to_dict() for p in report.paths]}
    from advisor.reporters import jsontext  # json.dumps(indent=2) text, several times faster

    return jsontext.dumps(data, default=str) + "\n"


def render_topology(report, base: str = ".") -> str:
    """The assumed paths as a `deployments:` block to edit (pgpath init)."""
    lines = ["# Written by `pgpath init` from what pgpath found; edit it to match your deployment.",
             "# Hops go in order from the client to PostgreSQL; declare middleboxes by kind, e.g.",
             "#   - aws-nlb: {idle_timeout: 350s}",
             "# and host facts under hosts: (ram, memory_limit, tcp_keepalive_time). See docs/path.md.",
             "deployments:"]
    from advisor.path import connection_paths

    shown = connection_paths(report.paths)
    if not shown:
        lines.append("  []  # no files shared a path; list your deployments here")
    servers = [p.hops[0].doc for p in report.paths
               if len(p.hops) == 1 and p.hops[0].kind == "postgres" and p.hops[0].doc is not None]
    alone = os.path.relpath(servers[0].path, base) if len(servers) == 1 else None
    used: set[str] = set()
    for n, path in enumerate(shown, 1):
        name = _yaml_str(path.name or f"deployment-{n}")
        while name in used:
            name = _yaml_str(f"{path.name} {n}")
        used.add(name)
        lines.append(f"  - name: {name}")
        lines.append("    hops:")
        if path.hops and path.hops[0].kind in ("pgbouncer", "haproxy", "postgres"):
            lines.extend(_client_to_fill(report.paths, path.hops[0], base))
        for hop in path.hops:
            if hop.kind == "cloud-lb":
                # which cloud it is, pgpath does not know: kept as read from the manifest, to be named
                lines.append(f"      # the {hop.label}: its cloud is not known; name it with cloud: in pgpath.yaml, or "
                             "replace this hop by its kind (aws-nlb, aws-elb, azure-lb, gcp-lb), or remove it on bare "
                             "metal")
            opts = []
            if hop.doc is not None:
                opts.append(f"file: {_yaml_str(os.path.relpath(hop.doc.path, base))}")
            if hop.kind == "client" and hop.detail is not None:
                opts.append(f"variable: {_yaml_str(hop.detail.name)}")
                if hop.detail.service:
                    opts.append(f"service: {_yaml_str(hop.detail.service)}")
            if hop.kind == "haproxy":
                opts.append(f"proxy: {_yaml_str(hop.detail.front.name or '')}")
            if hop.kind == "pgbouncer" and hop.detail is not None:
                opts.append(f"database: {_yaml_str(hop.detail.name)}")
            if hop.doc is not None and hop.kind not in ("client", "pgbouncer", "haproxy", "postgres") \
                    and getattr(hop.detail, "name", None):
                # a file with several middleboxes of this kind: the hop says which (ADV004 otherwise)
                kin = [b for b in getattr(hop.doc.model, "middleboxes", ()) or ()
                       if b.kind == hop.kind or hop.kind == "cloud-lb"]
                if len(kin) > 1:
                    opts.append(f"name: {_yaml_str(str(hop.detail.name))}")
            version = hop.pg_version() if hop.kind == "postgres" else None
            if version is not None and version["source"] in ("file", "deployment", "neighbourhood"):
                # the major pgpath found for the server, written down so that it is declared
                major = hop.doc.meta.get("pg_version_said") or version["major"]
                opts.append(f"version: {major}")
            lines.append(f"      - {hop.kind}: {{{', '.join(opts)}}}")
            if hop.next_hop is not None:
                # where the path stops: the user names the server pgpath found no file of (the one
                # PostgreSQL read on no path is offered, commented: nothing says it is that server)
                lines.append(f"      # next hop: {hop.next_hop['why']}: name its configuration, e.g."
                             + (" (the PostgreSQL read on no path)" if alone else ""))
                lines.append(f"      # - postgres: {{file: {_yaml_str(alone)}}}" if alone else
                             '      # - postgres: {file: "<path of its postgresql.conf>"}')
    alone = [p.hops[0] for p in report.paths if len(p.hops) == 1 and p.hops[0].next_hop is not None
             and p.hops[0].doc is not None]
    if alone:
        # a proxy or pooler whose next hop was not found is no path to write: what is missing is said
        lines.append("# read alone, not written (its next hop was not found):")
        for hop in alone:
            lines.append(f"#   {hop.label} ({os.path.relpath(hop.doc.path, base)}): {hop.next_hop['why']}")
    return "\n".join(lines) + "\n"


def _client_to_fill(paths, first, base: str) -> list[str]:
    """Commented lines for the client hop of a path that starts at a proxy, pooler or server: the
    one client read on no path that connects to that hop's port is offered (commented: nothing
    says it is that hop's client), else a placeholder."""
    from advisor.path.discover import hop_port, target_port

    port = hop_port(first)
    offered = [p.hops[0] for p in paths if len(p.hops) == 1 and p.hops[0].kind == "client"
               and p.hops[0].doc is not None and p.hops[0].detail is not None and port is not None
               and target_port(getattr(p.hops[0].detail, "ports", ())) == port]
    out = ["      # client: no client read was found to connect here; name the application's, e.g."
           + (f" (the client read on no path that connects to port {port})" if len(offered) == 1 else "")]
    if len(offered) == 1:
        hop = offered[0]
        out.append(f"      # - client: {{file: {_yaml_str(os.path.relpath(hop.doc.path, base))}, "
                   f"variable: {_yaml_str(hop.detail.name)}}}")
    else:
        out.append('      # - client: {file: "<the application\'s file>", variable: "<its connection setting>"}')
    return out


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _pool_check(path, t) -> str:
    """What the path's client pool does with a connection `t` closed while it sat in the pool, when
    the pool checks connections it lends and its checks cross the timer's leg (as PATH001 and
    PATH002 say it): the application sees no error where the check fails at once."""
    from advisor.path.timers import pooled_client, transaction_pooler_index

    clients = path.hops_of("client")
    pool = getattr(clients[0][1].detail, "pool", None) if clients else None
    if pool is None or not pool.validation.known or pool.validation.value is not True:
        return ""
    if t.resets_on == "packets" and (t.leg is None or
                                     pooled_client(path, path.legs[t.leg], transaction_pooler_index(path)) is None):
        return ""
    if t.resets_on == "packets" and t.expiry == "drop":
        return (f"; a connection idle in the {pool.library} pool: its check on borrow gets no answer and waits "
                "(PATH001, PATH002)")
    return (f"; a connection idle in the {pool.library} pool: its check on borrow fails at once and the pool opens a "
            "new one, so the application sees no error (a connection the application holds idle still fails)")
