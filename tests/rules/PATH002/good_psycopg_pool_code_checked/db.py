import os

from psycopg_pool import ConnectionPool

pool = ConnectionPool(
    conninfo="host=pgbouncer port=6432 dbname=ingest user=ingest",
    min_size=2,
    max_size=10,
    max_lifetime=1800,
    max_idle=300,
    timeout=10,
    check=ConnectionPool.check_connection,
    kwargs={"password": os.environ["INGEST_PASSWORD"]},
    open=False,
)
