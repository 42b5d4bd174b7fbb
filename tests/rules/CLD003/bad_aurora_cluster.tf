# An Aurora PostgreSQL cluster whose DB cluster parameter group does not set rds.force_ssl: its
# default there is 0 (Aurora PostgreSQL parameters, default DB cluster parameter group), so
# clients with sslmode=prefer may connect in plaintext. The instances' DB parameter group cannot
# hold rds.force_ssl (a cluster-level parameter) and is not reported.
resource "aws_rds_cluster_parameter_group" "orders" {
  name   = "orders-aurora-pg15"
  family = "aurora-postgresql15"

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }
}

resource "aws_db_parameter_group" "orders" {
  name   = "orders-aurora-pg15-instance"
  family = "aurora-postgresql15"

  parameter {
    name  = "work_mem"
    value = "16384"
  }
}

resource "aws_rds_cluster" "orders" {
  cluster_identifier              = "orders-prod"
  engine                          = "aurora-postgresql"
  engine_version                  = "15.8"
  master_username                 = "orders_admin"
  manage_master_user_password     = true
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.orders.name
}

resource "aws_rds_cluster_instance" "writer" {
  identifier              = "orders-prod-1"
  cluster_identifier      = aws_rds_cluster.orders.id
  instance_class          = "db.r6g.xlarge"
  engine                  = aws_rds_cluster.orders.engine
  db_parameter_group_name = aws_db_parameter_group.orders.name
}
