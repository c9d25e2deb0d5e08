"""Recorded properties: when records are written, what they hold, what they cost."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.models import Avg, Max
from django.test.utils import CaptureQueriesContext

from django_trackable import tracking_disabled
from django_trackable.models import RecordModel, record_model_for, record_models
from tests.recordsapp.models import (
    Article,
    ArticleRecord,
    Author,
    Comment,
    Fragile,
    FragileRecord,
    Item,
    ItemProxy,
    ItemRecord,
    Label,
    Meter,
    MeterRecord,
    PlainItem,
    Post,
    PostRecord,
    Reading,
    ReadingRecord,
    SpecialItem,
    Supplier,
    Tag,
)

pytestmark = pytest.mark.django_db


def prices(item):
    return [r.price for r in item.records.all()]


@pytest.fixture
def acme():
    return Supplier.objects.create(name="ACME")


@pytest.fixture
def lamp(acme):
    return Item.objects.create(name="Lamp", price=Decimal("10.00"), supplier=acme)


# --- what a record holds ----------------------------------------------------------


def test_create_writes_one_record_with_fields_properties_and_methods(lamp):
    (record,) = lamp.records.all()
    assert record.recording == lamp
    assert record.price == Decimal("10.00")
    assert record.price_with_tax == Decimal("12.00")
    assert record.supplier_name == "ACME"
    assert record.label == "Lamp (10.00)"
    assert record.created is not None


def test_create_costs_one_insert_more_than_plain_django(django_assert_num_queries):
    with django_assert_num_queries(1):
        PlainItem.objects.create(name="Lamp", price=Decimal("10.00"))
    with django_assert_num_queries(2):
        Reading.objects.create(sensor="s", value=1.5)


def test_a_save_that_changes_a_recorded_value_writes_one_record(lamp):
    lamp.price = Decimal("12.50")
    lamp.save()
    assert prices(lamp) == [Decimal("10.00"), Decimal("12.50")]
    assert lamp.records.latest().price_with_tax == Decimal("15.00")


def test_a_save_that_changes_only_a_property_writes_a_record(lamp):
    lamp.tax_rate = Decimal("0.10")  # not recorded itself, but price_with_tax changes
    lamp.save()
    assert [r.price_with_tax for r in lamp.records.all()] == [Decimal("12.00"), Decimal("11.00")]


def test_an_unchanged_save_writes_no_record_and_costs_no_query(lamp, django_assert_num_queries):
    lamp.notes = "not recorded"
    with django_assert_num_queries(1):  # the UPDATE only, as in plain Django
        lamp.save()
    assert lamp.records.count() == 1


def test_a_changed_save_costs_one_insert(lamp, django_assert_num_queries):
    lamp.price = Decimal("11.00")
    with django_assert_num_queries(2) as captured:
        lamp.save()
    assert captured.captured_queries[1]["sql"].startswith("INSERT INTO")


def test_a_loaded_instance_compares_with_the_latest_record_in_the_insert(
    lamp, django_assert_num_queries
):
    fresh = Item.objects.select_related("supplier").get(pk=lamp.pk)
    with django_assert_num_queries(2):  # UPDATE + one INSERT ... WHERE NOT EXISTS
        fresh.save()
    assert lamp.records.count() == 1
    with django_assert_num_queries(1):  # now it knows what it recorded
        fresh.save()


def test_a_loaded_instance_records_when_its_values_differ_from_the_latest_record(lamp):
    fresh = Item.objects.get(pk=lamp.pk)
    fresh.price = Decimal("9.00")
    fresh.save()
    assert prices(lamp) == [Decimal("10.00"), Decimal("9.00")]


def test_a_record_missed_by_a_raw_update_is_caught_up_by_the_next_save(lamp):
    Item.all_objects.filter(pk=lamp.pk).update(price=Decimal("30.00"))
    models.QuerySet.update(Item.all_objects.filter(pk=lamp.pk), price=Decimal("40.00"))
    fresh = Item.all_objects.get(pk=lamp.pk)
    fresh.save()
    assert prices(lamp) == [Decimal("10.00"), Decimal("30.00"), Decimal("40.00")]


def test_saving_back_an_earlier_value_is_a_change(lamp):
    for price in ("11.00", "10.00"):
        lamp.price = Decimal(price)
        lamp.save()
    assert prices(lamp) == [Decimal("10.00"), Decimal("11.00"), Decimal("10.00")]


def test_a_value_equal_after_conversion_is_no_change(lamp):
    lamp.price = "10.0"  # a string that means the same Decimal
    lamp.save()
    assert lamp.records.count() == 1


def test_deferred_recorded_fields_are_loaded_in_one_query(lamp, django_assert_num_queries):
    fresh = Item.objects.select_related("supplier").only("id", "name", "supplier").get(pk=lamp.pk)
    fresh.name = "Desk lamp"
    with django_assert_num_queries(3):  # the UPDATE, the deferred fields, the INSERT
        fresh.save(update_fields=["name"])
    assert lamp.records.latest().label == "Desk lamp (10.00)"


def test_tracking_disabled_writes_no_record(lamp):
    with tracking_disabled():
        lamp.price = Decimal("99.00")
        lamp.save()
        Reading.objects.create(sensor="s", value=1)
    assert lamp.records.count() == 1
    assert ReadingRecord.objects.count() == 0


def test_loaddata_writes_no_record(tmp_path):
    fixture = tmp_path / "readings.json"
    fixture.write_text(
        '[{"model": "recordsapp.reading", "pk": 7, "fields": {"sensor": "s", "value": 1.0}}]'
    )
    call_command("loaddata", str(fixture), verbosity=0)
    assert Reading.objects.filter(pk=7).exists()
    assert ReadingRecord.objects.count() == 0


def test_a_rolled_back_save_leaves_no_record(lamp):
    with pytest.raises(RuntimeError), transaction.atomic():
        lamp.price = Decimal("50.00")
        lamp.save()
        raise RuntimeError("roll back")
    assert prices(lamp) == [Decimal("10.00")]


# --- values that cannot be recorded --------------------------------------------------


def test_a_property_that_raises_is_logged_and_the_save_succeeds(caplog):
    with caplog.at_level(logging.ERROR, logger="django_trackable.records"):
        fragile = Fragile.objects.create(name="boom")
    assert Fragile.objects.filter(pk=fragile.pk).exists()
    assert FragileRecord.objects.count() == 0
    assert "risky" in caplog.text
    assert "the property failed" in caplog.text


def test_a_value_too_long_for_its_column_is_logged_not_stored(caplog):
    with caplog.at_level(logging.ERROR, logger="django_trackable.records"):
        fragile = Fragile.objects.create(name="far too long")
    assert FragileRecord.objects.count() == 0
    assert "shout" in caplog.text
    fragile.name = "ok"
    fragile.save()
    (record,) = fragile.records.all()
    assert (record.risky, record.shout) == (2, "OK")


def test_none_for_a_not_null_column_is_logged_not_stored(caplog):
    with caplog.at_level(logging.ERROR, logger="django_trackable.records"):
        Fragile.objects.create(name="none")
    assert FragileRecord.objects.count() == 0
    assert "risky" in caplog.text
    assert "not null=True" in caplog.text


def test_a_property_returning_an_instance_is_stored_as_its_key():
    author = Author.objects.create(name="Ann")
    article = Article.objects.create(title="Hello", author=author)
    assert article.records.get().lead_author_id == author.pk


def test_record_skips_unsaved_instances():
    assert ItemRecord.record(Item(name="Unsaved", price=Decimal("1.00"))) == 0
    assert ItemRecord.objects.count() == 0


# --- relatives -------------------------------------------------------------------------


def test_a_relative_change_records_its_dependants(acme, lamp):
    chair = Item.objects.create(name="Chair", price=Decimal("50.00"), supplier=acme)
    acme.name = "ACME Corp"
    acme.save()
    for item in (lamp, chair):
        assert [r.supplier_name for r in item.records.all()] == ["ACME", "ACME Corp"]


def test_a_relative_save_that_changes_no_dependant_value_writes_nothing(acme, lamp):
    acme.country = "FR"  # supplier_name does not change
    acme.save()
    assert lamp.records.count() == 1


def test_a_relative_change_fans_out_to_1000_dependants_in_a_fixed_number_of_queries(
    acme, django_assert_num_queries
):
    Item.objects.bulk_create(
        [Item(name=f"Item {i}", price=Decimal("1.00"), supplier=acme) for i in range(1000)]
    )
    acme.name = "Renamed"
    # The supplier's UPDATE, one SELECT of the dependants, one INSERT of their records.
    with django_assert_num_queries(3):
        acme.save()
    assert ItemRecord.objects.filter(supplier_name="Renamed").count() == 1000
    acme.name = "Renamed again"
    with django_assert_num_queries(3):  # the same for 1,000 as for one
        acme.save()
    assert ItemRecord.objects.filter(supplier_name="Renamed again").count() == 1000


def test_ten_and_a_thousand_dependants_cost_the_same_queries(acme):
    other = Supplier.objects.create(name="Other")
    Item.objects.bulk_create(
        [Item(name=f"A{i}", price=Decimal("1.00"), supplier=acme) for i in range(10)]
        + [Item(name=f"B{i}", price=Decimal("1.00"), supplier=other) for i in range(1000)]
    )
    counts = []
    for supplier in (acme, other):
        supplier.name += "!"
        with CaptureQueriesContext(connection) as captured:
            supplier.save()
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert ItemRecord.objects.filter(supplier_name="Other!").count() == 1000


def test_soft_deleted_instances_keep_their_records_and_follow_their_relatives(acme, lamp):
    lamp.delete()
    assert Item.objects.filter(pk=lamp.pk).count() == 0
    assert ItemRecord.objects.filter(recording_id=lamp.pk).count() == 1
    acme.name = "ACME 2"
    acme.save()
    assert ItemRecord.objects.filter(recording_id=lamp.pk).latest().supplier_name == "ACME 2"


def test_hard_deleting_an_instance_deletes_its_records(lamp):
    lamp.hard_delete()
    assert ItemRecord.objects.count() == 0


def test_deleting_a_relative_records_dependants_its_set_null_changed(acme, lamp):
    acme.delete()
    assert [r.supplier_name for r in lamp.records.all()] == ["ACME", None]


def test_reverse_relative_added_and_deleted_records_the_count():
    article = Article.objects.create(title="Hello")
    first = Comment.objects.create(article=article, text="first")
    Comment.objects.create(article=article, text="second")
    first.delete()
    assert [r.comment_count for r in article.records.all()] == [0, 1, 2, 1]


def test_a_reverse_relative_moved_to_another_instance_records_both():
    old, new = Article.objects.create(title="Old"), Article.objects.create(title="New")
    comment = Comment.objects.create(article=old)
    moved = Comment.objects.get(pk=comment.pk)
    moved.article = new
    moved.save()
    assert [r.comment_count for r in old.records.all()] == [0, 1, 0]
    assert [r.comment_count for r in new.records.all()] == [0, 1]


def test_deleting_an_instance_with_reverse_relatives_records_nothing_for_it():
    article = Article.objects.create(title="Doomed")
    Comment.objects.bulk_create([Comment(article=article) for _ in range(3)])
    with transaction.atomic():  # the deferred foreign keys are checked at commit
        article.delete()
    assert ArticleRecord.objects.count() == 0


def test_a_forward_relative_reached_through_an_author(django_user_model):
    author = Author.objects.create(name="Ann")
    article = Article.objects.create(title="Hello", author=author)
    author.name = "Ann Smith"
    author.save()
    assert [r.author_name for r in article.records.all()] == ["Ann", "Ann Smith"]


def test_many_to_many_links_on_either_side_are_recorded():
    post = Post.objects.create(title="Post")
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    post.tags.add(red)
    blue.posts.add(post)
    post.tags.remove(red)
    assert [r.tag_names for r in post.records.all()] == ["", "red", "blue, red", "blue"]


def test_renaming_a_many_to_many_relative_records_its_posts_in_fixed_queries(
    django_assert_num_queries,
):
    tag = Tag.objects.create(name="old")
    posts = Post.objects.bulk_create([Post(title=f"P{i}") for i in range(200)])
    Post.tags.through.objects.bulk_create(
        [Post.tags.through(post_id=p.pk, tag_id=tag.pk) for p in posts]
    )
    tag.name = "new"
    # UPDATE, the posts, their tags (prefetched for the property), one INSERT.
    with django_assert_num_queries(4):
        tag.save()
    assert PostRecord.objects.filter(tag_names="new").count() == 200


def test_the_reverse_side_of_a_many_to_many_relation_can_be_audited():
    label = Label.objects.create(name="new")
    first, second = Post.objects.create(title="1"), Post.objects.create(title="2")
    first.labels.add(label)
    label.labelled_posts.add(second)
    first.labels.clear()
    label.labelled_posts.clear()
    assert [r.post_count for r in label.records.all()] == [0, 1, 2, 1, 0]


def test_relatives_record_nothing_inside_tracking_disabled(acme, lamp):
    article = Article.objects.create(title="Hello")
    post, tag = Post.objects.create(title="p"), Tag.objects.create(name="t")
    with tracking_disabled():
        comment = Comment.objects.create(article=article)
        comment.delete()
        post.tags.add(tag)
        post.tags.clear()
        acme.delete()
    assert article.records.count() == 1
    assert post.records.count() == 1
    assert lamp.records.count() == 1


def test_clearing_many_to_many_links_from_either_side_is_recorded():
    post = Post.objects.create(title="Post")
    tag = Tag.objects.create(name="t")
    post.tags.add(tag)
    post.tags.clear()
    tag.posts.add(post)
    tag.posts.clear()
    assert [r.tag_names for r in post.records.all()] == ["", "t", "", "t", ""]


# --- bulk paths ----------------------------------------------------------------------


def test_bulk_create_writes_one_record_per_row_in_one_insert(django_assert_num_queries):
    readings = [Reading(sensor="s", value=float(i)) for i in range(1000)]
    fields = [f for f in Reading._meta.concrete_fields if not f.primary_key]
    # Django splits the rows by its own batch size (SQLite); the records are one INSERT.
    djangos = -(-1000 // connection.ops.bulk_batch_size(fields, readings))
    with django_assert_num_queries(djangos + 1):
        Reading.objects.bulk_create(readings)
    assert ReadingRecord.objects.count() == 1000
    assert sorted(ReadingRecord.objects.values_list("doubled", flat=True))[-1] == 1998.0


def test_bulk_create_with_ignore_conflicts_writes_no_record():
    Reading.objects.bulk_create([Reading(sensor="s", value=1.0)], ignore_conflicts=True)
    assert ReadingRecord.objects.count() == 0


def test_bulk_update_records_only_the_rows_whose_values_changed(django_assert_num_queries):
    readings = Reading.objects.bulk_create([Reading(sensor="s", value=float(i)) for i in range(5)])
    for reading in readings[:2]:
        reading.value += 100
    with django_assert_num_queries(2):
        Reading.objects.bulk_update(readings, ["value"])
    assert ReadingRecord.objects.count() == 7
    assert sorted(ReadingRecord.objects.values_list("value", flat=True))[-2:] == [100.0, 101.0]


def test_queryset_update_records_the_updated_rows(django_assert_num_queries):
    Reading.objects.bulk_create([Reading(sensor=s, value=1.0) for s in "aab"])
    with django_assert_num_queries(4):  # the keys, the UPDATE, the rows, one INSERT
        Reading.objects.filter(sensor="a").update(value=models.F("value") + 1)
    assert sorted(ReadingRecord.objects.values_list("value", flat=True)) == [
        1.0,
        1.0,
        1.0,
        2.0,
        2.0,
    ]


def test_queryset_update_of_a_tracked_recorded_model_records_too(lamp):
    Item.objects.filter(pk=lamp.pk).update(price=Decimal("20.00"))
    assert prices(lamp) == [Decimal("10.00"), Decimal("20.00")]
    assert [entry["action"] for entry in Item.objects.get().history] == ["create", "update"]


def test_queryset_update_that_changes_no_recorded_value_writes_no_record(lamp):
    Item.objects.filter(pk=lamp.pk).update(notes="x")
    assert lamp.records.count() == 1


def test_record_writes_what_a_write_this_package_cannot_see(acme, lamp):
    models.QuerySet.update(Supplier.objects.filter(pk=acme.pk), name="Changed behind our back")
    fresh = Item.objects.get(pk=lamp.pk)
    assert ItemRecord.record(fresh) == 1
    assert ItemRecord.record(fresh) == 0  # nothing changed since
    assert ItemRecord.record([fresh], force=True) == 1
    assert [r.supplier_name for r in lamp.records.all()][-2:] == ["Changed behind our back"] * 2


# --- with the rest of the package -----------------------------------------------------


def test_records_are_independent_of_history(lamp):
    lamp.price = Decimal("11.00")
    lamp.save()
    fresh = Item.objects.get(pk=lamp.pk)
    assert [entry["action"] for entry in fresh.history] == ["create", "update"]
    assert lamp.records.count() == 2
    assert not hasattr(ItemRecord, "history")


def test_proxies_and_multi_table_children_record_in_the_parents_record_model(acme):
    proxy = ItemProxy.objects.create(name="Proxy", price=Decimal("1.00"))
    child = SpecialItem.objects.create(name="Child", price=Decimal("2.00"), supplier=acme)
    child.price = Decimal("3.00")
    child.save()
    assert record_model_for(SpecialItem) is ItemRecord
    assert ItemRecord.objects.filter(recording_id=proxy.pk).count() == 1
    assert [r.price for r in ItemRecord.objects.filter(recording_id=child.pk)] == [
        Decimal("2.00"),
        Decimal("3.00"),
    ]


def test_the_mixin_makes_the_same_record_model_as_a_declaration():
    def shape(record_model):
        return [
            (f.name, type(f), f.null, getattr(f, "max_length", None))
            for f in record_model._meta.get_fields()
        ]

    assert shape(ReadingRecord) == shape(MeterRecord)
    assert ReadingRecord._meta.ordering == MeterRecord._meta.ordering
    assert ReadingRecord._meta.get_latest_by == MeterRecord._meta.get_latest_by
    assert [i.fields for i in ReadingRecord._meta.indexes] == [["recording", "created"]]
    meter = Meter.objects.create(sensor="m", value=2.0)
    assert meter.records.get().doubled == 4.0


def test_record_models_are_importable_and_listed():
    from tests.recordsapp import models as app_models

    assert app_models.ItemRecord is ItemRecord
    assert issubclass(ItemRecord, RecordModel)
    assert {ArticleRecord, ItemRecord, MeterRecord, PostRecord, ReadingRecord} <= set(
        record_models()
    )
    assert record_model_for(Article) is ArticleRecord
    assert record_model_for(Tag) is None


def test_user_fields_names_the_columns_that_hold_a_user(django_user_model):
    user = django_user_model.objects.create_user("ann")
    article = Article.objects.create(title="Mine", owner=user)
    assert ArticleRecord.user_fields() == ["owner"]
    assert ItemRecord.user_fields() == []
    assert article.records.get().owner == user


def test_a_copied_foreign_key_keeps_its_value_when_the_target_row_goes(django_user_model):
    user = django_user_model.objects.create_user("gone")
    article = Article.objects.create(title="Mine", owner=user)
    user_pk = user.pk
    with transaction.atomic():
        user.delete()
    assert article.records.first().owner_id == user_pk


# --- typed columns ----------------------------------------------------------------------


def test_record_columns_are_typed_and_filter_and_aggregate_in_sql(acme):
    for price in ("10.00", "20.00", "30.00"):
        Item.objects.create(name="x", price=Decimal(price), supplier=acme)
    expensive = ItemRecord.objects.filter(price_with_tax__gt=Decimal("20"))
    assert expensive.count() == 2
    totals = ItemRecord.objects.aggregate(top=Max("price_with_tax"), mean=Avg("price"))
    assert totals["top"] == Decimal("36.00")
    assert Decimal(str(totals["mean"])).quantize(Decimal("0.01")) == Decimal("20.00")
    table = ItemRecord._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f'SELECT pg_typeof(price_with_tax)::text FROM "{table}" LIMIT 1')
            assert cursor.fetchone()[0] == "numeric"
        else:
            cursor.execute(f'SELECT typeof(price_with_tax) FROM "{table}" LIMIT 1')
            assert cursor.fetchone()[0] in ("integer", "real")


def test_the_test_apps_record_models_need_no_migration():
    # Exits with SystemExit(1) when the record models and their migrations differ.
    call_command("makemigrations", "recordsapp", "--check", "--dry-run", verbosity=0)


def test_records_and_recorded_instances_pickle(lamp):
    import pickle

    record = pickle.loads(pickle.dumps(lamp.records.get()))
    assert type(record) is ItemRecord
    assert record.price == Decimal("10.00")
    copy = pickle.loads(pickle.dumps(lamp))
    copy.notes = "unchanged values: it still knows what it recorded"
    copy.save()
    assert lamp.records.count() == 1
