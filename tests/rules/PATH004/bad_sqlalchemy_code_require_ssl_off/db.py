from sqlalchemy import create_engine

engine = create_engine(
    "postgresql+psycopg2://app@db:5432/app",
    pool_pre_ping=True,
    connect_args={"sslmode": "require"},
)
