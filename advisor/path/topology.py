"""Deployments the user declared in pgpath.yaml (`deployments:`), turned into paths.

    deployments:
      - name: orders
        hops:
          - client: {file: app/.env, variable: DATABASE_URL, replicas: 4}
          - pgbouncer: {file: pgbouncer.ini, database: orders}
          - aws-nlb: {idle_timeout: 350s}          # declared by kind: its documented default if no value
          - haproxy: {file: haproxy.cfg, proxy: postgres_primary}
          - postgres: {file: postgresql.conf, host: db1}
    hosts:
      db1: {ram: 64GB, tcp_keepalive_time: 600}

A hop is a mapping with one key, its kind; the value is a file name (relative to pgpath.yaml) or
a mapping of options. The schema (schemas/pgpath.schema.json) checks the shape; this module checks
what only the loaded files can tell (a file that was not read, a proxy or variable that is not
in it) and reports it as a `topology-error` diagnostic at the pgpath.yaml line.
"""

from __future__ import annotations

import os
from typing import Any

from advisor.model import ConfigDoc, Diagnostic, Span, Unknown, within
from advisor.model.client import Value
from advisor.model.host import HostFacts
from advisor.model.middlebox import KINDS as MIDDLEBOX_KINDS
from advisor.model.middlebox import Middlebox
from advisor.path.model import DeploymentPath, Hop, client_hop

FILE_KINDS = {"client": "client", "pgbouncer": "pgbouncer", "haproxy": "haproxy", "postgres": "postgresql"}
KIND = "topology-error"


def hop_options(hop: dict) -> tuple[str, dict]:
    kind, value = next(iter(hop.items()))
    if value is None:
        value = {}
    if isinstance(value, str):
        value = {"file": value}
    return kind, dict(value)


def files_named(deployments: list[dict], base: str) -> list[tuple[str, str]]:
    """(path, loader kind) of every file the topology names, so the run reads them."""
    out = []
    for dep in deployments or ():
        for hop in dep.get("hops", ()):
            kind, opts = hop_options(hop)
            named = [(opts["file"], FILE_KINDS.get(kind, ""))] if "file" in opts else []
            named += [(f, "") for f in opts.get("files", ())]  # SQL files: their kind is detected
            for name, file_kind in named:
                out.append((_shown(name if os.path.isabs(name) else os.path.normpath(os.path.join(base, name))),
                            file_kind))
    return out


def _shown(path: str) -> str:
    """A named file as reports show it: relative to the working directory when it is under it, as
    the files given on the command line are (`--config /abs/pgpath.yaml` naming `../repo/x.ini`
    from inside the repository shows `x.ini`, not `/abs/../repo/x.ini`), else as joined."""
    full = os.path.abspath(path)
    here = os.getcwd()
    if within(full, here):
        return os.path.relpath(full)
    return path


def deployment_files(deployments: list[dict], base: str) -> list[list[tuple[str, str]]]:
    """(path, loader kind) of the files of each deployment, deployment by deployment."""
    return [files_named([dep], base) for dep in deployments or ()]


def declared_versions(config: dict, config_path: str, marks: dict[str, Span]) -> dict[str, tuple[int, str, bool]]:
    """The PostgreSQL major the topology declares for a file: {normalised absolute path: (major,
    reason, conflict)}. A `postgres` hop's `version:`, else the `pg_version:` of its host, applies to
    the hop's file and its SQL `files:`. A file two deployments declare differently keeps the
    first declaration (`conflict` True, the reason naming the other)."""
    base = os.path.dirname(config_path) or "."
    shown = os.path.basename(config_path) or "pgpath.yaml"
    hosts = config.get("hosts") or {}
    out: dict[str, tuple[int, str, bool]] = {}
    for d, dep in enumerate(config.get("deployments") or ()):
        name = dep.get("name") or f"deployment {d + 1}"
        for h, hop in enumerate(dep.get("hops", ())):
            kind, opts = hop_options(hop)
            if kind != "postgres":
                continue
            major, said = None, ""
            if opts.get("version") is not None:
                major = version_major(opts["version"])
                where = marks.get(f"deployments/{d}/hops/{h}/postgres/version") or marks.get(f"deployments/{d}/hops/{h}")
                said = f"version: {opts['version']} of the postgres hop of deployment {name}"
            elif opts.get("host") and (hosts.get(opts["host"]) or {}).get("pg_version") is not None:
                major = version_major(hosts[opts["host"]]["pg_version"])
                where = marks.get(f"hosts/{opts['host']}/pg_version") or marks.get(f"hosts/{opts['host']}")
                said = f"pg_version: {hosts[opts['host']]['pg_version']} of host {opts['host']} (deployment {name})"
            if major is None:
                continue
            at = f"{shown}:{where.line}" if where is not None and where.line else shown
            reason = f"declared in {at}: {said}"
            files = ([opts["file"]] if opts.get("file") else []) + list(opts.get("files", ()))
            for file in files:
                path = os.path.normpath(os.path.abspath(file if os.path.isabs(file) else os.path.join(base, file)))
                if path in out:
                    first = out[path]
                    if first[0] != major:
                        out[path] = (first[0], f"{first[1]} (deployment {name} declares PostgreSQL {major} for "
                                     "it too; the first declaration wins)", True)
                    continue
                out[path] = (major, reason, False)
    return out


def version_major(value: Any) -> int | None:
    """`13`, `"13.4"`, `"PostgreSQL 16"` -> the major; None when it says none."""
    import re

    m = re.match(r"\s*(?:postgres(?:ql)?\s*)?(\d{1,2})(?:\.\d+)?\s*$", str(value), re.IGNORECASE)
    return int(m.group(1)) if m else None


MAX_SECONDS = 10**9  # 31 years: a declared timer past it is a mistake (400 digits overflowed float())


def _seconds(value: Any) -> float | None:
    """A declared duration: a number of seconds, or text with a unit (350s, 4min, 2h); None when it
    is none, or is negative, not finite (.nan, .inf) or past MAX_SECONDS."""
    from advisor.units import parse_duration_seconds

    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value
    else:
        seconds = parse_duration_seconds(str(value))
        if seconds is None:
            return None
    return float(seconds) if 0 <= seconds <= MAX_SECONDS else None  # (False for NaN)


# the options each kind of hop reads (the schema accepts any of them on any hop)
def rails_environment(eps: list, var: str | None) -> list:
    """The clients of a Rails database.yml a declared hop means: those of `variable:` (an
    environment, or one database of a three-tier one: `production.primary`), else production's
    (what a deployment runs; development and test are for a developer's machine), else all."""
    if var is not None:
        return eps
    prod = [ep for ep in eps if ep.name == "production" or ep.name.startswith("production.")]
    return prod or eps


_OPTIONS_OF = {"client": {"file", "variable", "service", "replicas", "host"},
               "pgbouncer": {"file", "database", "host", "replicas"},
               "haproxy": {"file", "proxy", "host"},
               "postgres": {"file", "files", "host", "version"}}
_MIDDLEBOX_OPTIONS = {"file", "name", "idle_timeout", "on_expiry", "keepalive_resets", "host"}


def host_facts(name: str, spec: dict, span: Span | None, problems: list[Diagnostic] | None = None) -> HostFacts:
    """A declared host's facts; a value that is no size or duration (`-5`, `abc`, 400 digits) is
    left out, so the OS default counts, and said in `problems` (it was left as an unknown silently)."""
    from advisor.units import parse_size, shorten

    facts: dict[str, Value] = {}

    def refused(key: str, what: str) -> None:
        if problems is not None:
            problems.append(Diagnostic(KIND, span or Span("pgpath.yaml"),
                                       f"host {name}: cannot read {key} {shorten(str(spec[key]))}: not {what}",
                                       f"{key}: {'64GB' if what.startswith('a size') else '300'}"))

    for key in ("ram", "memory_limit", "swap"):
        if key in spec:
            size = parse_size(str(spec[key]))
            if size is None:
                refused(key, "a size (64GB, 512MB), below 1 EiB")
                continue
            facts[key] = Value(size, str(spec[key]), span, "declared", key, unit="B")
    for key in ("tcp_keepalive_time", "tcp_keepalive_intvl"):
        if key in spec:
            seconds = _seconds(spec[key])
            if seconds is None:
                refused(key, f"a duration of 0 to {MAX_SECONDS:,} s (300, 5min)")
                continue
            facts[key] = Value(seconds, str(spec[key]), span, "declared", key, unit="s")
    for key in ("tcp_keepalive_probes", "overcommit_memory", "overcommit_ratio", "overcommit_kbytes", "tcp_retries2"):
        if key in spec:
            facts[key] = Value(int(spec[key]), str(spec[key]), span, "declared", key)
    return HostFacts(name, span, facts)


def build(config: dict, config_path: str, docs: list[ConfigDoc], marks: dict[str, Span]) -> tuple[
        list[DeploymentPath], set[int], list[Diagnostic]]:
    """(paths, id() of the documents they cover, problems) of the declared deployments.

    `marks` maps a key path such as `deployments/0/hops/2` to where it was written."""
    base = os.path.dirname(config_path) or "."
    by_path: dict[str, list[ConfigDoc]] = {}
    for doc in docs:
        for f in doc.files or [doc.path]:
            by_path.setdefault(os.path.realpath(f), []).append(doc)
    problems: list[Diagnostic] = []
    hosts = {name: host_facts(name, spec or {}, marks.get(f"hosts/{name}"), problems)
             for name, spec in (config.get("hosts") or {}).items()}
    paths: list[DeploymentPath] = []
    covered: set[int] = set()
    files_of: dict[int, HostFacts | None] = {}  # id(server document) -> its host facts before any declaration
    declared_on: dict[int, HostFacts] = {}  # id(server document) -> those with the first host declared for it
    for d, dep in enumerate(config.get("deployments") or ()):
        name = dep.get("name") or f"deployment {d + 1}"
        variants: list[list[Hop]] = [[]]
        complete = True
        for h, hop_spec in enumerate(dep.get("hops", ())):
            where = marks.get(f"deployments/{d}/hops/{h}") or Span(config_path)
            kind, opts = hop_options(hop_spec)
            foreign = sorted(set(opts) - _OPTIONS_OF.get(kind, _MIDDLEBOX_OPTIONS))
            if foreign:
                problems.append(Diagnostic(KIND, where, f"deployment {name}: {', '.join(foreign)} "
                                           f"{'does' if len(foreign) == 1 else 'do'} not apply to a {kind} hop (read "
                                           "nowhere)", "remove it, or move it to the hop it describes (docs/path.md)"))
            host = hosts.get(opts.get("host")) if opts.get("host") else None
            if opts.get("host") and host is None:
                near = near_miss(opts["host"], hosts)
                problems.append(Diagnostic(KIND, where, f"deployment {name}: host {opts['host']!r} is not in hosts:"
                                           + _did_you_mean(near),
                                           f"host: {near} (or add {opts['host']} under hosts:)" if near else
                                           f"add it under hosts: or remove host: {opts['host']}"))
            if kind in MIDDLEBOX_KINDS:
                hops = _middlebox_hops(kind, opts, where, by_path, base, name, problems)
            else:
                hops = _file_hops(kind, opts, where, by_path, base, name, problems)
            if not hops:
                complete = False  # go on: report every hop that does not resolve
                continue
            for hop in hops:
                _place_host(hop, host, files_of, declared_on)
                if kind == "client" and opts.get("replicas"):
                    hop.replicas, hop.replicas_from, hop.replicas_unknown = int(opts["replicas"]), None, None
                if kind == "pgbouncer" and opts.get("replicas") and hop.doc is not None:
                    _declare_copies(hop.doc, int(opts["replicas"]),
                                    marks.get(f"deployments/{d}/hops/{h}/pgbouncer/replicas") or where, config_path)
                if hop.doc is not None:
                    covered.add(id(hop.doc))
            variants = [v + [hop] for v in variants for hop in hops]
        for hops in variants if complete else ():
            label = name if len(variants) == 1 else f"{name}: {hops[0].label}"
            paths.append(DeploymentPath(label, "topology", [f"declared in {os.path.basename(config_path)}"], hops))
    for path in paths:
        for hop in path.hops:
            if hop.host is None and hop.doc is not None and hop.kind in _SERVER_HOPS:
                hop.host = hop.doc.host  # its host files' facts, or those another deployment declared over them
    return paths, covered, problems


_SERVER_HOPS = ("pgbouncer", "postgres", "haproxy")


def _place_host(hop: Hop, declared: HostFacts | None, files_of: dict[int, HostFacts | None],
                declared_on: dict[int, HostFacts]) -> None:
    """The host the topology declares on a hop, laid over what the files say (`with_declared`: the
    declared value wins, no fact of either is lost): a server's host files and container
    (advisor.path.hosts), a client's pod. A server's document takes the first declaration made for
    it: the memory rules read the server's own host facts. A server hop with no host declared
    takes its document's when every deployment is built (`build`)."""
    from advisor.model.host import with_declared

    if declared is None:
        return
    if hop.doc is None or hop.kind not in _SERVER_HOPS:
        hop.host = with_declared(hop.host, declared)
        return
    base = files_of.setdefault(id(hop.doc), hop.doc.host)
    first = declared_on.get(id(hop.doc))
    if first is None:
        first = declared_on[id(hop.doc)] = hop.doc.host = with_declared(base, declared)
    hop.host = first if first.name == declared.name else with_declared(base, declared)


def _declare_copies(doc: ConfigDoc, count: int, span: Span, config_path: str) -> None:
    """A pgbouncer hop's `replicas:`: that many copies of this PgBouncer run, each with its own
    pools (pods behind one Service), whatever its files say (a workload's replicas, which it
    corrects). The budget rules read them as an operator's pods (advisor.rules.pgb.copies)."""
    doc.meta["processes"] = {"count": count, "variable": "replicas", "raw": str(count), "what": "copies", "declared": True,
                             "where": f", declared in {os.path.basename(config_path) or 'pgpath.yaml'}",
                             "span": span.to_dict()}


def _names(box) -> str:
    """A middlebox's name with its aliases: `azurerm_lb_rule.pg (or "postgres")`."""
    if not box.aliases:
        return box.name
    return f"{box.name} (or {' or '.join(repr(a) for a in box.aliases)})"


def _one_of(names, limit: int = 8) -> str:
    """`a, b, c` (each once, in order), at most `limit` of them and how many more: what a file does
    have, so a hop that names something it lacks can be fixed without `pgpath dump`."""
    names = list(dict.fromkeys(str(n) for n in names if n))
    if not names:
        return "none"
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more (pgpath dump lists them)" if more > 0 else "")


def _timer(box: Middlebox) -> str:
    """`idle 1800 s`, `idle 350 s (default)`, `idle unknown`: what tells a file's middleboxes apart."""
    idle = box.idle_timeout
    if idle is None or not idle.known:
        return "idle unknown"
    return f"idle {idle.value:g} s" + (" (default)" if idle.origin == "default" else "")


def _doc_for(opts: dict, base: str, by_path: dict, kind: str, where: Span, name: str,
             problems: list[Diagnostic]) -> ConfigDoc | None:
    file = opts.get("file")
    if file is None:
        return None
    path = file if os.path.isabs(file) else os.path.normpath(os.path.join(base, file))
    want = FILE_KINDS.get(kind)
    read = by_path.get(os.path.realpath(path), ())
    found = [d for d in read if want is None or d.kind == want]
    if not found:
        problems.append(_not_read(file, path, want or kind, read, base, by_path, where, name))
        return None
    if kind in MIDDLEBOX_KINDS:  # a manifest holds its Services beside its servers: the one with middleboxes
        return next((d for d in found if getattr(d.model, "middleboxes", None)), found[0])
    return found[0]


def near_miss(word: str, names) -> str | None:
    """The name a misspelt one most likely meant (advisor.suggest.closest: difflib's ratio, 0.75 or
    more): `db-01` for `db01`, `postgresql.con` for `postgresql.conf`; None when none is that close,
    and never a name that differs only in its numbers (`db2` is another host than `db1`)."""
    import re

    from advisor.suggest import closest

    def numbers_apart(name: str) -> bool:  # db1/db2, pg-5432/pg-6432, postgresql-15/-16: other things
        return re.sub(r"\d+", "#", name) == re.sub(r"\d+", "#", str(word))

    names = [str(n) for n in dict.fromkeys(names) if n and str(n) != str(word) and not numbers_apart(str(n))]
    return closest(str(word), names) if names else None


def _did_you_mean(near: str | None) -> str:
    return f" (did you mean {near!r}?)" if near else ""


def _not_read(file: str, path: str, want: str, read, base: str, by_path: dict, where: Span,
              name: str) -> Diagnostic:
    """ADV004 for a hop's file that gave no document of its kind: the file is missing (and the
    file of that kind it most likely meant: one in its folder, else one read anywhere), or it was
    read as another kind, or it exists and was not read as one."""
    if not os.path.exists(path):
        folder = os.path.dirname(path) or "."
        if os.path.isdir(folder):
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                names = []
            near = near_miss(os.path.basename(path), names)
            meant = os.path.join(os.path.dirname(file), near) if near else None
        else:  # a folder misspelt: the files of this kind that were read, as pgpath.yaml names them
            shown = {os.path.relpath(d.path, base): d for docs in by_path.values() for d in docs if d.kind == want}
            meant = near_miss(os.path.normpath(file), shown)
        return Diagnostic(KIND, where, f"deployment {name}: {file} does not exist" + _did_you_mean(meant),
                          f"file: {meant}" if meant else "check the path (relative to pgpath.yaml)")
    kinds = sorted({d.kind for d in read})
    if kinds:
        return Diagnostic(KIND, where, f"deployment {name}: {file} was read as a {' and '.join(kinds)} file, not a "
                          f"{want} file", f"name it on a hop of its kind ({', '.join(kinds)}), or the {want} file here")
    return Diagnostic(KIND, where, f"deployment {name}: {file} was not read as a {want} file (unreadable, or not "
                      "recognised as one)", f"check the file, or name its kind: pgpath check --kind {want} {file}")


def _sql_docs(opts: dict, base: str, by_path: dict, where: Span, name: str,
              problems: list[Diagnostic]) -> list[ConfigDoc]:
    """The SQL files (ALTER ROLE/DATABASE ... SET) a postgres hop names under `files:`."""
    out: list[ConfigDoc] = []
    for file in opts.get("files", ()):
        path = file if os.path.isabs(file) else os.path.normpath(os.path.join(base, file))
        found = [d for d in by_path.get(os.path.realpath(path), ()) if d.kind == "sql"]
        if not found and not os.path.exists(path):
            problems.append(_not_read(file, path, "sql", (), base, by_path, where, name))
        elif not found:
            problems.append(Diagnostic(KIND, where, f"deployment {name}: {file} was not read as a SQL file "
                                       "(ALTER ROLE/DATABASE/SYSTEM ... SET)", "name .sql files under files:"))
        out.extend(found)
    return out


def _file_hops(kind: str, opts: dict, where: Span, by_path: dict, base: str, name: str,
               problems: list[Diagnostic]) -> list[Hop]:
    doc = _doc_for(opts, base, by_path, kind, where, name, problems)
    if kind == "postgres":
        sql = _sql_docs(opts, base, by_path, where, name, problems)
        if "files" not in opts and doc is not None:  # as in discovery: the SQL files beside the server's file
            folder = os.path.dirname(os.path.realpath(doc.path))
            sql = [d for docs in by_path.values() for d in docs if d.kind == "sql"
                   and os.path.dirname(os.path.realpath(d.path)) == folder]
            sql = list({id(d): d for d in sql}.values())
        if doc is None and "file" not in opts:
            return [Hop("postgres", "PostgreSQL (declared)", None, where, declared=True, sql=sql)]
        return [] if doc is None else [Hop("postgres", f"PostgreSQL {os.path.basename(doc.path)}", doc, doc.anchor(),
                                           sql=sql)]
    if doc is None:
        if "file" not in opts:
            problems.append(Diagnostic(KIND, where, f"deployment {name}: a {kind} hop needs its file",
                                       f"- {kind}: path/to/file"))
        return []
    if kind == "client":
        eps = list(getattr(doc.model, "endpoints", ()) or ())
        # a Spring datasource merged with the environment override of the same application
        # (advisor.loaders.clients.spring), a container's variable joined with the code that reads
        # it (advisor.loaders.clients.env_join): its hop is the merged client, in the other file
        merged = doc.meta.get("_joined", {})
        var = opts.get("variable")
        if doc.meta.get("format") == "rails":
            eps = rails_environment(eps, var)
        if var is not None and var in merged and not any(ep.name == var for ep in eps):
            other, ep = merged[var]
            return [client_hop(other, ep)]
        if var is None and not eps and merged:
            return [client_hop(other, ep) for other, ep in merged.values()]
        if var is not None:
            every = eps
            eps = [ep for ep in eps if ep.name == var or ep.name.split(" ")[0] == var
                   or doc.meta.get("format") == "rails" and ep.name.startswith(var + ".")]
            if not eps:
                problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} has no client setting {var!r}"
                                           + _did_you_mean(near_miss(var, (ep.name for ep in every))),
                                           f"variable: one of {_one_of(ep.name for ep in every)}"))
                return []
        svc = opts.get("service")
        if svc is not None and eps:
            every = eps
            eps = [ep for ep in eps if ep.service == svc]
            if not eps:
                problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} has no client setting"
                                           f"{' ' + repr(var) if var is not None else ''} in service {svc!r}"
                                           + _did_you_mean(near_miss(svc, (ep.service for ep in every))),
                                           f"service: one of {_one_of(ep.service for ep in every)} (the compose "
                                           "services whose environment holds it)"))
                return []
        if not eps:
            problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} holds no client connection "
                                       "settings pgpath reads", None))
            return []
        # (a client in a Kubernetes container: its pod's sysctls are its host's, unless host: says)
        return [client_hop(doc, ep) for ep in eps]
    if kind == "pgbouncer":
        model = doc.model
        db = opts.get("database")
        entry = None
        if db is not None:
            entry = next((e for e in model.effective_databases() if e.name == db), None)
            if entry is None:
                names = _one_of(e.name for e in model.effective_databases())
                problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} has no [databases] entry "
                                           f"{db!r}" + _did_you_mean(near_miss(db, (e.name for e in
                                                                                   model.effective_databases()))),
                                           f"database: one of {names}"))
                return []
        label = f"PgBouncer {os.path.basename(doc.path)}" + (f" [{entry.name}]" if entry else "")
        return [Hop("pgbouncer", label, doc, entry.span if entry else (model.header or Span(doc.path)), entry)]
    # haproxy
    routes = [r for r in doc.model.routes()]
    proxy = opts.get("proxy")
    if proxy is not None:
        every = sorted({r.front.name or "" for r in routes})
        names = _one_of(every)
        routes = [r for r in routes if r.front.name == proxy or r.back.name == proxy]
        if not routes:
            problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} has no frontend or listen "
                                       f"{proxy!r} routing to a backend" + _did_you_mean(near_miss(proxy, every)),
                                       f"proxy: one of {names}"))
            return []
    if not routes:
        problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} has no frontend/listen that "
                                   "routes to a backend", None))
        return []
    return [Hop("haproxy", f"HAProxy {r.label}", doc, r.front.span, r) for r in routes]


def _middlebox_hops(kind: str, opts: dict, where: Span, by_path: dict, base: str, name: str,
                    problems: list[Diagnostic]) -> list[Hop]:
    if "file" in opts:
        doc = _doc_for(opts, base, by_path, kind, where, name, problems)
        if doc is None:
            return []
        every = list(getattr(doc.model, "middleboxes", ()) or ())
        boxes = [b for b in every
                 # a Service's load balancer as written by `pgpath init` (cloud-lb), whichever kind the
                 # cloud option or an annotation added since makes it
                 if b.kind == kind or (kind == "cloud-lb" and doc.meta.get("source") == "Service type LoadBalancer")]
        # what the file does have: the names of this kind, else the other kinds with their names
        have = (f"name: one of {_one_of(_names(b) for b in boxes)}" if any(b.name for b in boxes)
                else f"it describes {_one_of(f'{b.kind} {b.name}'.strip() for b in every)}" if every else None)
        boxes_of_kind = boxes
        if opts.get("name"):
            # its name or an alias: a Terraform resource's address or its own `name` attribute
            boxes = [b for b in boxes if b.named(str(opts["name"]))]
        if not boxes:
            near = near_miss(opts["name"], [n for b in boxes_of_kind for n in (b.name, *b.aliases)]) \
                if opts.get("name") else None
            problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} describes no {kind}"
                                       + (f" named {opts['name']!r}" if opts.get("name") else "") + _did_you_mean(near),
                                       have))
            return []
        if len(boxes) > 1:
            # which one the connections cross is not in the file: never the first by position
            # (a plan's load balancer listed before the listener that holds the timer)
            timers = "; ".join(f"{b.name or b.kind} {_timer(b)}" for b in boxes[:8])
            more = f" and {len(boxes) - 8} more" if len(boxes) > 8 else ""
            said = (f"; {opts['name']!r} names each of them" if opts.get("name") else
                    "; which one this hop crosses is not said")
            problems.append(Diagnostic(KIND, where, f"deployment {name}: {doc.path} describes {len(boxes)} {kind} "
                                       f"middleboxes ({timers}{more}){said}",
                                       f"name: one of {_one_of(b.name for b in boxes)}"
                                       if any(b.name for b in boxes) else None))
            return []
        return [Hop(b.kind, b.label, doc, b.span, b) for b in boxes]
    idle = None
    if "idle_timeout" in opts:
        from advisor.units import shorten

        seconds = _seconds(opts["idle_timeout"])
        if seconds is None:
            problems.append(Diagnostic(KIND, where, f"deployment {name}: cannot read idle_timeout "
                                       f"{shorten(repr(opts['idle_timeout']))}: not a duration of 0 to "
                                       f"{MAX_SECONDS:,} s", "write seconds (350) or with a unit (350s, 4min)"))
            seconds = Unknown(str(opts["idle_timeout"]))
        idle = Value(seconds, str(opts["idle_timeout"]), where, "declared", "idle_timeout", unit="s")
    elif kind == "cloud-lb":
        problems.append(Diagnostic(KIND, where, f"deployment {name}: a cloud-lb is the load balancer of a Kubernetes "
                                   "Service read from its manifest, and needs file:",
                                   "- cloud-lb: {file: <the Service's manifest>}, or the kind it is: - azure-lb: {}"))
        return []
    elif MIDDLEBOX_KINDS[kind].default_idle is None:
        problems.append(Diagnostic(KIND, where, f"deployment {name}: a {kind} has no documented default idle "
                                   "timeout", f"- {kind}: {{idle_timeout: 3600s}}"))
        idle = Value(Unknown("not declared"), None, where, "declared", "idle_timeout", unit="s")
    box = Middlebox(kind, opts.get("name", ""), where, idle, keepalive_resets=opts.get("keepalive_resets"),
                    on_expiry=opts.get("on_expiry"))
    return [Hop(kind, box.label + " (declared)", None, where, box, declared=True)]
