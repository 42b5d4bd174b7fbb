"""PostgreSQL's settings per major (pgNN.py, built from pgNN.json) and PgBouncer's (pgbouncer.py)."""

# The newest PgBouncer version pgbouncer.py knows (its NEWEST): here, so that a run without a
# PgBouncer document names its default PgBouncer version without importing the whole table.
PGBOUNCER_NEWEST = (1, 25)
