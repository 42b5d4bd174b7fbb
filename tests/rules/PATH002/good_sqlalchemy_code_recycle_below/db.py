"""Database engine for the billing workers (audit15 s03, with the URL written out)."""
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

RECYCLE_S = 1500
DATABASE_URL = "postgresql+psycopg2://billing@pg-haproxy.billing.internal:5000/billing"

engine = create_engine(
    DATABASE_URL,
    pool_size=10,
    max_overflow=20,
    pool_recycle=RECYCLE_S,  # below HAProxy's 30 min
    pool_timeout=30,
    connect_args={"connect_timeout": 10, "application_name": "billing-worker",
                  "password": os.environ["BILLING_DB_PASSWORD"]},
)

SessionLocal = sessionmaker(bind=engine, autoflush=False)
