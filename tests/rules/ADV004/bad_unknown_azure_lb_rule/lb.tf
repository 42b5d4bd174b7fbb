# a name that is neither an address nor a rule's own name: the fix lists both forms
resource "azurerm_lb" "pg" {
  name                = "pg-ilb"
  location            = var.location
  resource_group_name = var.rg
  sku                 = "Standard"
}

resource "azurerm_lb_rule" "pg" {
  loadbalancer_id                = azurerm_lb.pg.id
  name                           = "postgres"
  protocol                       = "Tcp"
  frontend_port                  = 5432
  backend_port                   = 5432
  frontend_ip_configuration_name = "pg-frontend"
  idle_timeout_in_minutes        = 30
  enable_tcp_reset               = true
}

resource "azurerm_lb_rule" "metrics" {
  loadbalancer_id                = azurerm_lb.pg.id
  name                           = "metrics"
  protocol                       = "Tcp"
  frontend_port                  = 9187
  backend_port                   = 9187
  frontend_ip_configuration_name = "pg-frontend"
  idle_timeout_in_minutes        = 4
}
