"""What a client's pool amounts to: a SQLAlchemy URL whose engine options are not in the file has an
unknown pool plan (audit16 D1), and the most connections each pool opens at once, which PATH005
counts (audit16 D2: SQLAlchemy's max_overflow was left out)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from advisor.loaders import detect_kind, load_file
from advisor.model.client import Pool, Value, default

URL = "postgresql+psycopg2://ledger_app@127.0.0.1:5432/ledger?sslmode=disable"


def endpoints(tmp_path: Path, name: str, text: str) -> list:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    loaded = load_file(str(path), detect_kind(str(path), path.read_text()), {})
    docs = [d for d in (loaded if isinstance(loaded, list) else [loaded]) if d.kind == "client"]
    return [ep for d in docs for ep in d.model.endpoints]


K8S = f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ledger-api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ledger-api:1
          env:
            - name: DATABASE_URL
              value: "{URL}"
"""


@pytest.mark.parametrize("name, text", [
    ("k8s/deployment.yaml", K8S),
    (".env", f"DATABASE_URL={URL}\n"),
    ("docker-compose.yml", f"services:\n  api:\n    image: api:1\n    environment:\n      DATABASE_URL: \"{URL}\"\n"),
    ("config/app.yaml", f"database:\n  url: \"{URL}\"\n"),
])
def test_a_bare_sqlalchemy_url_has_an_unknown_pool_plan(tmp_path, name, text):
    (ep,) = endpoints(tmp_path, name, text)
    assert ep.driver == "sqlalchemy"
    pool = ep.pool
    assert pool is not None and pool.library == "sqlalchemy"
    assert "create_engine()'s arguments in code" in pool.unread
    for value in (pool.max_lifetime, pool.validation, pool.size, pool.overflow):
        assert value.unknown  # no default assumed: the options live in code
    most, said, _ = pool.most()
    assert most is None and said == pool.unread
    assert pool.to_dict()["unread"] == pool.unread


def test_engine_options_beside_the_url_are_read(tmp_path):
    (ep,) = endpoints(tmp_path, "config/app.yaml", f"""
        database:
          url: "{URL}"
          pool_size: 20
          max_overflow: 10
          pool_recycle: 1800
        """)
    pool = ep.pool
    assert not pool.unread
    assert (pool.size.value, pool.overflow.value, pool.max_lifetime.value) == (20, 10, 1800)
    assert pool.most() == (30, "pool_size 20 + max_overflow 10 = 30", False)


def test_create_engine_in_code_with_no_options_has_the_library_defaults(tmp_path):
    (ep,) = endpoints(tmp_path, "app/db.py", f"""
        from sqlalchemy import create_engine
        engine = create_engine("{URL}")
        """)
    pool = ep.pool
    assert not pool.unread
    assert math.isinf(pool.max_lifetime.value) and pool.validation.value is False
    assert pool.most() == (15, "pool_size 5 (default) + max_overflow 10 (default) = 15", False)


def test_create_engine_options_in_code_count_the_overflow(tmp_path):
    (ep,) = endpoints(tmp_path, "app/db.py", """
        import os
        from sqlalchemy import create_engine
        engine = create_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=15, pool_recycle=1800)
        """)
    assert ep.pool.most() == (35, "pool_size 20 + max_overflow 15 = 35", False)


def _pool(library: str, size: Value | None, **attrs) -> Pool:
    pool = Pool(library, default(math.inf), default(math.inf), default(False), size=size)
    for k, v in attrs.items():
        setattr(pool, k, v)
    return pool


@pytest.mark.parametrize("pool, expected", [
    # SQLAlchemy QueuePool: pool_size + max_overflow; pool_size 0 or max_overflow -1: no limit
    (_pool("sqlalchemy", default(5), overflow=default(10)), (15, "pool_size 5 (default) + max_overflow 10 (default) = 15", False)),
    (_pool("sqlalchemy", Value(20, key="pool_size"), overflow=Value(-1, key="max_overflow")),
     (None, "max_overflow -1: SQLAlchemy's QueuePool opens connections without a limit", False)),
    (_pool("sqlalchemy", Value(0, key="pool_size"), overflow=default(10)),
     (None, "pool_size 0: SQLAlchemy's QueuePool opens connections without a limit", False)),
    # HikariCP: maximumPoolSize, default 10, below 1 reset to 10
    (_pool("hikaricp", default(10)), (10, "maximumPoolSize 10 (default)", False)),
    (_pool("hikaricp", Value(30, key="spring.datasource.hikari.maximum-pool-size")), (30, "maximum-pool-size 30", False)),
    (_pool("hikaricp", Value(0, key="maximumPoolSize")), (10, "maximumPoolSize 0 (below 1: HikariCP uses 10)", False)),
    # psycopg_pool: max_size, else min_size, else 4
    (_pool("psycopg_pool", Value(10, key="max_size")), (10, "max_size 10", False)),
    (_pool("psycopg_pool", Value(6, key="min_size")), (6, "max_size not set = min_size 6", False)),
    (_pool("psycopg_pool", default(4)), (4, "max_size not set = min_size 4 (default)", False)),
    # pgxpool: pool_max_conns, default max(4, NumCPU): at least 4
    (_pool("pgxpool", default("max(4, NumCPU)")), (4, "pool_max_conns not set: max(4, NumCPU), at least 4", True)),
    (_pool("pgxpool", Value(25, key="pool_max_conns")), (25, "pool_max_conns 25", False)),
    # pg-pool: max, default 10
    (_pool("pg-pool", default(10)), (10, "max 10 (default)", False)),
    # asyncpg.create_pool(): max_size, default 10
    (_pool("asyncpg", default(10)), (10, "max_size 10 (default)", False)),
    (_pool("asyncpg", Value(25, key="max_size")), (25, "max_size 25", False)),
    # Django's own connections: one per process or thread, their number not in the files
    (_pool("django", None), (1, "1 connection per process or thread (how many run is not in the files read: "
                                "counted once)", True)),
])
def test_the_most_connections_a_pool_opens(pool, expected):
    assert pool.most() == expected
