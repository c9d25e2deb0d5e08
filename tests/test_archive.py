"""HISTORY_WINDOW: rows keep their newest entries, the older ones move to AuditLog, none lost."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import transaction

from django_trackable import checks
from django_trackable.admin import history_entries
from django_trackable.models import AuditLog, HistoryUnavailable
from django_trackable.tracking import clear_model_options
from tests.testapp.models import Product
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)
WINDOW = 5


@pytest.fixture(autouse=True)
def window(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW}


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def edited(saves):
    """A product saved ``saves`` times after its create, one minute apart."""
    with time_machine.travel(at(0), tick=False):
        product = Product.objects.create(name="v0", quantity=0)
    for i in range(1, saves + 1):
        with time_machine.travel(at(i), tick=False):
            product.quantity = i
            product.save()
    return product


def stored(product):
    return Product.objects.with_history().get(pk=product.pk)


def test_a_row_past_its_window_keeps_every_entry_readable_in_order():
    product = edited(23)

    row = stored(product)
    assert WINDOW <= len(row.history) < 2 * WINDOW
    everything = row.full_history()
    assert [e["action"] for e in everything] == ["create"] + ["update"] * 23
    assert [e["changes"].get("quantity") for e in everything[1:]] == [
        [i - 1, i] for i in range(1, 24)
    ]
    assert AuditLog.objects.for_object(product).count() == 24 - len(row.history)


@pytest.mark.parametrize("minute", [0, 3, 11, 17, 22])
def test_as_of_reaches_into_the_log_at_sampled_moments(minute):
    product = edited(23)

    past = stored(product).as_of(at(minute) + datetime.timedelta(seconds=30))

    assert past.quantity == minute


def test_history_since_reaches_into_the_log():
    product = edited(23)

    since = stored(product).history_since(at(2) + datetime.timedelta(seconds=30))

    assert [e["changes"]["quantity"][1] for e in since] == list(range(3, 24))


def test_a_save_under_the_threshold_is_one_statement(django_assert_num_queries):
    product = edited(3)
    product.quantity = 99

    with django_assert_num_queries(1):
        product.save()


def test_the_save_that_fills_the_row_moves_the_oldest_entries_in_a_few_statements(
    django_assert_num_queries,
):
    product = edited(2 * WINDOW - 2)  # the row holds 2 * WINDOW - 1 entries
    product.quantity = 99

    # The UPDATE, then: the rows (locked), the log's entries, the INSERT, the trim.
    with django_assert_num_queries(5):
        product.save()

    assert len(stored(product).history) == WINDOW


def test_the_cost_of_a_save_does_not_grow_with_the_history(django_assert_num_queries):
    product = edited(10 * WINDOW)
    for _ in range(WINDOW - 1):
        product.quantity += 1
        with django_assert_num_queries(1):
            product.save()
        if len(stored(product).history) >= 2 * WINDOW - 1:
            break
    assert len(stored(product).history) < 2 * WINDOW


def test_with_the_audit_log_on_moved_entries_are_not_logged_twice(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW, "AUDIT_LOG": True}
    product = edited(23)

    logged = AuditLog.objects.for_object(product)
    assert logged.count() == 24
    assert len(stored(product).full_history()) == 24


def test_queryset_update_moves_out_what_overflows():
    products = [edited(2 * WINDOW - 2) for _ in range(3)]

    Product.objects.update(quantity=1000)

    for product in products:
        row = stored(product)
        assert len(row.history) == WINDOW
        assert len(row.full_history()) == 2 * WINDOW


def test_a_rolled_back_save_moves_nothing():
    product = edited(2 * WINDOW - 2)
    before = list(stored(product).history)

    with pytest.raises(RuntimeError), transaction.atomic():
        product.quantity = 99
        product.save()
        raise RuntimeError

    assert stored(product).history == before
    assert not AuditLog.objects.for_object(product).exists()


def test_history_limit_drops_instead_and_as_of_says_so(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW, "HISTORY_LIMIT": 3}
    product = edited(12)

    assert len(stored(product).history) == 3
    assert not AuditLog.objects.exists()
    with pytest.raises(HistoryUnavailable):
        stored(product).as_of(at(1))


def test_no_window_keeps_everything_in_the_row(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": None}
    product = edited(23)

    assert len(stored(product).history) == 24


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_past_the_window_lose_nothing(django_user_model):
    product = Product.objects.create(name="shared")

    def work(index):
        mine = Product.objects.get(pk=product.pk)
        for round_ in range(50):
            mine.quantity = index * 1000 + round_ + 1
            mine.save()

    assert run_in_threads(work, [(i,) for i in range(8)]) == []

    everything = stored(product).full_history()
    assert len(everything) == 401
    assert sorted(e["changes"]["quantity"][1] for e in everything[1:]) == sorted(
        i * 1000 + r + 1 for i in range(8) for r in range(50)
    )


def test_a_models_own_window_overrides_the_setting(monkeypatch):
    monkeypatch.setattr(Product, "track_history_window", None, raising=False)
    clear_model_options()
    try:
        product = edited(12)
    finally:
        monkeypatch.undo()
        clear_model_options()

    assert len(stored(product).history) == 13
    assert not AuditLog.objects.exists()


def test_a_window_that_is_not_a_positive_int_is_an_error_and_empties_nothing(monkeypatch):
    monkeypatch.setattr(Product, "track_history_window", 0, raising=False)
    clear_model_options()
    try:
        errors = [m for m in checks.check_models() if m.obj is Product]
        product = edited(3)
    finally:
        monkeypatch.undo()
        clear_model_options()

    assert [e.id for e in errors] == ["django_trackable.E006"]
    assert len(stored(product).history) == 4


def test_moving_out_many_rows_costs_the_statements_of_one(django_assert_num_queries):
    one = [edited(2 * WINDOW - 2)]
    many = [edited(2 * WINDOW - 2) for _ in range(4)]

    # The UPDATE, then: the rows (locked), the log's entries, the INSERT, the trim.
    with django_assert_num_queries(5):
        Product.objects.filter(pk__in=[p.pk for p in one]).update(quantity=1000)
    with django_assert_num_queries(5):
        Product.objects.filter(pk__in=[p.pk for p in many]).update(quantity=1000)

    for product in one + many:
        row = stored(product)
        assert len(row.history) == WINDOW
        assert [e["action"] for e in row.full_history()][:2] == ["create", "update"]
        assert len(row.full_history()) == 2 * WINDOW


def test_the_admin_history_page_reads_the_moved_entries_too():
    product = stored(edited(3 * WINDOW))

    assert len(product.history) < 2 * WINDOW
    assert history_entries(product) == product.full_history()
    assert len(history_entries(product)) == 3 * WINDOW + 1
