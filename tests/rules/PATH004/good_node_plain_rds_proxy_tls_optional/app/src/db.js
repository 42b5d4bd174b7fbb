const { Pool } = require('pg');

// RDS Proxy orders-proxy has require_tls = false: a connection without TLS is accepted
const pool = new Pool({
  connectionString: 'postgres://orders_api@orders-proxy.proxy-c9x8y7z6w5v4.eu-west-1.rds.amazonaws.com:5432/orders',
  max: 20,
  ssl: false,
});

module.exports = pool;
