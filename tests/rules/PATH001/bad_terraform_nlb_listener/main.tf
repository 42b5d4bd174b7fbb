resource "aws_lb" "pg" {
  name               = "pg"
  load_balancer_type = "network"
  internal           = true
}

resource "aws_lb_target_group" "pg" {
  name     = "pg"
  port     = 5432
  protocol = "TCP"
  vpc_id   = var.vpc_id
}

resource "aws_lb_listener" "pg" {
  load_balancer_arn        = aws_lb.pg.arn
  port                     = 5432
  protocol                 = "TCP"
  tcp_idle_timeout_seconds = 600

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.pg.arn
  }
}
