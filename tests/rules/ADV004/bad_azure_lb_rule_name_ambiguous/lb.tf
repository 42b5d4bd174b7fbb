# two load balancers each with a rule named "postgres" (Azure rule names are unique per load
# balancer only): the topology's name: postgres names both, and the fix lists their addresses
resource "azurerm_lb_rule" "primary" {
  loadbalancer_id                = azurerm_lb.primary.id
  name                           = "postgres"
  protocol                       = "Tcp"
  frontend_port                  = 5432
  backend_port                   = 5432
  frontend_ip_configuration_name = "primary"
  idle_timeout_in_minutes        = 30
}

resource "azurerm_lb_rule" "replica" {
  loadbalancer_id                = azurerm_lb.replica.id
  name                           = "postgres"
  protocol                       = "Tcp"
  frontend_port                  = 5432
  backend_port                   = 5432
  frontend_ip_configuration_name = "replica"
  idle_timeout_in_minutes        = 4
}
