"""Client drivers and pools: connection strings, URLs and pool settings as applications keep them."""
