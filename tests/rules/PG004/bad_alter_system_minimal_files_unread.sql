-- the init script turns WAL down for a bulk load; max_wal_senders is left to the configuration
-- files, which are not read with it: its default 10 refuses wal_level = minimal unless they set 0
ALTER SYSTEM SET wal_level = 'minimal';
