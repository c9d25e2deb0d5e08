"""Reads that do not pay for history: deferred by the managers, loaded for many rows at once."""

from __future__ import annotations

import pickle

import pytest
from django.core import serializers
from django.db import connection
from django.db.models import DEFERRED
from django.test.utils import CaptureQueriesContext

from django_trackable import tracking
from tests.testapp.models import Author, Post, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def products():
    return Product.objects.bulk_create([Product(name=f"p{i}") for i in range(12)])


def test_listing_rows_does_not_select_their_history(products):
    with CaptureQueriesContext(connection) as queries:
        rows = list(Product.objects.all())

    assert len(rows) == 12
    assert '"history"' not in queries[0]["sql"]


def test_reading_history_of_listed_rows_costs_one_query_for_all(
    products, django_assert_num_queries
):
    rows = list(Product.objects.order_by("pk"))

    with django_assert_num_queries(1):
        histories = [row.history for row in rows]

    assert [h[0]["action"] for h in histories] == ["create"] * 12


def test_with_history_loads_it_with_the_rows(products, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(Product.objects.with_history())
        assert all(row.history[0]["action"] == "create" for row in rows)


def test_only_naming_history_loads_it(products, django_assert_num_queries):
    with django_assert_num_queries(1):
        row = Product.objects.only("name", "history").get(pk=products[0].pk)
        assert row.history[0]["action"] == "create"
    assert "price" in row.get_deferred_fields()


def test_iterator_loads_history_per_chunk(products, django_assert_num_queries):
    rows = Product.objects.order_by("pk").iterator(chunk_size=5)
    with django_assert_num_queries(1 + 3):  # the cursor, and one per chunk of 5, 5 and 2
        assert len([row.history for row in rows]) == 12


def test_related_managers_defer_and_batch_history_too(django_assert_num_queries):
    author = Author.objects.create(name="Ann", email="ann@example.com")
    Post.objects.bulk_create([Post(author=author, title=f"t{i}") for i in range(3)])

    posts = list(author.posts.all())
    with django_assert_num_queries(1):
        assert all(post.history for post in posts)


def test_a_deferred_history_is_still_appended_to_by_a_save(products):
    row = Product.objects.get(pk=products[0].pk)
    row.name = "renamed"
    row.save()

    assert [e["action"] for e in Product.objects.get(pk=row.pk).history] == ["create", "update"]


def test_rows_whose_history_was_read_pickle_and_copy(products):
    rows = list(Product.objects.order_by("pk"))
    rows[0].history  # noqa: B018 - introduces the rows to each other, then loads

    restored = pickle.loads(pickle.dumps(rows[1]))

    assert restored.history[0]["action"] == "create"


def test_values_and_serializers_still_see_history(products):
    assert "history" in Product.objects.values()[0]
    dumped = serializers.serialize("json", Product.objects.all())
    assert dumped.count('"history"') == 12


def test_defer_history_off_loads_it_with_the_rows(settings, products):
    settings.TRACKABLE = {"DEFER_HISTORY": False}

    with CaptureQueriesContext(connection) as queries:
        list(Product.objects.all())

    assert '"history"' in queries[0]["sql"]


@pytest.mark.parametrize("model", [Product, Post], ids=["history last", "history mid-row"])
def test_a_listed_row_is_built_with_history_deferred_in_its_place(model):
    """Listings take Django's all-columns constructor, ``DEFERRED`` where history goes."""
    if model is Post:
        obj = Post.objects.create(author=Author.objects.create(name="a"), title="t")
    else:
        obj = Product.objects.create(name="p")
    names = tracking.options_for(model).loaded_without_history
    values = model._base_manager.filter(pk=obj.pk).values_list(*names).get()

    every_name, every_value = tracking.with_history_deferred(model, names, values)

    assert every_name == [f.attname for f in model._meta.concrete_fields]
    assert every_value[every_name.index("history")] is DEFERRED
    assert [v for v in every_value if v is not DEFERRED] == list(values)
    listed = model.objects.get(pk=obj.pk)
    assert listed.get_deferred_fields() == {"history"}
    assert [getattr(listed, n) for n in names] == list(values)


def test_rows_loaded_with_other_columns_take_djangos_own_way(products):
    names = ["id", "name"]
    assert tracking.with_history_deferred(Product, names, (1, "p")) is None
    row = Product.objects.only("name").get(pk=products[0].pk)
    assert {"history", "price"} <= row.get_deferred_fields()
    row.name = "renamed"
    row.save()
    assert Product.objects.get(pk=row.pk).history[-1]["changes"] == {"name": ["p0", "renamed"]}


def test_a_listed_row_diffs_against_the_values_it_was_loaded_with(products):
    row = Product.objects.get(pk=products[0].pk)
    row.name = "renamed"
    row.save()

    assert Product.objects.get(pk=row.pk).history[-1]["changes"] == {"name": ["p0", "renamed"]}
