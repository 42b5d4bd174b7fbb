DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "billing",
        "USER": "billing",
        "HOST": "10.1.0.100",
        "PORT": 5432,
        "CONN_MAX_AGE": None,
        "OPTIONS": {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/pg-ca.pem"},
    }
}
