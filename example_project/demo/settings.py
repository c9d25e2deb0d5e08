"""Settings of the example site: every django_trackable feature, on SQLite."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "demo-only-never-use-in-production"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_trackable",
    "accounts",
    "shop",
    "pricing",
]

MIDDLEWARE = [
    # First, so it records the status code the browser gets; it reads request.user
    # after the response, so AuthenticationMiddleware may come later.
    "django_trackable.middleware.VisitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_trackable.middleware.CurrentUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"
ASGI_APPLICATION = "demo.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # DEMO_DB lets the test suite run the demo against a throwaway file.
        "NAME": os.environ.get("DEMO_DB", BASE_DIR / "db.sqlite3"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# seed_demo writes a tiny GeoIP2 City database next to the demo database
# (see shop/demo_activity.py); use a real GeoLite2-City.mmdb for real locations.
DEMO_GEOIP = Path(DATABASES["default"]["NAME"]).with_name("demo-geoip.mmdb")

TRACKABLE = {
    # Every change is also a row of the central audit log (the admin's "Audit log"
    # and the Activity page's changes chart read it).
    "AUDIT_LOG": True,
    # Keep the newest 200 entries per row; each save costs the same however old the row is.
    "HISTORY_LIMIT": 200,
    "GEOIP_PATH": DEMO_GEOIP if DEMO_GEOIP.exists() else None,
    # The demo runs without a proxy: REMOTE_ADDR is the client (the default).
    "IP_PROXY_COUNT": 0,
    # The defaults, and the admin's JavaScript catalogue, which every admin page
    # loads: one visit per page, not two.
    "VISIT_EXCLUDE_PATHS": (
        r"^/static/",
        r"^/media/",
        r"^/favicon\.ico$",
        r"^/admin/jsi18n/$",
    ),
}
