-- each role PgBouncer logs in as has its own statement_timeout, slightly below query_timeout
ALTER ROLE orders_app SET statement_timeout = '60s';
ALTER ROLE billing_app SET statement_timeout = '60s';
