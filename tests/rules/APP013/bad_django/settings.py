DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": "Mn7vB2xK9q",
        "HOST": "pg.acme.io",
        "OPTIONS": {"sslmode": "verify-full"},
    },
}
