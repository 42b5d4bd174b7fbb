resource "aws_db_parameter_group" "pg16" {
  name   = "orders-pg16"
  family = "postgres16"
}

resource "aws_db_instance" "orders" {
  identifier           = "orders-prod"
  engine               = "postgres"
  engine_version       = "16.3"
  instance_class       = "db.r6g.large"
  parameter_group_name = aws_db_parameter_group.pg16.name
}

resource "aws_db_proxy" "orders" {
  name                = "orders-proxy"
  engine_family       = "POSTGRESQL"
  idle_client_timeout = 900
  require_tls         = true
  role_arn            = "arn:aws:iam::123456789012:role/orders-proxy"
  vpc_subnet_ids      = ["subnet-0a1b2c3d", "subnet-1a2b3c4d"]
}

resource "aws_db_proxy_default_target_group" "orders" {
  db_proxy_name = aws_db_proxy.orders.name
}

resource "aws_db_proxy_target" "orders" {
  db_proxy_name          = aws_db_proxy.orders.name
  target_group_name      = aws_db_proxy_default_target_group.orders.name
  db_instance_identifier = aws_db_instance.orders.identifier
}
