DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "HOST": "db.internal",
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
    },
    "batch": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "batch",
        "HOST": "db.internal",
        "CONN_MAX_AGE": 0,
    },
}
