# An Aurora PostgreSQL cluster whose DB cluster parameter group sets rds.force_ssl = 1 (its
# default there is 0): clients that do not ask for TLS are refused. Nothing is said.
resource "aws_rds_cluster_parameter_group" "orders" {
  name   = "orders-aurora-pg15"
  family = "aurora-postgresql15"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
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
