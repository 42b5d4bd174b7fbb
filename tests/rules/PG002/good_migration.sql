-- migrate:up
ALTER ROLE app IN DATABASE orders SET idle_session_timeout TO '5min';
ALTER ROLE app SET work_mem = '64MB';
ALTER ROLE app RESET statement_timeout;
