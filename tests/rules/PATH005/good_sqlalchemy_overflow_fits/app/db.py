"""inventory-sync: SQLAlchemy engine (runs on 4 app VMs, systemd service inventory-sync@.service)."""
from sqlalchemy import create_engine

engine = create_engine(
    "postgresql+psycopg2://inventory@10.20.0.100:5000/inventory?sslmode=disable",
    pool_size=20,
    max_overflow=4,   # 4 VMs × (20 + 4) = 96 ≤ 100 − 3
    pool_recycle=7200,
    pool_timeout=10,
)
