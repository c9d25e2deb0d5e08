"""Multi-table inheritance: the parent's table holds the stamps and the history."""

from __future__ import annotations

import pytest

from tests.testapp.models import Place, Restaurant

pytestmark = pytest.mark.django_db


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


def test_update_of_child_fields_works_and_records_what_the_parent_table_can_see():
    restaurant = Restaurant.objects.create(name="Luigi's")
    Restaurant.objects.update(serves_pizza=True, name="Mario's")

    restaurant = Restaurant.objects.get(pk=restaurant.pk)
    assert restaurant.serves_pizza is True
    # The child's column is in another table than the history: only the
    # parent's fields can be read by the UPDATE that appends.
    assert restaurant.history[-1]["changes"] == {"name": ["Luigi's", "Mario's"]}


def test_child_built_by_hand_with_an_existing_pk_saves():
    restaurant = Restaurant.objects.create(name="Luigi's")
    Restaurant(
        pk=restaurant.pk, place_ptr_id=restaurant.pk, name="Mario's", serves_pizza=True
    ).save()

    restaurant = Restaurant.objects.get(pk=restaurant.pk)
    assert (restaurant.name, restaurant.serves_pizza) == ("Mario's", True)
    assert restaurant.history[-1]["changes"] == {"name": ["Luigi's", "Mario's"]}
