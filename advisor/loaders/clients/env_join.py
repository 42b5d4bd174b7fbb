"""A client in Python code (or a Rails database.yml) that reads its URL from an environment variable,
joined with the container (or dotenv file) that sets that variable: one client, not two.

`create_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=15)` in app/db.py knows the
pool and not where it connects; `DATABASE_URL` in the `env:` of a Kubernetes container (or the
`environment:` of a compose service, or a `.env` file) knows where it connects and how many pods run
it, not the pool. Read apart they are two clients: one on a path with an unknown pool plan, one on
no path.

Which code runs in which container is not in the files: the two are joined only on evidence, the
variable's name and its uniqueness in one repository (the nearest folder above both holding
`.git`; without one, the checked folder that holds both):

- exactly one piece of code there reads the variable as its whole URL (advisor.loaders.clients.pycode
  marks `os.environ["X"]`, `os.environ.get("X", ...)`, `os.getenv("X", ...)`, and
  advisor.loaders.clients.django `dj_database_url.config()` (DATABASE_URL, or its `env=`) and
  `dj_database_url.parse(os.environ["X"])`; advisor.loaders.clients.rails a config/database.yml
  configuration whose `url:` is `<%= ENV["X"] %>` or `<%= ENV.fetch("X") ... %>` as a whole,
  outside the development and test environments, which a deployed container does not run
  (RAILS_ENV); a node-postgres `connectionString: process.env.X` and any other Rails
  config/database.yml (ActiveRecord merges DATABASE_URL over the environment it runs, whatever the
  file says; which environment runs is not in the files) count as readers too, though they are
  not joined here: node-postgres code is read with the environment of the container that runs it
  by advisor.loaders.clients.node_env, on its own evidence (a build context, an image named as its
  package), and a dotenv file is none of it); and
- exactly one setter there may run it: a container or compose service that sets it, or a dotenv
  file (`.env`, `.env.production`, `prod.env`: a file advisor reads as one environment block) that
  sets it. A compose service whose `build:` context does not hold the code file never runs it; a
  dotenv file is a candidate when its folder holds the code file (python-dotenv's `load_dotenv()`
  looks for `.env` from the code's folder up) or when exactly one compose service built from a
  folder that holds the code gives it to its containers (`env_file:`) without setting the variable
  in its own `environment:` (which compose puts over the file's). A dotenv file named as a file to
  copy or a test's (`.env.example`, `.env.sample`, `.env.template`, `.env.tpl`, `.env.dist`,
  `.env.test`, `.env.ci`: a word of its name) sets nothing the code runs with: it is never a
  candidate (its URL stays a client of its own, as before), so `.env` beside `.env.example` is the
  one setter, and `.env.example` alone is none. Of two or more candidates, the one whose build
  context holds the code (a compose service's own, or the service's that reads a dotenv file through
  `env_file:`, the strongest evidence) when exactly one is; else nothing is joined (`.env` and
  `.env.production`; `.env` and a Kubernetes container: which one runs it is not known). A
  compose service whose value is `${X}` as a whole and the `.env` beside its compose file are one
  setter, not two: compose interpolates the compose file with that `.env` (unless the shell that
  runs compose sets X), so the service runs with the file's value, which the join reads.

The joined client is the code's endpoint read with the container's value in place of the read
(`pycode._CodeReader.rebuild`): where it connects (host, port, sslmode, keepalives...) spanned in
the manifest (or the dotenv file), where a fix to the URL goes; its pool spanned in the code, where
a fix to the pool goes; the container's workload (replicas, an autoscaler's maxReplicas; the
compose service's that reads a dotenv file) and pod host facts. The
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
            # file says, and a `url: <%= ENV["X"] %>` reads X: a reader, joined when it is a
            # configuration's whole `url:` (advisor.loaders.clients.rails, in `_env_reads` above)
            names = {"DATABASE_URL"} | {m.group(1) for st in d.settings if str(st.name).endswith(".url")
                                        for m in _ERB_ENV.finditer(str(st.raw or ""))}
            for name in names - {r["variable"] for r in (reads or {}).values()}:
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
    services = (options or {}).get("env_file_services") or []  # (advisor.loaders.infra_yaml._env_files)
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
            here = [s for s in setters.get(variable, ()) if _scope(s[0].path, roots) == scope]
            # a dotenv file that a compose service built from the code's folder reads (`env_file:`)
            via = {id(s[2]): w for s in here if s[2].get("dotenv")
                   for w in [_service_reading(s[0].path, variable, doc.path, services)] if w is not None}
            runs = [s for s in here if id(s[2]) in via or _may_run(s[2], s[0].path, doc.path)]
            # a compose service whose value is `${X}` takes it from the .env of the compose file's folder
            sourced = {id(s[2]): d for s in runs for d in [_interpolated_from(s, variable, here)] if d is not None}
            runs = [s for s in runs if not any(d is s for d in sourced.values())]
            copies = [s for s in runs if s[2].get("dotenv") and _example(s[0].path) and id(s[2]) not in via]
            runs = [s for s in runs if s not in copies]
            if len(runs) > 1:
                # (a build context that holds the code: the service's own, or of one reading the file)
                built = [s for s in runs if s[2].get("build") or id(s[2]) in via]
                runs = built if len(built) == 1 else runs
            if not runs:
                _unjoined(doc, ep, _none_sets(variable, here, copies, doc.path))
                continue
            if len(runs) > 1:
                dotenvs = sum(1 for s in runs if s[2].get("dotenv"))
                _unjoined(doc, ep, f"{len(runs)} " + ("dotenv files" if dotenvs == len(runs) else "containers"
                                                      if not dotenvs else "containers and dotenv files")
                          + f" set {variable} (" + ", ".join(_setter(s) for s in runs)
                          + "): which one runs it is not known (a pgpath.yaml client hop `file:` names it)")
                continue
            cdoc, cep, held = runs[0]
            source = sourced.get(id(held))
            if _read_with(doc, ep, read, cdoc, cep, held, variable, via.get(id(held)), source):
                dropped.add(id(cep))
                if source is not None:
                    dropped.add(id(source[1]))
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


def _interpolated_from(setter: tuple, variable: str, here: list) -> tuple | None:
    """The dotenv setter `.env` beside the compose file of `setter` when that compose service's value
    of `variable` is `${variable}` as a whole (`$X`, `${X:-default}`, `${X:?message}`): docker
    compose interpolates the compose file with the `.env` of its folder (the project directory),
    so the service runs with that file's value (unless the shell that runs compose sets the
    variable): one setter, not two."""
    cdoc, _cep, held = setter
    if held.get("dotenv") or "compose" not in os.path.basename(cdoc.path):
        return None
    text = held["env"][variable][1].value
    if not isinstance(text, str) or not _WHOLE_REFERENCE.match(text.strip()) or \
            _WHOLE_REFERENCE.match(text.strip()).group(1 if text.strip().startswith("${") else 2) != variable:
        return None
    beside = os.path.join(os.path.dirname(os.path.realpath(cdoc.path)), ".env")
    found = [s for s in here if s[2].get("dotenv") and os.path.realpath(s[0].path) == beside]
    return found[0] if found else None


_WHOLE_REFERENCE = lazy_re.compile(r"^(?:\$\{(\w+)(?::?[-?][^}]*)?\}|\$(\w+))$")


def _service_reading(dotenv: str, variable: str, code: str, services: list[dict]) -> dict | None:
    """The one compose service that gives its containers the dotenv file's variables (`env_file:`),
    does not set `variable` itself (its `environment:` wins over the file), and is built from a
    folder that holds the code; None when none or several are."""
    real, code = os.path.realpath(dotenv), os.path.realpath(code)
    found = [w for w in services if real in w["env_files"] and variable not in w["env_names"]
             and w["build_context"] and within(code, w["build_context"]) and code != w["build_context"]]
    return found[0] if len(found) == 1 else None


def _may_run(held: dict, manifest: str, code: str) -> bool:
    """False when the container is a compose service built from a folder that does not hold the code,
    or the setter a dotenv file whose folder does not hold it (python-dotenv's find_dotenv looks
    for `.env` from the code's folder up; a file beside other code is no evidence for this code)."""
    if held.get("dotenv"):
        return within(os.path.realpath(code), os.path.dirname(os.path.realpath(manifest)))
    build = held.get("build")
    if not build:
        return True
    context = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(manifest)), build))
    return within(os.path.realpath(code), context) and os.path.realpath(code) != context


def drop_example_copies(docs: list[ConfigDoc]) -> None:
    """A dotenv file to copy (`.env.example`, `.env.sample`...) beside a dotenv file the code runs with
    (`.env`) that sets the same variable describes the same client, not another: its endpoint for
    that variable leaves its file's clients (its settings stay, for APP013), so that a path, and a
    connection budget, count the client once. Alone, an example is the only description of its
    client, and stays one."""
    def dotenv_variables(d: ConfigDoc) -> set[str]:
        return {name for held in (d.meta.get("_env_of") or {}).values() if held.get("dotenv")
                for name in held.get("env", ())}

    run_with: dict[str, set[str]] = {}  # folder -> variables its non-example dotenv files set
    for d in docs:
        if d.kind == "client" and d.meta.get("_env_of") and not _example(d.path):
            run_with.setdefault(os.path.dirname(os.path.abspath(d.path)), set()).update(dotenv_variables(d))
    if not run_with:
        return
    for d in docs:
        if d.kind != "client" or d.model is None or not d.meta.get("_env_of") or not _example(d.path):
            continue
        beside = run_with.get(os.path.dirname(os.path.abspath(d.path)), set())
        held = d.meta["_env_of"]
        copies = [ep for ep in d.model.endpoints if id(ep) in held and held[id(ep)].get("dotenv") and ep.name in beside]
        if copies:
            d.model.endpoints = [ep for ep in d.model.endpoints if all(ep is not c for c in copies)]
            d.meta["_copies_of"] = sorted(ep.name for ep in copies)


# words of a dotenv file's name that say it is a file to copy or a test's, not what the code runs with
_COPY_WORDS = frozenset({"example", "examples", "sample", "samples", "template", "templates", "tpl", "dist", "test",
                         "tests", "testing", "ci"})


def _example(path: str) -> bool:
    """`.env.example`, `.env.sample`, `.env.template`, `.env.dist`, `.env.test`, `example.env`: a
    dotenv file published to be copied (or a test run's), which sets nothing the code runs with."""
    from advisor.development import path_words

    return any(w in _COPY_WORDS for w in path_words(os.path.basename(path)))


def _setter(s: tuple) -> str:
    return _short(s[0].path) if s[2].get("dotenv") else f"{_short(s[0].path)} {s[1].service or '?'}"


def _none_sets(variable: str, here: list, copies: list, code: str) -> str:
    """Why no setter of the variable runs the code (the reader's `_env_unjoined`)."""
    why = f"no container, compose service or dotenv file of the files read sets {variable}"
    if copies:
        why = (f"only {', '.join(sorted({_short(s[0].path) for s in copies}))} "
               + (f"sets {variable}, a file to copy (an example, template or test file)" if len(copies) == 1 else
                  f"set {variable}, files to copy (examples, templates or test files)")
               + ", not what the code runs with")
    away = sorted({_short(s[0].path) for s in here if s[2].get("dotenv") and s not in copies})
    if away:
        why += (f"; {', '.join(away)} set{'s' if len(away) == 1 else ''} it, in a folder that does not hold "
                f"{_short(code)}")
    return why


def _short(path: str) -> str:
    return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))


def _unjoined(doc: ConfigDoc, ep, why: str) -> None:
    doc.meta.setdefault("_env_unjoined", {})[id(ep)] = why


def _read_with(doc: ConfigDoc, ep, read: dict, cdoc: ConfigDoc, cep, held: dict, variable: str,
               service: dict | None = None, source: tuple | None = None) -> bool:
    """The code's endpoint read with the container's value of `variable`, in place (its identity is
    what the document's tables key on); False when that value is no URL the code reads. `service`:
    the compose service (its workload) that reads the dotenv file `cdoc` through `env_file:`;
    `source`: the dotenv setter (`.env` beside the compose file) whose value the compose service's
    `${variable}` takes."""
    value, leaf = (source[2] if source is not None else held)["env"][variable]
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
           else f"container {cep.service}" if cep.service
           else f"dotenv file {os.path.basename(cdoc.path)}" if held.get("dotenv") else "the environment")
    if service is not None:
        who = (f"compose service {service['name']} ({service['file']}:{service['env_file_line']}), through its "
               f"env_file {os.path.basename(cdoc.path)}")
    where = f"{cdoc.path}:{cep.span.line}" if cep.span is not None and cep.span.line else cdoc.path
    if source is not None:
        where += f"; its ${{{variable}}} from {source[0].path}:{leaf.loc.line}, as compose interpolates it"
    evidence = f"{who} ({where}), the only one here that sets {variable}, which only this code reads"
    read["set_by"] = who  # (APP013 names the variable where it is written)
    ep.overrides = f"{variable} from {evidence}"
    for key in ("_endpoint_workloads", "_endpoint_hosts"):
        found = cdoc.meta.get(key, {}).get(id(cep))
        if found is not None:
            doc.meta.setdefault(key, {})[id(ep)] = found
    if service is not None and service["replicas"] is not None:  # (its containers: advisor.path.model.client_hop)
        doc.meta.setdefault("_endpoint_workloads", {})[id(ep)] = service
    doc.meta.setdefault("_runs_in", {})[id(ep)] = cdoc
    doc.meta.setdefault("environment_of", {})[ep.name] = evidence
    if cdoc.path not in doc.files:  # read for this client (not an include: advisor.engine.load_documents)
        doc.files.append(cdoc.path)
        doc.meta.setdefault("_also_read", []).append(cdoc.path)
    return True
