const { Pool } = require('pg');

// host, port and database come from PGHOST, PGPORT, PGDATABASE (deployment.yaml)
module.exports = new Pool({
  max: Number(process.env.DB_POOL_MAX ?? 10),
});
