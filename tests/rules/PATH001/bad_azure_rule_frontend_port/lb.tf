
resource "azurerm_lb_rule" "pg_primary" {
  name                    = "pg-primary-5432"
  protocol                = "Tcp"
  frontend_port           = 5432
  backend_port            = 5432
  idle_timeout_in_minutes = 30
  tcp_reset_enabled       = true
}

resource "azurerm_lb_rule" "pg_replica" {
  name              = "pg-replica-5433"
  protocol          = "Tcp"
  frontend_port     = 5433
  backend_port      = 5432
  tcp_reset_enabled = true
}
