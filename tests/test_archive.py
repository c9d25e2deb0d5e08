"""HISTORY_WINDOW: rows keep their newest entries, the older ones move to AuditLog, none lost."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from django_trackable import acting_as, archive, checks
from django_trackable.admin import history_entries
from django_trackable.history import build_entry
from django_trackable.models import AuditLog, HistoryUnavailable
from django_trackable.tracking import clear_model_options
from tests.testapp.models import Gadget, Product
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)
WINDOW = 5
#: After the UPDATE: on PostgreSQL one statement locks the rows, copies their older
#: entries to the log and cuts them; elsewhere the rows (locked), INSERT ... SELECT, the cut.
MOVE_STATEMENTS = 1 if connection.vendor == "postgresql" else 3


@pytest.fixture(autouse=True)
def window(settings):
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW}
    # Looked up once per process in a running site; counted statements must not
    # depend on whether an earlier test (in random order) already did.
    ContentType.objects.get_for_model(Product)


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

    with django_assert_num_queries(1 + MOVE_STATEMENTS):
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


def test_the_saved_instance_holds_what_its_row_holds_after_a_move():
    product = Product.objects.with_history().get(pk=edited(2 * WINDOW - 3).pk)
    for i in range(3 * WINDOW):
        product.quantity = 100 + i
        product.save()
        assert product.history == stored(product).history


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

    with django_assert_num_queries(1 + MOVE_STATEMENTS):
        Product.objects.filter(pk__in=[p.pk for p in one]).update(quantity=1000)
    with django_assert_num_queries(1 + MOVE_STATEMENTS):
        Product.objects.filter(pk__in=[p.pk for p in many]).update(quantity=1000)

    for product in one + many:
        row = stored(product)
        assert len(row.history) == WINDOW
        assert [e["action"] for e in row.full_history()][:2] == ["create", "update"]
        assert len(row.full_history()) == 2 * WINDOW


def test_rows_with_uuid_keys_move_in_sql_and_keep_every_entry(django_assert_num_queries):
    ContentType.objects.get_for_model(Gadget)
    gadgets = []
    for name in ("a", "b"):
        with time_machine.travel(at(0), tick=False):
            gadget = Gadget.objects.create(name=name)
        for i in range(1, 2 * WINDOW - 1):
            with time_machine.travel(at(i), tick=False):
                gadget.name = f"{name}{i}"
                gadget.save()
        gadgets.append(gadget)

    with django_assert_num_queries(1 + MOVE_STATEMENTS):  # the SQL move: no read in Python
        Gadget.objects.filter(pk__in=[g.pk for g in gadgets]).update(name="last")

    for gadget in gadgets:
        row = Gadget.objects.with_history().get(pk=gadget.pk)
        assert len(row.history) == WINDOW
        everything = row.full_history()
        assert [e["timestamp"][11:16] for e in everything[:3]] == ["12:00", "12:01", "12:02"]
        assert len(everything) == 2 * WINDOW
    assert AuditLog.objects.filter(object_id=str(gadgets[0].pk)).count() == WINDOW


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_move_finds_its_rows_by_key_not_by_reading_every_history():
    # The cost of a move must not grow with the table: with the keys' count hidden
    # from the planner, it scanned every row of a small table, reading each history.
    Product.objects.bulk_create(Product(name=f"other {i}") for i in range(300))
    product = edited(2 * WINDOW)
    statements = archive._move_sql(Product, "default")
    keys = archive._keys(Product, [product.pk], connection)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {statements.rows}", [WINDOW, WINDOW, keys, WINDOW])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan using testapp_product_pkey" in plan, plan
    assert "Seq Scan on testapp_product" not in plan, plan


def test_the_admin_history_page_reads_the_moved_entries_too():
    product = stored(edited(3 * WINDOW))

    assert len(product.history) < 2 * WINDOW
    assert history_entries(product) == product.full_history()
    assert len(history_entries(product)) == 3 * WINDOW + 1


@pytest.mark.django_db(transaction=True)  # foreign keys are checked at commit
def test_entries_of_a_deleted_user_move_without_breaking_the_save(django_user_model):
    gone = django_user_model.objects.create_user("gone", password="x")
    gone_pk = gone.pk
    with acting_as(gone):
        product = edited(WINDOW)
    gone.delete()
    product = Product.objects.get(pk=product.pk)

    for i in range(WINDOW):
        product.quantity = 500 + i
        product.save()  # the move writes the deleted user's entries to the log

    everything = stored(product).full_history()
    assert len(everything) == 2 * WINDOW + 1
    # The log keeps the key, as the row did (no constraint: erasure clears it, not deletion).
    assert [e["user"] for e in everything[: WINDOW + 1]] == [gone_pk] * (WINDOW + 1)
    assert [e["user_repr"] for e in everything[: WINDOW + 1]] == ["gone"] * (WINDOW + 1)


#: Entries as a row may hold them: ours, imported ones, hand-written ones.
UNUSUAL = [
    {
        "action": "update",
        "timestamp": "2026-11-01T12:01:00.000000+00:00",
        "user": None,
        "user_repr": "cron",
        "changes": {"quantity": [0, 1]},
        "reason": "nightly",
    },
    {
        "action": "update",
        "timestamp": "2026-11-01T14:02:00.500000+02:00",
        "user": 7,
        "user_repr": "ada",
        "changes": {"price": ["1.00", "***"]},
        "request_id": "r-1",
    },
    {
        "action": "update",
        "timestamp": "2026-11-01T12:03:00+00:00",
        "user": "7",
        "user_repr": 3,
        "changes": {"quantity": [1, 2]},
    },  # no fraction: Python's to read
    {
        "action": "update",
        "timestamp": "2026-11-01T12:04:00.000001Z",
        "user": None,
        "user_repr": None,
        "changes": ["not", "a", "dict"],
    },  # "Z": Python's to read
    {"action": 7, "timestamp": "2026-11-01T12:05:00.250000-05:30", "user": "x", "changes": {}},
    {"action": "update", "timestamp": "2026-02-30T12:00:00.000000+00:00"},  # no such day
    {"action": "update", "timestamp": "2026-11-01T25:00:00.000000+00:00"},  # no such hour
    {"action": "update", "timestamp": 1_700_000_000},
    {"action": "update"},
    "not an entry",
    ["nor", "this"],
]


def _log_of(product):
    rows = AuditLog.objects.for_object(product).order_by("timestamp", "action")
    return [
        (r.timestamp, r.actor_id, r.actor_repr, r.action, r.target_repr, r.changes, r.extra)
        for r in rows
    ]


@pytest.mark.parametrize("audit_log", [False, True])
def test_the_move_in_sql_writes_what_the_move_in_python_writes(monkeypatch, settings, audit_log):
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW, "AUDIT_LOG": audit_log}
    in_sql, in_python = edited(0), edited(0)
    for product in (in_sql, in_python):
        entries = stored(product).history + UNUSUAL + [build_entry("update", at(9), None)] * WINDOW
        models.QuerySet.update(Product.objects.filter(pk=product.pk), history=entries)

    archive.move_out(Product, [in_sql.pk], WINDOW, using="default")
    monkeypatch.setattr(archive, "_movable_in_sql", lambda *args: False)
    archive.move_out(Product, [in_python.pk], WINDOW, using="default")

    assert _log_of(in_sql) == _log_of(in_python)
    assert len(_log_of(in_sql)) == 1 + 5  # the create and the five readable timestamps
    assert stored(in_sql).history == stored(in_python).history
    assert len(stored(in_sql).history) == WINDOW
    moments = [e["timestamp"] for e in stored(in_sql).full_history()]
    assert moments[:3] == [
        "2026-11-01T12:00:00.000000+00:00",
        "2026-11-01T12:01:00.000000+00:00",
        "2026-11-01T12:02:00.500000+00:00",
    ]


def saved_at_one_moment(quantities):
    """A product created and then saved with each of ``quantities``, the clock stopped."""
    with time_machine.travel(at(0), tick=False):
        product = Product.objects.create(name="v0", quantity=0)
        for quantity in quantities:
            product.quantity = quantity
            product.save()
    return product


def test_moved_entries_keep_their_order_at_one_moment():
    product = saved_at_one_moment(range(1, 2 * WINDOW))

    everything = stored(product).full_history()
    assert [e["changes"]["quantity"][1] for e in everything[1:]] == list(range(1, 2 * WINDOW))
    assert len(stored(product).history) == WINDOW


@pytest.mark.parametrize("audit_log", [False, True])
@pytest.mark.parametrize("in_sql", [True, False])
def test_entries_of_one_moment_survive_every_move(monkeypatch, settings, in_sql, audit_log):
    # A frozen clock in a test, or a coarse one: each later move used to find the
    # log "holding" its entries (same moment, same action) and drop them.
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW, "AUDIT_LOG": audit_log}
    if not in_sql:
        monkeypatch.setattr(archive, "_movable_in_sql", lambda *args: False)
    product = saved_at_one_moment(range(1, 6 * WINDOW))

    everything = stored(product).full_history()
    assert [e["changes"]["quantity"][1] for e in everything[1:]] == list(range(1, 6 * WINDOW))
    assert AuditLog.objects.for_object(product).count() == (
        6 * WINDOW if audit_log else 6 * WINDOW - len(stored(product).history)
    )


def test_the_same_change_twice_at_one_moment_is_read_twice_with_the_audit_log_on(settings):
    # The log holds each entry from its save and the row its newest: the reader
    # leaves out only as many of the log's copies as the row holds.
    settings.TRACKABLE = {"HISTORY_WINDOW": WINDOW, "AUDIT_LOG": True}
    product = saved_at_one_moment(i % 2 for i in range(1, 4 * WINDOW + 1))

    everything = stored(product).full_history()
    assert [e["changes"]["quantity"] for e in everything[1:]] == [
        [(i - 1) % 2, i % 2] for i in range(1, 4 * WINDOW + 1)
    ]
    assert AuditLog.objects.for_object(product).count() == 1 + 4 * WINDOW


def test_without_time_zones_the_move_in_sql_stores_local_times_as_python_does(
    monkeypatch, settings
):
    settings.USE_TZ = False
    settings.TIME_ZONE = "America/New_York"
    in_sql, in_python = (Product.objects.create(name=name) for name in ("sql", "python"))
    entries = [
        build_entry("update", datetime.datetime(2026, 7, 1, 9, minute), None, {"quantity": [0, 1]})
        for minute in range(2 * WINDOW)
    ] + [UNUSUAL[1]]
    for product in (in_sql, in_python):
        models.QuerySet.update(Product.objects.filter(pk=product.pk), history=entries)

    archive.move_out(Product, [in_sql.pk], WINDOW, using="default")
    monkeypatch.setattr(archive, "_movable_in_sql", lambda *args: False)
    archive.move_out(Product, [in_python.pk], WINDOW, using="default")

    assert _log_of(in_sql) == _log_of(in_python)
    assert _log_of(in_sql)[0][0] == datetime.datetime(2026, 7, 1, 9, 0)  # naive, local


def test_a_move_of_usual_and_unusual_rows_together_loses_neither():
    usual, unusual = edited(0), edited(0)
    newer = [
        build_entry("update", at(100 + i), None, {"quantity": [i, i + 1]})
        for i in range(2 * WINDOW)
    ]
    for product, odd in ((usual, []), (unusual, UNUSUAL[:4])):
        entries = stored(product).history + odd + newer
        models.QuerySet.update(Product.objects.filter(pk=product.pk), history=entries)
    # The create, the four unusual ones (two read by SQL, two by Python), the newer ones.
    expected = {usual.pk: 1 + 2 * WINDOW, unusual.pk: 1 + 4 + 2 * WINDOW}

    moved = archive.move_out(Product, [usual.pk, unusual.pk], WINDOW, using="default")

    assert moved == sum(expected.values()) - 2 * WINDOW
    for product in (usual, unusual):
        row = stored(product)
        assert row.history == newer[-WINDOW:]
        assert len(row.full_history()) == expected[product.pk]
