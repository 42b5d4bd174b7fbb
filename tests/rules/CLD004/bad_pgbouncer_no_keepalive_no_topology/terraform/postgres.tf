resource "azurerm_postgresql_flexible_server" "orders" {
  name                = "psql-orders"
  resource_group_name = "rg-db"
  location            = "westeurope"
  version             = "16"
  sku_name            = "GP_Standard_D2ds_v5"
  storage_mb          = 65536
}
