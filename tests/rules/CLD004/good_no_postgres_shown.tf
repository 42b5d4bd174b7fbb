resource "azurerm_lb_rule" "app" {
  loadbalancer_id                = azurerm_lb.pg.id
  name                           = "app"
  protocol                       = "Tcp"
  frontend_port                  = var.frontend_port
  backend_port                   = var.backend_port
  frontend_ip_configuration_name = "internal"
  idle_timeout_in_minutes        = 15
}
