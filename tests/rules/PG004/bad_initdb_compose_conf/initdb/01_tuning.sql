ALTER SYSTEM SET synchronous_commit = 'off';
ALTER SYSTEM SET wal_level = 'minimal';
