DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "orders",
        "USER": "orders",
        "HOST": "pgbouncer.internal",
        "PORT": 6432,
        "CONN_MAX_AGE": 0,
        "DISABLE_SERVER_SIDE_CURSORS": True,
        "OPTIONS": {"sslmode": "verify-full", "server_side_binding": True, "prepare_threshold": 10},
    }
}
