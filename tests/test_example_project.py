"""The example site that `make demo` serves: migrations, checks, seed data, and its own tests.

The example site has its own settings and user model, so its tests
(``example_project/tests/``: seeding, re-dating, the admin's status actions)
run in a pytest of their own, started here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"


@pytest.fixture
def manage(tmp_path):
    env = {**os.environ, "DEMO_DB": str(tmp_path / "demo.sqlite3")}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=EXAMPLE,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout

    return run


def test_example_site_migrates_seeds_twice_and_passes_checks(manage):
    manage("check", "--fail-level", "WARNING")
    manage("makemigrations", "--check", "--dry-run")
    manage("migrate", "--noinput")
    first = manage("seed_demo")
    again = manage("seed_demo")
    assert "admin@example.com" in first
    assert "Demo ready" in again
    counts = manage(
        "shell",
        "-c",
        "from shop.models import Product; "
        "print(Product.objects.count(), Product.all_objects.count())",
    )
    assert counts.strip().splitlines()[-1] == "4 5"  # one product is soft-deleted


def test_the_example_sites_own_tests_pass(tmp_path):
    env = {**os.environ, "DEMO_DB": str(tmp_path / "demo.sqlite3")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout.splitlines()[-1]
    assert " failed" not in result.stdout.splitlines()[-1]
