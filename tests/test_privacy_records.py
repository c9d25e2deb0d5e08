"""Record tables in erasure, export and retention: the person's records, and keys naming them."""

from __future__ import annotations

import datetime
import io
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from django_trackable.history import MASK
from django_trackable.privacy import erase_user, export_user, purge_records, write_export
from django_trackable.privacy.stores import OTHER_PERSON
from tests.privacy_search import actor_traces, snapshot, traces
from tests.privacy_support import populate
from tests.privacyapp.models import (
    AccountRecord,
    Member,
    MemberRecord,  # made by RecordedModelMixin
    Ticket,
    TicketRecord,
)
from tests.recordsapp.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    return populate(settings)


def record_tables_snapshot():
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in (AccountRecord, MemberRecord, TicketRecord)
    }


# --- erasure -------------------------------------------------------------------------------


def test_the_world_holds_the_person_in_record_tables_before_erasure(world):
    tables = {hit.table for hit in traces(world.alice_strings)}
    assert {"privacyapp_accountrecord", "privacyapp_memberrecord"} <= tables
    assert {hit.table for hit in actor_traces(world.alice.pk)} >= {"privacyapp_ticketrecord"}


def test_records_of_the_persons_own_rows_are_deleted_by_default_and_others_kept(world):
    bobs = list(AccountRecord.objects.filter(recording=world.bob.pk).values())

    erase_user(world.alice)

    assert not AccountRecord.objects.filter(recording=world.alice.pk).exists()
    assert not MemberRecord.objects.exists()  # Alice's profile is the only member
    assert list(AccountRecord.objects.filter(recording=world.bob.pk).values()) == bobs
    assert {hit.table for hit in traces(world.alice_strings)}.isdisjoint(
        {"privacyapp_accountrecord", "privacyapp_memberrecord"}
    )


def test_anonymised_records_of_the_persons_rows_keep_their_time_and_lose_their_values(
    world, settings
):
    settings.TRACKABLE = {"ERASE_RECORDS": "anonymize"}
    created = {
        label: [row["created"] for row in rows] for label, rows in record_tables_snapshot().items()
    }
    bobs = list(AccountRecord.objects.filter(recording=world.bob.pk).values())

    erase_user(world.alice)

    (account,) = AccountRecord.objects.filter(recording=world.alice.pk).values()
    assert (account["email"], account["first_name"], account["last_login"]) == ("", "", None)
    assert account["is_active"] is True  # neither NULL nor text: kept
    members = list(MemberRecord.objects.values("email", "full_name", "phone"))
    assert members == [{"email": "", "full_name": "", "phone": ""}] * 2
    assert list(AccountRecord.objects.filter(recording=world.bob.pk).values()) == bobs
    after = record_tables_snapshot()
    assert [row["created"] for row in after["privacyapp.MemberRecord"]] == created[
        "privacyapp.MemberRecord"
    ]
    assert len(after["privacyapp.AccountRecord"]) == len(created["privacyapp.AccountRecord"])


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_a_recorded_key_naming_the_person_becomes_null_or_its_record_goes_if_required(
    world, settings, mode
):
    settings.TRACKABLE = {"ERASE_RECORDS": mode}
    reported_by_alice, reported_by_bob = world.tickets

    erase_user(world.alice)

    assert not TicketRecord.objects.filter(recording=reported_by_alice).exists()
    assert list(
        TicketRecord.objects.filter(recording=reported_by_bob).values_list(
            "title", "reporter", "assignee"
        )
    ) == [
        ("teapot cracked", world.bob.pk, None),
        ("teapot cracked", world.bob.pk, world.bob.pk),
    ]
    assert actor_traces(world.alice.pk) == set()
    # The tickets themselves are the site's data.
    assert Ticket.objects.filter(reporter=world.alice).exists()


def test_the_report_counts_records_per_model_and_column(world):
    report = erase_user(world.alice)

    records = report.counts["records"]
    assert records["privacyapp.AccountRecord"].rows == 1
    assert records["privacyapp.MemberRecord"].rows == 2
    assert records["privacyapp.TicketRecord.reporter"].rows == 1
    assert records["privacyapp.TicketRecord.assignee"].rows == 1
    assert records["recordsapp.ArticleRecord.owner"].rows == 0  # every table is listed
    assert "records: privacyapp.MemberRecord: 2 rows" in report.lines()


def test_records_on_the_persons_own_row_naming_them_are_counted_once(alice, bob):
    # Bob's article row owned by Alice, and records of it naming her.
    article = Article.objects.create(title="draft", owner=alice)
    article.title = "final"
    article.save()
    Article.objects.create(title="bob's", owner=bob)

    report = erase_user(alice)

    assert report.counts["records"]["recordsapp.ArticleRecord.owner"].rows == 2
    assert set(article.records.values_list("owner", flat=True)) == {None}
    assert Article.objects.get(title="bob's").records.get().owner_id == bob.pk


def test_a_record_naming_the_person_twice_is_counted_once_and_dry_runs_agree(alice, bob):
    Ticket.objects.create(title="self-assigned", reporter=alice, assignee=alice)
    Ticket.objects.create(title="bob's", reporter=bob, assignee=alice)

    dry = erase_user(alice, dry_run=True)
    real = erase_user(alice)

    assert dry.as_dict()["counts"]["records"] == real.as_dict()["counts"]["records"]
    records = real.counts["records"]
    assert (
        records["privacyapp.TicketRecord.reporter"].rows,
        records["privacyapp.TicketRecord.assignee"].rows,
    ) == (1, 1)
    assert list(TicketRecord.objects.values_list("title", "assignee")) == [("bob's", None)]


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_a_dry_run_counts_what_the_erasure_does_and_a_second_run_counts_zeros(
    world, settings, mode
):
    settings.TRACKABLE = {"ERASE_RECORDS": mode}
    before = snapshot()

    dry = erase_user(world.alice, dry_run=True)

    assert snapshot() == before
    real = erase_user(world.alice)
    assert dry.as_dict()["counts"]["records"] == real.as_dict()["counts"]["records"]
    assert real.rows("records") == 5
    after = snapshot()
    assert erase_user(world.alice).rows("records") == 0
    assert erase_user(world.alice, dry_run=True).rows("records") == 0
    assert snapshot() == after


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_records_are_erased_in_batches_each_reported(world, settings, mode):
    settings.TRACKABLE = {"ERASE_RECORDS": mode}
    seen = []

    erase_user(world.alice, batch_size=1, progress=lambda *args: seen.append(args))

    member_batches = [args for args in seen if args[:2] == ("records", "privacyapp.MemberRecord")]
    assert member_batches == [
        ("records", "privacyapp.MemberRecord", 1),
        ("records", "privacyapp.MemberRecord", 2),
    ]
    assert ("records", "privacyapp.TicketRecord.assignee", 1) in seen


# --- export --------------------------------------------------------------------------------


def test_the_export_holds_the_records_of_the_persons_rows_per_record_model(world):
    export = export_user(world.alice)

    (account,) = export["records:privacyapp.AccountRecord"]
    assert account["object_id"] == str(world.alice.pk)
    assert account["email"] == "alice.person@example.com"
    assert account["your_row"] is True
    assert isinstance(account["created"], str)
    members = export["records:privacyapp.MemberRecord"]
    assert [m["email"] for m in members] == ["alice.old@example.net", "alice.person@example.com"]
    assert {m["object_id"] for m in members} == {str(world.member.pk)}


def test_the_export_lists_records_naming_the_person_without_their_other_values(world):
    export = export_user(world.alice)

    tickets = export["records:privacyapp.TicketRecord"]
    assert sorted((t["object_id"], t["field"]) for t in tickets) == sorted(
        [(str(world.tickets[0].pk), "reporter"), (str(world.tickets[1].pk), "assignee")]
    )
    assert all(set(t) == {"id", "object_id", "created", "your_row", "field"} for t in tickets)
    assert export["records:recordsapp.ArticleRecord"] == []


def test_another_persons_records_are_not_in_the_export(world):
    text = json.dumps(export_user(world.alice)).lower()
    for needle in world.bob_strings:
        assert needle.lower() not in text
    (bobs,) = export_user(world.bob)["records:privacyapp.AccountRecord"]
    assert bobs["email"] == "bob.other@example.org"
    assert export_user(world.bob)["records:privacyapp.MemberRecord"] == []


def test_recorded_values_named_like_masked_fields_are_masked_in_the_export(alice, settings):
    settings.TRACKABLE = {"MASKED_FIELDS": ["phone"]}
    Member.objects.create(user=alice, email="a@example.com", full_name="A", phone="123")

    (member,) = export_user(alice)["records:privacyapp.MemberRecord"]

    assert member["phone"] == MASK
    assert member["email"] == "a@example.com"


def test_a_user_key_in_a_record_of_the_persons_own_row_shows_only_them(world, monkeypatch):
    # Tickets declared rows about their reporter: records of Alice's ticket are hers.
    monkeypatch.setattr(Ticket, "track_person", "reporter", raising=False)

    (record,) = export_user(world.alice)["records:privacyapp.TicketRecord"][:1]

    assert record["object_id"] == str(world.tickets[0].pk)
    assert (record["your_row"], record["title"]) == (True, "kettle leaks")
    assert (record["reporter"], record["assignee"]) == (world.alice.pk, OTHER_PERSON)


def test_the_written_export_streams_the_record_sections_too(world):
    stream = io.StringIO()
    write_export(world.alice, stream, batch_size=1)
    written = json.loads(stream.getvalue())

    expected = export_user(world.alice)
    for section in (
        "records:privacyapp.AccountRecord",
        "records:privacyapp.MemberRecord",
        "records:privacyapp.TicketRecord",
    ):
        assert written[section] == expected[section]


# --- retention -----------------------------------------------------------------------------

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def aged(alice, bob):
    """Ticket records 800, 400 and 10 days old, and a ticket last recorded 800 days ago."""
    with time_machine.travel(NOW - 800 * DAY, tick=False):
        busy = Ticket.objects.create(title="busy", reporter=alice)
        quiet = Ticket.objects.create(title="quiet", reporter=bob)
    for age, title in ((400, "busier"), (10, "busiest")):
        with time_machine.travel(NOW - age * DAY, tick=False):
            busy.title = title
            busy.save()
    return busy, quiet


def titles(ticket):
    return list(ticket.records.values_list("title", flat=True))


def test_records_older_than_the_period_go_and_each_instance_keeps_its_newest(aged):
    busy, quiet = aged

    with time_machine.travel(NOW, tick=False):
        counts = purge_records(365 * DAY)

    assert {c.target: c.rows for c in counts}["privacyapp.TicketRecord"] == 2
    assert titles(busy) == ["busiest"]
    assert titles(quiet) == ["quiet"]  # its newest, however old


def test_a_record_purge_dry_run_counts_and_a_second_purge_deletes_nothing(aged):
    busy, _quiet = aged
    before = titles(busy)
    with time_machine.travel(NOW, tick=False):
        dry = purge_records(NOW - 300 * DAY, dry_run=True)
        assert titles(busy) == before
        real = purge_records(NOW - 300 * DAY, batch_size=1)
        again = purge_records(NOW - 300 * DAY)

    assert [c.rows for c in dry] == [c.rows for c in real]
    assert {c.target: c.rows for c in real}["privacyapp.TicketRecord"] == 2
    assert titles(busy) == ["busiest"]
    assert sum(c.rows for c in again) == 0


def test_the_command_purges_records_for_the_period_or_the_setting_and_keeps_by_default(
    aged, settings
):
    busy, _quiet = aged

    def purge(*args):
        out = StringIO()
        with time_machine.travel(NOW, tick=False):
            call_command(
                "trackable_purge", "--visits", "never", "--logins", "never", *args, stdout=out
            )
        return out.getvalue()

    assert "records: kept (no retention set)" in purge()
    assert "records of privacyapp.TicketRecord: 1 older than 500 days would be deleted" in purge(
        "--records", "500d", "--dry-run"
    )
    assert len(titles(busy)) == 3

    settings.TRACKABLE = {"RECORD_RETENTION": 365 * DAY}
    output = purge()

    assert "records of privacyapp.TicketRecord: 2 older than 365 days deleted" in output
    assert "records of privacyapp.AccountRecord: 0 older than 365 days deleted" in output
    assert titles(busy) == ["busiest"]
