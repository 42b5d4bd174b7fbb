"""A Rails application's config/database.yml, run by the compose services built from its root.

A compose service `web: {build: ., deploy: {replicas: 6}}` whose build context is the folder that
holds `config/database.yml` runs that application: six containers, each with its own connection
pool. Nothing in database.yml says so, and the service need not set DATABASE_URL (the file says
where it connects), so advisor.loaders.clients.env_join, which joins on the variable, does not
link them. The build context is the evidence, as it is for Python and node-postgres code
(env_join, node_env): the Rails root is the context (`<context>/config/database.yml`, where
`bin/rails` reads it). Every compose service of the run built from that folder runs the
application, each container with a pool of its own: puma's `web` and sidekiq's `worker` are two
clients, one hop each (doc.meta["_run_by"]: the endpoint's id -> one entry per service, read by
advisor.path.discover and advisor.path.model.client_hop), counted with each service's replicas,
environment and pool (PATH005: `web: production (pool 5) × 3 replicas + worker: production (pool
10) × 2 replicas`); a single service runs it without naming it, as before. Nothing is linked when
the environment one of them runs is not known, or when they are services of compose files of
several folders (alternative deployments, not one project).

The configuration that runs is the one of the environment the containers run: RAILS_ENV (else
RACK_ENV) in the service's `environment:`, else an `ENV RAILS_ENV=...` of the Dockerfile the
service builds with (Rails' generated Dockerfile writes `ENV RAILS_ENV="production"`), else the
only environment of the file other than development and test; otherwise none is linked. Its
clients (one per database of a three-tier configuration) then run once in each container: the
service's `deploy.replicas` or `scale` (meta["_endpoint_workloads"], read by
advisor.path.model.client_hop), said with the evidence. A pool the file reads from
RAILS_MAX_THREADS with a literal default (`pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>`,
read as 5, assumed) is the service's value of that variable when its environment sets one; when
it sets none the default counts, and the finding says that no file sets it for that service.

A client already run by a container on other evidence (a `url:` joined with the container that
sets its variable: env_join) keeps that container; one whose `url:` was joined with a dotenv
file's value (env_join) still runs in the service's containers.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

from advisor.model import ConfigDoc
from advisor.model.client import Value
from advisor.units import digits

_ENV_INSTRUCTION = re.compile(r"^[ \t]*ENV[ \t]+((?:[^\n]*\\\n)*[^\n]*)", re.MULTILINE | re.IGNORECASE)
_RAILS_ENV = re.compile(r"""(?:^|\s)(RAILS_ENV|RACK_ENV)(?:=|\s+)["']?([\w.-]+)""")
_NOT_DEPLOYED = ("development", "test")


def link(docs: list[ConfigDoc], services: list[dict]) -> None:
    """Give the clients of each config/database.yml the containers of the compose services built
    from its Rails root (module docstring); in place."""
    by_root: dict[str, dict[tuple[str, str], dict]] = {}
    for w in services:
        # (a service read in the base file and merged in its override file is one service)
        by_root.setdefault(w["build"]["context"], {}).setdefault((w["folder"], w["name"]), w)
    for doc in docs:
        if doc.kind != "client" or doc.meta.get("format") != "rails" or doc.model is None:
            continue
        real = os.path.realpath(doc.path)
        config = os.path.dirname(real)
        if os.path.basename(config) != "config" or os.path.basename(real) != "database.yml":
            continue
        built = list(by_root.get(os.path.dirname(config), {}).values())
        if not built or len({w["folder"] for w in built}) != 1:
            continue  # none, or compose projects of several folders: which one runs is not known
        runs = [(w, *_environment(doc, w)) for w in built]
        if any(env is None for _w, env, _why in runs):
            continue  # a service whose environment is not known may run any configuration: none is taken
        for ep in doc.model.endpoints:
            home = doc.meta.get("_runs_in", {}).get(id(ep))
            if id(ep) in doc.meta.get("_endpoint_workloads", {}) or \
                    (home is not None and home.meta.get("format") != "env"):
                continue  # (a URL joined with a dotenv file's value still runs in the services' containers)
            mine = [(w, why) for w, env, why in runs if env == str(ep.name).split(".", 1)[0]]
            if len(built) == 1 and mine:
                w, why = mine[0]
                said, ep.pool, note = _runs_in(doc, ep, w, why)
                if w["replicas"] is not None:
                    doc.meta.setdefault("_endpoint_workloads", {})[id(ep)] = _workload(doc, w)
                doc.meta.setdefault("_run_by", {})[id(ep)] = [{"service": "", "workload": None, "said": said,
                                                              "pool": ep.pool, "note": note}]
            elif mine:
                # several services run the application, each container with a pool of its own: one
                # client hop per service (advisor.path.discover, advisor.path.model.client_hop)
                doc.meta.setdefault("_run_by", {})[id(ep)] = [
                    {"service": w["name"], "workload": _workload(doc, w) if w["replicas"] is not None else None,
                     "said": said, "pool": pool, "note": note}
                    for w, why in mine for said, pool, note in [_runs_in(doc, ep, w, why)]]


def _environment(doc: ConfigDoc, w: dict) -> tuple[str | None, str]:
    """The Rails environment the service's containers run, and what says so."""
    build = w["build"]
    for name in ("RAILS_ENV", "RACK_ENV"):
        if name in build["env"]:
            value, span = build["env"][name]
            if not value or "$" in value:
                return None, ""  # known where it is deployed only
            return value.strip(), f"{name}: {value.strip()} in its environment, {_at(span)}"
    found = _dockerfile_env(build["dockerfile"])
    if found is not None:
        name, value, line = found
        return value, f"ENV {name}={value} in {_rel(build['dockerfile'], w)}:{line}"
    envs = {str(ep.name).split(".", 1)[0] for ep in doc.model.endpoints} - set(_NOT_DEPLOYED)
    if len(envs) == 1:
        env = envs.pop()
        return env, "the only environment of the file other than development and test; no RAILS_ENV read"
    return None, ""


def _dockerfile_env(path: str) -> tuple[str, str, int] | None:
    """(variable, value, line) of the last RAILS_ENV (else RACK_ENV) an ENV instruction of the
    Dockerfile sets; None when it sets neither or cannot be read."""
    from advisor.loaders.source import InputError, read_text

    try:
        text = read_text(path, 1 << 20)
    except (InputError, OSError):
        return None
    found: dict[str, tuple[str, int]] = {}
    for m in _ENV_INSTRUCTION.finditer(text):
        for v in _RAILS_ENV.finditer(m.group(1).replace("\\\n", " ")):
            if "$" not in v.group(2):
                found[v.group(1)] = (v.group(2), text.count("\n", 0, m.start()) + 1)
    for name in ("RAILS_ENV", "RACK_ENV"):
        if name in found:
            return name, found[name][0], found[name][1]
    return None


def _workload(doc: ConfigDoc, w: dict) -> dict:
    """The service as the workload whose containers run the client, its replicas said with the evidence."""
    found = dict(w["replicas"])
    found["why"] = "; ".join(x for x in (found.get("why"), f"built from {w['build']['written']}, the Rails root "
                                         f"of {_rel(doc.path, w)}") if x)
    return dict(w, replicas=found)


def _runs_in(doc: ConfigDoc, ep: Any, w: dict, why: str) -> tuple[str, Any, str]:
    """What says that the service's containers run `ep`, the pool each of them opens and what to
    say of its size: the service's value of the variable the pool's size is the default of
    (RAILS_MAX_THREADS), else that default, said as such (the note)."""
    build = w["build"]
    service = f"compose service {w['name']} ({os.path.normpath(build['file'])}:{build['line']})"
    said = (f"{service}, whose build context {build['written']} is the Rails root of {_rel(doc.path, w)}, "
            f"as {ep.name.split('.', 1)[0]} ({why})")
    pool = ep.pool
    size = pool.size if pool is not None else None
    if size is None or not size.assumed:
        return said, pool, ""
    variable = size.assumed
    pool = copy.copy(pool)
    found = build["env"].get(variable)
    count = None
    if found is not None:
        text, span = found
        count = digits(str(text).strip())  # (ASCII digits only, as Ruby's Integer() reads a count)
    if count is not None:
        pool.size = Value(count, str(text).strip(), span, size.origin, size.key)
        said += f"; its pool is {variable}: {count} of that environment ({_at(span)})"
        return said, pool, ""
    if found is not None:
        value = found[0] or "(no value: the shell running compose passes it)"
        return said, pool, (f"the default of {variable} in {_rel(doc.path, w)}; compose service {w['name']} sets "
                            f"{variable}: {value} ({_at(found[1])}), not known")
    return said, pool, (f"the default of {variable} in {_rel(doc.path, w)}, which compose service {w['name']} "
                        "does not set")


def _at(span) -> str:
    return f"{os.path.normpath(span.file)}:{span.line}" if span is not None and span.line else ""


def _rel(path: str, w: dict) -> str:
    """`path` as written from the compose file's folder (`config/database.yml`, `Dockerfile`)."""
    rel = os.path.relpath(os.path.realpath(path), w["folder"])
    return path if rel.startswith("..") else rel
