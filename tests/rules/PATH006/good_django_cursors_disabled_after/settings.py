import dj_database_url

DATABASES = {
    "default": dj_database_url.parse(
        "postgres://orders@pgbouncer.internal:6432/orders?sslmode=verify-full",
        conn_max_age=60,
        conn_health_checks=True,
    ),
}
# PgBouncer runs in transaction pooling
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
