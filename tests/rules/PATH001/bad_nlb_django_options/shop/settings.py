# a Django client: its libpq keys live in DATABASES['default']['OPTIONS'], where the fix puts them
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop_app",
        "HOST": "db.internal",
        "PORT": "5432",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "sslmode": "verify-full",
            "connect_timeout": 5,
        },
    }
}
