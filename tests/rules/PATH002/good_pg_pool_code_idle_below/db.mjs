import pg from 'pg';

export const pool = new pg.Pool({
  host: process.env.DB_HOST || 'lb.internal',
  port: 5000,
  database: 'shop',
  idleTimeoutMillis: 270000,
  max: 20,
});

pool.on('error', (err) => console.error('idle client error', err));
