"""Bulk writes that record history, and the "since" queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from django_trackable import acting_as, tracking_disabled
from tests.testapp.models import (
    AllTypes,
    Article,
    Category,
    Gadget,
    NarrowProduct,
    PlainProduct,
    Product,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)


def histories(model=Product):
    return {obj.pk: obj.history for obj in model.objects.order_by("pk")}


def test_update_is_one_statement_giving_each_row_one_entry(alice):
    products = Product.objects.bulk_create([Product(name=f"p{i}", quantity=i) for i in range(20)])
    with acting_as(alice), CaptureQueriesContext(connection) as queries:
        count = Product.objects.filter(quantity__lt=10).update(quantity=100)

    assert count == 10
    assert len(queries) == 1
    for product in Product.objects.all():
        index = products.index(product)
        if index < 10:
            assert len(product.history) == 2
            assert product.history[-1]["changes"] == {"quantity": [index, 100]}
            assert product.history[-1]["user"] == alice.pk
            assert product.updated_by == alice
        else:
            assert len(product.history) == 1
            assert product.updated_by is None


def test_update_skips_rows_whose_values_do_not_change():
    Product.objects.create(name="same", quantity=5)
    changed = Product.objects.create(name="other", quantity=1)
    with time_machine.travel(T0 + datetime.timedelta(days=400), tick=False):
        Product.objects.update(quantity=5)

    for product in Product.objects.all():
        if product.pk == changed.pk:
            assert product.history[-1]["changes"] == {"quantity": [1, 5]}
            assert product.updated_at.year == 2027
        else:
            assert len(product.history) == 1
            assert product.updated_at.year != 2027


def test_update_records_only_fields_that_changed_in_each_row():
    Product.objects.create(name="a", quantity=1)
    Product.objects.update(name="a", quantity=2)

    assert Product.objects.get().history[-1]["changes"] == {"quantity": [1, 2]}


def test_update_with_expressions_records_computed_new_values():
    Product.objects.create(name="Lamp", quantity=2, price=Decimal("10.00"))
    Product.objects.update(
        quantity=F("quantity") + 3, name=Concat(F("name"), Value(" XL")), price=F("price") * 2
    )

    assert Product.objects.get().history[-1]["changes"] == {
        "quantity": [2, 5],
        "name": ["Lamp", "Lamp XL"],
        "price": ["10.00", "20.00"],
    }


def test_update_of_foreign_key_by_instance_and_by_id():
    first, second = Category.objects.create(name="a"), Category.objects.create(name="b")
    Product.objects.create(name="Lamp", category=first)
    Product.objects.update(category=second)
    Product.objects.update(category_id=first.pk)

    changes = [e["changes"] for e in Product.objects.get().history[1:]]
    assert changes == [
        {"category": [first.pk, second.pk]},
        {"category": [second.pk, first.pk]},
    ]


def test_update_masks_masked_fields():
    Product.objects.create(name="Lamp", api_key="old-key")
    Product.objects.update(api_key="new-key")

    assert Product.objects.get().history[-1]["changes"] == {"api_key": ["***", "***"]}


def test_update_of_untracked_fields_only_records_nothing():
    Article.objects.create(title="Hi")
    Article.objects.update(view_count=5)
    NarrowProduct.objects.create(name="Lamp")
    NarrowProduct.objects.update(price=Decimal("3.00"))

    assert len(Article.objects.get().history) == 1
    assert len(NarrowProduct.objects.get().history) == 1


def test_update_setting_history_explicitly_is_left_alone():
    Product.objects.create(name="Lamp")
    Product.objects.update(name="Desk", history=[])

    assert Product.objects.get().history == []


def test_update_inside_tracking_disabled_records_nothing():
    Product.objects.create(name="Lamp")
    with tracking_disabled():
        Product.objects.update(name="Desk")

    assert len(Product.objects.get().history) == 1


def test_update_of_uuid_foreign_key_records_strings():
    parent = Gadget.objects.create(name="hub")
    child = Gadget.objects.create(name="node")
    Gadget.objects.filter(pk=child.pk).update(parent=parent)

    assert Gadget.objects.get(pk=child.pk).history[-1]["changes"] == {
        "parent": [None, str(parent.pk)]
    }


def test_update_entries_read_like_save_entries():
    Product.objects.create(name="Lamp", price=Decimal("9.90"), quantity=1)
    Product.objects.update(name="Desk", price=Decimal("12.00"), quantity=2)
    via_update = Product.objects.get().history[-1]["changes"]

    product = Product.objects.create(name="Lamp", price=Decimal("9.90"), quantity=1)
    product.name, product.price, product.quantity = "Desk", Decimal("12.00"), 2
    product.save()
    via_save = Product.objects.get(pk=product.pk).history[-1]["changes"]

    assert via_update == via_save


def test_bulk_create_stamps_and_records_each_row(alice, django_assert_num_queries):
    with acting_as(alice), time_machine.travel(T0, tick=False), django_assert_num_queries(1):
        created = Product.objects.bulk_create([Product(name=f"p{i}") for i in range(5)])

    for product in Product.objects.all():
        assert product.created_by == alice
        assert product.created_at == T0
        assert [e["action"] for e in product.history] == ["create"]
        assert product.history[0]["changes"]["name"][1] == product.name
    # The instances remember what they were created with.
    created[0].name = "renamed"
    created[0].save()
    assert Product.objects.get(pk=created[0].pk).history[-1]["changes"] == {
        "name": ["p0", "renamed"]
    }


def test_bulk_create_costs_as_many_queries_as_plain_django(django_assert_num_queries):
    with CaptureQueriesContext(connection) as plain:
        PlainProduct.objects.bulk_create([PlainProduct(name=f"p{i}") for i in range(50)])
    with django_assert_num_queries(len(plain)):
        Product.objects.bulk_create([Product(name=f"p{i}") for i in range(50)])


#: Text that array literals, JSON and SQL each quote in their own way.
AWKWARD = ['say "hi"', 'back\\slash \\"', "{a,b}", "NULL", "", " ", "it's", "ünï 🎉", "line\nbreak"]


def test_bulk_create_stores_awkward_text_and_json_as_given():
    products = Product.objects.bulk_create(
        [Product(name=text, notes=f"[{text}]") for text in AWKWARD]
    )
    values = [{"text": text, "list": [text, None, {"k": text}]} for text in AWKWARD]
    typed = AllTypes.objects.bulk_create(
        [AllTypes(text=text, data=value) for text, value in zip(AWKWARD, values, strict=True)]
        + [AllTypes(text="no data", data=None)]  # SQL NULL among JSON values
    )

    stored = Product.objects.with_history().filter(pk__in=[o.pk for o in products]).order_by("pk")
    assert [(o.name, o.notes) for o in stored] == [(t, f"[{t}]") for t in AWKWARD]
    assert [o.history[0]["changes"]["name"] for o in stored] == [[None, t] for t in AWKWARD]
    assert [o.history[0]["changes"]["notes"] for o in stored] == [[None, f"[{t}]"] for t in AWKWARD]
    stored = AllTypes.objects.with_history().filter(pk__in=[o.pk for o in typed]).order_by("pk")
    assert [(o.text, o.data) for o in stored] == [
        *zip(AWKWARD, values, strict=True),
        ("no data", None),
    ]
    assert [o.history[0]["changes"]["data"] for o in stored][:-1] == [[None, v] for v in values]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's UNNEST insert")
def test_bulk_create_passes_the_history_column_as_one_text():
    # psycopg escapes a jsonb[] parameter element by element in Python: slow for entries.
    with CaptureQueriesContext(connection) as queries:
        Product.objects.bulk_create([Product(name=text) for text in AWKWARD])

    (insert,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert "UNNEST(" in insert
    assert "jsonb_array_elements(CAST(" in insert
    assert "::jsonb[]" not in insert


def test_bulk_update_records_each_objects_changes_in_one_query(alice, django_assert_num_queries):
    Product.objects.bulk_create([Product(name=f"p{i}", quantity=i) for i in range(4)])
    products = list(Product.objects.order_by("pk"))
    products[0].quantity = 10
    products[1].quantity = 11
    products[1].name = "not in fields"
    with acting_as(alice), django_assert_num_queries(1):
        Product.objects.bulk_update(products, ["quantity"])

    stored = list(Product.objects.order_by("pk"))
    assert stored[0].history[-1]["changes"] == {"quantity": [0, 10]}
    assert stored[1].history[-1]["changes"] == {"quantity": [1, 11]}
    assert stored[1].name == "p1"
    assert [len(p.history) for p in stored] == [2, 2, 1, 1]
    assert [p.updated_by_id for p in stored] == [alice.pk, alice.pk, None, None]
    # The instances' own history matches the database, and no expression is left on them.
    assert products[0].history == stored[0].history
    assert products[2].history == stored[2].history


def test_bulk_update_of_objects_built_by_hand_reads_old_values_in_sql():
    product = Product.objects.create(name="Lamp", quantity=1)
    Product.objects.bulk_update([Product(pk=product.pk, name="Lamp", quantity=3)], ["quantity"])

    assert Product.objects.get().history[-1]["changes"] == {"quantity": [1, 3]}


def test_since_returns_rows_created_or_changed_after_a_time():
    with time_machine.travel(T0, tick=False):
        old = Product.objects.create(name="old")
        untouched = Product.objects.create(name="untouched")
    with time_machine.travel(T0 + datetime.timedelta(hours=2), tick=False):
        new = Product.objects.create(name="new")
        old.name = "old, changed"
        old.save()

    since = T0 + datetime.timedelta(hours=1)
    assert set(Product.objects.since(since)) == {old, new}
    assert set(Product.objects.since(timestamp=since.timestamp())) == {old, new}
    assert untouched not in Product.objects.since(T0 - datetime.timedelta(days=1)).filter(name="x")
    assert set(Product.objects.since()) == {old, new, untouched}


def test_since_is_strictly_after_the_timestamp():
    with time_machine.travel(T0, tick=False):
        Product.objects.create(name="at T0")

    assert not Product.objects.since(T0).exists()


def test_since_with_version_needs_reversion():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        Product.objects.since(version=3)


def test_created_since_ignores_later_changes():
    with time_machine.travel(T0, tick=False):
        old = Product.objects.create(name="old")
    with time_machine.travel(T0 + datetime.timedelta(hours=2), tick=False):
        new = Product.objects.create(name="new")
        old.name = "changed"
        old.save()

    assert list(Product.objects.created_since(T0 + datetime.timedelta(hours=1))) == [new]


def test_modified_by_finds_rows_a_user_created_or_changed_at_any_time(alice, bob):
    with acting_as(alice):
        created_by_alice = Product.objects.create(name="a")
        changed_by_alice = Product.objects.create(name="b")
    with acting_as(bob):
        untouched_by_alice = Product.objects.create(name="c")
        changed_by_alice.name = "b2"
        changed_by_alice.save()
    with acting_as(alice):
        Product.objects.filter(pk=untouched_by_alice.pk).update(quantity=0)  # no change
    with acting_as(bob):
        created_by_alice.name = "a2"
        created_by_alice.save()
    changed_by_alice.name = "b3"
    with acting_as(alice):
        changed_by_alice.save()
    with acting_as(bob):
        changed_by_alice.name = "b4"
        changed_by_alice.save()

    assert set(Product.objects.modified_by(alice)) == {created_by_alice, changed_by_alice}
    assert set(Product.objects.modified_by(bob.pk)) == {
        created_by_alice,
        changed_by_alice,
        untouched_by_alice,
    }


def test_modified_by_works_with_uuid_primary_keys(alice):
    with acting_as(alice):
        gadget = Gadget.objects.create(name="hub")

    assert list(Gadget.objects.modified_by(alice)) == [gadget]


def test_update_on_an_unsupported_database_fails_loudly(monkeypatch):
    from django.db import NotSupportedError

    Product.objects.create(name="Lamp")
    monkeypatch.setattr(type(connections["default"]), "vendor", "oracle")
    with pytest.raises(NotSupportedError, match="django_trackable.E005"):
        Product.objects.update(name="Desk")


def test_update_or_create_records_the_changed_defaults(alice):
    Product.objects.create(name="Lamp", quantity=1)
    with acting_as(alice):
        product, created = Product.objects.update_or_create(name="Lamp", defaults={"quantity": 4})

    assert not created
    stored = Product.objects.get(pk=product.pk)
    assert stored.history[-1]["changes"] == {"quantity": [1, 4]}
    assert stored.updated_by == alice


def test_get_or_create_records_a_create_entry(alice):
    with acting_as(alice):
        product, created = Product.objects.get_or_create(name="Lamp", defaults={"quantity": 2})

    assert created
    assert [e["action"] for e in Product.objects.get(pk=product.pk).history] == ["create"]


def test_bulk_update_of_the_same_object_twice_records_one_entry():
    product = Product.objects.create(name="Lamp")
    product = Product.objects.get(pk=product.pk)
    product.name = "Desk lamp"

    Product.objects.bulk_update([product, product], ["name"])

    assert isinstance(product.history, list)
    assert [e["action"] for e in product.history] == ["create", "update"]
    assert Product.objects.get(pk=product.pk).history == product.history


@pytest.mark.parametrize("late_write", ["save", "update"])
def test_updated_at_never_moves_back_so_since_finds_every_entry(late_write):
    # A writer takes its time before it waits for the row's lock: one that
    # started first can commit last, with the older time.
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="Lamp")
    early = Product.objects.get(pk=product.pk)
    later = T0 + datetime.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        Product.objects.filter(pk=product.pk).update(name="Desk lamp")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        if late_write == "save":
            early.quantity = 5
            early.save()
        else:
            Product.objects.filter(pk=product.pk).update(quantity=5)

    stored = Product.objects.get(pk=product.pk)
    assert stored.updated_at == later
    assert list(Product.objects.since(later - datetime.timedelta(microseconds=1))) == [stored]
    assert [e["timestamp"][11:13] for e in stored.history] == ["12", "14", "13"]  # commit order


def test_deleting_a_row_that_tracked_rows_point_to_with_set_null_records_the_change(alice):
    from django_trackable.receivers import _set_on_delete_relations

    category = Category.objects.create(name="Lamps")
    pk = category.pk
    products = [Product.objects.create(name=f"p{i}", category=category) for i in range(3)]
    untracked = Category.objects.create(name="untracked")
    with tracking_disabled(), CaptureQueriesContext(connection) as plain:
        untracked.delete()

    with acting_as(alice), CaptureQueriesContext(connection) as tracked:
        category.delete()

    # Django's own statements, plus one tracked UPDATE per relation that records it.
    relations = _set_on_delete_relations(Category)
    assert len(tracked) == len(plain) + len(relations)
    for product in products:
        stored = Product.objects.get(pk=product.pk)
        assert stored.category is None
        assert stored.updated_by == alice
        assert stored.history[-1]["changes"] == {"category": [pk, None]}


def test_a_queryset_delete_records_every_set_null_dependant():
    first, second = Category.objects.create(name="a"), Category.objects.create(name="b")
    Product.objects.create(name="p1", category=first)
    Product.objects.create(name="p2", category=second)

    Category.objects.all().delete()

    assert [p.history[-1]["changes"] for p in Product.objects.order_by("name")] == [
        {"category": [first.pk, None]},
        {"category": [second.pk, None]},
    ]


def test_bulk_create_with_update_conflicts_records_the_rows_it_updates(alice):
    from tests.testapp.models import Token

    with time_machine.travel(T0, tick=False):
        lamp = Token.objects.create(label="lamp")
        desk = Token.objects.create(label="desk")
    later = T0 + datetime.timedelta(hours=1)
    new = Token(label="new")
    with acting_as(alice), time_machine.travel(later, tick=False):
        Token.objects.bulk_create(
            [Token(id=lamp.pk, label="lamp 2"), Token(id=desk.pk, label="desk"), new],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["label"],
        )

    lamp, desk = Token.objects.get(pk=lamp.pk), Token.objects.get(pk=desk.pk)
    assert lamp.label == "lamp 2"
    assert lamp.history[-1]["action"] == "update"
    assert lamp.history[-1]["changes"] == {"label": ["lamp", "lamp 2"]}
    assert (lamp.updated_at, lamp.updated_by) == (later, alice)
    assert [e["action"] for e in desk.history] == ["create"]  # nothing changed
    assert desk.updated_at == T0
    assert [e["action"] for e in Token.objects.get(pk=new.pk).history] == ["create"]


def test_set_with_a_callable_is_called_on_delete_only_and_recorded(alice):
    # SET(get_sentinel) is Django's documented pattern: calling it at start-up
    # queried tables before `migrate` made them (makemigrations crashed).
    from django_trackable.receivers import _set_on_delete_relations
    from tests.testapp.models import UNSORTED_CALLS, Shelf

    _set_on_delete_relations.cache_clear()
    UNSORTED_CALLS.clear()
    assert (Shelf, Shelf._meta.get_field("category")) in _set_on_delete_relations(Category)
    assert UNSORTED_CALLS == []
    lonely = Category.objects.create(name="no shelves")
    lonely.delete()
    assert UNSORTED_CALLS == []  # nothing pointed to it: Django does not call it either

    category = Category.objects.create(name="Lamps")
    shelf = Shelf.objects.create(name="top", category=category)
    pk = category.pk
    with acting_as(alice):
        category.delete()

    unsorted = Category.objects.get(name="Unsorted")
    stored = Shelf.objects.with_history().get(pk=shelf.pk)
    assert stored.category == unsorted
    assert stored.updated_by == alice
    assert stored.history[-1]["changes"] == {"category": [pk, unsorted.pk]}
