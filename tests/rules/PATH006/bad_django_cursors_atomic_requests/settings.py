import dj_database_url

DATABASES = {
    "default": dj_database_url.parse(
        "postgres://orders@pgbouncer.internal:6432/orders?sslmode=verify-full",
        conn_max_age=60,
        conn_health_checks=True,
    ),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
