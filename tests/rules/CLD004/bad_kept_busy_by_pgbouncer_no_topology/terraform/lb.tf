# no topology: discovery pairs the rule with the PgBouncer behind it (port 6432), whose
# keepalives (tcp_keepidle = 60, on its client sockets too) probe the flow before 10 min: an info,
# as with a topology that names the clients
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
