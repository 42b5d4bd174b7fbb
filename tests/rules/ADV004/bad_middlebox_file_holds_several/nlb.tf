resource "aws_lb" "pg" {
  name               = "pg"
  load_balancer_type = "network"
  internal           = true
}

resource "aws_lb_listener" "primary" {
  load_balancer_arn        = aws_lb.pg.arn
  port                     = 5432
  protocol                 = "TCP"
  tcp_idle_timeout_seconds = 1800
}

resource "aws_lb_listener" "replica" {
  load_balancer_arn        = aws_lb.pg.arn
  port                     = 5433
  protocol                 = "TCP"
  tcp_idle_timeout_seconds = 60
}
