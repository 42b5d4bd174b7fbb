# a database on the same machine: nothing but a restart of that server closes the connections
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "HOST": "localhost",
        "PORT": "5432",
        "CONN_MAX_AGE": 300,
    },
    "socket": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "HOST": "",
        "CONN_MAX_AGE": None,
    },
}
