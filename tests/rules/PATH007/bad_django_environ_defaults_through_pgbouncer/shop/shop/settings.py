import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["shop.example.com"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "catalog",
    "orders",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": os.environ.get("DB_PASSWORD", ""),
        "HOST": os.environ.get("DB_HOST", "pgbouncer"),
        "PORT": os.environ.get("DB_PORT", "6432"),
        # keep connections around between requests
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "options": "-c statement_timeout=30000",
        },
    },
    "reporting": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop_reporting",
        "USER": "shop",
        "PASSWORD": os.environ.get("DB_PASSWORD", ""),
        "HOST": os.environ.get("DB_HOST", "pgbouncer"),
        "PORT": os.environ.get("DB_PORT", "6432"),
        "CONN_MAX_AGE": 600,
    },
}

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
STATIC_URL = "static/"
