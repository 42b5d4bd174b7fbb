DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "crm",
        "USER": "crm",
        "HOST": "pgbouncer.internal",
        "PORT": 6432,
        "OPTIONS": {"server_side_binding": True, "prepare_threshold": 5},
    }
}
