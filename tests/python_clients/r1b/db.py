import os
from sqlalchemy import create_engine
DB_HOST = os.getenv("DB_HOST", "pg-haproxy")
engine = create_engine(f"postgresql+psycopg2://u:p@{DB_HOST}:5000/billing", pool_size=10)
