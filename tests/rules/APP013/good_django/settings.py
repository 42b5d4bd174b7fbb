import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": os.environ["DB_PASSWORD"],
        "HOST": "pg.acme.io",
        "OPTIONS": {"sslmode": "verify-full"},
    },
    "local": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": "Mn7vB2xK9q",
        "HOST": "localhost",
    },
}
