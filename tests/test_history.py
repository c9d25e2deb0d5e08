"""Pure history helpers: JSON serialisation, masking, timestamps."""

from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import json
import uuid

import pytest
from django.utils.translation import gettext_lazy

from django_trackable.history import (
    build_entry,
    entries_since,
    is_masked_name,
    masked_name_matcher,
    to_datetime,
    to_json,
)


class Size(enum.Enum):
    SMALL = "s"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (7, 7),
        ("plain", "plain"),
        ("nul\x00byte", "nul\ufffdbyte"),
        ("lone \ud800 surrogate", "lone ? surrogate"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (decimal.Decimal("1.10"), "1.10"),
        (decimal.Decimal("NaN"), "NaN"),
        (datetime.date(2026, 1, 2), "2026-01-02"),
        (datetime.datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05.000000"),
        (
            datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc),
            "2026-01-02T03:04:05.000006+00:00",
        ),
        (datetime.time(1, 2), "01:02:00.000000"),
        (datetime.timedelta(hours=1), "P0DT01H00M00S"),
        (uuid.UUID(int=5), "00000000-0000-0000-0000-000000000005"),
        (b"\x00\x01", "AAE="),
        (memoryview(b"ab"), "YWI="),
        (Size.SMALL, "s"),
        (gettext_lazy("lazy"), "lazy"),
        (ipaddress.ip_address("192.0.2.1"), "192.0.2.1"),
        ({1: {"k\x00": [1.5, float("nan")]}}, {"1": {"k\ufffd": [1.5, "NaN"]}}),
        ({3, 1}, [1, 3]),
        ((1, "a"), [1, "a"]),
    ],
)
def test_to_json_gives_strict_json(value, expected):
    result = to_json(value)
    assert result == expected
    json.dumps(result, allow_nan=False)


def test_to_json_never_raises_on_hostile_values():
    class Hostile:
        def __str__(self):
            raise RuntimeError("no")

    looped: list = []
    looped.append(looped)
    assert to_json(Hostile()) == "<unserializable Hostile>"
    json.dumps(to_json(looped), allow_nan=False)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("password", True),
        ("Password", True),
        ("password1", True),
        ("hashed_password", True),
        ("refresh_token", True),
        ("tokens", True),
        ("stripe_api_key", True),
        ("client_secret_2", True),
        ("ssn", True),
        ("tokenizer", False),
        ("classname", False),
        ("name", False),
    ],
)
def test_masked_names_match_whole_words(name, masked):
    matcher = masked_name_matcher(["password", "token", "api_key", "secret", "ssn"])
    assert bool(matcher.search(name)) is masked


@pytest.mark.parametrize(
    "name",
    [
        "access-token",
        "api-key",
        "api.key",
        "client-secret",
        "X-Amz-Security-Token",
        "user[password]",
        "password[]",
        "auth.token",
        "auth token",
        "accessToken",
        "apiKey",
        "APIToken",
        "tokenHash",
        "SSN",
    ],
)
def test_dashes_dots_brackets_blanks_and_humps_separate_the_words_of_a_name(name):
    matcher = masked_name_matcher(["password", "token", "api_key", "secret", "ssn"])
    assert matcher.search(name) is not None


@pytest.mark.parametrize("name", ["tokenizer", "Tokenizer", "PASSWORDLESS", "secretary", "lessn"])
def test_a_pattern_inside_a_longer_word_still_masks_nothing(name):
    matcher = masked_name_matcher(["password", "token", "secret", "ssn"])
    assert matcher.search(name) is None


def test_a_separator_in_a_pattern_stands_for_any_separator():
    matcher = masked_name_matcher(["api-key"])
    assert [bool(matcher.search(n)) for n in ("api_key", "api.key", "apiKey", "apikey")] == [
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    "name", ["%74oken", "token%5B%5D", "user%5Bpassword%5D", "api%2Dkey", "%2574oken", "api+key"]
)
def test_is_masked_name_decodes_percent_encoding_first(name):
    assert is_masked_name(name, ["token", "password", "api_key"])


def test_is_masked_name_reads_the_masked_fields_setting(settings):
    assert is_masked_name("refresh-token")
    settings.TRACKABLE = {"MASKED_FIELDS": ["pin"]}
    assert not is_masked_name("refresh-token")
    assert is_masked_name("card.pin")


def test_empty_mask_list_masks_nothing():
    assert masked_name_matcher([]) is None


def test_build_entry_has_the_documented_keys():
    when = datetime.datetime(2026, 11, 23, 14, 50, 0, 123456, tzinfo=datetime.timezone.utc)
    entry = build_entry("update", when, None, {"price": ["9.99", "12.50"]}, {"ip": "203.0.113.7"})
    assert entry == {
        "action": "update",
        "timestamp": "2026-11-23T14:50:00.123456+00:00",
        "user": None,
        "user_repr": None,
        "changes": {"price": ["9.99", "12.50"]},
        "ip": "203.0.113.7",
    }


def test_extra_keys_never_replace_the_entry_s_own_keys():
    when = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    entry = build_entry("revert", when, None, {}, {"user": 5, "changes": "x", "action": "y"})

    assert (entry["action"], entry["user"], entry["changes"]) == ("revert", None, {})


def test_to_datetime_accepts_unix_times_dates_and_strings():
    utc = datetime.timezone.utc
    assert to_datetime(0) == datetime.datetime(1970, 1, 1, tzinfo=utc)
    assert to_datetime(1.5).microsecond == 500000
    assert to_datetime("2026-01-01T00:00:00+00:00") == datetime.datetime(2026, 1, 1, tzinfo=utc)
    assert to_datetime(datetime.date(2026, 1, 1)) == datetime.datetime(2026, 1, 1, tzinfo=utc)
    with pytest.raises(TypeError):
        to_datetime(True)
    with pytest.raises(TypeError):
        to_datetime([2026])


def test_entries_since_skips_entries_without_a_readable_time():
    history = [
        {"action": "create", "timestamp": "2026-01-01T00:00:00+00:00"},
        {"action": "update", "timestamp": "garbage"},
        {"action": "update"},
        {"action": "update", "timestamp": "2026-01-02T00:00:00+00:00"},
    ]
    assert [e["timestamp"] for e in entries_since(history, "2026-01-01T12:00:00+00:00")] == [
        "2026-01-02T00:00:00+00:00"
    ]
