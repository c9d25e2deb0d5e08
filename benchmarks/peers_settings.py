"""Settings for ``python -m benchmarks.peers``: the core benchmark's, plus the peer libraries.

django-pghistory works by PostgreSQL triggers, so its apps are installed only there.
"""

from __future__ import annotations

import os

from benchmarks.settings import *  # noqa: F403
from benchmarks.settings import DATABASES, INSTALLED_APPS

POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

INSTALLED_APPS = [*INSTALLED_APPS, "simple_history", "auditlog", "benchmarks.peerapp"]
if POSTGRESQL:
    INSTALLED_APPS += ["pgtrigger", "pghistory", "benchmarks.peerapp_pg"]
    # A database of its own, so the peers' tables never mix with the core benchmark's.
    DATABASES = {
        "default": {
            **DATABASES["default"],
            "NAME": os.environ.get("TRACKABLE_BENCH_DB", "trackable_bench_peers"),
        }
    }
