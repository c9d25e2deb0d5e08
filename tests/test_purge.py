"""trackable_purge and QuerySet.purge(): retention per model, in batches."""

from __future__ import annotations

import argparse
import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_trackable.management.commands.trackable_purge import parse_age
from django_trackable.models import LoginAttempt, UserVisit

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def visits(rf, count, days_ago):
    when = NOW - datetime.timedelta(days=days_ago)
    for _ in range(count):
        UserVisit.objects.record(rf.get("/"), timestamp=when)


def attempts(rf, count, days_ago):
    with time_machine.travel(NOW - datetime.timedelta(days=days_ago), tick=False):
        for _ in range(count):
            LoginAttempt.objects.record(rf.post("/"), successful=False, username="x")


def purge(*args):
    out = StringIO()
    call_command("trackable_purge", *args, stdout=out)
    return out.getvalue()


def test_purge_deletes_rows_older_than_the_age_and_keeps_the_rest(rf, frozen):
    visits(rf, 3, days_ago=100)
    visits(rf, 2, days_ago=10)

    deleted = UserVisit.objects.purge(datetime.timedelta(days=90))

    assert deleted == 3
    assert UserVisit.objects.count() == 2


def test_purge_accepts_a_cutoff_time(rf, frozen):
    visits(rf, 2, days_ago=5)

    assert UserVisit.objects.purge(timezone.now()) == 2


def test_purge_reports_progress_after_each_batch(rf, frozen):
    visits(rf, 5, days_ago=100)
    seen = []

    UserVisit.objects.purge(
        datetime.timedelta(days=1), batch_size=2, progress=lambda *a: seen.append(a)
    )

    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_purge_dry_run_counts_and_deletes_nothing(rf, frozen):
    visits(rf, 4, days_ago=100)

    assert UserVisit.objects.purge(datetime.timedelta(days=90), dry_run=True) == 4
    assert UserVisit.objects.count() == 4


def test_purge_rejects_an_empty_batch(rf):
    with pytest.raises(ValueError, match="batch_size"):
        UserVisit.objects.purge(datetime.timedelta(days=1), batch_size=0)


def test_the_command_uses_the_retention_settings_by_default(rf, settings, frozen):
    settings.TRACKABLE = {
        "VISIT_RETENTION": datetime.timedelta(days=30),
        "LOGIN_RETENTION": datetime.timedelta(days=60),
    }
    visits(rf, 2, days_ago=45)
    attempts(rf, 1, days_ago=45)
    attempts(rf, 3, days_ago=90)

    output = purge()

    assert UserVisit.objects.count() == 0
    assert LoginAttempt.objects.count() == 1
    assert "visits: 2 older than 30 days deleted" in output
    assert "login attempts: 3 older than 60 days deleted" in output


def test_the_command_takes_ages_per_model(rf, frozen):
    visits(rf, 2, days_ago=10)
    attempts(rf, 2, days_ago=10)

    purge("--visits", "7d", "--logins", "2w")

    assert (UserVisit.objects.count(), LoginAttempt.objects.count()) == (0, 2)


def test_the_command_shows_progress_per_batch(rf, frozen):
    visits(rf, 5, days_ago=100)

    output = purge("--visits", "90d", "--batch-size", "2", "--logins", "never")

    assert "visits: 2/5 deleted\nvisits: 4/5 deleted\nvisits: 5/5 deleted" in output
    assert "login attempts: kept (no retention set)" in output


def test_the_command_dry_run_prints_counts_and_deletes_nothing(rf, frozen):
    visits(rf, 3, days_ago=100)
    attempts(rf, 1, days_ago=400)

    output = purge("--dry-run")

    assert "visits: 3 older than 90 days would be deleted" in output
    assert "login attempts: 1 older than 365 days would be deleted" in output
    assert (UserVisit.objects.count(), LoginAttempt.objects.count()) == (3, 1)


def test_ages_shorter_than_a_day_are_printed_as_times(rf, frozen):
    output = purge("--visits", "12h", "--logins", "never", "--dry-run")

    assert "visits: 0 older than 12:00:00 would be deleted" in output


def test_never_keeps_everything(rf, settings, frozen):
    settings.TRACKABLE = {"VISIT_RETENTION": None}
    visits(rf, 2, days_ago=1000)

    purge()

    assert UserVisit.objects.count() == 2


def test_an_age_that_is_not_one_is_an_error():
    with pytest.raises(CommandError, match="not an age"):
        purge("--visits", "ninety days")


def test_a_batch_size_below_one_is_an_error():
    with pytest.raises(CommandError, match="batch-size"):
        purge("--batch-size", "0")


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("90d", datetime.timedelta(days=90)),
        ("12h", datetime.timedelta(hours=12)),
        ("30m", datetime.timedelta(minutes=30)),
        ("45s", datetime.timedelta(seconds=45)),
        ("2W", datetime.timedelta(weeks=2)),
        ("never", None),
    ],
)
def test_ages_are_a_number_and_a_unit(text, age):
    assert parse_age(text) == age


@pytest.mark.parametrize("text", ["0d", "-1d", "1x", "d", "1.5d", "", "1 year"])
def test_other_ages_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_age(text)


@pytest.mark.django_db(databases=["default", "other"])
def test_purge_runs_on_the_database_setting(rf, settings, frozen):
    settings.TRACKABLE = {"DATABASE": "other"}
    visits(rf, 2, days_ago=100)

    purge("--visits", "90d")

    assert UserVisit.objects.using("other").count() == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--visits", "999999999d"],
        ["--visits", "99999999999d"],
        ["--logins", "9999999999999w"],
        ["--logins", "99999999999999999999s"],
    ],
)
def test_an_age_beyond_the_calendar_is_a_command_error(args):
    with pytest.raises(CommandError, match="too long an age"):
        purge(*args)


def test_a_retention_setting_beyond_the_calendar_is_a_command_error(settings):
    settings.TRACKABLE = {"VISIT_RETENTION": datetime.timedelta(days=999999999)}

    with pytest.raises(CommandError, match="visits: an age of 999999999 days reaches back"):
        purge()


def test_a_batch_size_too_large_for_a_limit_is_a_command_error(rf, frozen):
    visits(rf, 1, days_ago=100)

    with pytest.raises(CommandError, match="batch-size must be between 1 and 1000000"):
        purge("--batch-size", "99999999999999999999")
    assert UserVisit.objects.count() == 1


@pytest.mark.parametrize(
    "age",
    [datetime.timedelta(days=999999999), datetime.timedelta(0), datetime.timedelta(days=-1)],
)
def test_purge_refuses_an_age_that_is_not_a_positive_representable_one(rf, frozen, age):
    visits(rf, 1, days_ago=100)

    with pytest.raises(ValueError, match="age"):
        UserVisit.objects.purge(age)
    assert UserVisit.objects.count() == 1
