"""TrackableModel and AuditableModel: stamps and history written by save()."""

from __future__ import annotations

import copy
import datetime
import json
import pickle
from decimal import Decimal

import pytest
import time_machine
from django.core import serializers
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_trackable import acting_as, tracking_disabled
from django_trackable.models import HistoryUnavailable
from tests.testapp.models import (
    Article,
    Category,
    Gadget,
    NarrowProduct,
    Note,
    PlainProduct,
    Product,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_create_stamps_both_users_and_times_from_one_clock(alice):
    with acting_as(alice), time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="Lamp", price=Decimal("9.99"))

    product = reload(product)
    assert product.created_by == alice
    assert product.updated_by == alice
    assert product.created_at == product.updated_at == T0
    assert product.history[0]["timestamp"] == "2026-01-01T12:00:00.000000+00:00"


def test_create_entry_carries_initial_values(alice):
    with acting_as(alice):
        product = Product.objects.create(name="Lamp", price=Decimal("9.99"), quantity=3)

    (entry,) = reload(product).history
    assert entry["action"] == "create"
    assert entry["user"] == alice.pk
    assert entry["user_repr"] == "alice"
    assert entry["changes"]["name"] == [None, "Lamp"]
    assert entry["changes"]["price"] == [None, "9.99"]
    assert entry["changes"]["quantity"] == [None, 3]


def test_update_entry_holds_only_changed_fields_old_and_new(alice, bob):
    with acting_as(alice):
        product = Product.objects.create(name="Lamp", price=Decimal("9.99"))
    product = reload(product)
    product.price = Decimal("12.50")
    with acting_as(bob):
        product.save()

    product = reload(product)
    entry = product.history[-1]
    assert entry["action"] == "update"
    assert entry["changes"] == {"price": ["9.99", "12.50"]}
    assert entry["user"] == bob.pk
    assert product.updated_by == bob
    assert product.created_by == alice


def test_instance_history_matches_database_after_save(alice):
    product = Product.objects.create(name="Lamp")
    product = reload(product)
    product.name = "Desk lamp"
    with acting_as(alice):
        product.save()

    assert product.history == reload(product).history


def test_save_without_changes_appends_nothing_and_keeps_stamps(alice):
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="Lamp")
    product = reload(product)
    with acting_as(alice):
        product.save()

    product = reload(product)
    assert len(product.history) == 1
    assert product.updated_at == T0
    assert product.updated_by is None


def test_second_save_after_first_only_records_the_new_change():
    product = Product.objects.create(name="Lamp", quantity=1)
    product.quantity = 2
    product.save()
    product.quantity = 3
    product.save()

    changes = [entry["changes"] for entry in reload(product).history[1:]]
    assert changes == [{"quantity": [1, 2]}, {"quantity": [2, 3]}]


def test_tracked_save_issues_as_many_queries_as_plain_django(django_assert_num_queries, alice):
    plain = PlainProduct.objects.create(name="Lamp")
    tracked = Product.objects.create(name="Lamp")
    plain = PlainProduct.objects.get(pk=plain.pk)
    tracked = reload(tracked)

    with CaptureQueriesContext(connection) as plain_queries:
        plain.price = Decimal("1.00")
        plain.save()
        PlainProduct.objects.create(name="Desk")
    with acting_as(alice), django_assert_num_queries(len(plain_queries)):
        tracked.price = Decimal("1.00")
        tracked.save()
        Product.objects.create(name="Desk")


def test_save_does_not_read_the_history_back_from_the_database():
    product = reload(Product.objects.create(name="Lamp"))
    product.name = "Desk"
    with CaptureQueriesContext(connection) as queries:
        product.save()

    (update,) = [q["sql"] for q in queries.captured_queries]
    # Django 6 returns fields saved with expressions; history must not be one.
    # (The UPDATE returns the history's length, for HISTORY_WINDOW, not the history.)
    returned = update.partition("RETURNING")[2]
    assert '"testapp_product"."history"' not in returned_columns(returned), returned


def returned_columns(sql):
    """The items of a RETURNING list: its commas outside parentheses split it."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(sql):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(sql[start:i].strip())
            start = i + 1
    return [*items, sql[start:].strip()]


def test_save_with_update_fields_stamps_updated_by_and_appends(alice):
    product = reload(Product.objects.create(name="Lamp", quantity=1))
    product.quantity = 5
    with acting_as(alice), CaptureQueriesContext(connection) as queries:
        product.save(update_fields=["quantity"])

    (update,) = [q["sql"] for q in queries.captured_queries]
    assert "updated_by" in update and "history" in update
    product = reload(product)
    assert product.updated_by == alice
    assert product.history[-1]["changes"] == {"quantity": [1, 5]}


def test_save_with_update_fields_ignores_changes_outside_them():
    product = reload(Product.objects.create(name="Lamp", quantity=1))
    product.quantity = 5
    product.name = "Not saved"
    product.save(update_fields=["quantity"])

    product_db = reload(product)
    assert product_db.name == "Lamp"
    assert product_db.history[-1]["changes"] == {"quantity": [1, 5]}
    # The unsaved change is still pending, and recorded when it is saved.
    product.save(update_fields=["name"])
    assert reload(product).history[-1]["changes"] == {"name": ["Lamp", "Not saved"]}


def test_update_fields_with_no_tracked_change_appends_nothing():
    product = reload(Product.objects.create(name="Lamp"))
    product.save(update_fields=["name"])

    assert len(reload(product).history) == 1


def test_masked_setting_fields_never_reach_history(alice):
    product = Product.objects.create(name="Lamp", api_key="sk-live-123")
    product = reload(product)
    product.api_key = "sk-live-456"
    product.save()

    stored = json.dumps(reload(product).history)
    assert "sk-live" not in stored
    assert reload(product).history[-1]["changes"] == {"api_key": ["***", "***"]}


def test_track_mask_masks_named_fields():
    article = Article.objects.create(title="Hi", body="the secret plan")
    article = reload(article)
    article.body = "another plan"
    article.save()

    stored = json.dumps(reload(article).history)
    assert "plan" not in stored
    assert reload(article).history[-1]["changes"] == {"body": ["***", "***"]}


def test_masked_fields_setting_applies_to_every_model(settings):
    settings.TRACKABLE = {"MASKED_FIELDS": ["notes"]}
    product = reload(Product.objects.create(name="Lamp", notes="private"))
    product.notes = "still private"
    product.save()

    assert "private" not in json.dumps(reload(product).history)


def test_field_names_are_masked_by_the_same_rule_as_url_parameters(settings):
    settings.TRACKABLE = {"MASKED_FIELDS": ["api-key"]}  # a URL-style pattern
    product = reload(Product.objects.create(name="Lamp", api_key="k-1"))
    product.api_key = "k-2"
    product.save()

    assert "k-1" not in json.dumps(reload(product).history)
    assert reload(product).history[-1]["changes"] == {"api_key": ["***", "***"]}


def test_track_exclude_changes_record_nothing():
    article = reload(Article.objects.create(title="Hi"))
    article.view_count = 10
    article.save()

    article = reload(article)
    assert article.view_count == 10
    assert len(article.history) == 1
    assert "view_count" not in article.history[0]["changes"]


def test_track_fields_limits_what_is_recorded():
    product = reload(NarrowProduct.objects.create(name="Lamp", price=Decimal("1.00")))
    product.price = Decimal("2.00")
    product.save()
    assert len(reload(product).history) == 1

    product.name = "Desk"
    product.save()
    assert reload(product).history[-1]["changes"] == {"name": ["Lamp", "Desk"]}


def test_foreign_keys_are_recorded_by_primary_key():
    tools, toys = Category.objects.create(name="tools"), Category.objects.create(name="toys")
    product = reload(Product.objects.create(name="Saw", category=tools))
    product.category = toys
    product.save()

    assert reload(product).history[-1]["changes"] == {"category": [tools.pk, toys.pk]}


def test_uuid_primary_and_foreign_keys_are_recorded_as_strings():
    parent = Gadget.objects.create(name="hub")
    child = reload(Gadget.objects.create(name="node"))
    child.parent = parent
    child.save()

    assert reload(child).history[-1]["changes"] == {"parent": [None, str(parent.pk)]}


def test_value_assigned_as_string_equal_to_loaded_value_is_no_change():
    product = reload(Product.objects.create(name="Lamp", price=Decimal("12.50")))
    product.price = "12.50"
    product.save()

    assert len(reload(product).history) == 1


def test_deferred_fields_that_stay_unloaded_are_not_recorded():
    product = Product.objects.create(name="Lamp", notes="n")
    product = Product.objects.only("name").get(pk=product.pk)
    product.name = "Desk"
    product.save()

    assert reload(product).history[-1]["changes"] == {"name": ["Lamp", "Desk"]}


def test_deferred_field_assigned_without_loading_reads_its_old_value_in_sql():
    product = Product.objects.create(name="Lamp", quantity=1, notes="n")
    product = Product.objects.only("name").get(pk=product.pk)
    product.name = "Desk"
    product.quantity = 5  # never loaded: its old value is only in the row
    product.save()

    stored = reload(product)
    assert stored.quantity == 5
    assert stored.history[-1]["changes"] == {"name": ["Lamp", "Desk"], "quantity": [1, 5]}
    assert product.history == stored.history  # reloaded lazily: Python did not know it


def test_deferred_history_is_appended_without_loading_it(django_assert_num_queries):
    product = Product.objects.create(name="Lamp")
    product = Product.objects.defer("history").get(pk=product.pk)
    product.name = "Desk"
    with django_assert_num_queries(1):
        product.save()

    assert [e["action"] for e in reload(product).history] == ["create", "update"]


def test_deferred_field_loaded_later_is_diffed_against_its_loaded_value():
    product = Product.objects.create(name="Lamp", notes="old")
    product = Product.objects.only("name").get(pk=product.pk)
    assert product.notes == "old"  # loads the field
    product.notes = "new"
    product.save()

    assert reload(product).history[-1]["changes"] == {"notes": ["old", "new"]}


def test_refresh_from_db_resets_the_baseline():
    product = Product.objects.create(name="Lamp")
    stale = reload(product)
    Product.objects.filter(pk=product.pk).update(name="Desk")
    stale.refresh_from_db()
    stale.save()

    assert len(reload(product).history) == 2  # create + the update(), nothing more


def test_instance_built_with_existing_pk_records_old_values_from_the_row(alice):
    product = Product.objects.create(name="Lamp", quantity=1, price=Decimal("5.00"))
    with acting_as(alice):
        Product(pk=product.pk, name="Lamp", quantity=7, price=Decimal("5.00")).save()

    product = reload(product)
    assert product.quantity == 7
    assert product.created_at is not None
    assert product.history[-1]["changes"] == {"quantity": [1, 7]}
    assert product.history[-1]["user"] == alice.pk
    assert product.updated_by == alice


def test_instance_built_with_existing_pk_and_same_values_appends_nothing():
    product = Product.objects.create(name="Lamp", quantity=1)
    rebuilt = Product(pk=product.pk, name="Lamp", quantity=1)
    rebuilt.save()

    product = reload(product)
    assert len(product.history) == 1
    assert product.created_at <= product.updated_at


def test_rolled_back_save_leaves_no_entry():
    product = Product.objects.create(name="Lamp")
    with pytest.raises(RuntimeError), transaction.atomic():
        changed = reload(product)
        changed.name = "Desk"
        changed.save()
        raise RuntimeError("abort")

    assert [e["action"] for e in reload(product).history] == ["create"]


def test_rolled_back_create_leaves_no_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        Product.objects.create(name="Lamp")
        raise RuntimeError("abort")

    assert not Product.objects.exists()


def test_failed_save_keeps_the_instance_baseline():
    product = reload(Product.objects.create(name="Lamp"))
    product.name = None  # NOT NULL: the UPDATE itself fails
    with pytest.raises(IntegrityError), transaction.atomic():
        product.save()
    product.name = "Desk"
    product.save()

    assert reload(product).history[-1]["changes"] == {"name": ["Lamp", "Desk"]}


def test_history_limit_keeps_newest_entries(settings):
    settings.TRACKABLE = {"HISTORY_LIMIT": 3}
    product = Product.objects.create(name="v0")
    for version in range(1, 6):
        product.name = f"v{version}"
        product.save()

    stored = reload(product).history
    assert [e["changes"]["name"][1] for e in stored] == ["v3", "v4", "v5"]
    assert product.history == stored


def test_row_far_over_a_new_limit_is_trimmed_by_its_next_save(settings):
    product = Product.objects.create(name="v0")
    entry = reload(product).history[0]
    Product.objects.filter(pk=product.pk).update(history=[entry] * 50)
    settings.TRACKABLE = {"HISTORY_LIMIT": 3}
    product = reload(product)
    product.name = "v1"
    product.save()

    stored = reload(product).history
    assert len(stored) == 3
    assert stored[-1]["changes"] == {"name": ["v0", "v1"]}
    assert product.history == stored


def test_history_limit_applies_on_update_and_update_query(settings):
    settings.TRACKABLE = {"HISTORY_LIMIT": 2}
    product = Product.objects.create(name="v0")
    for version in range(1, 4):
        Product.objects.filter(pk=product.pk).update(name=f"v{version}")

    assert [e["changes"]["name"] for e in reload(product).history] == [
        ["v1", "v2"],
        ["v2", "v3"],
    ]


def test_tracking_disabled_records_nothing_and_keeps_given_values(alice):
    with tracking_disabled(), acting_as(alice):
        product = Product.objects.create(name="Imported", created_at=T0, updated_at=T0)
        product.name = "Imported again"
        product.save()

    product = reload(product)
    assert product.history == []
    assert product.created_at == T0
    assert product.created_by is None


def test_tracking_disabled_save_does_not_overwrite_history():
    product = reload(Product.objects.create(name="Lamp"))
    product.history = []
    with tracking_disabled():
        product.name = "Desk"
        product.save()

    assert len(reload(product).history) == 1


def test_loaddata_keeps_fixture_values_and_history():
    product = Product.objects.create(name="Lamp")
    data = serializers.serialize("json", [product])
    Product.objects.all().delete()
    for obj in serializers.deserialize("json", data):
        obj.save()

    loaded = reload(product)
    assert loaded.history == product.history
    # Django's JSON serializer keeps milliseconds only.
    assert loaded.created_at == product.created_at.replace(
        microsecond=product.created_at.microsecond // 1000 * 1000
    )


def test_acting_as_extra_keys_are_added_to_entries(alice):
    with acting_as(alice, reason="import", batch=7):
        product = Product.objects.create(name="Lamp")

    entry = reload(product).history[0]
    assert entry["reason"] == "import"
    assert entry["batch"] == 7


def test_user_with_failing_str_still_saves(alice, monkeypatch):
    monkeypatch.setattr(type(alice), "__str__", lambda self: 1 / 0)
    with acting_as(alice):
        product = Product.objects.create(name="Lamp")

    assert reload(product).history[0]["user_repr"] == f"User {alice.pk}"


def test_an_actor_with_a_pk_that_is_not_a_user_is_recorded_by_name_only():
    class Robot:
        pk = 42

        def __str__(self):
            return "robot"

    with acting_as(Robot()):
        product = Product.objects.create(name="Lamp")

    product = reload(product)
    assert product.created_by is None
    # Not 42: that would attribute the entry to (and erase it with) user 42.
    assert product.history[0]["user"] is None
    assert product.history[0]["user_repr"] == "robot"


def test_a_text_actor_is_recorded_by_name_and_leaves_the_user_stamps_empty(alice):
    with acting_as(alice):
        product = Product.objects.create(name="Lamp")
    with acting_as("cron"):
        product = reload(product)
        product.name = "Desk"
        product.save()
        Product.objects.filter(pk=product.pk).update(quantity=3)
        Product.objects.bulk_create([Product(name="Chair")])
        Product.objects.bulk_update([reload(product)], ["notes"])

    product = reload(product)
    assert [(e["user"], e["user_repr"]) for e in product.history] == [
        (alice.pk, str(alice)),
        (None, "cron"),
        (None, "cron"),
    ]
    assert (product.created_by, product.updated_by) == (alice, None)
    chair = Product.objects.get(name="Chair")
    assert (chair.created_by, chair.updated_by) == (None, None)
    assert chair.history[0]["user_repr"] == "cron"


def test_an_actor_whose_str_fails_and_has_no_pk_is_recorded_by_its_type():
    class Broken:
        def __str__(self):
            raise RuntimeError("no")

    with acting_as(Broken()):
        product = Product.objects.create(name="Lamp")

    assert reload(product).history[0]["user_repr"] == "Broken"


def test_saves_in_a_decorated_generator_are_its_actor_s_and_the_caller_s_are_not(alice):
    @acting_as(alice, reason="import")
    def import_rows():
        for name in ("a", "b"):
            yield Product.objects.create(name=name)

    for product in import_rows():
        Product.objects.create(name=f"{product.name} by the caller")

    made_by = {p.name: (p.created_by_id, p.history[0].get("reason")) for p in Product.objects.all()}
    assert made_by == {
        "a": (alice.pk, "import"),
        "b": (alice.pk, "import"),
        "a by the caller": (None, None),
        "b by the caller": (None, None),
    }


def test_created_by_user_object_is_cached_on_the_instance(alice, django_assert_num_queries):
    with acting_as(alice):
        product = Product.objects.create(name="Lamp")
    with django_assert_num_queries(0):
        assert product.created_by == alice


def test_deleting_a_user_keeps_rows_and_history(alice):
    with acting_as(alice):
        product = Product.objects.create(name="Lamp")
    alice.delete()

    product = reload(product)
    assert product.created_by is None
    assert product.history[0]["user_repr"] == "alice"


@pytest.mark.django_db(transaction=True)
async def test_asave_is_tracked(alice):
    product = await Product.objects.acreate(name="Lamp")
    product = await Product.objects.aget(pk=product.pk)
    product.name = "Desk"

    @acting_as(alice)
    async def rename():
        await product.asave()

    await rename()
    # history is deferred by the manager: an async read asks for it with the row.
    product = await Product.objects.with_history().aget(pk=product.pk)
    assert product.history[-1]["changes"] == {"name": ["Lamp", "Desk"]}
    assert product.history[-1]["user"] == alice.pk


def test_auditable_model_stamps_users_without_history(alice, bob):
    with acting_as(alice):
        note = Note.objects.create(text="hi")
    note = Note.objects.get(pk=note.pk)
    with acting_as(bob):
        note.save()

    note = Note.objects.get(pk=note.pk)
    assert note.created_by == alice
    assert note.updated_by == bob


def test_auditable_model_update_stamps_updated_by(alice):
    note = Note.objects.create(text="hi")
    with acting_as(alice):
        Note.objects.update(text="ho")

    assert Note.objects.get(pk=note.pk).updated_by == alice


def test_auditable_instance_built_by_hand_keeps_created_by(alice, bob):
    with acting_as(alice):
        note = Note.objects.create(text="hi")
    with acting_as(bob):
        Note(pk=note.pk, text="ho").save()

    note = Note.objects.get(pk=note.pk)
    assert (note.created_by, note.updated_by) == (alice, bob)


def test_history_since_returns_later_entries():
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="v0")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        product.name = "v1"
        product.save()

    later = product.history_since(T0)
    assert [e["changes"]["name"] for e in later] == [["v0", "v1"]]
    assert product.history_since(T0.timestamp() - 1)[0]["action"] == "create"
    assert product.history_since(T0 + datetime.timedelta(hours=2)) == []


def test_as_of_rebuilds_values_at_a_moment():
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="v0", price=Decimal("1.00"), quantity=1)
    for hour, changes in enumerate(
        [{"name": "v1"}, {"price": Decimal("2.50")}, {"name": "v2", "quantity": 9}], start=1
    ):
        with time_machine.travel(T0 + datetime.timedelta(hours=hour), tick=False):
            for name, value in changes.items():
                setattr(product, name, value)
            product.save()
    product = reload(product)

    def at(hours):
        return product.as_of(T0 + datetime.timedelta(hours=hours, minutes=30))

    assert (at(0).name, at(0).price, at(0).quantity) == ("v0", Decimal("1.00"), 1)
    assert (at(1).name, at(1).price) == ("v1", Decimal("1.00"))
    assert (at(2).name, at(2).price, at(2).quantity) == ("v1", Decimal("2.50"), 1)
    assert (at(3).name, at(3).quantity) == ("v2", 9)
    assert at(0).pk == product.pk


def test_as_of_before_creation_is_none():
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="Lamp")

    assert product.as_of(T0 - datetime.timedelta(seconds=1)) is None


def test_as_of_beyond_trimmed_history_raises(settings):
    settings.TRACKABLE = {"HISTORY_LIMIT": 1}
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="v0")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        product.name = "v1"
        product.save()

    with pytest.raises(HistoryUnavailable):
        reload(product).as_of(T0 + datetime.timedelta(minutes=30))
    assert reload(product).as_of(T0 + datetime.timedelta(hours=2)).name == "v1"


def test_as_of_keeps_current_value_of_masked_fields():
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="Lamp", api_key="one")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        product.api_key = "two"
        product.save()

    assert product.as_of(T0 + datetime.timedelta(minutes=1)).api_key == "two"


def test_json_field_changed_in_place_is_recorded():
    from tests.testapp.models import AllTypes

    obj = AllTypes.objects.create(data={"tags": ["a"]})
    obj = reload(obj)
    obj.data["tags"].append("b")
    obj.save()

    assert reload(obj).history[-1]["changes"] == {"data": [{"tags": ["a"]}, {"tags": ["a", "b"]}]}


def test_timezone_naive_settings_still_write_offset_timestamps(settings):
    settings.USE_TZ = False
    product = Product.objects.create(name="Lamp")

    stamp = reload(product).history[0]["timestamp"]
    assert datetime.datetime.fromisoformat(stamp).tzinfo is not None
    assert timezone.is_naive(reload(product).created_at)


def test_tracking_disabled_writes_stamps_only_when_assigned_since_loading(alice):
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="Lamp")
    stale = reload(product)
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        product.name = "Desk lamp"
        product.save()
    stale.created_at = T0 - datetime.timedelta(days=1)  # an import fixing it, on purpose
    stale.quantity = 3
    with tracking_disabled():
        stale.save()

    stored = reload(product)
    assert stored.created_at == T0 - datetime.timedelta(days=1)
    assert stored.updated_at == T0 + datetime.timedelta(hours=1)  # not the stale value
    assert len(stored.history) == 2


def test_track_mask_by_attname_masks_the_foreign_key(monkeypatch):
    from django_trackable import tracking

    monkeypatch.setattr(Product, "track_mask", ("category_id",))
    tracking.clear_model_options()
    first, second = Category.objects.create(name="a"), Category.objects.create(name="b")
    try:
        product = Product.objects.create(name="Lamp", category=first)
        product.category = second
        product.save()
    finally:
        monkeypatch.undo()
        tracking.clear_model_options()

    history = reload(product).history
    assert history[0]["changes"]["category"] == [None, "***"]
    assert history[1]["changes"]["category"] == ["***", "***"]


def test_saving_an_as_of_copy_writes_the_old_values_back_for_any_primary_key():
    from tests.testapp.models import Token

    with time_machine.travel(T0, tick=False):
        token = Token.objects.create(label="v0")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        token.label = "v1"
        token.save()

    token.as_of(T0 + datetime.timedelta(minutes=1)).save()

    stored = Token.objects.get(pk=token.pk)
    assert Token.objects.count() == 1
    assert stored.label == "v0"
    assert stored.history[-1]["changes"] == {"label": ["v1", "v0"]}


@pytest.mark.parametrize(
    "copier", [copy.copy, copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))]
)
def test_a_copy_of_an_instance_diffs_against_a_snapshot_of_its_own(copier):
    from django_trackable.tracking import snapshot_of

    product = reload(Product.objects.create(name="v0", quantity=1))
    snapshot_of(product)  # the snapshot in the dict form a save leaves it in
    twin = copier(product)

    twin.quantity = 2
    twin.save()
    product.name = "v1"
    product.save()

    history = reload(product).history
    assert [e["changes"] for e in history[1:]] == [{"quantity": [1, 2]}, {"name": ["v0", "v1"]}]


@pytest.fixture
def recording_overwrites(monkeypatch):
    from django_trackable import tracking

    monkeypatch.setattr(Product, "track_overwrites", True)
    tracking.clear_model_options()
    yield
    monkeypatch.undo()
    tracking.clear_model_options()


def test_a_stale_full_save_records_what_it_writes_over_with_track_overwrites(
    recording_overwrites,
):
    product = Product.objects.create(name="Lamp", quantity=1)
    stale = reload(product)
    Product.objects.filter(pk=product.pk).update(quantity=7)  # another writer

    stale.name = "Desk lamp"
    stale.save()

    entry = reload(product).history[-1]
    assert entry["changes"] == {"name": ["Lamp", "Desk lamp"], "quantity": [7, 1]}


def test_a_save_with_track_overwrites_and_nothing_overwritten_records_only_its_changes(
    recording_overwrites,
):
    product = reload(Product.objects.create(name="Lamp", quantity=1))
    product.name = "Desk lamp"
    product.save()
    product.save()  # changes nothing, overwrites nothing

    history = reload(product).history
    assert [e["changes"] for e in history[1:]] == [{"name": ["Lamp", "Desk lamp"]}]


def test_without_track_overwrites_a_stale_save_records_only_its_own_changes():
    product = Product.objects.create(name="Lamp", quantity=1)
    stale = reload(product)
    Product.objects.filter(pk=product.pk).update(quantity=7)

    stale.name = "Desk lamp"
    stale.save()

    stored = reload(product)
    assert stored.quantity == 1  # Django's lost update: save() writes every field
    assert stored.history[-1]["changes"] == {"name": ["Lamp", "Desk lamp"]}
