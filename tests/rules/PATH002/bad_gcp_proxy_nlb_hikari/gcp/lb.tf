# A regional internal proxy Network Load Balancer (Envoy, scheme INTERNAL_MANAGED, protocol TCP)
# in front of the PostgreSQL VMs. timeout_sec is not set: the backend service's default, 30 s.
resource "google_compute_region_backend_service" "orders_pg" {
  name                  = "orders-pg-proxy"
  region                = "us-central1"
  load_balancing_scheme = "INTERNAL_MANAGED"
  protocol              = "TCP"
  health_checks         = [google_compute_region_health_check.pg.id]

  backend {
    group           = google_compute_region_instance_group_manager.pg.instance_group
    balancing_mode  = "UTILIZATION"
    capacity_scaler = 1.0
  }
}

resource "google_compute_region_target_tcp_proxy" "orders_pg" {
  name            = "orders-pg-proxy"
  region          = "us-central1"
  backend_service = google_compute_region_backend_service.orders_pg.id
}
