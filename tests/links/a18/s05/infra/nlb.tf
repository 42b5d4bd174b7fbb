resource "aws_lb" "orders_db" {
  name               = "orders-db-nlb"
  internal           = true
  load_balancer_type = "network"
  subnets            = ["subnet-0a1b2c3d", "subnet-1a2b3c4d"]
}

resource "aws_lb_target_group" "orders_db" {
  name        = "orders-db-5432"
  port        = 5432
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = "vpc-0123456789abcdef0"

  health_check {
    protocol = "TCP"
    port     = "5432"
  }
}

resource "aws_lb_target_group_attachment" "primary" {
  target_group_arn = aws_lb_target_group.orders_db.arn
  target_id        = "10.40.3.17"
  port             = 5432
}

resource "aws_lb_listener" "orders_db" {
  load_balancer_arn        = aws_lb.orders_db.arn
  port                     = 5432
  protocol                 = "TCP"
  tcp_idle_timeout_seconds = 120

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.orders_db.arn
  }
}
