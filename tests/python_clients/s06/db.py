import os

from psycopg_pool import ConnectionPool

pool = ConnectionPool(
    conninfo=os.environ["INGEST_DSN"],
    min_size=2,
    max_size=10,
    max_lifetime=1800,
    max_idle=300,
    timeout=10,
    check=ConnectionPool.check_connection,
    open=False,
)
