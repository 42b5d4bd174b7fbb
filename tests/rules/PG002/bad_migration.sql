\set ON_ERROR_STOP on
-- migrate:up
ALTER ROLE app IN DATABASE orders SET idle_session_timeout TO '5 min';
ALTER ROLE app SET work_mem = '64mb';
ALTER ROLE :"PGUSER" SET statement_timeout = :'timeout';
