DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "hr",
        "USER": "hr_app",
        "HOST": "db01.hr.internal",
        "PORT": 5432,
        "CONN_MAX_AGE": None,
        "OPTIONS": {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/pg-ca.pem"},
    }
}
