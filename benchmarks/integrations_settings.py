"""Settings for ``python -m benchmarks.integrations``: the core benchmark's, plus the peers."""

from __future__ import annotations

from benchmarks.settings import *  # noqa: F403
from benchmarks.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "reversion", "simple_history", "benchmarks.integrationapp"]
