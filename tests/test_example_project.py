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

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"


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


PAGES = """
from django.test import Client
from accounts.models import User
from shop.models import Product

client = Client(HTTP_HOST="localhost")
print("anonymous", client.get("/").status_code)
admin = User.objects.get(email="admin@example.com")
client.force_login(admin)
lamp = Product.objects.get(sku="LAMP-1")
alice = User.objects.get(email="alice@example.com")
pages = {
    "recent": "/",
    "product-history": f"/admin/shop/product/{lamp.pk}/history/",
    "user-history": f"/admin/accounts/user/{alice.pk}/history/",
    "user-change": f"/admin/accounts/user/{alice.pk}/change/",
    "deleted-product": f"/admin/shop/product/{Product.all_objects.get(sku='NOTE-1').pk}/change/",
    "activity": "/admin/django_trackable/auditlog/activity/",
}
for name, url in pages.items():
    response = client.get(url)
    html = response.content.decode()
    print(name, response.status_code, *sorted(
        marker.replace(" ", "_") for marker in (
            "trackable-diff", "changed (hidden)", "trackable-deleted-banner",
            "trackable-chart-svg", "trackable-activity-links", "/history/", "sk-live",
        )
        if marker in html
    ))
"""


def test_example_site_pages_show_history_diffs_and_charts(manage):
    manage("migrate", "--noinput")
    manage("seed_demo")

    output = manage("shell", "-c", PAGES).splitlines()
    # name -> (status, the markers found in the page)
    pages = {
        name: (status, set(markers))
        for name, status, *markers in (line.split(" ") for line in output if line[:1].islower())
    }

    assert pages["anonymous"][0] == "302"  # the recent changes page is behind login
    for name in ("recent", "product-history", "user-history", "user-change", "deleted-product"):
        status, markers = pages[name]
        assert status == "200", name
        assert "sk-live" not in markers, name
    assert {"trackable-diff", "/history/"} <= pages["recent"][1]
    assert "trackable-diff" in pages["product-history"][1]
    assert {"trackable-diff", "changed_(hidden)"} <= pages["user-history"][1]
    assert "trackable-activity-links" in pages["user-change"][1]
    assert "trackable-deleted-banner" in pages["deleted-product"][1]
    assert pages["activity"] == ("200", {"trackable-chart-svg"})
