"""Helpers the HAProxy rules share: which documents and proxies they look at."""

from __future__ import annotations

import re
from typing import Iterator

from advisor import lazy_re
from advisor.model import ConfigDoc, is_known

PG_PORTS = (5432, 6432)
_PG_NAME = lazy_re.compile(r"postgres|pgsql|pgbouncer|patroni|(^|[-_.])pg([-_.0-9]|$)", re.IGNORECASE)


def haproxy_docs(ctx) -> Iterator[ConfigDoc]:
    for doc in ctx.of_kind("haproxy"):
        if doc.model is not None:
            yield doc


def is_postgres(proxy, model) -> bool:
    """A backend (or listen) that leads to PostgreSQL or PgBouncer, as far as the file tells.

    Server port 5432/6432, `option pgsql-check`, a name with postgres/pg/pgbouncer/patroni in
    it, or a frontend/listen bound to 5432/6432 that routes to it.
    """
    if any(isinstance(s.port, int) and s.port in PG_PORTS for s in proxy.servers):
        return True
    if proxy.option("pgsql-check") is not None and proxy.option("pgsql-check").value is True:
        return True
    if proxy.name and _PG_NAME.search(proxy.name):
        return True
    for route in model.routes():
        if route.back is proxy and any(b.port in PG_PORTS for b in route.front.binds):
            return True
    return False


def known_ms(val) -> int | None:
    """The value of a timeout `Val` in ms when it is known, else None."""
    if val is None or not is_known(val.value):
        return None
    return int(val.value)
