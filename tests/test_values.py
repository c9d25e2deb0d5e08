"""Every kind of field value survives history: save() and update() entries, and as_of()."""

from __future__ import annotations

import datetime
import json
import math
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db import connection
from django.utils.translation import gettext_lazy

from tests.testapp.models import AllTypes, Color, Level

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
UID1, UID2 = uuid.UUID(int=1), uuid.uuid4()

# field, first value, second value, the first value as history JSON
CASES = [
    ("text", "plain", gettext_lazy("lazy text"), "plain"),
    ("big", 2**62, -(2**40), 2**62),
    ("flag", True, False, True),
    ("ratio", 1.5, float("inf"), 1.5),
    ("ratio", float("-inf"), 2.0, "-Infinity"),
    ("ratio", float("nan"), 2.0, "NaN"),
    ("amount", Decimal("1234.567891"), Decimal("-0.000001"), "1234.567891"),
    ("day", datetime.date(2024, 2, 29), datetime.date(1999, 12, 31), "2024-02-29"),
    (
        "moment",
        datetime.datetime(2025, 6, 1, 8, 30, 0, 123456, tzinfo=datetime.timezone.utc),
        datetime.datetime(2025, 6, 2, 0, 0, tzinfo=datetime.timezone.utc),
        "2025-06-01T08:30:00.123456+00:00",
    ),
    ("clock", datetime.time(14, 50, 1, 500), datetime.time(0, 0), "14:50:01.000500"),
    ("clock", datetime.time(14, 50), datetime.time(9, 0), "14:50:00.000000"),
    (
        "span",
        datetime.timedelta(days=1, seconds=5, microseconds=7),
        datetime.timedelta(seconds=-30),
        "P1DT00H00M05.000007S",
    ),
    ("span", datetime.timedelta(hours=1), datetime.timedelta(0), "P0DT01H00M00S"),
    ("span", datetime.timedelta(seconds=-30), datetime.timedelta(days=400), "-P0DT00H00M30S"),
    ("uid", UID1, UID2, str(UID1)),
    ("blob", b"\x00\xffbin", memoryview(b"view"), "AP9iaW4="),
    ("blob", bytearray(b"arr"), b"", "YXJy"),
    (
        "data",
        {"a": [1, 2, {"b": None}], "s": "é"},
        [1, "two"],
        {"a": [1, 2, {"b": None}], "s": "é"},
    ),
    ("ip", "192.0.2.1", "2001:db8::1", "192.0.2.1"),
    ("color", Color.RED, Color.BLUE, "red"),
    ("level", Level.HIGH, Level.LOW, 2),
]
IDS = [f"{field}-{i}" for i, (field, *_rest) in enumerate(CASES)]


def same(field, expected, actual):
    """Compare as the database hands values back."""
    if isinstance(expected, float) and math.isnan(expected):
        return actual is None or math.isnan(actual)  # SQLite stores NaN as NULL
    if isinstance(expected, bytes | bytearray | memoryview):
        return bytes(expected) == bytes(actual)
    if field == "text":
        return str(expected) == actual
    return expected == actual


@pytest.mark.parametrize(("field", "first", "second", "first_json"), CASES, ids=IDS)
def test_value_round_trips_through_save_history(field, first, second, first_json):
    if connection.vendor == "sqlite" and field == "ratio" and first != first:
        pytest.skip("SQLite stores NaN as NULL")
    with time_machine.travel(T0, tick=False):
        obj = AllTypes.objects.create(**{field: first})
    obj = AllTypes.objects.get(pk=obj.pk)
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        setattr(obj, field, second)
        obj.save()

    history = AllTypes.objects.get(pk=obj.pk).history
    json.dumps(history, allow_nan=False)  # strict JSON, as jsonb requires
    assert history[0]["changes"][field] == [None, first_json]
    assert history[-1]["changes"][field][0] == first_json
    before = AllTypes.objects.get(pk=obj.pk).as_of(T0 + datetime.timedelta(minutes=30))
    assert same(field, first, getattr(before, field))


@pytest.mark.parametrize(("field", "first", "second", "first_json"), CASES, ids=IDS)
def test_value_round_trips_through_update_history(field, first, second, first_json):
    if connection.vendor == "sqlite" and field == "ratio" and first != first:
        pytest.skip("SQLite stores NaN as NULL")
    with time_machine.travel(T0, tick=False):
        obj = AllTypes.objects.create(**{field: first})
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        AllTypes.objects.filter(pk=obj.pk).update(**{field: second})

    history = AllTypes.objects.get(pk=obj.pk).history
    json.dumps(history, allow_nan=False)
    old, _new = history[-1]["changes"][field]
    assert old == first_json  # the same text as a save() entry's, whichever path wrote it
    before = AllTypes.objects.get(pk=obj.pk).as_of(T0 + datetime.timedelta(minutes=30))
    assert same(field, first, getattr(before, field))


def test_file_field_history_holds_the_stored_name(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    obj = AllTypes.objects.create()
    obj = AllTypes.objects.get(pk=obj.pk)
    obj.attachment = ContentFile(b"hello", name="report.txt")
    obj.save()
    first_name = obj.attachment.name
    obj.attachment = ContentFile(b"again", name="report.txt")
    obj.save()

    changes = AllTypes.objects.get(pk=obj.pk).history
    assert changes[1]["changes"]["attachment"] == ["", first_name]
    # The storage renamed the second upload; history has the name it really got.
    assert changes[2]["changes"]["attachment"] == [first_name, obj.attachment.name]
    assert obj.attachment.name != first_name


def test_time_values_in_sql_and_python_entries_are_written_alike():
    moment = datetime.datetime(2025, 6, 1, 8, 30, tzinfo=datetime.timezone.utc)
    obj = AllTypes.objects.create(moment=moment, day=moment.date(), amount=Decimal("1.500000"))
    AllTypes.objects.filter(pk=obj.pk).update(moment=None, day=None, amount=None)

    changes = AllTypes.objects.get(pk=obj.pk).history[-1]["changes"]
    assert changes["moment"] == ["2025-06-01T08:30:00.000000+00:00", None]
    assert changes["day"] == ["2025-06-01", None]
    assert changes["amount"] == ["1.500000", None]
