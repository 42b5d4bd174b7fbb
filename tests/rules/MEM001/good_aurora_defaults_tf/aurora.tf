# The same cluster with Aurora's default parameter groups (its cluster names none): Aurora's own
# sizing, shared_buffers about 65 % of 16 GiB beside max_connections 1802 at work_mem 4MB, is
# 19.1 GB at one work_mem per connection; no parameter of the file takes part, so nothing is said.
resource "aws_rds_cluster" "orders" {
  cluster_identifier          = "orders-prod"
  engine                      = "aurora-postgresql"
  engine_version              = "16.4"
  database_name               = "orders"
  master_username             = "orders_admin"
  manage_master_user_password = true
  storage_encrypted           = true
}

resource "aws_rds_cluster_instance" "orders" {
  count              = 2
  identifier         = "orders-prod-${count.index}"
  cluster_identifier = aws_rds_cluster.orders.id
  instance_class     = "db.r6g.large"
  engine             = aws_rds_cluster.orders.engine
  engine_version     = aws_rds_cluster.orders.engine_version
}
