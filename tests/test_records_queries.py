"""The records queryset: latest(), created_in_*() windows, resample(), to_dataframe(), aliases."""

from __future__ import annotations

import datetime
import sys

import pytest
import time_machine
from django.db.models import Max
from django.utils import timezone

from tests.recordsapp.models import Article, Meter, Reading, ReadingRecord

pytestmark = pytest.mark.django_db

UTC = datetime.timezone.utc


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def recorded(sensor, points):
    """A reading whose value is ``value`` from each ``moment`` on: one record per point."""
    reading = None
    for moment, value in points:
        with time_machine.travel(moment, tick=False):
            if reading is None:
                reading = Reading.objects.create(sensor=sensor, value=value)
            else:
                reading.value = value
                reading.save()
    return reading


def values(queryset):
    return list(queryset.order_by("created", "pk").values_list("value", flat=True))


# --- latest() and windows ----------------------------------------------------------


def test_latest_is_the_newest_record_and_ties_go_to_the_last_written():
    with time_machine.travel(at(2026, 3, 2, 10), tick=False):
        reading = Reading.objects.create(sensor="s", value=1)
        reading.value = 2
        reading.save()  # the same instant: the higher primary key is the later record
    assert reading.records.latest().value == 2
    assert reading.records.earliest().value == 1


NOW = at(2026, 3, 31, 12, 0, 0)


@pytest.mark.parametrize(
    ("method", "n", "start"),
    [
        ("created_in_seconds", None, NOW - datetime.timedelta(seconds=1)),
        ("created_in_seconds", 30, NOW - datetime.timedelta(seconds=30)),
        ("created_in_minutes", None, NOW - datetime.timedelta(minutes=1)),
        ("created_in_minutes", 5, NOW - datetime.timedelta(minutes=5)),
        ("created_in_hours", None, NOW - datetime.timedelta(hours=1)),
        ("created_in_hours", 2, NOW - datetime.timedelta(hours=2)),
        ("created_in_days", None, NOW - datetime.timedelta(days=1)),
        ("created_in_days", 3, NOW - datetime.timedelta(days=3)),
        ("created_in_weeks", None, NOW - datetime.timedelta(weeks=1)),
        ("created_in_weeks", 2, NOW - datetime.timedelta(weeks=2)),
        # Calendar months: 31 March minus one month is the last day of February.
        ("created_in_months", None, at(2026, 2, 28, 12)),
        ("created_in_months", 2, at(2026, 1, 31, 12)),
        ("created_in_months", 13, at(2025, 2, 28, 12)),
        ("created_in_years", None, at(2025, 3, 31, 12)),
        ("created_in_years", 3, at(2023, 3, 31, 12)),
    ],
)
def test_created_in_windows_include_their_start_and_nothing_earlier(method, n, start):
    just_before = start - datetime.timedelta(microseconds=1)
    reading = recorded("s", [(just_before, 1), (start, 2), (NOW, 3)])
    with time_machine.travel(NOW, tick=False):
        window = getattr(reading.records, method)
        assert values(window() if n is None else window(n)) == [2, 3]


def test_a_year_back_from_29_february_starts_on_28_february():
    now = at(2028, 2, 29, 8)
    reading = recorded("s", [(at(2027, 2, 28, 7, 59), 1), (at(2027, 2, 28, 8), 2)])
    with time_machine.travel(now, tick=False):
        assert values(reading.records.created_in_years()) == [2]


def test_windows_compose_with_other_filters_and_aggregates():
    reading = recorded("s", [(NOW - datetime.timedelta(hours=3), 10), (NOW, 5), (NOW, 7)])
    with time_machine.travel(NOW, tick=False):
        recent = reading.records.created_in_hours(1)
        assert recent.aggregate(top=Max("value"))["top"] == 7
        assert recent.filter(value__lt=6).count() == 1


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.created_in_days(-1), ValueError),
        (lambda r: r.created_in_hours("2"), ValueError),
        (lambda r: r.created_in_minutes(True), ValueError),
        (lambda r: r.created_in_months(1.5), ValueError),
        (lambda r: r.created_in_years(-2), ValueError),
        (lambda r: r.created_in(5), TypeError),
    ],
)
def test_windows_reject_bad_amounts_clearly(call, error):
    with pytest.raises(error):
        call(ReadingRecord.objects.all())


def test_created_in_takes_a_timedelta():
    reading = recorded("s", [(NOW - datetime.timedelta(minutes=90), 1), (NOW, 2)])
    with time_machine.travel(NOW, tick=False):
        assert values(reading.records.created_in(datetime.timedelta(hours=1))) == [2]


# --- resample() --------------------------------------------------------------------

#: One sensor's values, in order; the expectations below are worked out by hand.
SERIES = [
    (at(2026, 3, 2, 10, 0, 10), 1),  # Monday 2 March 2026
    (at(2026, 3, 2, 10, 0, 50), 2),  # same minute: 2 is the minute's last
    (at(2026, 3, 2, 10, 1, 5), 3),  # last of 10:00-10:59
    (at(2026, 3, 2, 11, 30), 4),  # last of 2 March
    (at(2026, 3, 3, 9, 0), 5),  # Tuesday: last of the week of 2 March
    (at(2026, 3, 9, 8, 0), 6),  # Monday 9 March: a new week; last of March
    (at(2026, 4, 1, 0, 0), 7),  # last of April and of 2026
    (at(2027, 1, 15, 12, 0), 8),  # 2027
]

EXPECTED = {
    "T": [2, 3, 4, 5, 6, 7, 8],
    "H": [3, 4, 5, 6, 7, 8],
    "D": [4, 5, 6, 7, 8],
    "W": [5, 6, 7, 8],
    "M": [6, 7, 8],
    "Y": [7, 8],
}
ALIASES = {"min": "T", "h": "H", "ME": "M", "YE": "Y"}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_resample_keeps_the_last_record_of_each_bucket(rule):
    reading = recorded("a", SERIES)
    assert values(reading.records.resample(rule)) == EXPECTED[rule]


@pytest.mark.parametrize(("alias", "rule"), sorted(ALIASES.items()))
def test_resample_accepts_pandas_newer_aliases(alias, rule):
    reading = recorded("a", SERIES)
    assert values(reading.records.resample(alias)) == EXPECTED[rule]


def test_resample_buckets_each_recorded_instance_separately():
    recorded("a", SERIES)
    recorded("b", [(at(2026, 3, 2, 23), 100), (at(2026, 3, 3, 1), 200)])
    last_per_day = ReadingRecord.objects.resample("D")
    assert values(last_per_day.filter(recording__sensor="b")) == [100, 200]
    assert values(last_per_day.filter(recording__sensor="a")) == EXPECTED["D"]


def test_resample_truncates_in_the_current_time_zone():
    # 22:30 and 23:30 UTC on 2 March: the same UTC day, two days in Paris (UTC+1).
    reading = recorded("s", [(at(2026, 3, 2, 22, 30), 1), (at(2026, 3, 2, 23, 30), 2)])
    assert values(reading.records.resample("D")) == [2]
    with timezone.override("Europe/Paris"):
        assert values(reading.records.resample("D")) == [1, 2]


def test_resample_is_one_query_and_composes_with_windows_and_aggregates(
    django_assert_num_queries,
):
    reading = recorded("a", SERIES[:7])
    with time_machine.travel(at(2026, 4, 2), tick=False):
        daily = reading.records.created_in_weeks(4).resample("D")  # from 5 March
        with django_assert_num_queries(1):
            assert values(daily) == [6, 7]
        with django_assert_num_queries(1):
            assert daily.aggregate(top=Max("value"))["top"] == 7


@pytest.mark.parametrize("rule", ["15T", "S", "X", "", None, 3])
def test_resample_rejects_unknown_rules_clearly(rule):
    with pytest.raises(ValueError, match="resample rule"):
        ReadingRecord.objects.resample(rule)


# --- to_dataframe() ----------------------------------------------------------------


def test_to_dataframe_has_the_recorded_values_indexed_by_time():
    pd = pytest.importorskip("pandas")
    reading = recorded("a", SERIES[:3])
    frame = reading.records.to_dataframe()
    assert list(frame.columns) == ["recording", "value", "doubled"]
    assert list(frame["value"]) == [1, 2, 3]
    assert list(frame["doubled"]) == [2, 4, 6]
    assert frame.index.name == "created"
    assert pd.Timestamp(frame.index[0]) == pd.Timestamp(SERIES[0][0])


def test_to_dataframe_of_a_resample():
    pytest.importorskip("pandas")
    reading = recorded("a", SERIES)
    assert list(reading.records.resample("M").to_dataframe()["value"]) == EXPECTED["M"]


def test_to_dataframe_without_pandas_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match=r"django-trackable-audit\[pandas\]"):
        ReadingRecord.objects.to_dataframe()


# --- django-record 0.2's deprecated shortcuts ----------------------------------------------

SHORTCUT_NOW = at(2026, 3, 18, 14, 25)  # a Wednesday
SHORTCUT_SERIES = [
    (at(2025, 12, 31, 23), 1),  # last year
    (at(2026, 2, 10, 9), 2),  # this year
    (at(2026, 3, 11, 14, 24), 3),  # this month, more than a week ago
    (at(2026, 3, 12, 15, 0), 4),  # within the last week
    (at(2026, 3, 18, 13, 59), 5),  # today
    (at(2026, 3, 18, 14, 5), 6),  # this hour
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("records_in_hour", [6]),
        ("records_in_day", [5, 6]),
        ("records_in_week", [4, 5, 6]),
        ("records_in_month", [3, 4, 5, 6]),
        ("records_in_year", [2, 3, 4, 5, 6]),
        ("resampled_records_in_hour", [6]),  # by minute
        ("resampled_records_in_day", [5, 6]),  # by hour
        ("resampled_records_in_week", [4, 6]),  # by day
        ("resampled_records_in_month", [3, 4, 6]),  # by day
        ("resampled_records_in_year", [2, 6]),  # by month
    ],
)
def test_django_record_shortcuts_still_work_and_warn(name, expected):
    reading = recorded("s", SHORTCUT_SERIES)
    with time_machine.travel(SHORTCUT_NOW, tick=False):
        with pytest.warns(DeprecationWarning, match=r"removed in django_trackable 1\.0"):
            queryset = getattr(reading, name)
        assert values(queryset) == expected


def test_declared_record_models_give_their_recorded_models_the_shortcuts_too():
    meter = Meter.objects.create(sensor="m", value=1.0)
    article = Article.objects.create(title="a")
    for instance in (meter, article):
        with pytest.warns(DeprecationWarning, match="records_in_day"):
            assert instance.records_in_day.count() == 1
