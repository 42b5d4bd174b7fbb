import { Pool } from 'pg';

export const pool = new Pool({
  host: process.env.PGHOST ?? '10.20.4.10',
  port: 6432,
  database: 'payments',
  user: 'payments_api',
  password: process.env.PGPASSWORD,
  max: 20,
  idleTimeoutMillis: 0,
  connectionTimeoutMillis: 5000,
});
