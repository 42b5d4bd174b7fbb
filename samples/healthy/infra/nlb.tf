# The internal network load balancer in front of HAProxy (the reporting worker connects through it)
resource "aws_lb" "pg" {
  name               = "orders-pg"
  load_balancer_type = "network"
  internal           = true
}

resource "aws_lb_target_group" "haproxy" {
  name     = "orders-haproxy"
  port     = 5000
  protocol = "TCP"
  vpc_id   = var.vpc_id
}

resource "aws_lb_listener" "pg" {
  load_balancer_arn = aws_lb.pg.arn
  port              = 5000
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.haproxy.arn
  }
}
