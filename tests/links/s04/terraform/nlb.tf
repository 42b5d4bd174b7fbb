resource "aws_lb" "pgbouncer" {
  name               = "ledger-pgbouncer"
  internal           = true
  load_balancer_type = "network"
  subnets            = var.private_subnet_ids

  enable_cross_zone_load_balancing = true
}

resource "aws_lb_target_group" "pgbouncer" {
  name        = "ledger-pgbouncer-6432"
  port        = 6432
  protocol    = "TCP"
  vpc_id      = var.vpc_id
  target_type = "instance"

  deregistration_delay = 60

  health_check {
    protocol            = "TCP"
    port                = "6432"
    interval            = 10
    healthy_threshold   = 3
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "pgbouncer" {
  load_balancer_arn = aws_lb.pgbouncer.arn
  port              = 6432
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.pgbouncer.arn
  }
}

resource "aws_lb_target_group_attachment" "pgbouncer" {
  count            = 3
  target_group_arn = aws_lb_target_group.pgbouncer.arn
  target_id        = aws_instance.pgbouncer[count.index].id
  port             = 6432
}

resource "aws_route53_record" "pgbouncer" {
  zone_id = var.private_zone_id
  name    = "ledger-db.internal.example.com"
  type    = "A"
  alias {
    name                   = aws_lb.pgbouncer.dns_name
    zone_id                = aws_lb.pgbouncer.zone_id
    evaluate_target_health = true
  }
}
