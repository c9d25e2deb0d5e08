"""changes_since(): the changes across every tracked model, oldest first, streamed."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from django_trackable import acting_as, changes_since
from tests.testapp.models import Author, Order, Place, Product, Restaurant

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


@pytest.fixture(params=["rows", "audit log"])
def source(request, settings):
    settings.TRACKABLE = {"AUDIT_LOG": request.param == "audit log"}
    return request.param


@pytest.fixture
def story(source, alice, bob):
    with time_machine.travel(at(0), tick=False), acting_as(alice):
        lamp = Product.objects.create(name="Lamp")
    with time_machine.travel(at(1), tick=False), acting_as(bob):
        order = Order.objects.create(reference="A1")
    with time_machine.travel(at(2), tick=False), acting_as(alice):
        lamp.name = "Desk lamp"
        lamp.save()
    with time_machine.travel(at(3), tick=False), acting_as(bob):
        order.transition_to("paid")
    with time_machine.travel(at(4), tick=False):
        Product.objects.filter(pk=lamp.pk).update(quantity=3)
    return lamp, order


def summary(changes):
    return [(c.label, c.action, c.timestamp.hour - 12) for c in changes]


def test_changes_come_oldest_first_across_models(story):
    assert summary(changes_since(at(0) - datetime.timedelta(seconds=1))) == [
        ("testapp.Product", "create", 0),
        ("testapp.Order", "create", 1),
        ("testapp.Product", "update", 2),
        ("testapp.Order", "transition", 3),
        ("testapp.Product", "update", 4),
    ]


def test_since_is_strictly_after_and_until_is_inclusive(story):
    assert summary(changes_since(at(1), until=at(3))) == [
        ("testapp.Product", "update", 2),
        ("testapp.Order", "transition", 3),
    ]


def test_a_change_holds_who_what_and_which_object(story, alice):
    lamp, _order = story
    (change,) = changes_since(at(1), until=at(2))

    assert (change.model, change.pk, change.user, change.user_repr) == (
        Product,
        lamp.pk,
        alice.pk,
        "alice",
    )
    assert change.changes == {"name": ["Lamp", "Desk lamp"]}
    assert change.as_dict()["model"] == "testapp.Product"


def test_changes_filter_by_model_user_and_action(story, bob):
    since = at(0) - datetime.timedelta(seconds=1)
    assert summary(changes_since(since, models=[Order])) == [
        ("testapp.Order", "create", 1),
        ("testapp.Order", "transition", 3),
    ]
    assert summary(changes_since(since, models=["testapp.Product"], actions=["create"])) == [
        ("testapp.Product", "create", 0)
    ]
    assert [c.action for c in changes_since(since, user=bob)] == ["create", "transition"]
    assert list(changes_since(since, actions=[])) == []


def test_soft_deleted_rows_changes_are_in_the_feed(source):
    author = Author.objects.create(name="Ann", email="ann@example.com")
    start = author.created_at

    author.delete()

    assert [c.action for c in changes_since(start, models=[Author])] == ["delete"]


def test_multi_table_children_are_found_through_their_parent(source):
    restaurant = Restaurant.objects.create(name="Luigi's")
    start = restaurant.created_at - datetime.timedelta(seconds=1)

    assert [c.pk for c in changes_since(start, models=[Restaurant])] == [restaurant.pk]
    assert [c.pk for c in changes_since(start, models=[Place])] == [restaurant.pk]


def test_a_model_without_history_is_refused(db):
    from tests.testapp.models import Category

    with pytest.raises(ValueError, match="not a tracked model"):
        list(changes_since(T0, models=[Category]))


def test_the_feed_streams_every_change_in_small_chunks(source):
    with time_machine.travel(at(0), tick=False):
        Product.objects.bulk_create([Product(name=f"p{i}") for i in range(30)])

    changes = changes_since(at(-1), models=[Product], chunk_size=7)
    first = next(changes)
    assert first.action == "create"
    assert len([first, *changes]) == 30


def test_entries_that_are_not_entries_are_skipped(settings):
    settings.TRACKABLE = {"AUDIT_LOG": False}
    product = Product.objects.create(name="Lamp")
    Product.objects.filter(pk=product.pk).update(
        history=[{"no": "timestamp"}, {"action": "update", "timestamp": "not a time"}]
    )

    assert list(changes_since(T0, models=[Product])) == []
