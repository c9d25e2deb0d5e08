"""Settings for ``python -m benchmarks.middleware``: SQLite file, or PostgreSQL with
TRACKABLE_TEST_DB=postgresql (and PG* variables, as ``.ci/with-postgres.sh`` exports)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SECRET_KEY = "benchmarks-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_trackable",
]
ROOT_URLCONF = "benchmarks.middleware_urls"
# Each handler gets its own stack; see benchmarks.middleware.
MIDDLEWARE: list[str] = []
SILENCED_SYSTEM_CHECKS = ["django_trackable.W001"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if os.environ.get("TRACKABLE_TEST_DB", "sqlite") == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("TRACKABLE_BENCH_DB", "trackable_bench_middleware"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", ""),
            "PORT": os.environ.get("PGPORT", ""),
            # Persistent, as in production: no connect per request.
            "CONN_MAX_AGE": None,
        }
    }
else:
    _file = Path(tempfile.gettempdir()) / f"trackable_bench_middleware_{os.getpid()}.sqlite3"
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_file),
            "CONN_MAX_AGE": None,
            # WAL without a sync per commit: measure the ORM and SQL, not the disk.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"},
        }
    }

TRACKABLE: dict[str, object] = {"VISIT_ANONYMOUS": True}
