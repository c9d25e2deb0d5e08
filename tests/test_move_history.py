"""trackable_move_history: rows written before the window (or a smaller one) brought within it."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, models

from django_trackable import archive
from django_trackable.history import build_entry
from django_trackable.models import AuditLog
from tests.testapp.models import Place, Product, Restaurant
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)
WINDOW = 5
#: The move of one batch: one statement on PostgreSQL, three elsewhere (see test_archive).
MOVE_STATEMENTS = 1 if connection.vendor == "postgresql" else 3


def with_entries(model, count, **fields):
    """A row whose history holds its create entry and ``count`` updates, written as a site
    without a window would have left it."""
    with time_machine.travel(T0 - datetime.timedelta(days=1), tick=False):
        obj = model.objects.create(**fields)
    created = model.objects.with_history().get(pk=obj.pk).history
    updates = [
        build_entry("update", T0 + datetime.timedelta(minutes=i), None, {"name": [f"{i}", "x"]})
        for i in range(count)
    ]
    # Django's own update(): writing the history is not a change to record.
    models.QuerySet.update(model._base_manager.filter(pk=obj.pk), history=created + updates)
    return obj


def everything(obj):
    return [
        (e["action"], e["timestamp"], e["changes"])
        for e in type(obj).objects.with_history().get(pk=obj.pk).full_history()
    ]


def in_row(obj):
    return type(obj).objects.with_history().get(pk=obj.pk).history


@pytest.fixture
def long_rows(settings):
    """Rows written with no window: three at twice a window of 5 or more, one within it."""
    settings.TRACKABLE = {"HISTORY_WINDOW": None}
    rows = [with_entries(Product, count, name=f"p{count}") for count in (40, 12, 9, 3)]
    ContentType.objects.get_for_model(Product)
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW}
    return rows


def run(*args):
    out = io.StringIO()
    call_command("trackable_move_history", *args, stdout=out)
    return out.getvalue()


def test_rows_past_their_window_keep_their_newest_and_lose_no_entry(long_rows):
    before = [everything(row) for row in long_rows]
    untouched = Product.objects.with_history().get(pk=long_rows[3].pk)

    out = run("testapp.Product")

    # 41, 13 and 10 entries (twice the window, as a save moves it) move; 4 stays.
    assert [len(in_row(row)) for row in long_rows] == [WINDOW, WINDOW, WINDOW, 4]
    assert [everything(row) for row in long_rows] == before
    assert "testapp.Product: 3 rows past their window of 5, moved 49 entries" in out
    assert AuditLog.objects.filter(object_id=str(long_rows[0].pk)).count() == 41 - WINDOW
    # A row within its window is not written at all.
    assert Product.objects.with_history().get(pk=untouched.pk).updated_at == untouched.updated_at
    assert in_row(untouched) == untouched.history


def test_a_dry_run_counts_the_same_and_moves_nothing(long_rows):
    before = [in_row(row) for row in long_rows]

    dry = run("--dry-run")

    assert [in_row(row) for row in long_rows] == before
    assert not AuditLog.objects.exists()
    assert "testapp.Product: 3 rows past their window of 5, would move 49 entries" in dry
    assert "3 rows past their window of 5, moved 49 entries" in run()


def test_a_second_run_moves_nothing(long_rows):
    run()
    logged = AuditLog.objects.count()

    assert "0 rows past their window of 5, moved 0 entries" in run("testapp.Product")
    assert AuditLog.objects.count() == logged


@pytest.mark.parametrize("entries", [20, 400])
def test_statements_grow_with_batches_not_with_rows_or_entries(
    settings, entries, django_assert_num_queries
):
    settings.TRACKABLE = {"HISTORY_WINDOW": None}
    rows = [with_entries(Product, entries, name=f"p{i}") for i in range(5)]
    ContentType.objects.get_for_model(Product)
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW}

    # Batches of 2, 2 and 1: one SELECT of keys and one move each.
    with django_assert_num_queries(3 * (1 + MOVE_STATEMENTS)):
        moved = archive.move_past_window(Product, batch_size=2)

    assert moved == archive.Moved("testapp.Product", 5, 5 * (entries + 1 - WINDOW))
    assert all(len(in_row(row)) == WINDOW for row in rows)


def test_progress_is_reported_after_each_batch(long_rows):
    seen = []

    archive.move_past_window(Product, batch_size=2, progress=seen.append)

    assert [(m.rows, m.entries) for m in seen] == [(2, 36 + 8), (3, 49)]


def test_multi_table_children_move_through_the_table_holding_history(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": None}
    restaurant = with_entries(Restaurant, 30, name="r")
    place = with_entries(Place, 30, name="p")
    ContentType.objects.get_for_model(Place)
    before = everything(restaurant)
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW}

    out = run("testapp.Restaurant")

    assert "testapp.Place: 2 rows past their window of 5" in out
    assert len(in_row(restaurant)) == len(in_row(place)) == WINDOW
    assert everything(restaurant) == before


def test_models_without_a_window_are_left_alone(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": None}
    product = with_entries(Product, 30, name="p")

    assert "testapp.Product" not in run()
    assert "testapp.Product: no window, every entry stays in the row" in run("testapp.Product")
    assert len(in_row(product)) == 31
    assert archive.move_past_window(Product) == archive.Moved("testapp.Product", 0, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["testapp.Nothing"], "'testapp.Nothing' is not a model"),
        (["Product"], "'Product' is not a model"),
        (["testapp.Category"], "testapp.Category has no history to move"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_bad_arguments_are_clear_errors(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_batch_size_under_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        archive.move_past_window(Product, batch_size=0)


@pytest.mark.django_db(transaction=True)
def test_saves_while_the_command_runs_lose_no_entry(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": None}
    rows = [with_entries(Product, 60, name=f"p{i}") for i in range(4)]
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW}

    def work(index):
        if index == len(rows):  # the command, one row per batch
            for _ in range(3):
                archive.move_past_window(Product, batch_size=1)
            return
        mine = Product.objects.get(pk=rows[index].pk)
        for round_ in range(20):
            mine.quantity = round_ + 1
            mine.save()

    assert run_in_threads(work, [(i,) for i in range(len(rows) + 1)], timeout=120) == []

    for row in rows:
        entries = Product.objects.with_history().get(pk=row.pk).full_history()
        assert len(entries) == 1 + 60 + 20
        assert [e["changes"]["quantity"][1] for e in entries[61:]] == list(range(1, 21))
        assert len(in_row(row)) < 2 * WINDOW


@pytest.mark.parametrize("value", [{"not": "a list"}, "text", 7, True], ids=repr)
def test_a_history_that_is_not_a_list_is_left_as_it_is(long_rows, value):
    odd = long_rows[3]
    models.QuerySet.update(Product._base_manager.filter(pk=odd.pk), history=value)

    out = run("testapp.Product")

    assert "3 rows past their window of 5" in out
    assert Product.objects.with_history().get(pk=odd.pk).history == value
