import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": os.environ.get("DB_PASSWORD", "django-pass-app008"),
        "HOST": "db.internal",
        "CONN_MAX_AGE": 600,
    },
    "analytics": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "analytics",
        "HOST": "analytics.internal",
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": False,
    },
}
