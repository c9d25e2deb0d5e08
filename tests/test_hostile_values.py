"""Whatever a field holds, its history is valid JSON and the save succeeds."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_trackable import acting_as
from django_trackable.history import to_json
from tests.testapp.models import AllTypes, Author, Product

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.binary(max_size=64)
    | st.datetimes()
    | st.uuids()
)
nested = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(nested)
@settings(max_examples=300, deadline=None)
def test_to_json_output_is_strict_json_without_nul_or_surrogates(value):
    dumped = json.dumps(to_json(value), allow_nan=False, ensure_ascii=False)
    assert "\x00" not in dumped
    dumped.encode("utf-8")  # no lone surrogates


@pytest.mark.django_db
@given(
    old=st.text(max_size=40).filter(lambda s: "\x00" not in s),
    new=st.text(max_size=40).filter(lambda s: "\x00" not in s),
    data=st.dictionaries(
        st.text(max_size=6),
        st.text(max_size=10) | st.floats(allow_nan=False, allow_infinity=False),
        max_size=3,
    ),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_saving_any_text_and_json_keeps_history_valid(old, new, data):
    def storable(text):
        # Column values the database itself refuses are not history's concern.
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True

    if not (storable(old) and storable(new)):
        return
    if connection.vendor == "postgresql" and any(
        "\x00" in key or (isinstance(v, str) and "\x00" in v) for key, v in data.items()
    ):
        return  # jsonb refuses NUL in the data column itself
    if not all(
        storable(key) and (not isinstance(v, str) or storable(v)) for key, v in data.items()
    ):
        return
    safe_data = data
    obj = AllTypes.objects.create(text=old, data=safe_data or None)
    obj = AllTypes.objects.get(pk=obj.pk)
    obj.text = new
    obj.data = {"nested": safe_data}
    obj.save()
    AllTypes.objects.filter(pk=obj.pk).update(text=old + "!")

    history = AllTypes.objects.get(pk=obj.pk).history
    json.dumps(history, allow_nan=False)
    assert history[-1]["changes"]["text"] == [new, old + "!"]


@pytest.mark.django_db
def test_extra_names_that_no_database_stores_are_cleaned_and_the_save_succeeds():
    extra = {"a\x00b": 1, "lone\ud800": "v", "ok": "\x00x"}
    with acting_as(None, **extra):
        product = Product.objects.create(name="Lamp")
        product.name = "Desk"
        product.save()
        Product.objects.filter(pk=product.pk).update(quantity=2)
        Author.objects.create(name="a", email="a@example.com").delete()

    history = Product.objects.get(pk=product.pk).history
    assert len(history) == 3
    for entry in history:
        assert entry["a\ufffdb"] == 1
        assert entry["lone?"] == "v"
        assert entry["ok"] == "\ufffdx"
    deleted = Author.all_objects.get(email="a@example.com").history[-1]
    assert deleted["action"] == "delete"
    assert deleted["lone?"] == "v"


@pytest.mark.django_db
def test_extras_named_like_masked_fields_are_stored_masked():
    with acting_as(None, api_token="t0k3n", **{"client-secret": "s3cret", "reason": "import"}):
        product = Product.objects.create(name="Lamp")

    entry = Product.objects.get(pk=product.pk).history[0]
    assert (entry["api_token"], entry["client-secret"], entry["reason"]) == ("***", "***", "import")
    assert "t0k3n" not in json.dumps(entry) and "s3cret" not in json.dumps(entry)
