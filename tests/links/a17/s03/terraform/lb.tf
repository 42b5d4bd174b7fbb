resource "azurerm_lb" "pgbouncer" {
  name                = "pgbouncer-ilb"
  location            = "westeurope"
  resource_group_name = "rg-payments-prod"
  sku                 = "Standard"

  frontend_ip_configuration {
    name                          = "pgbouncer-fe"
    subnet_id                     = "/subscriptions/0000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/data"
    private_ip_address            = "10.20.4.10"
    private_ip_address_allocation = "Static"
  }
}

resource "azurerm_lb_backend_address_pool" "pgbouncer" {
  name            = "pgbouncer-vms"
  loadbalancer_id = azurerm_lb.pgbouncer.id
}

resource "azurerm_lb_probe" "pgbouncer" {
  name            = "pgbouncer-6432"
  loadbalancer_id = azurerm_lb.pgbouncer.id
  protocol        = "Tcp"
  port            = 6432
}

resource "azurerm_lb_rule" "pgbouncer" {
  name                           = "pgbouncer"
  loadbalancer_id                = azurerm_lb.pgbouncer.id
  protocol                       = "Tcp"
  frontend_port                  = 6432
  backend_port                   = 6432
  frontend_ip_configuration_name = "pgbouncer-fe"
  backend_address_pool_ids       = [azurerm_lb_backend_address_pool.pgbouncer.id]
  probe_id                       = azurerm_lb_probe.pgbouncer.id
  idle_timeout_in_minutes        = 15
  enable_tcp_reset               = false
}
