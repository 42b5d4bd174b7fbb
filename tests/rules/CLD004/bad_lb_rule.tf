resource "azurerm_lb_rule" "postgres" {
  loadbalancer_id                = azurerm_lb.pg.id
  name                           = "postgres"
  protocol                       = "Tcp"
  frontend_port                  = 5432
  backend_port                   = 5432
  frontend_ip_configuration_name = "internal"
  idle_timeout_in_minutes        = 15
}
