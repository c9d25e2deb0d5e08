"""Reverting a row to the values it had at a past moment."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine

from django_trackable import acting_as
from django_trackable.models import HistoryUnavailable
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)


def _edited_product():
    with time_machine.travel(T0, tick=False):
        product = Product.objects.create(name="v0", price=Decimal("1.00"), api_key="k0")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        product.name = "v1"
        product.price = Decimal("2.00")
        product.api_key = "k1"
        product.save()
    return Product.objects.with_history().get(pk=product.pk)


def test_revert_to_writes_back_the_values_of_that_moment(alice):
    product = _edited_product()

    with acting_as(alice), time_machine.travel(T0 + datetime.timedelta(hours=2), tick=False):
        written = product.revert_to(T0 + datetime.timedelta(minutes=30))

    product = Product.objects.get(pk=product.pk)
    assert sorted(written) == ["name", "price"]
    assert (product.name, product.price) == ("v0", Decimal("1.00"))
    entry = product.history[-1]
    assert entry["action"] == "revert"
    assert entry["user"] == alice.pk
    assert entry["reverted_to"] == (T0 + datetime.timedelta(minutes=30)).isoformat()
    assert entry["changes"] == {"name": ["v1", "v0"], "price": ["2.00", "1.00"]}


def test_revert_to_leaves_masked_fields_as_they_are():
    product = _edited_product()

    product.revert_to(T0 + datetime.timedelta(minutes=30))

    assert Product.objects.get(pk=product.pk).api_key == "k1"


def test_revert_to_the_current_values_writes_nothing(django_assert_num_queries):
    product = _edited_product()

    with django_assert_num_queries(0):
        assert product.revert_to(T0 + datetime.timedelta(hours=3)) == []
    assert len(Product.objects.get(pk=product.pk).history) == 2


def test_revert_to_before_the_row_existed_raises():
    product = _edited_product()

    with pytest.raises(HistoryUnavailable):
        product.revert_to(T0 - datetime.timedelta(days=1))


def test_saves_after_a_revert_record_updates_again():
    product = _edited_product()
    product.revert_to(T0 + datetime.timedelta(minutes=30))

    product.name = "v2"
    product.save()

    assert Product.objects.get(pk=product.pk).history[-1]["action"] == "update"
