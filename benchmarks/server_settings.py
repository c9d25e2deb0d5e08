"""Settings of the site ``python -m benchmarks.server`` serves with uvicorn and gunicorn.

``TRACKABLE_BENCH_MODE`` picks the site: ``plain`` (Session and Authentication
middleware, an untracked model), ``stamped`` (the same, the model with a tracked
model's columns, its users set by the view), ``tracking`` (plus CurrentUserMiddleware, a
tracked model), ``visits`` (plus VisitMiddleware) or ``buffered`` (visits
with ``VISIT_BUFFER_SIZE = 100``). The database is the
SQLite file or PostgreSQL database ``TRACKABLE_BENCH_DB`` names, shared by the
benchmark and the servers' workers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MODE = os.environ.get("TRACKABLE_BENCH_MODE", "plain")
CONN_MAX_AGE = 0 if os.environ.get("TRACKABLE_BENCH_SERVER") == "uvicorn" else None

SECRET_KEY = "benchmarks-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_trackable",
    "benchmarks.benchapp",
]
ROOT_URLCONF = "benchmarks.server_site"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
if MODE not in ("plain", "stamped"):
    MIDDLEWARE.append("django_trackable.middleware.CurrentUserMiddleware")
if MODE in ("visits", "buffered"):
    MIDDLEWARE.insert(0, "django_trackable.middleware.VisitMiddleware")
# A failed request is printed by the server, not mailed.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "ERROR"}},
}
SILENCED_SYSTEM_CHECKS = ["django_trackable.W001"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TRACKABLE: dict[str, object] = {"VISIT_BUFFER_SIZE": 100} if MODE == "buffered" else {}

if os.environ.get("TRACKABLE_TEST_DB", "sqlite") == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("TRACKABLE_BENCH_DB", "trackable_bench_server"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", ""),
            "PORT": os.environ.get("PGPORT", ""),
            # Persistent under WSGI; under ASGI Django's per-request threads
            # would each keep one open, so a connection per request there.
            "CONN_MAX_AGE": CONN_MAX_AGE,
        }
    }
else:
    _file = Path(tempfile.gettempdir()) / "trackable_bench_server.sqlite3"
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("TRACKABLE_BENCH_DB", str(_file)),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                "timeout": 30,
            },
        }
    }
