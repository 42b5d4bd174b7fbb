const { Pool } = require('pg');

// no ssl option and no PGSSLMODE: pg connects without TLS
const pool = new Pool({
  host: 'orders-proxy.proxy-c9x8y7z6w5v4.eu-west-1.rds.amazonaws.com',
  port: 5432,
  database: 'orders',
  user: 'orders_api',
});

module.exports = pool;
