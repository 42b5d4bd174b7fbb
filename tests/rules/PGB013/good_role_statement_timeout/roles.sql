-- the role PgBouncer connects as has its own statement_timeout, slightly below query_timeout
ALTER ROLE app SET statement_timeout = '60s';
