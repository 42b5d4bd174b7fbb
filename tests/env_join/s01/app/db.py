"""Database engine for ledger-api."""
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

DATABASE_URL = os.environ["DATABASE_URL"]

engine = create_engine(
    DATABASE_URL,
    pool_size=20,
    max_overflow=15,
    pool_recycle=1800,      # recycle every 30 min
    pool_pre_ping=False,    # pre-ping costs a round trip per checkout, disabled (PERF-88)
    connect_args={"password": os.environ["DB_PASSWORD"], "application_name": "ledger-api"},
)

SessionLocal = sessionmaker(bind=engine, autoflush=False)
