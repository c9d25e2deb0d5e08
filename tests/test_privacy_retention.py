"""Retention of in-row history and of the audit log: purge_history(), purge_audit_log()."""

from __future__ import annotations

import argparse
import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_trackable import acting_as, tracking_disabled
from django_trackable.management.commands.trackable_purge import parse_age
from django_trackable.models import AuditLog
from django_trackable.privacy import purge_audit_log, purge_history
from tests.testapp.models import Gadget, Product, Restaurant

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def days_ago(n):
    return time_machine.travel(NOW - n * DAY, tick=False)


def purge(*args):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("trackable_purge", "--visits", "never", "--logins", "never", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def aged(alice):
    """Products changed 800, 400 and 10 days ago, and one last changed 800 days ago."""
    with days_ago(800), acting_as(alice):
        fresh = Product.objects.create(name="fresh")
        stale = Product.objects.create(name="stale")
    with days_ago(400):
        fresh.price = 1
        fresh.save()
        stale.price = 2
        stale.save()
    with days_ago(10):
        fresh.price = 3
        fresh.save()
    lonely = None
    with days_ago(800):
        lonely = Product.objects.create(name="lonely")
    return fresh, stale, lonely


def histories():
    return dict(Product.objects.values_list("pk", "history"))


def test_entries_older_than_the_period_go_and_each_row_keeps_its_newest(aged):
    fresh, stale, lonely = aged
    before = histories()

    with time_machine.travel(NOW, tick=False):
        counts = purge_history(365 * DAY)

    after = histories()
    assert after[fresh.pk] == before[fresh.pk][2:]  # the 10-day-old entry
    assert after[stale.pk] == before[stale.pk][1:]  # its newest, 400 days old, stays
    assert after[lonely.pk] == before[lonely.pk]  # a single entry is always the newest
    product = next(c for c in counts if c.target == "testapp.Product")
    assert (product.rows, product.entries) == (2, 3)


def test_since_and_history_since_are_the_same_after_a_purge(aged):
    moments = [NOW - n * DAY for n in (1000, 500, 365, 100, 5)]
    before = {t: set(Product.objects.since(t).values_list("pk", flat=True)) for t in moments}
    entries = {p.pk: p.history_since(NOW - 365 * DAY) for p in Product.objects.all()}

    with time_machine.travel(NOW, tick=False):
        purge_history(365 * DAY)

    assert {
        t: set(Product.objects.since(t).values_list("pk", flat=True)) for t in moments
    } == before
    for product in Product.objects.all():
        assert product.history_since(NOW - 365 * DAY) == entries[product.pk]
        assert product.history, "every row keeps an entry"


def test_a_purge_with_a_cutoff_time_and_a_dry_run_changes_nothing(aged):
    before = histories()

    counts = purge_history(NOW - 365 * DAY, dry_run=True)

    assert histories() == before
    product = next(c for c in counts if c.target == "testapp.Product")
    assert (product.rows, product.entries) == (2, 3)
    again = purge_history(NOW - 365 * DAY)
    assert next(c for c in again if c.target == "testapp.Product") == product


def test_a_second_purge_removes_nothing(aged):
    purge_history(NOW - 365 * DAY)
    before = histories()

    counts = purge_history(NOW - 365 * DAY)

    assert histories() == before
    assert sum(c.rows for c in counts) == 0


def test_timestamps_are_compared_as_instants_whatever_their_offset(alice):
    cutoff = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
    entries = [
        {"action": "create", "timestamp": "2026-01-01T13:30:00.000000+02:00"},  # 11:30 UTC
        {"action": "update", "timestamp": "2026-01-01T11:30:00.000000-02:00"},  # 13:30 UTC
        {"action": "update", "timestamp": "2026-01-01T11:59:59.998Z"},
        {"action": "update", "timestamp": "2026-01-01T12:00:00.5+00:00"},
        {"action": "update", "timestamp": "2025-06-01T00:00:00.000000+00:00"},
    ]
    with tracking_disabled():
        product = Product.objects.create(name="p", history=entries)

    purge_history(cutoff)

    product.refresh_from_db()
    assert product.history == [entries[1], entries[3], entries[4]]  # the newest stays


def test_entries_without_a_usable_timestamp_are_kept(alice):
    odd = [
        {"action": "create", "timestamp": "not a date"},
        {"action": "update", "timestamp": 12345},
        {"action": "update"},
        "a string",
        None,
        {"action": "update", "timestamp": "2000-01-01T00:00:00+00:00", "flag": True},
        {"action": "update", "timestamp": "2000-01-02T00:00:00+00:00"},
    ]
    with tracking_disabled():
        product = Product.objects.create(name="p", history=odd)
        weird = Product.objects.create(name="q", history={"timestamp": "2000-01-01T00:00:00+00:00"})

    purge_history(NOW)

    product.refresh_from_db()
    weird.refresh_from_db()
    assert product.history == [*odd[:5], odd[6]]
    assert weird.history == {"timestamp": "2000-01-01T00:00:00+00:00"}


def test_children_of_multi_table_inheritance_and_uuid_keys_are_purged(alice):
    with days_ago(800):
        restaurant = Restaurant.objects.create(name="old")
        gadget = Gadget.objects.create(name="old")
    with days_ago(1):
        restaurant.name = "new"
        restaurant.save()
        gadget.name = "new"
        gadget.save()

    with time_machine.travel(NOW, tick=False):
        counts = {c.target: c for c in purge_history(365 * DAY)}

    assert counts["testapp.Place"].entries == 1
    assert counts["testapp.Gadget"].entries == 1
    assert [e["action"] for e in Restaurant.objects.get().history] == ["update"]
    assert [e["action"] for e in Gadget.objects.get().history] == ["update"]


def test_history_is_purged_one_update_per_batch_of_rows(alice):
    old = {"action": "update", "timestamp": "2000-01-01T00:00:00.000000+00:00", "user": None}
    new = {"action": "update", "timestamp": "2026-01-01T00:00:00.000000+00:00", "user": None}
    with tracking_disabled():
        Product.objects.bulk_create(
            Product(name=f"p{n}", history=[old, old, new]) for n in range(25)
        )
    table = connection.ops.quote_name(Product._meta.db_table)
    seen = []

    with CaptureQueriesContext(connection) as queries:
        counts = purge_history(NOW, batch_size=10, progress=lambda t, rows: seen.append((t, rows)))

    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f"UPDATE {table}")]
    assert len(updates) == 3
    assert [s for s in seen if s[0] == "testapp.Product"] == [
        ("testapp.Product", 10),
        ("testapp.Product", 20),
        ("testapp.Product", 25),
    ]
    product = next(c for c in counts if c.target == "testapp.Product")
    assert (product.rows, product.entries) == (25, 50)
    assert all(p.history == [new] for p in Product.objects.all())


def log(days, n=1):
    with days_ago(days):
        return [AuditLog.objects.create(action="update", object_id=str(i)) for i in range(n)]


def test_audit_rows_older_than_the_period_are_deleted_in_batches():
    log(400, 5)
    kept = log(10, 2)
    seen = []

    with time_machine.travel(NOW, tick=False):
        dry = purge_audit_log(365 * DAY, dry_run=True)
        deleted = purge_audit_log(365 * DAY, batch_size=2, progress=seen.append)

    assert (dry, deleted) == (5, 5)
    assert seen == [2, 4, 5]
    assert list(AuditLog.objects.order_by("pk")) == kept


@pytest.mark.django_db(databases=["default", "other"])
def test_audit_rows_are_purged_on_the_logs_database(settings):
    settings.TRACKABLE = {"DATABASE": "other"}
    AuditLog.objects.using("other").create(action="update", timestamp=NOW - 400 * DAY)

    assert purge_audit_log(NOW - 365 * DAY) == 1
    assert not AuditLog.objects.using("other").exists()


def test_the_command_purges_history_and_the_audit_log_for_the_periods_given(aged):
    log(400, 3)

    output = purge("--history", "1y", "--audit", "365d", "--batch-size", "1")

    assert "audit log: 3 older than 365 days deleted" in output
    assert "audit log: 1 deleted\naudit log: 2 deleted\naudit log: 3 deleted\n" in output
    assert "history of testapp.Product: 3 entries older than 365 days removed from 2 rows" in output
    assert "history of testapp.Product: 1 rows rewritten\n" in output
    assert "history of testapp.Gadget: 0 entries" in output
    assert AuditLog.objects.count() == 0


def test_the_command_uses_the_retention_settings_and_keeps_by_default(aged, settings):
    log(400)
    output = purge()
    assert "audit log: kept (no retention set)" in output
    assert "history: kept (no retention set)" in output
    assert AuditLog.objects.count() == 1

    settings.TRACKABLE = {"AUDIT_RETENTION": 30 * DAY, "HISTORY_RETENTION": 2 * 365 * DAY}
    output = purge()

    assert "audit log: 1 older than 30 days deleted" in output
    assert "history of testapp.Product: 2 entries older than 730 days removed from 2 rows" in output
    assert AuditLog.objects.count() == 0


def test_the_command_dry_run_counts_and_changes_nothing(aged):
    log(400, 2)
    before = histories()

    output = purge("--history", "365d", "--audit", "365d", "--dry-run")

    assert "audit log: 2 older than 365 days would be deleted" in output
    assert (
        "history of testapp.Product: 3 entries older than 365 days would be removed from 2 rows"
        in output
    )
    assert (histories(), AuditLog.objects.count()) == (before, 2)


@pytest.mark.parametrize(
    "age", ["999999999d", "99999999999999999999d", "3000000y", "0y", "2x", "y", "-1y"]
)
@pytest.mark.parametrize("option", ["--history", "--audit"])
def test_bad_and_absurd_periods_are_a_clear_error(option, age):
    with pytest.raises(CommandError, match=r"not an age|before the year 1"):
        purge(f"{option}={age}")


@pytest.mark.parametrize("key", ["AUDIT_RETENTION", "HISTORY_RETENTION"])
def test_an_absurd_retention_setting_is_a_clear_error_before_anything_is_deleted(
    key, settings, aged
):
    log(400)
    settings.TRACKABLE = {key: datetime.timedelta(days=999_999_999)}

    with pytest.raises(CommandError, match=f"{key}"):
        purge("--visits", "1d")

    assert AuditLog.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "age"),
    [("2y", 730 * DAY), ("1Y", 365 * DAY), ("365d", 365 * DAY), ("never", None)],
)
def test_years_are_365_days(text, age):
    assert parse_age(text) == age


def test_an_age_reaching_back_before_the_year_one_is_refused_by_the_parser():
    with pytest.raises(argparse.ArgumentTypeError, match="before the year 1"):
        parse_age("999999999d")
