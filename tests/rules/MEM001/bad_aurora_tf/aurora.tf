# An Aurora PostgreSQL 16 cluster of two db.r6g.large instances (16 GiB each). The instances'
# DB parameter group raises work_mem to 64MB and leaves shared_buffers and max_connections at
# Aurora's defaults: SUM({DBInstanceClassMemory/12038},-50003) (about 65 % of the memory) and
# LEAST({DBInstanceClassMemory/9531392},5000) = 1802 connections.
resource "aws_rds_cluster_parameter_group" "orders" {
  name        = "orders-aurora-pg16"
  family      = "aurora-postgresql16"
  description = "orders cluster parameters"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_db_parameter_group" "orders" {
  name   = "orders-aurora-pg16-instance"
  family = "aurora-postgresql16"

  parameter {
    name  = "work_mem"
    value = "65536"
  }
}

resource "aws_rds_cluster" "orders" {
  cluster_identifier              = "orders-prod"
  engine                          = "aurora-postgresql"
  engine_version                  = "16.4"
  database_name                   = "orders"
  master_username                 = "orders_admin"
  manage_master_user_password     = true
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.orders.name
  storage_encrypted               = true
}

resource "aws_rds_cluster_instance" "orders" {
  count                   = 2
  identifier              = "orders-prod-${count.index}"
  cluster_identifier      = aws_rds_cluster.orders.id
  instance_class          = "db.r6g.large"
  engine                  = aws_rds_cluster.orders.engine
  engine_version          = aws_rds_cluster.orders.engine_version
  db_parameter_group_name = aws_db_parameter_group.orders.name
}
