"""manage.py trackable_changes: the changes feed from the command line."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from django_trackable import acting_as
from tests.testapp.models import Order, Product

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def changes(alice):
    with time_machine.travel(NOW - datetime.timedelta(hours=5), tick=False):
        Product.objects.create(name="Old")
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False), acting_as(alice):
        lamp = Product.objects.create(name="Lamp", api_key="secret-key")
        Order.objects.create(reference="A1")
    return lamp


def run(*args):
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("trackable_changes", *args, stdout=out)
    return out.getvalue()


def test_the_table_lists_the_changes_since_an_age(changes):
    output = run("--since", "2h")

    lines = output.splitlines()
    assert len(lines) == 3
    assert "create" in lines[0] and "testapp.Product" in lines[0] and "by alice" in lines[0]
    assert "testapp.Order" in lines[1]
    assert lines[-1] == "2 changes."


def test_json_jsonl_and_csv_hold_the_same_changes_with_masked_values(changes):
    as_json = json.loads(run("--since", "2h", "--format", "json"))
    as_lines = [json.loads(line) for line in run("--since", "2h", "--format", "jsonl").splitlines()]
    as_csv = list(csv.DictReader(io.StringIO(run("--since", "2h", "--format", "csv"))))

    assert as_json == as_lines
    assert [row["model"] for row in as_csv] == [row["model"] for row in as_json]
    assert as_json[0]["changes"]["api_key"] == [None, "***"]
    assert "secret-key" not in json.dumps(as_json) + str(as_csv)


def test_model_user_action_and_until_narrow_the_list(changes, alice):
    assert (
        len(json.loads(run("--since", "1d", "--model", "testapp.Order", "--format", "json"))) == 1
    )
    by_alice = json.loads(run("--since", "1d", "--user", "alice", "--format", "json"))
    assert {row["user"] for row in by_alice} == {alice.pk}
    until = (NOW - datetime.timedelta(hours=2)).isoformat()
    assert [
        r["object"] for r in json.loads(run("--since", "1d", "--until", until, "--format", "json"))
    ] == ["Old"]
    assert json.loads(run("--since", "1d", "--action", "update", "--format", "json")) == []


def test_since_takes_an_iso_time_or_a_unix_time(changes):
    iso = (NOW - datetime.timedelta(hours=2)).isoformat()
    unix = str((NOW - datetime.timedelta(hours=2)).timestamp())

    assert run("--since", iso) == run("--since", unix) == run("--since", "2h")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday-ish"], "is not a moment"),
        (["--since", "2h", "--model", "nope.Nothing"], "is not a model"),
        (["--since", "2h", "--model", "testapp.Category"], "not a tracked model"),
        (["--since", "2h", "--user", "nobody"], "No user"),
    ],
)
def test_bad_arguments_are_command_errors(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("trackable_changes", *args)
