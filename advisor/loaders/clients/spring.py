"""One Spring Boot application configured in two places: `spring.datasource.*` in its
application.yml/properties and `SPRING_DATASOURCE_URL` in the environment of the container that
runs it (audit16 D11).

Spring Boot's relaxed binding reads the environment variable `SPRING_DATASOURCE_URL` as the
property `spring.datasource.url`, and an OS environment variable overrides the application's
`application.yml`/`application.properties` (Spring Boot reference, "Externalized Configuration":
OS environment variables come before config data files in the order of precedence). The application
then connects with the variable's URL and the file's other `spring.datasource.*` settings (HikariCP's
`hikari.*`, `username`, `data-source-properties.*`): one client, which pgpath read as two.

Which application.yml is packaged into which image is not in the files: the two are merged only on
evidence that they are the same application, the file's `spring.application.name` equal to the
name of the Kubernetes workload (Deployment, StatefulSet...) or compose service that sets the
variable, or of its container; and only when exactly one such file matches and the environment
overrides no other `spring.datasource` property (`SPRING_DATASOURCE_USERNAME`,
`SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE`, ...: not modelled). Otherwise both stay, as before.

The merged client is the environment's endpoint (its URL, its span, its workload's replicas and
host) read with the file's other options (`jdbc_endpoint(params of the variable's URL, options of
the file)`): a fix to the URL goes to the variable, whose value is the one that runs, and a fix to
the pool to the file. The file's endpoint leaves its document (its settings and diagnostics stay);
`doc.meta["_joined"]` maps its name to the merged endpoint, so that a topology naming it
(`client: {file: app/application.yml, variable: spring.datasource}`) finds the merged one.
"""

from __future__ import annotations

import os
from typing import Any

ENV_URL = "SPRING_DATASOURCE_URL"
# SPRING_DATASOURCE_* variables that do not change what pgpath reads of the client: the password
# (secret either way); the URL itself is the override merged here
_HARMLESS = {ENV_URL, "SPRING_DATASOURCE_PASSWORD"}


def link_overrides(docs: list) -> None:
    """Merge each SPRING_DATASOURCE_URL of a container or compose service with the one
    spring.datasource file of the same application (module docstring); in place."""
    files: dict[str, list[tuple[Any, Any]]] = {}  # application name -> (document, endpoint)
    for d in docs:
        if d.kind != "client":
            continue
        for ep in d.model.endpoints:
            if ep.spring is not None and ep.spring[1] is not None and ep.spring[1].known:
                files.setdefault(str(ep.spring[1].value).strip(), []).append((d, ep))
    if not files:
        return
    for d in docs:
        if d.kind != "client":
            continue
        workloads = d.meta.get("_endpoint_workloads", {})
        for i, env in enumerate(list(d.model.endpoints)):
            if env.name != ENV_URL or env.form != "jdbc" or env.driver != "pgjdbc":
                continue
            w = workloads.get(id(env))
            names = [n for n in ((w or {}).get("name"), env.service) if n]
            matches = [(n, m) for n in dict.fromkeys(names) for m in files.get(n, ())]
            if len({id(m[1]) for _, m in matches}) != 1 or _other_overrides(d, env, w):
                continue  # no evidence, or two files of that name: which is packaged is not known
            name, (file_doc, spring_ep) = matches[0]
            merged = _merged(d, env, file_doc, spring_ep, name, w)
            d.model.endpoints[d.model.endpoints.index(env)] = merged
            for key in ("_endpoint_workloads", "_endpoint_hosts"):
                table = d.meta.get(key)
                if table is not None and id(env) in table:
                    table[id(merged)] = table.pop(id(env))
            file_doc.model.endpoints = [ep for ep in file_doc.model.endpoints if ep is not spring_ep]
            if file_doc.path not in d.files:  # read as well (not an include): on the client's path too
                d.files = d.files + [file_doc.path]
                d.meta["_also_read"] = d.meta.get("_also_read", []) + [file_doc.path]
            file_doc.meta.setdefault("_joined", {})[spring_ep.name] = (d, merged)


def _other_overrides(doc, env, w) -> list[str]:
    """The other SPRING_DATASOURCE_* variables of the same workload (its lines in the file), which
    would override more of the file than pgpath models."""
    lines = (w or {}).get("lines")
    out = []
    for st in doc.settings:
        name = str(st.name)
        if not name.upper().startswith("SPRING_DATASOURCE_") or name.upper() in _HARMLESS:
            continue
        line = st.span.line or 0
        if lines is None or lines[0] <= line <= lines[1]:
            out.append(name)
    return out


def _merged(env_doc, env, file_doc, spring_ep, name: str, w):
    from advisor.loaders.clients.build import Builder, jdbc_endpoint

    extra, app = spring_ep.spring
    # (the file's values were typed, and reported when invalid, when it was read: not again)
    b = Builder(env.template, env_doc.path, None)
    params = {k: v for k, v in env.params.items()}
    merged = jdbc_endpoint(b, env.name, env.span, params, extra)
    merged.service, merged.service_shown, merged.template = env.service, env.service_shown, env.template
    # the pgjdbc release is the application's, read from the build beside its source (the file's)
    merged.pgjdbc = spring_ep.pgjdbc if getattr(spring_ep, "pgjdbc", None) is not None else merged.pgjdbc
    where = f" ({app.span.file}:{app.span.line})" if app.span is not None else ""
    compose = "compose" in os.path.basename(env_doc.path)
    who = (f"{w['kind']} {w['name']}" if w and w.get("name") == name
           else f"{'compose service' if compose else 'container'} {env.service}")
    merged.overrides = (f"{ENV_URL} overrides spring.datasource.url of {file_doc.path} (Spring Boot reads the "
                        f"environment variable before the file); the pool and the other spring.datasource settings "
                        f"are that file's: its spring.application.name {name}{where} is the name of {who}")
    return merged
