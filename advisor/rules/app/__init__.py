"""APP: client drivers and pools (libpq, pgjdbc/HikariCP, SQLAlchemy, Django, psycopg_pool, pgx, node-postgres)."""
