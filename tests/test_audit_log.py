"""The audit log: one AuditLog row per entry any tracked write appends, in its transaction."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction

from django_trackable import acting_as
from django_trackable.models import AuditLog
from tests.testapp.models import (
    AllTypes,
    Author,
    Category,
    Note,
    Order,
    Place,
    Post,
    Product,
    Restaurant,
    Token,
)
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def _audit_log_on(settings):
    settings.TRACKABLE = {"AUDIT_LOG": True}


def _log(obj):
    return list(AuditLog.objects.for_object(obj).chronological())


def _as_entries(obj):
    """The object's audit rows in the entry format, for comparing with ``history``."""
    return [row.as_entry() for row in _log(obj)]


def _statements_per_write():
    """PostgreSQL writes the log in the row's own statement; SQLite needs one more."""
    return 0 if connection.vendor == "postgresql" else 1


def test_create_writes_one_row_with_the_create_entry(alice):
    with acting_as(alice), time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="Lamp", price=Decimal("9.99"))

    (row,) = _log(product)
    assert row.action == "create"
    assert row.timestamp == T0
    assert row.actor == alice
    assert row.actor_repr == str(alice)
    assert row.target_repr == "Lamp"
    assert row.object_id == str(product.pk)
    assert row.changes["price"] == [None, "9.99"]
    assert row.as_entry() == Product.objects.get(pk=product.pk).history[0]


def test_every_entry_of_a_row_is_in_the_log_in_order(alice):
    product = Product.objects.create(name="Lamp")
    with acting_as(alice, reason="typo"):
        product.name = "Desk lamp"
        product.save()
    product.price = Decimal("3.00")
    product.save(update_fields=["price"])

    assert _as_entries(product) == Product.objects.get(pk=product.pk).history
    assert _log(product)[1].extra == {"reason": "typo"}


def test_a_save_that_changes_nothing_logs_nothing():
    product = Product.objects.create(name="Lamp")
    product.save()

    assert len(_log(product)) == 1


def test_a_save_costs_one_statement_on_postgresql_and_two_elsewhere(django_assert_num_queries):
    product = Product.objects.create(name="Lamp")
    product.name = "Desk lamp"

    with django_assert_num_queries(1 + _statements_per_write()):
        product.save()
    assert len(_log(product)) == 2


def test_masked_fields_are_masked_in_the_log():
    product = Product.objects.create(name="Lamp", api_key="secret-one")
    product.api_key = "secret-two"
    product.save()

    rows = AuditLog.objects.values_list("changes", flat=True)
    assert "secret" not in repr(list(rows))
    assert _log(product)[-1].changes == {"api_key": ["***", "***"]}


def test_queryset_update_logs_each_changed_row_in_a_fixed_number_of_statements(
    django_assert_num_queries,
):
    products = Product.objects.bulk_create(Product(name=f"p{i}", quantity=i % 2) for i in range(50))
    AuditLog.objects.all().delete()

    with django_assert_num_queries(1 + _statements_per_write()):
        changed = Product.objects.update(quantity=1)

    assert changed == 50
    rows = AuditLog.objects.filter(action="update")
    assert rows.count() == 25  # the other 25 already had quantity 1
    assert {row.changes["quantity"][0] for row in rows} == {0}
    assert {row.object_id for row in rows} == {str(p.pk) for p in products if p.quantity == 0}


def test_bulk_create_logs_each_row(django_assert_num_queries):
    with django_assert_num_queries(1 + _statements_per_write()):
        products = Product.objects.bulk_create([Product(name=f"p{i}") for i in range(30)])

    rows = AuditLog.objects.filter(action="create")
    assert rows.count() == 30
    assert {row.target_repr for row in rows} == {f"p{i}" for i in range(30)}
    assert {row.object_id for row in rows} == {str(p.pk) for p in products}


def test_bulk_update_logs_each_changed_row():
    products = Product.objects.bulk_create([Product(name=f"p{i}") for i in range(5)])
    products = list(Product.objects.order_by("pk"))
    for product in products[:3]:
        product.name += "!"

    Product.objects.bulk_update(products, ["name"])

    rows = AuditLog.objects.filter(action="update").order_by("object_id")
    assert sorted(row.changes["name"][1] for row in rows) == ["p0!", "p1!", "p2!"]
    for product in products:
        assert _as_entries(product) == Product.objects.get(pk=product.pk).history


def test_a_hand_built_instance_logs_the_old_values_read_in_sql():
    product = Product.objects.create(name="Lamp")

    Product(pk=product.pk, name="Desk lamp", created_at=product.created_at).save()

    assert _log(product)[-1].changes["name"] == ["Lamp", "Desk lamp"]


def test_soft_delete_and_restore_are_logged_with_their_cascades():
    author = Author.objects.create(name="Ann")
    post = Post.objects.create(author=author, title="Hello")

    author.delete()
    Author.all_objects.get(pk=author.pk).restore()

    assert [row.action for row in _log(author)] == ["create", "delete", "restore"]
    assert [row.action for row in _log(post)] == ["create", "delete", "restore"]
    assert _log(author)[1].target_repr == str(author)


def test_queryset_soft_delete_is_logged_per_row():
    authors = [Author.objects.create(name=f"a{i}", email=f"a{i}@example.com") for i in range(3)]

    Author.objects.filter(name__in=["a0", "a1"]).delete()

    deleted = AuditLog.objects.filter(action="delete").values_list("object_id", flat=True)
    assert sorted(deleted) == sorted(str(a.pk) for a in authors[:2])


def test_a_transition_is_logged():
    order = Order.objects.create(reference="A1")

    order.transition_to("paid")

    row = _log(order)[-1]
    assert row.action == "transition"
    assert row.changes == {"status": ["new", "paid"]}


def test_a_revert_is_logged():
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="v0")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        product.name = "v1"
        product.save()

    product.revert_to(T0 + datetime.timedelta(minutes=5))

    row = _log(product)[-1]
    assert row.action == "revert"
    assert row.extra["reverted_to"] == (T0 + datetime.timedelta(minutes=5)).isoformat()


def test_a_hard_delete_is_logged_with_the_last_values(alice):
    product = Product.objects.create(name="Lamp", api_key="secret")
    pk = product.pk

    with acting_as(alice):
        product.delete()

    row = AuditLog.objects.get(action="delete")
    assert row.object_id == str(pk)
    assert row.actor == alice
    assert row.changes["name"] == ["Lamp", None]
    assert row.changes["api_key"] == ["***", None]
    assert row.extra == {"hard": True}


def test_a_queryset_hard_delete_logs_every_row_in_one_statement(django_assert_num_queries):
    Product.objects.bulk_create([Product(name=f"p{i}") for i in range(10)])

    # Django loads the rows (it sends post_delete), deletes them, and one INSERT logs them.
    with django_assert_num_queries(3):
        Product.objects.all().delete()

    assert AuditLog.objects.filter(action="delete").count() == 10


def test_a_cascade_that_hard_deletes_tracked_rows_logs_them():
    author = Author.objects.create(name="Ann")
    Post.objects.create(author=author, title="Hello")

    author.hard_delete()

    assert sorted(
        AuditLog.objects.filter(action="delete").values_list("target_repr", flat=True)
    ) == sorted([str(author), "Hello"])


def test_a_rolled_back_write_leaves_no_log_row():
    product = Product.objects.create(name="Lamp")
    try:
        with transaction.atomic():
            product.name = "Desk lamp"
            product.save()
            Product.objects.update(quantity=5)
            Product.objects.bulk_create([Product(name="other")])
            raise RuntimeError("roll back")
    except RuntimeError:
        pass

    assert AuditLog.objects.count() == 1


def test_track_audit_log_on_a_model_overrides_the_setting(settings):
    settings.TRACKABLE = {"AUDIT_LOG": False}

    Product.objects.create(name="Lamp")

    assert AuditLog.objects.count() == 0


def test_models_without_history_log_nothing():
    Note.objects.create(text="hello")

    assert AuditLog.objects.count() == 0


def test_multi_table_children_are_logged_under_their_own_model():
    restaurant = Restaurant.objects.create(name="Luigi's", serves_pizza=False)
    restaurant.name = "Mario's"
    restaurant.save()

    place = Place.objects.get(pk=restaurant.pk)
    assert [row.action for row in _log(restaurant)] == ["create", "update"]
    assert [row.action for row in _log(place)] == ["create", "update"]
    assert AuditLog.objects.for_model(Restaurant).count() == 2


def test_uuid_primary_keys_are_logged_as_their_text():
    token = Token.objects.create(label="api")
    token.label = "cli"
    token.save()

    assert [row.object_id for row in _log(token)] == [str(token.pk)] * 2


def test_reads_by_time_model_and_actor(alice, bob):
    with time_machine.travel(T0, tick=False), acting_as(alice):
        lamp = Product.objects.create(name="Lamp")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False), acting_as(bob):
        Category.objects.create(name="untracked")
        Order.objects.create(reference="A7")

    assert list(AuditLog.objects.since(T0).values_list("action", flat=True)) == ["create"]
    assert AuditLog.objects.for_model(Product).get().object_id == str(lamp.pk)
    assert AuditLog.objects.for_model("testapp.Order").count() == 1
    assert AuditLog.objects.by(alice).get().target_repr == "Lamp"
    assert AuditLog.objects.by(bob.pk).count() == 1
    assert AuditLog.objects.until(T0).count() == 1


def test_a_log_on_another_database_is_written_when_the_transaction_commits(
    settings, django_capture_on_commit_callbacks
):
    settings.TRACKABLE = {"AUDIT_LOG": True, "DATABASE": "other"}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        product = Product.objects.create(name="Lamp")
        Product.objects.filter(pk=product.pk).update(name="Desk lamp")
    assert AuditLog.objects.using("other").count() == 0

    for callback in callbacks:
        callback()
    rows = AuditLog.objects.using("other").order_by("pk")
    assert [(row.action, row.object_id) for row in rows] == [
        ("create", str(product.pk)),
        ("update", str(product.pk)),
    ]
    assert rows[1].changes == {"name": ["Lamp", "Desk lamp"]}
    assert not AuditLog.objects.using("default").exists()


test_a_log_on_another_database_is_written_when_the_transaction_commits = pytest.mark.django_db(
    databases=["default", "other"]
)(test_a_log_on_another_database_is_written_when_the_transaction_commits)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_each_get_one_log_row_per_entry(django_user_model):
    threads, saves = 8, 25
    users = [django_user_model.objects.create_user(f"writer{i}") for i in range(threads)]
    product = Product.objects.create(name="shared")

    def work(index):
        mine = Product.objects.get(pk=product.pk)
        with acting_as(users[index]):
            for round_ in range(saves):
                mine.quantity = index * 1000 + round_ + 1
                mine.save()
                Product.objects.filter(pk=product.pk).update(notes=f"{index}-{round_}")

    assert run_in_threads(work, [(i,) for i in range(threads)]) == []

    history = Product.objects.get(pk=product.pk).full_history()
    assert len(history) == 1 + threads * saves * 2
    assert _as_entries(product) == sorted(history, key=lambda e: e["timestamp"])


def test_an_upsert_logs_the_rows_it_creates_and_the_rows_it_changes():
    lamp = Token.objects.create(label="lamp")
    new = Token(label="new")

    Token.objects.bulk_create(
        [Token(id=lamp.pk, label="lamp 2"), new],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["label"],
    )

    assert [(row.action, row.changes) for row in _log(lamp)][-1] == (
        "update",
        {"label": ["lamp", "lamp 2"]},
    )
    assert [row.action for row in _log(new)] == ["create"]


def test_an_update_of_a_multi_table_childs_columns_is_logged():
    restaurant = Restaurant.objects.create(name="Luigi's")

    Restaurant.objects.update(serves_pizza=True)

    assert _log(restaurant)[-1].changes == {"serves_pizza": [False, True]}


def test_set_null_on_delete_is_logged_for_each_dependant():
    category = Category.objects.create(name="Lamps")
    product = Product.objects.create(name="Lamp", category=category)
    pk = category.pk

    category.delete()

    assert _log(product)[-1].changes == {"category": [pk, None]}


def test_check_w040_warns_when_the_log_is_on_another_database(settings):
    from django_trackable import checks

    settings.TRACKABLE = {"AUDIT_LOG": True, "DATABASE": "other"}
    warned = {m.obj for m in checks.check_databases() if m.id == "django_trackable.W040"}
    assert Product in warned

    settings.TRACKABLE = {"AUDIT_LOG": True}
    assert [m for m in checks.check_databases() if m.id == "django_trackable.W040"] == []
    settings.TRACKABLE = {"AUDIT_LOG": False, "DATABASE": "other"}
    assert [m for m in checks.check_databases() if m.id == "django_trackable.W040"] == []


def test_a_created_rows_repr_has_the_primary_key_the_insert_gave_it():
    one = AllTypes.objects.create(text="one")
    many = AllTypes.objects.bulk_create([AllTypes(text="a"), AllTypes(text="b")])

    for obj in [one, *many]:
        (row,) = _log(obj)
        assert row.target_repr == f"AllTypes {obj.pk}"
    assert one.pk is not None and all(obj.pk for obj in many)


#: Text that array literals, JSON and SQL each quote in their own way.
AWKWARD = ['say "hi"', 'back\\slash \\"', "{a,b}", "NULL", "", "it's", "ünï 🎉", "line\nbreak"]


def _awkward_rows():
    from django_trackable.models.audit import content_type_for

    content_type = content_type_for(Product)
    return [
        AuditLog(
            timestamp=T0,
            action="update",
            content_type=content_type,
            object_id=str(i),
            changes={"name": [text, None], "tags": [[text], {"k": text}]},
            extra={"note": text} if i % 2 else {},
        )
        for i, text in enumerate(AWKWARD)
    ]


def test_bulk_written_log_rows_keep_awkward_json_as_given():
    rows = AuditLog.objects.bulk_create(_awkward_rows())

    stored = list(AuditLog.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
    assert [(r.object_id, r.changes, r.extra) for r in stored] == [
        (r.object_id, r.changes, r.extra) for r in _awkward_rows()
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's UNNEST insert")
def test_bulk_written_log_rows_pass_each_json_column_as_one_text():
    # What the move, importing and a log on another database write: psycopg would
    # escape a jsonb[] parameter element by element in Python.
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        AuditLog.objects.bulk_create(_awkward_rows())

    (insert,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert "UNNEST(" in insert
    assert insert.count("jsonb_array_elements(CAST(") == 2  # changes and extra
    assert "::jsonb[]" not in insert


def test_a_log_insert_compiler_is_named_for_what_it_adds_not_for_tracking():
    # Tracebacks through a log write must not point at the tracked-model compiler.
    from django_trackable.statements import JSONTextInsertQuery, TrackedInsertQuery

    log_compiler = JSONTextInsertQuery(AuditLog).get_compiler(using="default")
    tracked_compiler = TrackedInsertQuery(Product).get_compiler(using="default")

    assert type(log_compiler).__name__ == "_JSONTextInsertCompiler+SQLInsertCompiler"
    assert type(tracked_compiler).__name__ == "_TrackedInsertCompiler+SQLInsertCompiler"
