resource "aws_db_proxy" "orders" {
  name                = "orders"
  engine_family       = "POSTGRESQL"
  idle_client_timeout = 1800
  require_tls         = false
  role_arn            = aws_iam_role.proxy.arn
  vpc_subnet_ids      = var.subnet_ids

  auth {
    auth_scheme = "SECRETS"
    iam_auth    = "DISABLED"
    secret_arn  = aws_secretsmanager_secret.orders.arn
  }
}
