import os

from sqlalchemy import create_engine

REPORTING_URL = os.environ.get(
    "REPORTING_DATABASE_URL",
    "postgresql+psycopg2://reporting@10.30.0.5:5432/warehouse?sslmode=require&application_name=finance-reports",
)

engine = create_engine(REPORTING_URL, pool_size=2, max_overflow=0, pool_recycle=1800, pool_pre_ping=True)
