"""Fixtures of the example site's tests: a throwaway GeoIP file, fast password hashing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _demo_files(settings: Any, tmp_path: Any) -> None:
    settings.DEMO_GEOIP = tmp_path / "demo-geoip.mmdb"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seed(db: Any) -> Any:
    """Run ``seed_demo`` with ``args``; returns what it printed."""

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("seed_demo", *args, stdout=out)
        return out.getvalue()

    return run
