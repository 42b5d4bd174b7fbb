resource "aws_db_parameter_group" "orders" {
  name   = "orders-pg16"
  family = "postgres16"

  parameter {
    name         = "shared_preload_libraries"
    value        = "pg_stat_statements,pg_cron"
    apply_method = "pending-reboot"
  }

  # dynamic: immediate (the default) is right
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
}
