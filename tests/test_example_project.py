"""The example site that `make demo` serves: migrations, checks and seed data work."""

from __future__ import annotations


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
    assert counts.strip().splitlines()[-1] == "2 3"  # one product is soft-deleted
