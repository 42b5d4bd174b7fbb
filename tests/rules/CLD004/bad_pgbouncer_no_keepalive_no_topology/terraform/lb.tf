# no topology: the PgBouncer behind the rule keeps the OS keepalive timer (7200 s) and no client
# file is read: a flow idle 10 min may be dropped, a warning
resource "azurerm_lb" "pgb" {
  name                = "pgb-ilb"
  location            = "westeurope"
  resource_group_name = "rg-db"
  sku                 = "Standard"

  frontend_ip_configuration {
    name                          = "pgb-fe"
    private_ip_address            = "10.8.1.20"
    private_ip_address_allocation = "Static"
  }
}

resource "azurerm_lb_backend_address_pool" "pgb" {
  name            = "pgb-vms"
  loadbalancer_id = azurerm_lb.pgb.id
}

resource "azurerm_lb_rule" "pgb" {
  name                           = "pgb"
  loadbalancer_id                = azurerm_lb.pgb.id
  protocol                       = "Tcp"
  frontend_port                  = 6432
  backend_port                   = 6432
  frontend_ip_configuration_name = "pgb-fe"
  backend_address_pool_ids       = [azurerm_lb_backend_address_pool.pgb.id]
  idle_timeout_in_minutes        = 10
  enable_tcp_reset               = false
}
