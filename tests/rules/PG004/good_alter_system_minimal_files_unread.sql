-- the init script turns WAL down for a bulk load; max_wal_senders is left to the configuration
-- files, which are not read with it: not known, so nothing is said
ALTER SYSTEM SET wal_level = 'minimal';
