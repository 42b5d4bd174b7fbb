"""Shared helpers of the APP rules: the client endpoints of a run and how to show their values."""

from __future__ import annotations

import math
from typing import Iterator

from advisor.model import ConfigDoc, Span


def endpoints(ctx) -> Iterator[tuple[ConfigDoc, object]]:
    """(document, endpoint) for every client endpoint loaded in the run, in file order."""
    for doc in ctx.of_kind("client"):
        model = doc.model
        for ep in getattr(model, "endpoints", ()) or ():
            yield doc, ep


def fallbacks(ctx) -> Iterator[tuple[ConfigDoc, object]]:
    """(document, endpoint) for each default URL in code that reads its URL from a variable a
    container sets (`os.environ.get("DATABASE_URL", "postgresql://...")`): it runs only where the
    variable is unset, so it is on no path, but it is written in the file
    (advisor.loaders.clients.env_join)."""
    for doc in ctx.of_kind("client"):
        for ep in doc.meta.get("_fallbacks", ()):
            yield doc, ep


def where(value, ep) -> Span:
    """The span of a value when it was written, else the endpoint's."""
    if value is not None and getattr(value, "span", None) is not None and value.origin in ("set", "env"):
        return value.span
    return ep.span


def secs(x: float) -> str:
    if math.isinf(x):
        return "never"
    return f"{x:g} s"


def said(value, name: str) -> str:
    """A pool timer as the file writes it, the seconds after it: `keepaliveTime=900000 (900 s)`,
    `max-lifetime=3600000 (3600 s)`; `maxLifetime 1800 s (default)` when not written;
    `max-lifetime=1800000 (1800 s; assumed: the default of ${MAX_LIFETIME})` for a placeholder's default."""
    figure = secs(float(value.value)) if isinstance(value.value, (int, float)) else str(value.value)
    note = getattr(value, "assumed_note", "")
    if value.origin in ("set", "env") and value.raw not in (None, "") and getattr(value, "key", None):
        return f"{value.key}={value.display} ({figure}{'; ' + note if note else ''})"
    return f"{name} {figure}" + origin_note(value)


def origin_note(value) -> str:
    return {"default": " (default)", "os-default": " (OS default)", "env": " (from the environment)"}.get(value.origin, "")


def unix_only(ep) -> bool:
    return bool(ep.hosts) and all(h.known and str(h.value).startswith(("/", "@")) for h in ep.hosts)


def crosses_a_network(ep) -> bool:
    """True when the client names a host reached over a network (advisor.rules.rule.network_host):
    not loopback, a socket or a bare service name."""
    from advisor.rules.rule import network_host

    return any(network_host(host) for h in ep.hosts if h.known for host in str(h.value).split(","))


def same_machine(ep) -> bool:
    """Every host the client names is its own machine: loopback, a Unix socket, or empty (libpq's
    and Django's default, the socket)."""
    from advisor.model.host import loopback

    hosts = [str(h.value).strip() for h in ep.hosts if h.known]
    return len(hosts) == len(ep.hosts) and all(not host or loopback(host) for host in hosts)


LIBPQ_FAMILY = ("libpq", "django", "psycopg_pool", "rails", "url")


def libpq_keys(ep, pairs) -> str:
    """libpq connection keys of a fix (`pairs`: (key, value)), written where this client keeps
    them: entries of a Django database's OPTIONS dict (`"keepalives_idle": 170, ... in
    DATABASES['default']['OPTIONS']`, which Django passes to libpq), the query of a SQLAlchemy URL
    (`keepalives_idle=170&... in the query of the URL`, which psycopg passes to libpq; or
    create_engine's connect_args), a section of a service file, else the connection string
    (`keepalives_idle=170 ... in the connection string`)."""
    import json

    if ep.driver == "django":
        entries = ", ".join(f'"{k}": {v if isinstance(v, int) else json.dumps(str(v))}' for k, v in pairs)
        return f"{entries} in {ep.name}['OPTIONS']"
    if ep.driver == "rails" and any(k in ep.url_keys for k, _ in pairs):
        # the URL's values win over the section's (ActiveRecord's UrlConfig): the fix goes in the URL
        return (f"{'&'.join(f'{k}={v}' for k, v in pairs)} in the query of its URL (whose values win over the keys "
                f"under {ep.name} in database.yml)")
    if ep.driver == "rails":  # ActiveRecord hands libpq's keywords in database.yml to PG::Connection
        entries = ", ".join(f"{k}: {v}" for k, v in pairs)
        return f"{entries} under {ep.name} in database.yml"
    if ep.driver == "sqlalchemy":
        return (f"{'&'.join(f'{k}={v}' for k, v in pairs)} in the query of the URL ({ep.who()}), or "
                "the same keys in create_engine's connect_args")
    if ep.driver == "libpq" and ep.dbapi in ("psycopg", "psycopg2"):
        # a plain connection made in code: its keyword arguments are libpq's
        args = ", ".join(f"{k}={v if isinstance(v, int) else json.dumps(str(v))}" for k, v in pairs)
        return f"{args} in {ep.dbapi}.connect() ({ep.who()}; or the same keys in its connection string)"
    keys = " ".join(f"{k}={v}" for k, v in pairs)
    if ep.form == "service":
        return f"{keys} in [{ep.name.removeprefix('service ')}] of the service file (one key=value per line)"
    return f"{keys} in the connection string"


def is_libpq_family(ep) -> bool:
    if ep.driver == "sqlalchemy":
        return ep.dbapi in ("psycopg", "psycopg2", "psycopg_async", "psycopg2cffi")
    return ep.driver in LIBPQ_FAMILY
