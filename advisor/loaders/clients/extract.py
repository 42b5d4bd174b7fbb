"""From leaves (any structured format) to client endpoints.

Three passes, each claiming the leaves it uses:
1. environment blocks: a `.env` file, docker-compose `environment:` (list or mapping) and
   Kubernetes `env:` lists (`name`/`value`, `valueFrom` = unknown). `DATABASE_URL`, `*_DATABASE_URL`,
   `*_DSN` and any variable holding a connection string become endpoints; `PG*` variables fill
   the libpq parameters those strings leave unset (libpq reads them as defaults), or form an
   endpoint of their own. There is no environment variable for keepalives.
2. Spring / HikariCP: `<prefix>.datasource.url|jdbc-url|username|password|hikari.*` (relaxed
   binding: `max-lifetime`, `maxLifetime`, `max_lifetime`), and hikari.properties
   (`jdbcUrl`, `maxLifetime`, `dataSource.*` at the top level).
3. every other mapping: a connection string with the options beside it (SQLAlchemy
   `pool_recycle`/`pool_pre_ping`, psycopg_pool `max_lifetime`/`check`, pgx `pool_*`), node-postgres
   option objects, SQLAlchemy `sqlalchemy.*` keys of Pyramid/Alembic ini files.
"""

from __future__ import annotations

from collections import Counter

import os
import re
from typing import Iterable

from advisor import lazy_re
from advisor.loaders.clients.build import (
    NODE_KEYS, Builder, canonical_hikari, endpoint_from_string, jdbc_endpoint, libpq_endpoint, library_unknown,
    node_endpoint, param_value, sqlalchemy_endpoint,
)
from advisor.model.client import ClientEndpoint, Value
from advisor.loaders.clients.strings import Locator, kind_of, parse, placeholder_hint, redact_any
from advisor.loaders.clients.tree import Leaf
from advisor.model import ConfigDoc, Setting, Span, Unknown

SECRET_NAME = lazy_re.compile(r"pass(word|wd)?$|passwd|password|secret|token|credential|private.?key|api.?key", re.I)
URL_NAME = lazy_re.compile(r"(^|_)(DATABASE_URL|DATABASE_URI|DB_URL|DB_URI|DSN|DB_DSN|PG_URL|POSTGRES_URL|POSTGRESQL_URL|"
                      r"CONNECTION_STRING|CONN_STR)$", re.I)

PG_ENV = {
    "PGHOST": "host", "PGHOSTADDR": "hostaddr", "PGPORT": "port", "PGDATABASE": "dbname", "PGUSER": "user",
    "PGPASSWORD": "password", "PGSERVICE": "service", "PGOPTIONS": "options", "PGAPPNAME": "application_name",
    "PGSSLMODE": "sslmode", "PGREQUIRESSL": "requiressl", "PGSSLROOTCERT": "sslrootcert", "PGSSLCERT": "sslcert",
    "PGSSLKEY": "sslkey", "PGSSLCRL": "sslcrl", "PGSSLMINPROTOCOLVERSION": "ssl_min_protocol_version",
    "PGSSLMAXPROTOCOLVERSION": "ssl_max_protocol_version", "PGSSLNEGOTIATION": "sslnegotiation",
    "PGCONNECT_TIMEOUT": "connect_timeout", "PGTARGETSESSIONATTRS": "target_session_attrs",
    "PGLOADBALANCEHOSTS": "load_balance_hosts", "PGGSSENCMODE": "gssencmode", "PGCHANNELBINDING": "channel_binding",
    "PGPASSFILE": "passfile", "PGSSLSNI": "sslsni", "PGREQUIREAUTH": "require_auth",
}

SQLA_OPTIONS = ("pool_recycle", "pool_pre_ping", "pool_size", "max_overflow", "pool_timeout", "pool_use_lifo")
PSYCOPG_POOL_OPTIONS = ("max_lifetime", "max_idle", "check", "min_size", "max_size", "reconnect_timeout")
OPTION_CHILDREN = ("engine_options", "engine", "pool", "options", "connect_args", "kwargs", "SQLALCHEMY_ENGINE_OPTIONS",
                   "pool_options")


def is_secret_key(key: str) -> bool:
    return bool(SECRET_NAME.search(key))


def leaf_value(leaf: Leaf, key: str | None = None, secret: bool | None = None) -> Value:
    """A leaf's value as written: Unknown when it holds a placeholder, except a value that is one
    placeholder with a default (`${DB_PORT:5432}`, `${SSLMODE:-require}`), which is read as its
    default, assumed (Value.assumed), its span the default inside it. (A connection string with
    placeholders inside is parsed by advisor.loaders.clients.strings, which reads their defaults.)"""
    secret = is_secret_key(leaf.key) if secret is None else secret
    value = leaf.value
    hint = None
    unknown = False
    if isinstance(value, Unknown):
        unknown = True
    elif isinstance(value, str):
        from advisor.loaders.clients.strings import has_placeholder, whole_default

        if has_placeholder(value):
            found = whole_default(value)
            if found is not None:
                var, text, at = found
                return param_value(key or leaf.key, text, leaf.loc.span(at, at + len(text)), False, None, secret,
                                   assumed=var)
            unknown = True
            hint = placeholder_hint(value)
    return param_value(key or leaf.key, value, leaf.loc.whole, unknown, hint, secret)


def record(doc: ConfigDoc, name: str, leaf_or_value: Leaf | Value, section: str | None = None) -> None:
    """A Setting for a leaf pgpath used; secrets shown as ***, connection strings redacted."""
    if isinstance(leaf_or_value, Leaf):
        v = leaf_value(leaf_or_value)
        span = leaf_or_value.key_span
        value_span = leaf_or_value.loc.whole
    else:
        v = leaf_or_value
        span = v.span or Span(doc.path)
        value_span = v.span
    raw = "***" if v.secret else redact_any(v.raw or "")
    value = v.value
    if v.secret:
        value = Unknown("***") if isinstance(value, Unknown) else "***"
    elif isinstance(value, str):
        # (the value is usually the raw text itself: one redaction scan, not two)
        value = raw if value == (v.raw or "") else redact_any(value)
    elif isinstance(value, Unknown):
        value = Unknown(redact_any(value.text))
    doc.settings.append(Setting(name=name, raw=raw, value=value, span=span, value_span=value_span,
                                section=section, secret=v.secret))


# ------------------------------------------------------------------------------------------------


def extract(doc: ConfigDoc, leaves: Iterable[Leaf], b: Builder, env_file: bool = False) -> list[ClientEndpoint]:
    """The endpoints the leaves describe. For a dotenv file (`env_file`) every leaf is a variable of
    one environment block, and the leaves may come one at a time (nothing else claims them: the
    Spring and mapping readers see only used leaves)."""
    if env_file:
        endpoints = env_endpoints(doc, b, "environment", ((lf.key, lf, leaf_value(lf, lf.key)) for lf in leaves),
                                  dotenv=True)
        endpoints.sort(key=lambda e: (e.span.line or 0, e.span.col or 0))
        return endpoints
    leaves = list(leaves)
    used: set[int] = set()
    endpoints: list[ClientEndpoint] = []
    # 1. environment blocks
    # a Kubernetes container's name, by the path of the container (the service of its env block)
    containers = {lf.path[:-1]: lf.value for lf in leaves if len(lf.path) >= 3 and lf.path[-1] == "name"
                  and lf.path[-3] in ("containers", "initContainers") and isinstance(lf.value, str)}
    # the image of a compose service or Kubernetes container, by its path (the owner of its env block)
    images = {lf.path[:-1]: lf.value for lf in leaves if len(lf.path) >= 2 and lf.path[-1] == "image"
              and isinstance(lf.value, str)}
    # and the build context of a compose service (`build: ./app`, `build: {context: ./app}`); one
    # holding a NUL character is no folder (compose refuses it; os.path a ValueError)
    builds = {lf.path[:-1]: lf.value for lf in leaves if len(lf.path) >= 2 and lf.path[-1] == "build"
              and isinstance(lf.value, str) and "\0" not in lf.value}
    builds.update({lf.path[:-2]: lf.value for lf in leaves if len(lf.path) >= 3 and lf.path[-2:] == ("build", "context")
                   and isinstance(lf.value, str) and "\0" not in lf.value})
    from advisor.loaders.client_detect import POSTGRES_IMAGE

    for block, entries in _env_blocks(leaves, used):
        service = (block[1] if len(block) == 3 and block[0] == "services" and block[2] == "environment"
                   else containers.get(block[:-1], ""))
        server = bool(POSTGRES_IMAGE.search(images.get(block[:-1], "")))
        container = {"image": images.get(block[:-1], ""), "build": builds.get(block[:-1], ""), "block": ".".join(block),
                     "service": service} if block and block[-1] in ("env", "environment") else None
        endpoints.extend(env_endpoints(doc, b, ".".join(block), entries, service, server=server, container=container))
    # 2. Spring / HikariCP
    endpoints.extend(_spring(doc, b, leaves, used))
    # 3. everything else, mapping by mapping
    endpoints.extend(_groups(doc, b, leaves, used))
    endpoints.sort(key=lambda e: (e.span.line or 0, e.span.col or 0))
    names = Counter(e.name for e in endpoints)
    for e in endpoints:
        e.service_shown = bool(e.service) and names[e.name] > 1
    return endpoints


# ---------------------------------------------------------------------------- 1. environment


def _env_blocks(leaves: list[Leaf], used: set[int]) -> Iterable[tuple[tuple[str, ...], list[tuple[str, Leaf, Value]]]]:
    blocks: dict[tuple[str, ...], list[tuple[str, Leaf, Value]]] = {}
    k8s: dict[tuple[str, ...], dict[str, Leaf]] = {}
    for lf in leaves:
        p = lf.path
        # compose list form: environment: ["KEY=value"]
        if len(p) >= 2 and p[-1].isdigit() and p[-2] == "environment":
            if isinstance(lf.value, str) and "=" in lf.value:
                key, _, value = lf.value.partition("=")
                shift = len(key) + 1
                loc = Locator(lf.loc.file, lf.loc.line, lf.loc.col + shift, lf.loc.exact, lf.loc.whole)
                sub = Leaf(p[:-1] + (key,), value, value, loc, lf.key_span)
                blocks.setdefault(p[:-1], []).append((key.strip(), sub, leaf_value(sub, key.strip())))
                used.add(id(lf))
            continue
        # compose mapping form: environment: {KEY: value}
        if len(p) >= 2 and p[-2] == "environment":
            blocks.setdefault(p[:-1], []).append((p[-1], lf, leaf_value(lf, p[-1])))
            used.add(id(lf))
            continue
        # Kubernetes: env: [{name: X, value: Y}] or {name: X, valueFrom: {...}}
        for i in range(len(p) - 2, -1, -1):
            if p[i] == "env" and p[i + 1].isdigit() and i + 2 < len(p):
                field = p[i + 2]
                if field in ("name", "value") and i + 3 == len(p):
                    k8s.setdefault(p[:i + 2], {})[field] = lf
                elif field == "valueFrom":
                    k8s.setdefault(p[:i + 2], {}).setdefault("valueFrom", lf)
                break
    for item, parts in k8s.items():
        name_leaf = parts.get("name")
        if name_leaf is None or not isinstance(name_leaf.value, str):
            continue
        key = name_leaf.value
        used.add(id(name_leaf))
        if "value" in parts:
            lf = parts["value"]
            used.add(id(lf))
            blocks.setdefault(item[:-1], []).append((key, lf, leaf_value(lf, key)))
        else:
            ref = parts.get("valueFrom") or name_leaf
            blocks.setdefault(item[:-1], []).append(
                (key, ref, Value(Unknown("valueFrom"), "valueFrom", ref.loc.whole, key=key, secret=is_secret_key(key))))
    yield from blocks.items()


def env_endpoints(doc: ConfigDoc, b: Builder, block: str, entries: Iterable[tuple[str, Leaf, Value]],
                  service: str = "", server: bool = False, container: dict | None = None,
                  dotenv: bool = False) -> list[ClientEndpoint]:
    """The endpoints of one environment block. `entries` is read once (it may be a generator:
    a large .env is read without holding every variable); only the variables that may hold a
    connection string are kept for the second pass. `service`: the compose service or Kubernetes
    container whose environment it is. `server`: that container runs a PostgreSQL image, so PG*
    variables naming no host (PGUSER for pg_isready, psql) are its own tools', which libpq connects
    over the server's Unix socket (where sslmode is ignored): no client of their own. `container`:
    the image and build context of the compose service or Kubernetes container whose `env:` it
    is; each endpoint made here is then remembered with it and the block's variables
    (meta["_env_of"]), for the code that runs in that container to read them
    (advisor.loaders.clients.node_env). `dotenv`: the block is a dotenv file's, whose connection
    strings are remembered the same way (meta["_env_of"], `dotenv` set, only those variables held),
    for the one piece of code that reads them (advisor.loaders.clients.env_join); its PG* variables
    stay libpq's reading."""
    endpoints: list[ClientEndpoint] = []
    pg: dict[str, Value] = {}
    candidates: list[tuple[str, Leaf, Value, str, bool, str | None]] = []
    variables: dict[str, tuple[Value, Leaf]] | None = {} if container is not None else None
    for key, lf, v in entries:
        if variables is not None:
            variables[key] = (v, lf)
        secret = is_secret_key(key)
        if secret:
            v.secret = True
            v.raw = "***"
            v.hint = None
        record(doc, key, v, section=block or None)
        if key in PG_ENV:
            pv = Value(v.value, v.raw, v.span, "env", key, secret or PG_ENV[key] == "password", v.hint,
                       assumed=v.assumed)
            pg[PG_ENV[key]] = pv
        elif isinstance(lf.value, str):
            text = lf.value
            explicit = bool(URL_NAME.search(key))
            form = kind_of(text) if not v.unknown or "://" in text or "=" in text else None
            if explicit or form not in (None, "keyword"):  # (anything else is no connection string)
                candidates.append((key, lf, v, text, explicit, form))
    for key, lf, v, text, explicit, form in candidates:
        if form is None and v.unknown and explicit:
            endpoints.append(unknown_endpoint(b, "url", key, lf, v))
            endpoints[-1].service = service
            continue
        if form is None and not explicit:
            continue
        if form == "keyword" and not explicit:
            continue
        # a connection variable's value is a connection string, short or odd ones included
        ep = endpoint_from_string(b, key, text, lf.loc, explicit=explicit)
        if ep is None:
            continue
        ep.service = service
        if ep.driver == "libpq" and pg:
            _fill_from_env(b, ep, pg)
        endpoints.append(ep)
    if pg and not endpoints and server and "host" not in pg and "hostaddr" not in pg:
        pass  # the server container's own tools (see above)
    elif pg and not endpoints:
        first = next(v for v in pg.values())
        span = first.span or Span(doc.path)
        if container is not None:
            # a container's PG* variables: libpq reads them, and so do node-postgres, pgx and asyncpg,
            # each with its own defaults (node-postgres: no TLS without PGSSLMODE); the code that
            # runs there is not read (advisor.loaders.clients.node_env links it when it is): the
            # driver is unknown, and so are the defaults it leaves unset
            endpoints.append(library_unknown(libpq_endpoint(b, "PG* environment", span, "env", dict(pg), driver="url",
                                                            validate=False)))
        else:
            endpoints.append(libpq_endpoint(b, "PG* environment", span, "env", dict(pg)))
        endpoints[-1].service = service
        _env_connect_checks(b, pg)
    elif pg and any(ep.driver == "libpq" for ep in endpoints):
        # the PG* values fill the strings' unset parameters (_fill_from_env, which reports
        # nothing): libpq checks them like any other value, once
        first = next(v for v in pg.values())
        libpq_endpoint(b, "PG* environment", first.span or Span(doc.path), "env", dict(pg))
        _env_connect_checks(b, pg)
    if variables is not None and endpoints and not server:
        held = {**container, "env": variables, "pg": dict(pg)}
        for ep in endpoints:
            doc.meta.setdefault("_env_of", {})[id(ep)] = held
    elif dotenv and endpoints:
        held = {"image": "", "build": "", "block": block, "service": "", "dotenv": True, "pg": dict(pg),
                "env": {key: (v, lf) for key, lf, v, *_ in candidates if any(ep.name == key for ep in endpoints)}}
        for ep in endpoints:
            if ep.name in held["env"]:
                doc.meta.setdefault("_env_of", {})[id(ep)] = held
    return endpoints


def _env_connect_checks(b: Builder, pg: dict[str, Value]) -> None:
    """libpq's connect-time checks (advisor.loaders.clients.libpq.validate_values) of the PG*
    values that libpq_endpoint does not type itself: PGPORT (an integer 1..65535 per host, as many
    ports as hosts), PGTARGETSESSIONATTRS, PGGSSENCMODE, PGREQUIREAUTH... (`PGPORT=abc` is refused
    with `invalid integer value "abc" for connection option "port"`)."""
    from advisor.loaders.clients.libpq import Conninfo, ConninfoParam, validate_values

    params = tuple(ConninfoParam(key, str(v.value), -1, -1) for key, v in pg.items()
                   if v.known and not v.secret and isinstance(v.value, (str, int)))
    already = {(d.span.line, d.span.col) for d in b.diagnostics if d.span is not None}
    for p, message in validate_values(Conninfo("keyword", params, None, None)):
        v = pg.get(p.key)
        if v is None or v.span is None or (v.span.line, v.span.col) in already:
            continue
        already.add((v.span.line, v.span.col))
        fix = "PGPORT=5432 (an integer 1..65535; one per host, comma-separated)" if p.key == "port" else None
        b.invalid(v, message, fix)


def _fill_from_env(b: Builder, ep: ClientEndpoint, pg: dict[str, Value]) -> None:
    merged = dict(pg)
    merged.update(ep.params)
    if merged.keys() == ep.params.keys():
        return
    fresh = libpq_endpoint(Builder(), ep.name, ep.span, ep.form, merged, driver=ep.driver)
    for name in ("hosts", "ports", "dbname", "user", "password", "keepalive", "tcp_user_timeout", "connect_timeout",
                 "sslmode", "sslrootcert", "ssl_min_protocol_version", "ssl_max_protocol_version"):
        setattr(ep, name, getattr(fresh, name))
    ep.params = merged


def unknown_endpoint(b: Builder, driver: str, name: str, lf: Leaf, v: Value) -> ClientEndpoint:
    """A client whose connection string is a placeholder: everything about it is unknown."""
    unknown = Value(Unknown(v.raw or ""), v.raw, lf.loc.whole, key=name, hint=None if v.secret else v.hint)
    ep = ClientEndpoint(driver=driver, name=name, span=lf.loc.whole, form="unknown", template=True)
    ep.hosts = [unknown]
    ep.sslmode = unknown
    ep.connect_timeout = unknown
    ep.tcp_user_timeout = unknown
    ep.keepalive = None
    return ep


# ---------------------------------------------------------------------------- 2. Spring / Hikari



def _datasource_key(path: tuple[str, ...]) -> tuple[str, str] | None:
    """(`spring.datasource`, `hikari.max-lifetime`) for a Spring datasource key, else None.
    A named datasource below it (`spring.datasource.events.url`) is a datasource of its own, and
    a custom prefix (`app.datasource.main`) holds the pool's keys directly."""
    low = [p.replace("-", "").replace("_", "").lower() for p in path]
    if "hikari" in low:
        i = low.index("hikari")
        prefix, rest = path[:i], ".".join(path[i:])
    elif low and low[-1] in ("url", "jdbcurl", "username", "password"):
        prefix, rest = path[:-1], path[-1]
    elif "datasourceproperties" in low[:-1]:  # a custom prefix's driver properties
        i = low.index("datasourceproperties")
        prefix, rest = path[:i], ".".join(path[i:])
    elif len(low) > 1 and low[:-1] != ["spring", "datasource"] and canonical_hikari(path[-1]):
        # a custom prefix bound to a HikariDataSource holds the pool's keys directly
        # (@ConfigurationProperties("app.datasource.main")); spring.datasource binds them under .hikari
        prefix, rest = path[:-1], path[-1]
    else:
        return None
    if not any("datasource" in p for p in low[:len(prefix)]):
        return None
    return ".".join(prefix), rest


def _spring(doc: ConfigDoc, b: Builder, leaves: list[Leaf], used: set[int]) -> list[ClientEndpoint]:
    groups: dict[str, dict[str, Leaf]] = {}
    for lf in leaves:
        if id(lf) in used:
            continue
        split = _datasource_key(lf.path)
        if split:
            groups.setdefault(split[0], {})[split[1]] = lf
    # hikari.properties: Hikari keys at the top level
    top = {lf.dotted: lf for lf in leaves if id(lf) not in used and len(lf.path) >= 1
           and (canonical_hikari(lf.path[0]) or lf.path[0] == "dataSource")}
    if any(canonical_hikari(k) in ("jdbcUrl", "maxLifetime", "maximumPoolSize", "dataSourceClassName") for k in top):
        groups.setdefault("", {}).update({k: lf for k, lf in top.items()})
    endpoints = []
    for prefix, items in groups.items():
        url_leaf = None
        extra: dict[str, Value] = {}
        for rest, lf in items.items():
            used.add(id(lf))
            record(doc, f"{prefix}.{rest}" if prefix else rest, lf)
            key = rest.split(".", 1)[1] if rest.lower().startswith("hikari.") else rest
            low = key.replace("-", "").replace("_", "").lower()
            if low in ("url", "jdbcurl") and url_leaf is None:
                url_leaf = lf
                continue
            if low.startswith("datasourceproperties.") or low.startswith("datasource."):
                # a driver property beside the URL, known by the key the file writes (a fix writes it there)
                extra["dataSource." + key.split(".", 1)[1]] = leaf_value(lf, f"{prefix}.{rest}" if prefix else rest)
                continue
            if low == "username":
                extra["user"] = leaf_value(lf, "user")
                continue
            if low == "password":
                extra["password"] = leaf_value(lf, "password", secret=True)
                continue
            canon = canonical_hikari(key)
            if canon:
                extra[canon] = leaf_value(lf, key)
        # where a fix writes a Hikari setting: under the prefix the file uses (Spring Boot binds
        # `<datasource>.hikari.*`; hikari.properties has them at the top level), in its key style
        hikari_keys = [rest for rest in items if rest.lower().startswith("hikari.")]
        # a custom prefix bound to a HikariDataSource (@ConfigurationProperties("app.datasource.main"))
        # holds the pool's keys directly; Spring Boot's own spring.datasource binds them under .hikari
        direct = prefix.lower() != "spring.datasource" and any(
            "." not in rest and canonical_hikari(rest) not in (None, "jdbcUrl") for rest in items)
        written = (f"{prefix}.{hikari_keys[0].split('.', 1)[0]}." if hikari_keys
                   else f"{prefix}." if prefix and direct else f"{prefix}.hikari." if prefix else "")
        kebab = any("-" in rest for rest in (hikari_keys or list(items)))
        yaml_file = doc.path.endswith((".yml", ".yaml"))
        extra["__hikari__"] = Value((written, kebab, yaml_file), origin="default")
        name = f"{prefix}" if prefix else "hikari"
        anchor = url_leaf or next(iter(items.values()))
        if url_leaf is not None and not isinstance(url_leaf.value, str):
            continue
        text = url_leaf.value if url_leaf is not None else ""
        if url_leaf is not None and kind_of(text) == "jdbc" and (not leaf_value(url_leaf).unknown
                                                               or _defaults_only(text)):
            parsed = parse(text)
            from advisor.loaders.clients.build import params_from_string

            params = params_from_string(parsed, url_leaf.loc) if parsed else {}
            ep = jdbc_endpoint(b, name, url_leaf.loc.whole, params, extra)
        else:
            ep = jdbc_endpoint(b, name, anchor.loc.whole, {}, extra)
            if url_leaf is not None:
                v = leaf_value(url_leaf)
                ep.form = "unknown"
                ep.template = True
                if v.unknown:
                    unknown = Value(Unknown(v.raw or ""), v.raw, url_leaf.loc.whole, key="url", hint=v.hint)
                else:
                    unknown = Value(Unknown(redact_any(text)), redact_any(text), url_leaf.loc.whole, key="url")
                ep.hosts, ep.ports = [unknown], []
                ep.sslmode = unknown
                ep.connect_timeout = unknown
                ep.socket_timeout = unknown
                ep.keepalive = None
        ep.params.pop("__hikari__", None)
        if prefix.lower() == "spring.datasource" and ep.form == "jdbc":
            # (the application's name: the evidence that ties an environment override to this file)
            app = next((leaf_value(lf, "spring.application.name") for lf in leaves
                        if lf.dotted.lower() == "spring.application.name" and isinstance(lf.value, str)), None)
            ep.spring = (extra, app)
        endpoints.append(ep)
    return endpoints


def _defaults_only(text: str) -> bool:
    """A URL whose every placeholder has a default (read as the URL with the variables unset)."""
    from advisor.loaders.clients.strings import find_placeholders

    return all(h.default is not None for h in find_placeholders(text.strip()))


# ---------------------------------------------------------------------------- 3. other mappings


def _groups(doc: ConfigDoc, b: Builder, leaves: list[Leaf], used: set[int]) -> list[ClientEndpoint]:
    by_parent: dict[tuple[str, ...], list[Leaf]] = {}
    for lf in leaves:
        if id(lf) not in used:
            by_parent.setdefault(lf.path[:-1], []).append(lf)
    endpoints = []
    for parent in sorted(by_parent, key=len):  # parents first: they claim their option children
        group = [lf for lf in by_parent[parent] if id(lf) not in used]
        if not group:
            continue
        keys = {lf.key: lf for lf in group}
        # options nested one level down (engine_options:, pool:, connect_args:)
        nested: dict[str, Leaf] = {}
        for child in OPTION_CHILDREN:
            for lf in by_parent.get(parent + (child,), []):
                if id(lf) not in used:
                    nested.setdefault(lf.key, lf)
        options = {**nested, **keys}
        sqlalchemy_prefix = parent[-1:] == ("sqlalchemy",)
        ini = doc.path.endswith((".ini", ".cfg"))  # `sqlalchemy.pool_recycle = 300` (engine_from_config)
        node = [k for k in keys if k in NODE_KEYS and k not in ("max", "min", "ssl")]
        sqla = [k for k in options if k in SQLA_OPTIONS]
        ppool = [k for k in options if k in PSYCOPG_POOL_OPTIONS]
        # psycopg 3's connect keyword, under SQLAlchemy's connect_args or psycopg_pool's kwargs
        prep = [k for k in options if k in ("prepare_threshold", "prepared_statement_name_func")]
        made = False
        for lf in group:
            if not isinstance(lf.value, str) or lf.key == "connectionString" and node:
                continue
            v = leaf_value(lf)
            text = lf.value
            form = kind_of(text)
            if form is None and v.unknown and (URL_NAME.search(lf.key) or (sqlalchemy_prefix and lf.key == "url")):
                endpoints.append(unknown_endpoint(b, "sqlalchemy" if sqlalchemy_prefix else "url",
                                                  ".".join(lf.path), lf, v))
                _record_group(doc, lf, options, sqla + ppool, used)
                used.add(id(lf))
                made = True
                continue
            if form is None or (form == "keyword" and not (URL_NAME.search(lf.key) or lf.key in ("conninfo", "dsn"))):
                continue
            name = ".".join(lf.path)
            extra = {k: leaf_value(options[k], k) for k in sqla + ppool + prep}
            used.add(id(lf))
            if form == "uri" and (sqla or sqlalchemy_prefix or re.search(r"sqlalchemy", name, re.I)):
                parsed = parse(text)
                from advisor.loaders.clients.build import params_from_string

                params = params_from_string(parsed, lf.loc) if parsed else {}
                ep = sqlalchemy_endpoint(b, name, lf.loc.whole, params, extra, None, ini=sqlalchemy_prefix and ini,
                                         read=bool(sqla) or sqlalchemy_prefix)
            elif ppool and form in ("uri", "keyword"):
                ep = endpoint_from_string(b, name, text, lf.loc, extra, driver_hint="psycopg_pool")
            else:
                # a bare URL: create_engine's options are in code, not here; no default is assumed
                ep = endpoint_from_string(b, name, text, lf.loc, extra, sqlalchemy_ini=sqlalchemy_prefix and ini,
                                          engine_read=bool(sqla) or sqlalchemy_prefix)
            if ep is None:
                continue
            if ep.prepares is not None and ep.prepares.library == "psycopg":
                _psycopg_options_here(doc, ep, parent, "kwargs" if ep.driver == "psycopg_pool" else "connect_args",
                                      bool(sqla or ppool or prep or sqlalchemy_prefix and not ini))
            _record_group(doc, lf, options, sqla + ppool + prep, used)
            endpoints.append(ep)
            made = True
        if made:
            continue
        if node and ("keepAlive" in keys or len(node) >= 1 and any(k in keys for k in ("host", "connectionString", "database"))
                     or len(node) >= 2):
            opts = {k: leaf_value(lf, k, secret=k == "password") for k, lf in keys.items()}
            ssl_children = [lf for lf in by_parent.get(parent + ("ssl",), []) if id(lf) not in used]
            if ssl_children:
                first_ssl = ssl_children[0]
                opts["ssl"] = Value({lf.key: lf.value for lf in ssl_children}, "{...}", first_ssl.loc.whole, key="ssl")
                for lf in ssl_children:
                    used.add(id(lf))
                    record(doc, lf.dotted, lf)
            for lf in group:
                used.add(id(lf))
                record(doc, lf.dotted, lf)
            cs = keys.get("connectionString")
            first = min(group, key=lambda lf: (lf.key_span.line or 0, lf.key_span.col or 0))
            ep = node_endpoint(b, ".".join(parent) or "pg options", first.key_span, opts, cs.loc if cs else None)
            endpoints.append(ep)
            continue
        if sqla and any(k in ("pool_recycle", "pool_pre_ping") for k in sqla):
            extra = {k: leaf_value(options[k], k) for k in sqla}
            for k in sqla:
                used.add(id(options[k]))
                record(doc, options[k].dotted, options[k])
            first = options[sqla[0]]
            ep = sqlalchemy_endpoint(b, ".".join(parent) or "engine options", first.key_span, {}, extra, None,
                                     ini=sqlalchemy_prefix and ini)
            ep.form = "options"
            ep.sslmode = Value(Unknown("not in this file"), None, None)
            ep.keepalive = None
            endpoints.append(ep)
    return endpoints


def _psycopg_options_here(doc: ConfigDoc, ep: ClientEndpoint, parent: tuple[str, ...], child: str, here: bool) -> None:
    """Where a psycopg 3 client of a YAML/JSON/TOML options block turns prepared statements off:
    `prepare_threshold: null under app.db.connect_args`, as the file writes it. `here`: the block
    holds the engine's (pool's) options, so an unwritten prepare_threshold is psycopg's default;
    an ini file's sqlalchemy.* keys cannot hold connect_args (engine_from_config): code then."""
    ext = os.path.splitext(doc.path)[1].lower()
    under = ".".join(parent + (child,))
    if ext in (".yml", ".yaml"):
        ep.prepares.off = f"prepare_threshold: null under {under}"
    elif ext == ".json":
        ep.prepares.off = f'"{child}": {{"prepare_threshold": null}} in {".".join(parent) or "the top-level object"}'
    elif ext != ".toml":  # TOML has no null: the fix is in code
        return
    ep.prepares.read = ep.prepares.read or here


def _record_group(doc: ConfigDoc, url_leaf: Leaf, options: dict[str, Leaf], keys: list[str],
                  used: set[int] | None = None) -> None:
    record(doc, url_leaf.dotted, url_leaf)
    for k in keys:
        record(doc, options[k].dotted, options[k])
        if used is not None:
            used.add(id(options[k]))


def scan_text(doc: ConfigDoc, b: Builder, text: str, path: str) -> list[ClientEndpoint]:
    """Fallback for files no structured reader can read (templates, Ruby, shell): every
    connection URL on every line, and nothing else."""
    from advisor.loaders.clients.strings import FIND_URL

    endpoints = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip()
        if stripped.startswith(("#", "//", ";", "--")):
            continue
        for m in FIND_URL.finditer(line):
            url = m.group().rstrip(",;)")
            loc = Locator.verbatim(path, lineno, m.start() + 1, url)
            ep = endpoint_from_string(b, f"line {lineno}", url, loc)
            if ep is not None:
                doc.settings.append(Setting(name=f"url@{lineno}", raw=redact_any(url), value=redact_any(url),
                                            span=loc.whole, value_span=loc.whole))
                endpoints.append(ep)
    return endpoints
