"""Database engine for the billing workers."""
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

DB_USER = os.getenv("BILLING_DB_USER", "billing")
DB_PASS = os.environ["BILLING_DB_PASSWORD"]
DB_HOST = os.getenv("BILLING_DB_HOST", "pg-haproxy.billing.internal")

DATABASE_URL = f"postgresql+psycopg2://{DB_USER}:{DB_PASS}@{DB_HOST}:5000/billing"

engine = create_engine(
    DATABASE_URL,
    pool_size=10,
    max_overflow=20,
    pool_recycle=3600,      # recycle hourly
    pool_timeout=30,
    connect_args={"connect_timeout": 10, "application_name": "billing-worker"},
)

SessionLocal = sessionmaker(bind=engine, autoflush=False)
