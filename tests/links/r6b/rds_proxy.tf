resource "aws_db_proxy" "payments" {
  name                   = "payments-proxy"
  engine_family          = "POSTGRESQL"
  idle_client_timeout    = 900
  require_tls            = true
  role_arn               = aws_iam_role.rds_proxy.arn
  vpc_subnet_ids         = var.private_subnet_ids
  vpc_security_group_ids = [aws_security_group.rds_proxy.id]

  auth {
    auth_scheme = "SECRETS"
    iam_auth    = "DISABLED"
    secret_arn  = aws_secretsmanager_secret.payments_app.arn
  }
}

resource "aws_db_proxy_default_target_group" "payments" {
  db_proxy_name = aws_db_proxy.payments.name

  connection_pool_config {
    max_connections_percent      = 90
    max_idle_connections_percent = 50
    connection_borrow_timeout    = 120
  }
}

resource "aws_db_proxy_target" "payments" {
  db_instance_identifier = aws_db_instance.payments.identifier
  db_proxy_name          = aws_db_proxy.payments.name
  target_group_name      = aws_db_proxy_default_target_group.payments.name
}

resource "aws_db_parameter_group" "payments" {
  name   = "payments-pg15"
  family = "postgres15"

  parameter {
    name  = "statement_timeout"
    value = "120000"
  }
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_db_instance" "payments" {
  identifier           = "payments-prod"
  engine               = "postgres"
  engine_version       = "15.7"
  instance_class       = "db.m6g.large"
  allocated_storage    = 100
  parameter_group_name = aws_db_parameter_group.payments.name
  multi_az             = true
}

output "proxy_endpoint" {
  value = aws_db_proxy.payments.endpoint
}
