"""export_user(): everything held about a person, nothing about anyone else, masked as stored."""

from __future__ import annotations

import io
import json
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_trackable import acting_as
from django_trackable.history import MASK
from django_trackable.models import AuditLog, LoginAttempt, UserDevice, UserVisit
from django_trackable.privacy import (
    FORMAT,
    Store,
    export_user,
    register_store,
    unregister_store,
    write_export,
)
from django_trackable.privacy.stores import OTHER_PERSON, history_tables
from tests.privacy_support import ALICE_IPS, populate
from tests.privacyapp.models import Address, Member
from tests.testapp.models import Article, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    return populate(settings)


def without_time(export):
    return {key: value for key, value in export.items() if key != "exported_at"}


def test_the_export_holds_every_entry_the_person_made_in_any_table(world):
    export = export_user(world.alice)

    expected = set()
    for model, field in history_tables():
        for pk, history in model._base_manager.values_list("pk", field.attname):
            for entry in history:
                if entry.get("user") == world.alice.pk:
                    expected.add((model._meta.label, str(pk), entry["action"], entry["timestamp"]))
    exported = {
        (item["model"], item["object_id"], item["action"], item["timestamp"])
        for item in export["changes"]
    }
    assert exported == expected
    assert len(expected) == 7
    assert all(item["by_you"] for item in export["changes"])
    price = next(i for i in export["changes"] if i["object_id"] == str(world.products[0].pk))
    assert price["changes"] == {"price": [0, 10]}
    assert (price["ip"], price["request_id"]) == (ALICE_IPS[1], "r-alice-2")
    assert "user" not in price and "user_repr" not in price


def test_the_export_holds_the_persons_visits_logins_devices_and_stamps(world):
    export = export_user(world.alice)

    assert sorted(v["id"] for v in export["visits"]) == sorted(
        UserVisit.objects.for_user(world.alice).values_list("pk", flat=True)
    )
    assert sorted(a["id"] for a in export["login_attempts"]) == sorted(
        LoginAttempt.objects.exclude(username__in=["bob", "nobody"]).values_list("pk", flat=True)
    )
    assert sorted(d["id"] for d in export["devices"]) == sorted(
        UserDevice.objects.for_user(world.alice).values_list("pk", flat=True)
    )
    visit = next(v for v in export["visits"] if v["referrer"])
    assert visit["ip"] == ALICE_IPS[0]
    assert visit["browser"] == "Firefox"
    assert visit["url"] == (
        f"/products/{world.products[2].pk}/?token={MASK}&q=alice.person%40example.com"
    )
    stamps = {(s["model"], s["field"]) for s in export["stamps"]}
    assert stamps == {
        ("testapp.Product", "updated_by"),
        ("testapp.Note", "created_by"),
        ("testapp.Note", "updated_by"),
        ("testapp.Gadget", "updated_by"),
        ("testapp.Post", "updated_by"),
        ("testapp.Post", "deleted_by"),
        ("testapp.Place", "updated_by"),
        ("privacyapp.Member", "created_by"),
        ("privacyapp.Address", "created_by"),
        ("privacyapp.Address", "updated_by"),
    }


def test_the_export_holds_the_history_and_audit_rows_of_the_persons_own_rows(world):
    export = export_user(world.alice)

    account = [(i["model"], i["action"], i["by_you"]) for i in export["account_history"]]
    assert account == [
        ("privacyapp.Member", "create", True),
        ("privacyapp.Member", "update", False),
        ("privacyapp.Address", "create", True),
        ("privacyapp.Address", "create", False),
    ]
    correction = export["account_history"][1]
    assert correction == {
        "model": "privacyapp.Member",
        "object_id": str(world.member.pk),
        "action": "update",
        "timestamp": correction["timestamp"],
        "changes": {"email": ["alice.old@example.net", "alice.person@example.com"]},
        "by_you": False,
    }
    audit = {(row["model"], row["by_you"]) for row in export["audit_log"]}
    assert audit == {("testapp.Product", True), ("privacyapp.Member", False), ("auth.User", False)}


def test_the_export_says_nothing_about_anyone_else(world):
    text = json.dumps(export_user(world.alice))

    for needle in world.bob_strings:
        assert needle not in text.lower(), needle
    assert "support ticket" not in text  # Bob's reason for his change to Alice's profile
    assert '"product zero"' not in text  # Bob's rename


def test_another_persons_export_holds_only_theirs(world):
    export = export_user(world.bob)

    assert {i["by_you"] for i in export["changes"]} == {True}
    # Bob corrected Alice's profile: his act is in his export, her values are not.
    corrections = [i for i in export["changes"] if i["model"] == "privacyapp.Member"]
    assert [c["changes"] for c in corrections] == [{"email": [MASK, MASK]}]
    audit = {(row["model"], row["target_repr"]) for row in export["audit_log"]}
    assert audit == {
        ("privacyapp.Member", OTHER_PERSON),
        ("auth.User", OTHER_PERSON),
        ("testapp.Product", "product zero"),
    }
    assert export["account_history"] == []
    assert {a["username"] for a in export["login_attempts"]} == {"bob"}
    for needle in world.alice_strings + world.alice_ips:
        assert needle not in json.dumps(export).lower(), needle


def test_masked_names_are_masked_in_the_export_even_when_stored_before_the_rule(alice, settings):
    with acting_as(alice, api_token="t-123", note="hi"):
        product = Product.objects.create(name="p", api_key="k-1")
        article = Article.objects.create(title="t", body="private text")
    stored = product.history[0]
    assert (stored["api_token"], stored["changes"]["api_key"]) == (MASK, [None, MASK])
    # Entries written before a name was masked, as an import would have left them.
    Product.objects.filter(pk=product.pk).update(
        history=[
            {
                "action": "update",
                "timestamp": stored["timestamp"],
                "user": alice.pk,
                "changes": {"password_hash": ["old", "new"], "name": ["p", "q"]},
                "session_token": "s-456",
                "iban_number": "DE00",
            }
        ]
    )
    UserVisit.objects.all()._store(
        {"user_id": alice.pk, "method": "GET", "url": "/?api_key=k-2&page=1", "referrer": ""}
    )
    settings.TRACKABLE = {"MASKED_FIELDS": ["password", "token", "api_key", "iban"]}

    export = export_user(alice)

    entries = {(item["model"], item["object_id"]): item for item in export["changes"]}
    old = entries["testapp.Product", str(product.pk)]
    assert old["changes"] == {"password_hash": [MASK, MASK], "name": ["p", "q"]}
    assert (old["session_token"], old["iban_number"]) == (MASK, MASK)
    assert entries["testapp.Article", str(article.pk)]["changes"]["body"] == [
        None,
        MASK,
    ]  # track_mask
    assert entries["testapp.Article", str(article.pk)]["note"] == "hi"
    assert export["visits"][0]["url"] == f"/?api_key={MASK}&page=1"
    text = json.dumps(export)
    for secret in ("t-123", "k-1", "k-2", "s-456", "DE00", "private text", '"old"'):
        assert secret not in text


def test_masked_names_in_audit_rows_are_masked_in_the_export(alice):
    AuditLog.objects.create(
        actor=alice,
        action="update",
        content_type=ContentType.objects.get_for_model(Product),
        object_id="1",
        changes={"api_key": ["a", "b"], "name": ["x", "y"]},
        extra={"access_token": "zzz", "request_id": "r1"},
    )

    (row,) = export_user(alice)["audit_log"]

    assert row["changes"] == {"api_key": [MASK, MASK], "name": ["x", "y"]}
    assert row["extra"] == {"access_token": MASK, "request_id": "r1"}


def test_the_written_export_is_the_same_json_streamed_item_by_item(world):
    class Recorder(io.StringIO):
        writes = 0

        def write(self, text):
            self.writes += 1
            return super().write(text)

    stream = Recorder()

    items = write_export(world.alice, stream, batch_size=2)

    assert without_time(json.loads(stream.getvalue())) == without_time(export_user(world.alice))
    assert items == sum(len(v) for k, v in export_user(world.alice).items() if isinstance(v, list))
    assert stream.writes > items


def test_the_export_reads_history_in_batches_of_rows(alice):
    with acting_as(alice):
        for n in range(5):
            Product.objects.create(name=f"p{n}")
    table = connection.ops.quote_name(Product._meta.db_table)

    with CaptureQueriesContext(connection) as queries:
        items = write_export(alice, StringIO(), batch_size=2)

    reads = [q["sql"] for q in queries.captured_queries if f"FROM {table}" in q["sql"]]
    entry_reads = [sql for sql in reads if "json_each" in sql or "jsonb_array_elements" in sql]
    assert items == 5 + 10  # five create entries, and created_by and updated_by of each
    # Primary keys two at a time (3 pages), entries of each page (3 reads),
    # and the stamps' created_by and updated_by.
    assert len([sql for sql in reads if "LIMIT 2" in sql]) == 3
    assert len([sql for sql in entry_reads if "LIMIT" not in sql]) == 3


def test_the_format_and_the_person_head_the_export(alice):
    export = export_user(alice)

    assert export["format"] == FORMAT
    assert export["user"] == {"pk": alice.pk, "username": "alice", "email": ""}
    assert export["changes"] == export["visits"] == []


class _Orders(Store):
    name = "shop orders"

    def __init__(self, section="orders"):
        self.section = section

    def count(self, person, *, batch_size=1000):
        return []

    def erase(self, person, *, batch_size=1000, progress=None):
        return []

    def export(self, person, *, batch_size=1000):
        yield self.section, iter([{"order": 1, "for": person.username}])


def test_a_registered_store_adds_its_section(alice):
    store = register_store(_Orders())
    try:
        export = export_user(alice)
        stream = StringIO()
        write_export(alice, stream)
    finally:
        unregister_store(store.name)

    assert export["orders"] == [{"order": 1, "for": "alice"}]
    assert json.loads(stream.getvalue())["orders"] == [{"order": 1, "for": "alice"}]
    assert "orders" not in export_user(alice)


def test_two_stores_exporting_one_section_is_an_error(alice):
    store = register_store(_Orders(section="visits"))
    try:
        with pytest.raises(ValueError, match="'visits'"):
            export_user(alice)
        with pytest.raises(ValueError, match="'visits'"):
            write_export(alice, StringIO())
    finally:
        unregister_store(store.name)


def test_the_export_command_writes_to_stdout_or_a_file(world, tmp_path):
    out = StringIO()
    call_command("trackable_export_user", "alice", stdout=out)
    assert without_time(json.loads(out.getvalue())) == without_time(export_user(world.alice))

    target = tmp_path / "alice.json"
    out = StringIO()
    call_command("trackable_export_user", str(world.alice.pk), "--output", str(target), stdout=out)
    assert without_time(json.loads(target.read_text())) == without_time(export_user(world.alice))
    assert f"written to {target}" in out.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["alice.json"]


def test_a_failed_export_leaves_no_file_behind(alice, tmp_path):
    class Broken(_Orders):
        name = "broken"

        def export(self, person, *, batch_size=1000):
            yield "broken", self._fail()

        def _fail(self):
            yield {"ok": 1}
            raise RuntimeError("store unavailable")

    store = register_store(Broken())
    try:
        with pytest.raises(RuntimeError, match="unavailable"):
            call_command("trackable_export_user", "alice", "--output", str(tmp_path / "a.json"))
    finally:
        unregister_store(store.name)

    assert list(tmp_path.iterdir()) == []


def test_the_export_command_refuses_a_missing_directory_and_a_bad_batch_size(alice, tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("trackable_export_user", "alice", "--output", str(tmp_path / "no" / "a.json"))
    with pytest.raises(CommandError, match="batch-size"):
        call_command("trackable_export_user", "alice", "--batch-size", "0")


def test_member_and_address_rows_of_others_are_not_exported(world, django_user_model):
    carol = django_user_model.objects.create_user("carol")
    with acting_as(world.alice):
        Member.objects.create(user=carol, email="carol@example.com", full_name="Carol")
        Address.objects.create(owner=carol, street="3 Elsewhere")

    export = export_user(world.alice)

    own = {(i["model"], i["object_id"]) for i in export["account_history"]}
    assert own == {
        ("privacyapp.Member", str(world.member.pk)),
        *(
            ("privacyapp.Address", str(pk))
            for pk in Address.objects.filter(owner=world.alice).values_list("pk", flat=True)
        ),
    }
    # What Alice did to Carol's rows is Alice's act: in "changes", as any change.
    made = {(i["model"], i["action"]) for i in export["changes"]}
    assert ("privacyapp.Member", "create") in made


def test_odd_audit_rows_and_entries_are_exported_as_they_are(alice, django_user_model):
    carol = django_user_model.objects.create_user("carol")
    with acting_as(alice):
        member = Member.objects.create(user=carol, email="carol@example.com", full_name="C")
    Member.objects.filter(pk=member.pk).update(
        history=[{"action": "update", "user": alice.pk, "changes": "odd"}]
    )
    with acting_as(alice):
        product = Product.objects.create(name="p")
    Product.objects.filter(pk=product.pk).update(
        history=[{"action": "update", "user": alice.pk, "changes": {"api_key": "raw"}}]
    )
    member_type = ContentType.objects.get_for_model(Member)
    AuditLog.objects.create(actor=alice, action="delete", changes=["not", "a", "dict"])
    AuditLog.objects.create(
        actor=alice, action="update", content_type=member_type, object_id="not-a-pk"
    )

    export = export_user(alice)

    entries = {(i["model"], i["object_id"]): i for i in export["changes"]}
    assert entries["privacyapp.Member", str(member.pk)]["changes"] == "odd"
    assert entries["testapp.Product", str(product.pk)]["changes"] == {"api_key": MASK}
    odd, unknown = export["audit_log"]
    assert (odd["model"], odd["changes"]) == (None, ["not", "a", "dict"])
    assert (unknown["model"], unknown["object_id"]) == ("privacyapp.Member", "not-a-pk")
