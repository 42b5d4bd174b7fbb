ALTER ROLE ledger SET statement_timeout = '5min';
