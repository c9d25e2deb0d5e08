"""Settings for the test suite: SQLite by default, PostgreSQL with TRACKABLE_TEST_DB=postgresql."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

if os.environ.get("TRACKABLE_TEST_DB", "sqlite") == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "postgres"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", ""),
            "PORT": os.environ.get("PGPORT", ""),
            "TEST": {"NAME": f"test_trackable_{os.getpid()}"},
        }
    }
    # A second database, for request metadata routed with TRACKABLE["DATABASE"].
    DATABASES["other"] = {
        **DATABASES["default"],
        "TEST": {"NAME": f"test_trackable_other_{os.getpid()}"},
    }
else:
    # A file, not :memory:, so tests with real threads see one database.
    _sqlite_file = str(Path(tempfile.gettempdir()) / f"trackable_test_{os.getpid()}.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _sqlite_file,
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
            "TEST": {"NAME": _sqlite_file},
        }
    }
    _other_file = str(Path(tempfile.gettempdir()) / f"trackable_test_other_{os.getpid()}.sqlite3")
    DATABASES["other"] = {
        **DATABASES["default"],
        "NAME": _other_file,
        "TEST": {"NAME": _other_file},
    }

# "other" gets django_trackable's request metadata tables only.
DATABASE_ROUTERS = ["tests.routers.OtherDatabaseMigrations"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "reversion",
    "simple_history",
    "auditlog",
    # The database queue's table, for tests/test_tasks.py (TASKS gets the backend there).
    "django_tasks_db",
    "django_trackable",
    "tests.testapp",
    "tests.adminapp",
    "tests.recordsapp",
    "tests.privacyapp",
    "tests.integrationsapp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_trackable.middleware.CurrentUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MEDIA_ROOT = str(Path(tempfile.gettempdir()) / "trackable_test_media")
STATIC_URL = "/static/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

# django.tasks on Django 6, the django-tasks backport before (TASK_BACKEND tests).
_TASKS = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
TASKS = {
    "default": {"BACKEND": f"{_TASKS}.backends.immediate.ImmediateBackend"},
    "dummy": {"BACKEND": f"{_TASKS}.backends.dummy.DummyBackend"},
}

TRACKABLE: dict[str, object] = {}
