"""Helpers the HAProxy rules share: which documents and proxies they look at."""

from __future__ import annotations

from typing import Iterator

from advisor.model import ConfigDoc, is_known

# which proxies carry PostgreSQL: one decision, shared with the path (advisor.path.discover)
from advisor.model.haproxy import carries_postgres as is_postgres  # noqa: F401


def haproxy_docs(ctx) -> Iterator[ConfigDoc]:
    for doc in ctx.of_kind("haproxy"):
        if doc.model is not None:
            yield doc


def known_ms(val) -> int | None:
    """The value of a timeout `Val` in ms when it is known, else None."""
    if val is None or not is_known(val.value):
        return None
    return int(val.value)
