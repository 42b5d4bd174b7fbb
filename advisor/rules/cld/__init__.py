"""CLD: cloud load balancers, NAT gateways, RDS Proxy and managed PostgreSQL (loaders: advisor/loaders/cloud.py, terraform.py)."""
