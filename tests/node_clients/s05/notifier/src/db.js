'use strict';
const { Pool } = require('pg');

// Connection settings come from PG* env vars (see deploy/notifier/deployment.yaml)
const pool = new Pool({
  max: parseInt(process.env.PG_POOL_MAX || '25', 10),
  idleTimeoutMillis: 600000,          // keep warm connections for 10 minutes
  connectionTimeoutMillis: 5000,
  keepAlive: true,
  ssl: { rejectUnauthorized: false }, // Azure requires TLS
  statement_timeout: 15000,
});

pool.on('error', (err) => {
  console.error('idle client error', err);
});

module.exports = { pool, query: (text, params) => pool.query(text, params) };
