"""A node-postgres client in code, read with the environment of the container that runs it.

pg's ConnectionParameters takes each of `host`, `port`, `database`, `user`, `password` and
`options` that the options leave unset (or falsy) from `PGHOST`, `PGPORT`, `PGDATABASE`,
`PGUSER`, `PGPASSWORD`, `PGOPTIONS`, and `ssl`, when the options have none, from `PGSSLMODE`
(`disable`, `allow` and anything unlisted: no TLS; `prefer`, `require`, `verify-ca`, `verify-full`: `ssl: true`, which verifies
the certificate and host name; `no-verify`: `{ rejectUnauthorized: false }`; unset: no TLS).
A module does not say which environment it runs in (advisor.loaders.clients.jscode leaves the
host and port unknown); a compose service or Kubernetes container does, when the run shows
exactly which one runs the code:

- a compose service whose `build:` context holds the code file; or
- a container whose image is the code's package: the last part of the image's repository
  (`acr.example.azurecr.io/notifier:5.2.0`) is the `name` of the nearest `package.json` above the
  code file (`notifier`, or `@acme/notifier`), which depends on `pg` or `pg-pool`.

Two containers that qualify link nothing. The container's `env:` then fills the client as pg
reads it: the PG* variables, and `process.env.X` wherever the code reads one (its value replaces
the default of `process.env.X || 'd'`). The container's own endpoint for those variables (the
`PG* environment`, or the `DATABASE_URL` the code passes as `connectionString`) is the same
connection, made by node-postgres and not libpq: it is dropped, and the code's client takes its
place in the container's pods (its replicas and host facts, advisor.path.model.client_hop).
"""

from __future__ import annotations

import os
from typing import Any

from advisor.model import ConfigDoc, within
from advisor.model.client import Value

# pg's ConnectionParameters: option -> the variable val() falls back to
NODE_PG_ENV = {"host": "PGHOST", "port": "PGPORT", "database": "PGDATABASE", "user": "PGUSER",
               "password": "PGPASSWORD", "options": "PGOPTIONS"}


def link(docs: list[ConfigDoc], options: dict | None = None) -> list[ConfigDoc]:
    calls = [(d, ep, d.meta["_node_calls"][id(ep)]) for d in docs if d.kind == "client" and "_node_calls" in d.meta
             for ep in getattr(d.model, "endpoints", ()) if id(ep) in d.meta["_node_calls"]]
    containers: list[tuple[ConfigDoc, Any, dict]] = []
    for d in docs:
        held = d.meta.get("_env_of")
        if d.kind != "client" or not held:
            continue
        for ep in getattr(d.model, "endpoints", ()):
            if id(ep) in held:
                containers.append((d, ep, held[id(ep)]))
    if not calls or not containers:
        return docs
    packages: dict[str, dict | None] = {}
    roots = (options or {}).get("check_roots") or []
    dropped: set[int] = set()
    for doc, ep, call in calls:
        wanted = _wanted(call)
        if wanted is None:
            continue
        runs = _containers_of(doc.path, containers, packages, roots)
        if len(runs) != 1:
            continue  # none, or two that claim it: nothing is linked
        held, evidence = runs[0]
        where = next(c for c, _e, h in containers if h is held).path
        evidence = f"{held.get('service') or 'a container'} in {_short(where)}, whose {evidence}"
        mine = [(cdoc, cep) for cdoc, cep, h in containers if h is held and _consumes(cep, wanted)]
        if not mine:
            continue
        _read_with(doc, ep, call, held, evidence, mine[0])
        for cdoc, cep in mine:
            dropped.add(id(cep))
    if dropped:
        for d in docs:
            if d.kind == "client" and d.meta.get("_env_of") and d.model is not None:
                d.model.endpoints = [e for e in d.model.endpoints if id(e) not in dropped]
        docs = [d for d in docs if not (d.kind == "client" and d.meta.get("_env_of") and d.model is not None
                                         and not d.model.endpoints and not d.diagnostics)]
    return docs


def _wanted(call: dict) -> tuple[str, str] | None:
    """What the call takes from its environment: ("pg", "") for the PG* variables (no host and no
    connection string in the options, or a host the code reads from the environment:
    `host: process.env.PGHOST ?? '10.0.0.5'`, whose literal is only the default),
    ("url", X) for `connectionString: process.env.X`."""
    opts = call["opts"]
    if "host" in opts and opts["host"].known and not call["env"].get("host"):
        return None
    cs = opts.get("connectionString")
    if cs is None:
        return None if call.get("spread") else ("pg", "")
    name = call["env"].get("connectionString")
    return ("url", name) if name and cs.unknown else None


def _consumes(ep, wanted: tuple[str, str]) -> bool:
    if wanted[0] == "pg":
        return ep.name == "PG* environment"
    return ep.name == wanted[1]


def _containers_of(path: str, containers: list, packages: dict[str, dict | None],
                   roots: list[str]) -> list[tuple[dict, str]]:
    """The distinct container environments that run the code file at `path`, each with its evidence."""
    real = os.path.realpath(path)
    package = _package(os.path.dirname(real), packages, roots)
    found: list[tuple[dict, str]] = []
    for cdoc, _ep, held in containers:
        if any(h is held for h, _ in found):
            continue
        build = held.get("build")
        if build:
            context = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(cdoc.path)), build))
            if within(real, context) and real != context:
                found.append((held, f"build context {build} holds it"))
                continue
        image = held.get("image") or ""
        if package is not None and image and _image_name(image) == package["short"]:
            found.append((held, f"image {image} is the package {package['name']} ({package['rel']})"))
    return found


def _short(path: str) -> str:
    return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))


def _image_name(image: str) -> str:
    """`notifier` for `acr.example.azurecr.io/team/notifier:5.2.0@sha256:...`."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def _package(folder: str, cache: dict[str, dict | None], roots: list[str]) -> dict | None:
    """The nearest package.json at or above `folder` (git_ignored.nearest_file: not above the
    repository or the checked folder) when it depends on pg or pg-pool: {name, short (the name
    without its scope), rel}; each folder's answer kept in `cache` for the run."""
    if folder not in cache:
        from advisor.loaders.git_ignored import nearest_file

        found = nearest_file(folder, ("package.json",), roots)
        cache[folder] = _read_package(found) if found else None
    return cache[folder]


def _read_package(path: str) -> dict | None:
    from advisor.loaders.source import InputError, json_loads, read_text

    try:
        data = json_loads(read_text(path, 1 << 20))
    except (InputError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    deps: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        if isinstance(data.get(key), dict):
            deps.update(data[key])
    if not deps & {"pg", "pg-pool"}:
        return None
    name = data["name"]
    return {"name": name, "short": name.rsplit("/", 1)[-1].lower(), "rel": os.path.basename(os.path.dirname(path))
            + "/package.json"}


def _from_env(v: Value, key: str) -> Value:
    return Value(v.value, v.raw, v.span, "env", key, v.secret, v.hint, assumed=v.assumed)


def _read_with(doc: ConfigDoc, ep, call: dict, held: dict, evidence: str, container: tuple) -> None:
    from advisor.loaders.clients.build import Builder
    from advisor.loaders.clients.jscode import build_endpoint

    env: dict[str, tuple[Value, Any]] = held["env"]
    opts = dict(call["opts"])
    for key, name in call["env"].items():
        if name in env and "." not in key:
            opts[key] = _from_env(env[name][0], key)
    loc = call["loc"]
    cs = opts.get("connectionString")
    if cs is not None and call["env"].get("connectionString") in env:
        loc = env[call["env"]["connectionString"]][1].loc
    for key, name in NODE_PG_ENV.items():
        if name in env and (key not in opts or (opts[key].known and not opts[key].value)):
            opts[key] = _from_env(env[name][0], key)
    if "ssl" not in opts and "PGSSLMODE" in env and cs is None:
        opts["ssl"] = _ssl_from_mode(env["PGSSLMODE"][0])
    fresh = build_endpoint(Builder(), ep.name, ep.span, call["kind"], opts, loc, call.get("spread"))
    listener = ep.pool.error_listener if ep.pool is not None else None
    for slot in type(fresh).__slots__:
        setattr(ep, slot, getattr(fresh, slot))
    if ep.pool is not None:
        ep.pool.error_listener = listener
    ep.params["environment"] = Value(evidence, evidence, container[1].span, key="environment")
    cdoc, cep = container
    for key in ("_endpoint_workloads", "_endpoint_hosts"):
        found = cdoc.meta.get(key, {}).get(id(cep))
        if found is not None:
            doc.meta.setdefault(key, {})[id(ep)] = found
    doc.meta.setdefault("environment_of", {})[ep.name] = evidence
    if cdoc.path not in doc.files:  # read for this client (not an include: advisor.engine.load_documents)
        doc.files.append(cdoc.path)
        doc.meta.setdefault("_also_read", []).append(cdoc.path)


def _ssl_from_mode(v: Value) -> Value:
    """pg's readSSLConfigFromEnvironment: PGSSLMODE as the `ssl` option it stands for."""
    if v.unknown:
        return Value(v.value, v.raw, v.span, "env", "ssl")
    mode = str(v.value).strip()
    value: Any
    if mode == "disable":
        value = False
    elif mode in ("prefer", "require", "verify-ca", "verify-full"):
        value = True
    elif mode == "no-verify":
        value = {"rejectUnauthorized": False}
    else:  # (allow, or anything else: pg's default, no TLS)
        value = False
    return Value(value, f"PGSSLMODE={mode}", v.span, "env", "ssl")
