# azurerm 3.x attribute names (enable_floating_ip): the fix names enable_tcp_reset
resource "azurerm_lb_rule" "postgres" {
  loadbalancer_id                = azurerm_lb.pg.id
  name                           = "postgres"
  protocol                       = "Tcp"
  frontend_port                  = 5432
  backend_port                   = 5432
  frontend_ip_configuration_name = "internal"
  enable_floating_ip             = false
  idle_timeout_in_minutes        = 15
}
