"""seed_demo: four weeks of history that show every feature, on whatever day the demo runs."""

from __future__ import annotations

import datetime
import io
import sys
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from pricing.models import Offer
from shop.demo_dates import latest_activity
from shop.management.commands.seed_demo import ADMIN_EMAIL, ADMIN_PASSWORD, STALE_AFTER
from shop.models import Order, Product, Supplier

from django_trackable.history import to_datetime
from django_trackable.models import LoginAttempt, UserDevice, UserVisit

DAY = datetime.timedelta(days=1)


def _entries():
    User = get_user_model()
    for model in (Product, Order, Supplier, User):
        for row in model._base_manager.all():
            yield from row.history


def _story():
    """What the demo shows, to compare before and after re-dating."""
    return {
        "histories": {p.sku: [e["action"] for e in p.history] for p in Product.all_objects.all()},
        "statuses": sorted(Order.objects.values_list("status", flat=True)),
        "visits": UserVisit.objects.count(),
        "logins": LoginAttempt.objects.count(),
        "devices": UserDevice.objects.count(),
    }


def test_the_history_is_spread_over_four_weeks_up_to_now(seed):
    now = timezone.now()
    seed()
    moments = sorted(to_datetime(entry["timestamp"]) for entry in _entries())
    assert now - 29 * DAY < moments[0] < now - 27 * DAY
    assert now - datetime.timedelta(hours=1) < moments[-1] <= timezone.now()
    assert len({moment.date() for moment in moments}) >= 12


def test_orders_end_in_every_status_after_real_transitions(seed):
    seed()
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    shipped = Order.objects.get(status=Order.Status.SHIPPED)
    transitions = [e for e in shipped.history if e["action"] == "transition"]
    assert [e["changes"]["status"] for e in transitions] == [["new", "paid"], ["paid", "shipped"]]
    assert transitions[-1]["carrier"] == "DHL"


def test_one_product_stays_deleted_and_another_was_deleted_and_restored(seed):
    seed()
    assert list(Product.deleted_objects.values_list("sku", flat=True)) == ["NOTE-1"]
    mug = Product.objects.get(sku="MUG-1")
    assert [e["action"] for e in mug.history] == ["create", "delete", "restore"]
    assert mug.history[-1]["reason"] == "deleted by mistake"


def test_visits_and_logins_come_from_several_countries_and_devices(seed):
    seed()
    countries = set(UserVisit.objects.values_list("country", flat=True))
    assert countries == {"GB", "FR", "DE", "BR", "US"}
    assert set(UserVisit.objects.values_list("device_type", flat=True)) == {
        "pc",
        "mobile",
        "tablet",
    }
    assert set(UserVisit.objects.values_list("status_code", flat=True)) >= {200, 302, 404}
    failed = LoginAttempt.objects.failed()
    assert set(failed.values_list("username", flat=True)) >= {"bob@example.com", "root"}
    assert "JP" in set(failed.values_list("country", flat=True))
    alice = get_user_model().objects.get(email="alice@example.com")
    assert UserDevice.objects.for_user(alice).count() == 2


def test_the_last_day_has_changes_and_the_past_can_be_asked_about(seed):
    seed()
    now = timezone.now()
    assert Product.objects.since(now - DAY).exists()
    assert Order.objects.since(now - DAY).exists()
    lamp = Product.objects.get(sku="LAMP-1")
    assert lamp.as_of(now - 27 * DAY).price == Decimal("24.90")
    assert lamp.as_of(now - 20 * DAY).price == Decimal("22.50")
    assert lamp.as_of(now - 29 * DAY) is None
    masked = Supplier.objects.get(name="ACME").history[-1]
    assert masked["changes"] == {"api_key": ["***", "***"]}


def test_seeding_a_fresh_demo_again_changes_nothing(seed):
    seed()
    before = (_story(), latest_activity())
    assert "up to date" in seed()
    assert (_story(), latest_activity()) == before


def test_a_demo_seeded_weeks_ago_is_moved_up_to_now_as_it_was(seed):
    with time_machine.travel(timezone.now() - 40 * DAY, tick=True):
        seed()
    old_newest = latest_activity()
    old_span = old_newest - min(to_datetime(e["timestamp"]) for e in _entries())
    story = _story()
    printed = seed()
    now = timezone.now()
    assert "40 days old" in printed
    assert now - STALE_AFTER < latest_activity() <= now
    assert latest_activity() - min(to_datetime(e["timestamp"]) for e in _entries()) == old_span
    assert _story() == story  # moved, not re-seeded, and nothing recorded by the move
    lamp = Product.objects.get(sku="LAMP-1")
    assert lamp.as_of(now - 20 * DAY).price == Decimal("22.50")
    assert Product.objects.since(now - DAY).exists()
    assert Product.deleted_objects.get().date_deleted > now - 15 * DAY


def test_reset_deletes_the_changes_made_since_and_seeds_anew(seed):
    seed()
    story = _story()
    Order.objects.create(product=Product.objects.get(sku="LAMP-1"), quantity=9)
    Product.objects.filter(sku="MUG-1").delete()
    assert "deleted" in seed("--reset")
    assert _story() == story
    admin = get_user_model().objects.get(email=ADMIN_EMAIL)
    assert admin.check_password(ADMIN_PASSWORD) and admin.is_superuser


def test_the_links_name_the_address_the_demo_is_served_on(seed):
    printed = seed("--addr", "127.0.0.1:8123")
    assert "http://127.0.0.1:8123/admin/shop/order/" in printed
    assert f"{ADMIN_EMAIL} / {ADMIN_PASSWORD}" in printed


def test_without_mmdb_writer_the_demo_is_seeded_without_locations(seed, monkeypatch):
    monkeypatch.setitem(sys.modules, "mmdb_writer", None)  # its import fails
    assert "no locations" in seed()
    assert set(UserVisit.objects.values_list("country", flat=True)) == {""}


def test_seed_prices_after_seed_demo_offers_from_its_supplier_not_a_second_one(seed):
    seed()
    call_command("seed_prices", stdout=io.StringIO())
    globex = Supplier.objects.get(name__startswith="Globex")
    assert globex.name == "Globex Corporation"
    assert Offer.objects.get().supplier == globex
    assert [entry["user_repr"] for entry in globex.history] == [ADMIN_EMAIL, "bob@example.com"]


def test_seed_prices_dates_the_offers_history_on_the_days_of_its_records(db):
    call_command("seed_prices", stdout=io.StringIO())
    offer = Offer.objects.get()
    records = sorted(offer.records.values_list("created", flat=True))
    prices = [to_datetime(e["timestamp"]) for e in offer.history if "net_price" in e["changes"]]
    assert prices == records[: len(prices)]
    assert len({moment.date() for moment in prices}) == 30
