from sqlalchemy import create_engine
engine = create_engine("postgresql+psycopg2://u:p@pg-haproxy:5000/billing", pool_size=10)
