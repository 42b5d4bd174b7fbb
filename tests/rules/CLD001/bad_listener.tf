resource "aws_lb_listener" "postgres" {
  load_balancer_arn        = aws_lb.pg.arn
  port                     = 5432
  protocol                 = "TCP"
  tcp_idle_timeout_seconds = 7200

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.pg.arn
  }
}
