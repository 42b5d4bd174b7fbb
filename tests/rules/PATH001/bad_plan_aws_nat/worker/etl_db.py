"""Connection pool for the nightly/near-real-time ETL workers (ECS, private subnets, egress via NAT)."""
import os

from psycopg_pool import ConnectionPool

pool = ConnectionPool(
    "host=analytics-prod.c9akciq32.us-east-1.rds.amazonaws.com port=5432 dbname=analytics "
    "user=etl_writer sslmode=prefer application_name=etl-worker",
    min_size=4,
    max_size=16,
    max_idle=600,
    kwargs={"password": os.environ.get("ETL_DB_PASSWORD")},
)
