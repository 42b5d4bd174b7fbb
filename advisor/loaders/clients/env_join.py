"""A client in Python code that reads its URL from an environment variable, joined with the container
that sets that variable: one client, not two.

`create_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=15)` in app/db.py knows the
pool and not where it connects; `DATABASE_URL` in the `env:` of a Kubernetes container (or the
`environment:` of a compose service) knows where it connects and how many pods run it, not the
pool. Read apart they are two clients: one on a path with an unknown pool plan, one on no path.

Which code runs in which container is not in the files: the two are joined only on evidence, the
variable's name and its uniqueness in one repository (the nearest folder above both holding
`.git`; without one, the checked folder that holds both):

- exactly one piece of code there reads the variable as its whole URL (advisor.loaders.clients.pycode
  marks `os.environ["X"]`, `os.environ.get("X", ...)`, `os.getenv("X", ...)`, and
  advisor.loaders.clients.django `dj_database_url.config()` (DATABASE_URL, or its `env=`) and
  `dj_database_url.parse(os.environ["X"])`; a node-postgres `connectionString: process.env.X` and a
  Rails config/database.yml (DATABASE_URL always, and the variable of an `ENV["X"]` in a `url:`)
  count as readers too, though they are not joined here); and
- exactly one container or compose service there sets it (two that set it link nothing, unless
  exactly one of them is a compose service whose `build:` context holds the code file; a compose
  service whose build context does not hold it is not a candidate).

The joined client is the code's endpoint read with the container's value in place of the read
(`pycode._CodeReader.rebuild`): where it connects (host, port, sslmode, keepalives...) spanned in
the manifest, where a fix to the URL goes; its pool spanned in the code, where a fix to the pool
goes; the container's workload (replicas, an autoscaler's maxReplicas) and pod host facts. The
container's own endpoint for the variable is dropped from its file (its settings stay, for APP013);
`meta["_joined"]` of that file maps the variable to the joined client, so that a topology naming
`client: {file: k8s/deployment.yaml, variable: DATABASE_URL}` gets it. A default URL in the code
(`os.environ.get("DATABASE_URL", "postgresql://...")`) runs only where the variable is unset, never
in that container: it is no client of any path; the endpoint it gives is kept apart in the code's
`meta["_fallbacks"]`, for APP013 (a password written in it is in the repository all the same). A reader left unjoined says
why (`meta["_env_unjoined"]`, shown by `pgpath path` for a client on no path).
"""

from __future__ import annotations

import os
from typing import Any

from advisor import lazy_re
from advisor.model import ConfigDoc, within
from advisor.model.client import Value

_ERB_ENV = lazy_re.compile(r"""ENV(?:\[|\.fetch\(\s*)["'](\w+)["']""")


def join(docs: list[ConfigDoc], options: dict | None = None) -> list[ConfigDoc]:
    """Join each Python code client that reads its URL from a variable with the one container that
    sets it (module docstring); in place, and the documents returned."""
    readers: dict[str, list[tuple[ConfigDoc, Any, dict | None]]] = {}  # variable -> (doc, endpoint, its read)
    for d in docs:
        if d.kind != "client" or d.model is None:
            continue
        reads = d.meta.get("_env_reads")
        if reads:
            for ep in d.model.endpoints:
                if id(ep) in reads:
                    readers.setdefault(reads[id(ep)]["variable"], []).append((d, ep, reads[id(ep)]))
        for call in (d.meta.get("_node_calls") or {}).values():  # node-postgres code reads them too
            name = (call.get("env") or {}).get("connectionString")
            if name:
                readers.setdefault(name, []).append((d, None, None))
        if d.meta.get("format") == "rails":
            # ActiveRecord merges DATABASE_URL over the current environment's entry whatever the
            # file says, and a `url: <%= ENV["X"] %>` reads X
            names = {"DATABASE_URL"} | {m.group(1) for st in d.settings if str(st.name).endswith(".url")
                                        for m in _ERB_ENV.finditer(str(st.raw or ""))}
            for name in names:
                readers.setdefault(name, []).append((d, None, None))
    if not any(read is not None for found in readers.values() for _d, _ep, read in found):
        return docs
    setters: dict[str, list[tuple[ConfigDoc, Any, dict]]] = {}  # variable -> (doc, its endpoint, container)
    for d in docs:
        held = d.meta.get("_env_of")
        if d.kind != "client" or not held or d.model is None:
            continue
        for ep in d.model.endpoints:
            if id(ep) in held and ep.name in readers and ep.name in held[id(ep)]["env"]:
                setters.setdefault(ep.name, []).append((d, ep, held[id(ep)]))
    roots = [os.path.abspath(r) for r in (options or {}).get("check_roots") or []]
    dropped: set[int] = set()
    for variable, found in readers.items():
        for doc, ep, read in found:
            if read is None:
                continue
            scope = _scope(doc.path, roots)
            others = [o for o in found if o[0] is not doc or o[1] is not ep]
            others = [o for o in others if _scope(o[0].path, roots) == scope]
            if others:
                _unjoined(doc, ep, f"{len(others) + 1} clients here read {variable} "
                          f"({', '.join(_short(p) for p in sorted({doc.path, *(o[0].path for o in others)}))}): "
                          "which one runs in the container that sets it is not known")
                continue
            runs = [s for s in setters.get(variable, ()) if _scope(s[0].path, roots) == scope
                    and _may_run(s[2], s[0].path, doc.path)]
            if len(runs) > 1:
                built = [s for s in runs if s[2].get("build")]  # (a build context that holds the code)
                runs = built if len(built) == 1 else runs
            if not runs:
                _unjoined(doc, ep, f"no container or compose service of the files read sets {variable}")
                continue
            if len(runs) > 1:
                _unjoined(doc, ep, f"{len(runs)} containers set {variable} ("
                          + ", ".join(f"{_short(s[0].path)} {s[1].service or '?'}" for s in runs)
                          + "): which one runs it is not known (a pgpath.yaml client hop `file:` names it)")
                continue
            cdoc, cep, held = runs[0]
            if _read_with(doc, ep, read, cdoc, cep, held, variable):
                dropped.add(id(cep))
                cdoc.meta.setdefault("_joined", {})[variable] = (doc, ep)
            else:
                _unjoined(doc, ep, f"the value of {variable} in {_short(cdoc.path)} is no URL this code reads")
    if dropped:
        for d in docs:
            if d.kind == "client" and d.meta.get("_env_of") and d.model is not None:
                d.model.endpoints = [e for e in d.model.endpoints if id(e) not in dropped]
    return docs


def _scope(path: str, roots: list[str]) -> str:
    """The project that holds `path` (git_ignored.project_top: its repository, else the deepest
    checked folder that holds it, else its own folder)."""
    from advisor.loaders.git_ignored import project_top

    return project_top(os.path.dirname(os.path.abspath(path)), roots)


def _may_run(held: dict, manifest: str, code: str) -> bool:
    """False when the container is a compose service built from a folder that does not hold the code."""
    build = held.get("build")
    if not build:
        return True
    context = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(manifest)), build))
    return within(os.path.realpath(code), context) and os.path.realpath(code) != context


def _short(path: str) -> str:
    return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))


def _unjoined(doc: ConfigDoc, ep, why: str) -> None:
    doc.meta.setdefault("_env_unjoined", {})[id(ep)] = why


def _read_with(doc: ConfigDoc, ep, read: dict, cdoc: ConfigDoc, cep, held: dict, variable: str) -> bool:
    """The code's endpoint read with the container's value of `variable`, in place (its identity is
    what the document's tables key on); False when that value is no URL the code reads."""
    value, leaf = held["env"][variable]
    text = leaf.value if isinstance(leaf.value, str) and not value.unknown else None
    fresh = read["rebuild"](text, leaf.loc if text is not None else None,
                            Value(value.value, value.raw, leaf.loc.whole, "env", variable, value.secret))
    if fresh is None:
        return False
    if any(v is not None and v.assumed for v in (ep.password, ep.user, ep.dbname, *ep.hosts)):
        # os.environ.get("X", "<url>"): the default runs only where X is unset, so no path reads it;
        # what it writes is in the repository all the same (APP013 reads `_fallbacks`)
        fallback = object.__new__(type(ep))
        for slot in type(ep).__slots__:
            setattr(fallback, slot, getattr(ep, slot))
        doc.meta.setdefault("_fallbacks", []).append(fallback)
    for slot in type(fresh).__slots__:
        setattr(ep, slot, getattr(fresh, slot))
    ep.service, ep.service_shown = cep.service, False
    w = cdoc.meta.get("_endpoint_workloads", {}).get(id(cep))
    who = (f"container {cep.service} of {w['kind']} {w['name']}" if w and cep.service and cep.service != w["name"]
           else f"{w['kind']} {w['name']}" if w else
           f"compose service {cep.service}" if cep.service and "compose" in os.path.basename(cdoc.path)
           else f"container {cep.service}" if cep.service else "the environment")
    where = f"{cdoc.path}:{cep.span.line}" if cep.span is not None and cep.span.line else cdoc.path
    evidence = f"{who} ({where}), the only one here that sets {variable}, which only this code reads"
    read["set_by"] = who  # (APP013 names the variable where it is written)
    ep.overrides = f"{variable} from {evidence}"
    for key in ("_endpoint_workloads", "_endpoint_hosts"):
        found = cdoc.meta.get(key, {}).get(id(cep))
        if found is not None:
            doc.meta.setdefault(key, {})[id(ep)] = found
    doc.meta.setdefault("_runs_in", {})[id(ep)] = cdoc
    doc.meta.setdefault("environment_of", {})[ep.name] = evidence
    if cdoc.path not in doc.files:  # read for this client (not an include: advisor.engine.load_documents)
        doc.files.append(cdoc.path)
        doc.meta.setdefault("_also_read", []).append(cdoc.path)
    return True
