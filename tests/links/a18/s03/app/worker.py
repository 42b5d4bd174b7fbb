"""Nightly invoice worker: wakes up every hour, runs a batch, sleeps."""
import time

from psycopg_pool import ConnectionPool

pool = ConnectionPool(
    "host=pg-vip.dc1.internal port=5000 dbname=billing user=billing "
    "sslmode=verify-full sslrootcert=/etc/ssl/dc1-ca.pem "
    "keepalives_idle=60 keepalives_interval=10 keepalives_count=6",
    min_size=4,
    max_size=10,
)


def run_batch():
    with pool.connection() as conn:
        conn.execute("SELECT billing.close_open_invoices()")


if __name__ == "__main__":
    while True:
        run_batch()
        time.sleep(3600)
