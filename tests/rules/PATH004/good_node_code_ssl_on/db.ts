import { readFileSync } from 'fs';
import pg from 'pg';

export const pool = new pg.Pool({
  host: 'db',
  port: 5432,
  database: 'app',
  ssl: { ca: readFileSync('/etc/ssl/ca.crt', 'utf8') },
});
