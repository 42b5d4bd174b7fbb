from psycopg_pool import ConnectionPool

pool = ConnectionPool(
    conninfo="host=pgbouncer port=6432 dbname=ingest user=ingest",
    min_size=2,
    max_size=10,
    timeout=10,
    open=False,
)
