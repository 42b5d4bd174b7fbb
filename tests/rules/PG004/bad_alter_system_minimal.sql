-- the init script turns WAL down for a bulk load
ALTER SYSTEM SET wal_level = 'minimal';
