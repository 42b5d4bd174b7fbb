resource "aws_db_instance" "orders" {
  identifier     = "orders-prod"
  engine         = "postgres"
  engine_version = "16.3"
  instance_class = "db.r6g.large"
}
