"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="pw-alice")


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("bob", password="pw-bob")


@pytest.fixture
def staff_with(django_user_model: Any) -> Any:
    """``staff_with("view_product", ...)``: a staff user with just those permissions."""
    from django.contrib.auth.models import Permission

    def make(*codenames: str) -> Any:
        user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        return user

    return make


@pytest.fixture
def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session", autouse=True)
def _close_executor_connections(django_db_setup: Any) -> Any:
    """Close the connection sync_to_async's worker thread opened, before the test DB is dropped."""
    yield
    import asyncio

    from asgiref.sync import sync_to_async
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())


@pytest.fixture
def manage(tmp_path: Path) -> Any:
    """``manage.py`` of the example site, on a throwaway database; returns stdout.

    The repository root is on the path, so the site's shell can import ``tests``.
    """
    env = {**os.environ, "DEMO_DB": str(tmp_path / "demo.sqlite3"), "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT / "example_project",
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout

    return run
