resource "aws_db_parameter_group" "orders" {
  name   = "orders-pg16"
  family = "postgres16"

  parameter {
    name         = "rds.force_ssl"
    value        = "0"
    apply_method = "pending-reboot"
  }
}
