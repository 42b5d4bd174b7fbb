-- migrate:up
ALTER ROLE app SET statment_timeout = '30s';
ALTER SYSTEM SET max_segment_size = '64MB';
-- custom (dotted) names are accepted
ALTER DATABASE orders SET myapp.tenant = 'a';
