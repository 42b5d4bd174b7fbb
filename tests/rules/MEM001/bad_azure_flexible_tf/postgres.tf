# An Azure Database for PostgreSQL flexible server on GP_Standard_D2ds_v5 (2 vCores, 8 GiB). Azure
# computes its defaults from that memory when it provisions the server: shared_buffers 262144
# (2 GiB, 25 %), max_connections 859, maintenance_work_mem 216064 kB. The file raises work_mem to
# 32MB and leaves the rest at Azure's defaults: 859 connections at 32MB each is 27 GB of 8 GiB.
resource "azurerm_postgresql_flexible_server" "orders" {
  name                          = "orders-prod"
  resource_group_name           = azurerm_resource_group.orders.name
  location                      = azurerm_resource_group.orders.location
  version                       = "16"
  sku_name                      = "GP_Standard_D2ds_v5"
  storage_mb                    = 65536
  public_network_access_enabled = false
  zone                          = "1"
}

resource "azurerm_postgresql_flexible_server_configuration" "work_mem" {
  name      = "work_mem"
  server_id = azurerm_postgresql_flexible_server.orders.id
  value     = "32768"
}
