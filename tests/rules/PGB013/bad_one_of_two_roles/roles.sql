-- only one of the two roles has its own statement_timeout
ALTER ROLE orders_app SET statement_timeout = '60s';
