"""Benchmark settings: an SQLite file, or PostgreSQL when TRACKABLE_TEST_DB=postgresql."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SECRET_KEY = "benchmarks-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django_trackable",
    "benchmarks.benchapp",
]
MIDDLEWARE: list[str] = []
SILENCED_SYSTEM_CHECKS = ["django_trackable.W001"]

if os.environ.get("TRACKABLE_TEST_DB", "sqlite") == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("TRACKABLE_BENCH_DB", "trackable_bench"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", ""),
            "PORT": os.environ.get("PGPORT", ""),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(Path(tempfile.gettempdir()) / f"trackable_bench_{os.getpid()}.sqlite3"),
        }
    }

TRACKABLE: dict[str, object] = {}
