# Cloud SQL for PostgreSQL — ledger service (prod)
# Owner: platform-data team. Applied from CI (terraform apply -var-file=prod.tfvars)

variable "project_id" {
  type    = string
  default = "acme-ledger-prod"
}

variable "region" {
  type    = string
  default = "europe-west1"
}

resource "google_sql_database_instance" "ledger" {
  name                = "ledger-prod-pg16"
  project             = var.project_id
  region              = var.region
  database_version    = "POSTGRES_16"
  deletion_protection = true

  settings {
    tier              = "db-custom-2-7680"   # 2 vCPU / 7.5 GB
    availability_type = "REGIONAL"
    disk_autoresize   = true
    disk_size         = 200

    ip_configuration {
      ipv4_enabled    = false
      private_network = "projects/acme-ledger-prod/global/networks/prod-vpc"
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }

    database_flags {
      name  = "max_connections"
      value = "400"
    }
    database_flags {
      name  = "work_mem"
      value = "65536" # kB = 64MB, for the monthly close reports
    }
    # kill sessions that sit idle (SRE-2211: too many idle conns from old pods)
    database_flags {
      name  = "idle_session_timeout"
      value = "300000"
    }
    database_flags {
      name  = "idle_in_transaction_session_timeout"
      value = "60000"
    }
    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "2000"
    }
  }
}

resource "google_sql_database" "ledger" {
  name     = "ledger"
  instance = google_sql_database_instance.ledger.name
}
