"""Multi-table inheritance: the parent's table holds the stamps and the history."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db.models import Case, Value, When

from django_trackable import acting_as
from tests.testapp.models import Place, Restaurant

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
T1 = T0 + datetime.timedelta(hours=1)


def test_saving_a_child_records_parent_and_child_fields():
    restaurant = Restaurant.objects.create(name="Luigi's")
    restaurant = Restaurant.objects.get(pk=restaurant.pk)
    restaurant.name = "Mario's"
    restaurant.serves_pizza = True
    restaurant.save()

    history = Restaurant.objects.get(pk=restaurant.pk).history
    assert history[0]["changes"]["serves_pizza"] == [None, False]
    assert history[-1]["changes"] == {"name": ["Luigi's", "Mario's"], "serves_pizza": [False, True]}
    assert Place.objects.get(pk=restaurant.pk).history == history


def test_update_of_parent_fields_through_the_child_records_them():
    restaurant = Restaurant.objects.create(name="Luigi's")
    Restaurant.objects.update(name="Mario's")

    assert Restaurant.objects.get(pk=restaurant.pk).history[-1]["changes"] == {
        "name": ["Luigi's", "Mario's"]
    }


def test_update_of_child_fields_records_them_with_the_parents(alice):
    restaurant = Restaurant.objects.create(name="Luigi's")
    with acting_as(alice):
        Restaurant.objects.update(serves_pizza=True, name="Mario's")

    restaurant = Restaurant.objects.get(pk=restaurant.pk)
    assert (restaurant.serves_pizza, restaurant.name) == (True, "Mario's")
    assert restaurant.history[-1]["changes"] == {
        "name": ["Luigi's", "Mario's"],
        "serves_pizza": [False, True],
    }
    assert restaurant.updated_by == alice


def test_update_of_child_fields_alone_records_them_and_stamps():
    with time_machine.travel(T0, tick=False):
        restaurant = Restaurant.objects.create(name="Luigi's")
        Restaurant.objects.create(name="Other", serves_pizza=True)
    with time_machine.travel(T1, tick=False):
        count = Restaurant.objects.update(serves_pizza=True)

    assert count == 2
    restaurant = Restaurant.objects.get(pk=restaurant.pk)
    assert restaurant.serves_pizza is True
    assert restaurant.history[-1]["changes"] == {"serves_pizza": [False, True]}
    assert restaurant.updated_at == T1
    other = Restaurant.objects.get(name="Other")
    assert len(other.history) == 1  # it served pizza already: no entry
    assert other.updated_at == T0


def test_update_of_child_fields_with_an_expression_records_the_computed_value():
    restaurant = Restaurant.objects.create(name="Luigi's", serves_pizza=False)

    Restaurant.objects.filter(pk=restaurant.pk).update(
        serves_pizza=Case(When(serves_pizza=False, then=Value(True)), default=Value(False))
    )

    assert Restaurant.objects.get(pk=restaurant.pk).history[-1]["changes"] == {
        "serves_pizza": [False, True]
    }


def test_update_of_child_fields_costs_what_django_does(django_assert_num_queries):
    Restaurant.objects.create(name="Luigi's")

    # Django: one SELECT of the primary keys and one UPDATE per table.
    with django_assert_num_queries(3):
        Restaurant.objects.update(serves_pizza=True, name="Mario's")


def test_child_built_by_hand_with_an_existing_pk_saves():
    restaurant = Restaurant.objects.create(name="Luigi's")
    Restaurant(
        pk=restaurant.pk, place_ptr_id=restaurant.pk, name="Mario's", serves_pizza=True
    ).save()

    restaurant = Restaurant.objects.get(pk=restaurant.pk)
    assert (restaurant.name, restaurant.serves_pizza) == ("Mario's", True)
    # The parent's UPDATE runs first and reads the child's old value in SQL.
    assert restaurant.history[-1]["changes"] == {
        "name": ["Luigi's", "Mario's"],
        "serves_pizza": [False, True],
    }
