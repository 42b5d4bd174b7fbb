-- Flyway V0042: per-role timeouts (DBA-4711)
ALTER DATABASE warehouse SET statement_timeout = '30s';
ALTER ROLE app_rw SET statement_timeout = '15s';
ALTER ROLE app_rw SET idle_in_transaction_session_timeout = '60s';
-- nightly finance reports run multi-hour aggregates over the fact tables
ALTER ROLE reporting SET statement_timeout = '3h';
ALTER ROLE reporting SET work_mem = '512MB';
