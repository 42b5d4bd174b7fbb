resource "azurerm_postgresql_flexible_server" "payments" {
  name                   = "psql-payments-prod"
  resource_group_name    = "rg-payments-prod"
  location               = "westeurope"
  version                = "16"
  sku_name               = "GP_Standard_D4ds_v5"
  storage_mb             = 131072
  administrator_login    = "psqladmin"
  administrator_password = "Az-Flex-Admin-Pw-9931!"
  zone                   = "1"
}

resource "azurerm_postgresql_flexible_server_configuration" "max_connections" {
  name      = "max_connections"
  server_id = azurerm_postgresql_flexible_server.payments.id
  value     = "400"
}
