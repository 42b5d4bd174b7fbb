# a Django client that does not verify the server: the fix goes in its OPTIONS dict
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "HOST": "db.internal.example.com",
        "OPTIONS": {
            "sslmode": "require",
        },
    }
}
