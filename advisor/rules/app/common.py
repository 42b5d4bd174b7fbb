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


def where(value, ep) -> Span:
    """The span of a value when it was written, else the endpoint's."""
    if value is not None and getattr(value, "span", None) is not None and value.origin in ("set", "env"):
        return value.span
    return ep.span


def secs(x: float) -> str:
    if math.isinf(x):
        return "never"
    return f"{x:g} s"


def origin_note(value) -> str:
    return {"default": " (default)", "os-default": " (OS default)", "env": " (from the environment)"}.get(value.origin, "")


def unix_only(ep) -> bool:
    return bool(ep.hosts) and all(h.known and str(h.value).startswith(("/", "@")) for h in ep.hosts)


LIBPQ_FAMILY = ("libpq", "django", "psycopg_pool", "url")


def is_libpq_family(ep) -> bool:
    if ep.driver == "sqlalchemy":
        return ep.dbapi in ("psycopg", "psycopg2", "psycopg_async", "psycopg2cffi")
    return ep.driver in LIBPQ_FAMILY
