import pg from 'pg';

// idle clients are kept an hour; HAProxy closes them after 5 min and nothing listens for 'error'
export const pool = new pg.Pool({
  host: process.env.DB_HOST || 'lb.internal',
  port: 5000,
  database: 'shop',
  idleTimeoutMillis: 3600000,
  max: 20,
});
