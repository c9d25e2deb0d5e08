"""erase_user(): the person gone from every store, everyone else and every change intact."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import JSONField, Value
from django.test.utils import CaptureQueriesContext

from django_trackable import acting_as, tracking_disabled
from django_trackable.history import MASK
from django_trackable.models import AuditLog, LoginAttempt, UserDevice, UserVisit
from django_trackable.privacy import ERASED, ErasureReport, erase_user, registered_stores
from django_trackable.privacy.stores import history_tables
from django_trackable.signals import user_erased
from tests.privacy_search import Hit, actor_traces, snapshot, traces
from tests.privacy_support import ALICE_IPS, ATTACKER_IP, BOB_IP, populate
from tests.privacyapp.models import Address, Member
from tests.testapp.models import Note, Post, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    return populate(settings)


def account_rows(world):
    """The live columns of Alice's own rows: her account, which erasure leaves to the site."""
    alice, member = world.alice, world.member
    return {
        Hit("auth_user", "username", str(alice.pk), "alice"),
        Hit("auth_user", "email", str(alice.pk), "alice"),
        Hit("auth_user", "email", str(alice.pk), "alice.person@example.com"),
        Hit("privacyapp_member", "email", str(member.pk), "alice"),
        Hit("privacyapp_member", "email", str(member.pk), "alice.person@example.com"),
        Hit("privacyapp_member", "full_name", str(member.pk), "alice"),
    }


def histories():
    """Every row's history, by table and primary key."""
    return {
        model._meta.label: {
            pk: copy.deepcopy(history)
            for pk, history in model._base_manager.values_list("pk", field.attname)
        }
        for model, field in history_tables()
    }


@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_no_column_of_any_table_holds_the_person_but_their_account_row(world, settings, mode):
    settings.TRACKABLE = {"ERASE_REQUEST_METADATA": mode}
    needles = world.alice_strings + world.alice_ips
    assert traces(needles) > account_rows(world)
    assert actor_traces(world.alice.pk)

    erase_user(world.alice)

    assert traces(needles) == account_rows(world)
    assert actor_traces(world.alice.pk) == set()
    assert not Product.objects.modified_by(world.alice).exists()


def test_a_site_deleting_the_account_on_user_erased_leaves_no_trace_at_all(world):
    def delete_account(sender, user, report, **kwargs):
        # A tracked user row's change would record its old values: tracking off.
        with tracking_disabled():
            user.delete()

    pk = world.alice.pk
    user_erased.connect(delete_account)
    try:
        erase_user(world.alice)
    finally:
        user_erased.disconnect(delete_account)

    assert traces(world.alice_strings + world.alice_ips) == set()
    assert actor_traces(pk) == set()
    assert not Member.objects.exists()


def test_the_persons_entries_keep_action_time_and_changes_and_lose_the_actor(world):
    before = histories()

    erase_user(world.alice)

    after = histories()
    own_rows = {
        "privacyapp.Member": {world.member.pk},
        "privacyapp.Address": set(Address.objects.values_list("pk", flat=True)),
    }
    erased = 0
    for label, rows in before.items():
        for pk, history in rows.items():
            if pk in own_rows.get(label, ()):
                continue  # values scrubbed: see the next test
            expected = []
            for entry in history:
                if entry.get("user") == world.alice.pk:
                    erased += 1
                    kept = {k: entry[k] for k in ("action", "timestamp", "changes") if k in entry}
                    entry = {**kept, "user": None, "user_repr": ERASED}
                expected.append(entry)
            assert after[label][pk] == expected, (label, pk)
    assert erased == 5  # two products, the gadget, the restaurant, the post


def test_the_history_of_the_persons_own_rows_keeps_what_changed_and_when_not_the_values(world):
    before = Member.objects.get().history

    erase_user(world.alice)

    after = Member.objects.get().history
    assert [(e["action"], e["timestamp"]) for e in after] == [
        (e["action"], e["timestamp"]) for e in before
    ]
    assert after[0]["changes"] == {
        "user": [None, MASK],
        "email": [None, MASK],
        "full_name": [None, MASK],
        "phone": [None, MASK],
        "preferences": [None, MASK],
    }
    # Bob's correction keeps Bob as its actor; only the values go.
    assert after[1]["changes"] == {"email": [MASK, MASK]}
    assert (after[1]["user"], after[1]["user_repr"]) == (before[1]["user"], "bob")
    assert after[1]["reason"] == "support ticket"
    assert after[0]["user"] is None  # Alice made the first entry herself
    for address in Address.objects.all():
        assert address.history[0]["changes"]["street"] == [None, MASK]


def test_audit_rows_by_the_person_lose_the_actor_and_rows_about_them_their_values(world):
    erase_user(world.alice)

    by_alice, about_member, about_user, by_bob = AuditLog.objects.order_by("pk")
    assert (by_alice.actor_id, by_alice.actor_repr, by_alice.extra) == (None, ERASED, {})
    assert by_alice.changes == {"price": ["0.00", "10.00"]}
    assert (about_member.actor_repr, about_member.target_repr) == ("bob", ERASED)
    assert about_member.changes == {"email": [MASK, MASK]}
    assert about_member.extra == {"ip": BOB_IP}
    assert about_user.changes == {"email": [MASK, MASK], "is_active": [MASK, MASK]}
    assert (by_bob.target_repr, by_bob.changes) == (
        "product zero",
        {"name": ["product 0", "product zero"]},
    )


def test_user_stamps_pointing_at_the_person_become_null_and_others_stay(world):
    post = Post.all_objects.get()
    assert post.deleted_by_id == world.alice.pk

    erase_user(world.alice)

    post = Post.all_objects.get()
    assert (post.deleted_by_id, post.created_by_id) == (None, world.bob.pk)
    assert Note.objects.get().created_by_id is None
    assert Product.objects.get(pk=world.products[0].pk).updated_by_id == world.bob.pk
    assert Product.objects.get(pk=world.products[1].pk).updated_by_id is None


def test_stamps_are_nulled_without_touching_updated_at_or_history(world):
    product = Product.objects.get(pk=world.products[1].pk)

    erase_user(world.alice)

    again = Product.objects.get(pk=product.pk)
    assert again.updated_at == product.updated_at
    assert len(again.history) == len(product.history)


def test_request_metadata_is_deleted_by_default_and_other_peoples_kept(world):
    bob_visits = list(UserVisit.objects.for_user(world.bob).values())
    bob_attempts = list(LoginAttempt.objects.filter(username="bob").values())

    erase_user(world.alice)

    assert list(UserVisit.objects.values()) == bob_visits
    assert not UserDevice.objects.filter(user=world.alice).exists()
    assert UserDevice.objects.filter(user=world.bob).count() == 2  # force_login and Firefox
    remaining = LoginAttempt.objects.order_by("pk")
    assert [a.username for a in remaining] == ["bob", "bob", "bob", "nobody"]
    assert list(LoginAttempt.objects.filter(username="bob").values()) == bob_attempts


def test_anonymised_request_metadata_keeps_families_networks_and_paths_only(world, settings):
    settings.TRACKABLE = {"ERASE_REQUEST_METADATA": "anonymize"}
    alice_visits = UserVisit.objects.filter(user=world.alice).count()

    erase_user(world.alice)

    visits = UserVisit.objects.filter(user=None).order_by("pk")
    assert len(visits) == alice_visits
    first = visits[0]
    assert (first.ip, first.user_agent, first.browser, first.os) == (
        "198.51.100.0",
        "",
        "Firefox",
        "Windows",
    )
    assert (first.browser_version, first.os_version, first.city) == ("", "", "")
    assert (first.url, first.referrer) == (
        f"/products/{world.products[2].pk}/",
        "https://search.example/",
    )
    assert visits[1].ip == "2001:db8:a11c::"
    attempts = LoginAttempt.objects.filter(username="").order_by("pk")
    assert {a.ip for a in attempts} == {None, "198.51.100.0", "2001:db8:a11c::", "203.0.113.0"}
    assert all(a.user_id is None for a in attempts)
    devices = UserDevice.objects.filter(user=None)
    assert sorted(d.browser for d in devices) == ["Firefox", "Mobile Safari", "Other"]
    assert {d.last_ip for d in devices} == {None, "198.51.100.0", "2001:db8:a11c::"}


def test_failed_logins_under_the_persons_username_or_email_count_in_any_case(world):
    typed = set(LoginAttempt.objects.filter(user=None).values_list("username", flat=True))
    assert typed == {"ALICE", "Alice.Person@Example.com", "alice", "bob", "nobody"}

    report = erase_user(world.alice)

    assert report.counts["login attempts"]["django_trackable.LoginAttempt"].rows == 6
    left = set(LoginAttempt.objects.filter(user=None).values_list("username", flat=True))
    assert left == {"bob", "nobody"}
    assert LoginAttempt.objects.filter(ip=ATTACKER_IP).count() == 1  # "nobody"'s


def test_a_person_without_an_email_keeps_attempts_with_a_blank_username(rf, django_user_model):
    carol = django_user_model.objects.create_user("carol", email="")
    LoginAttempt.objects.record(rf.post("/"), successful=False, username="")
    LoginAttempt.objects.record(rf.post("/"), successful=False, username="carol")

    erase_user(carol)

    assert list(LoginAttempt.objects.values_list("username", flat=True)) == [""]


def test_the_report_counts_rows_and_entries_per_store_and_target(world):
    report = erase_user(world.alice)

    history = report.counts["history"]
    assert (history["testapp.Product"].rows, history["testapp.Product"].entries) == (2, 2)
    assert (history["testapp.Place"].rows, history["testapp.Gadget"].rows) == (1, 1)
    assert history["testapp.AllTypes"].rows == 0  # every table is listed
    assert (history["privacyapp.Member"].rows, history["privacyapp.Member"].entries) == (1, 1)
    account = report.counts["account history"]
    assert (account["privacyapp.Member"].rows, account["privacyapp.Member"].entries) == (1, 2)
    assert (account["privacyapp.Address"].rows, account["privacyapp.Address"].entries) == (2, 2)
    stamps = report.counts["stamps"]
    assert stamps["testapp.Post.deleted_by"].rows == 1
    assert stamps["testapp.Post.created_by"].rows == 0
    assert stamps["testapp.Note.created_by"].rows == 1
    assert stamps["testapp.Place.updated_by"].rows == 1  # Restaurant's, in its parent's table
    audit = report.counts["audit log"]
    assert audit["django_trackable.AuditLog (actor)"].rows == 1
    assert audit["django_trackable.AuditLog (about the person)"].rows == 2
    assert report.counts["visits"]["django_trackable.UserVisit"].rows == 2
    assert report.counts["devices"]["django_trackable.UserDevice"].rows == 3
    assert report.entries("history") == 7
    assert report.total == report.rows() > 0
    assert "history: testapp.Product: 2 rows, 2 entries" in report.lines()
    assert "stamps: testapp.Post.deleted_by: 1 rows" in report.lines()
    assert report.as_dict()["counts"]["history"]["testapp.Product"] == {"rows": 2, "entries": 2}


def test_a_dry_run_changes_nothing_and_reports_what_the_erasure_then_does(world):
    before = snapshot()

    dry = erase_user(world.alice, dry_run=True)

    assert snapshot() == before
    assert dry.dry_run
    real = erase_user(world.alice)
    assert dry.as_dict()["counts"] == real.as_dict()["counts"]
    assert dry.total == real.total > 0


def test_a_second_erasure_changes_nothing_and_reports_zeros(world):
    erase_user(world.alice)
    after_first = snapshot()

    again = erase_user(world.alice)

    assert snapshot() == after_first
    assert (again.total, again.entries()) == (0, 0)
    assert erase_user(world.alice, dry_run=True).total == 0


def test_user_erased_is_sent_after_erasure_with_the_report_and_never_on_a_dry_run(world):
    calls = []

    def receiver(sender, user, report, **kwargs):
        calls.append((sender, user, report, Product.objects.modified_by(user).exists()))

    user_erased.connect(receiver)
    try:
        erase_user(world.alice, dry_run=True)
        assert calls == []
        report = erase_user(world.alice)
    finally:
        user_erased.disconnect(receiver)

    assert calls == [(get_user_model(), world.alice, report, False)]


def test_receivers_may_add_what_they_erased_to_the_report(world):
    from django_trackable.privacy import StoreCount

    def receiver(sender, user, report, **kwargs):
        report.add("shop", StoreCount("shop.Order", 3))

    user_erased.connect(receiver)
    try:
        report = erase_user(world.alice)
    finally:
        user_erased.disconnect(receiver)

    assert report.rows("shop") == 3
    assert "shop: shop.Order: 3 rows" in report.lines()


def test_an_unsaved_user_cannot_be_erased(django_user_model):
    with pytest.raises(ValueError, match="saved user"):
        erase_user(django_user_model(username="ghost"))


def test_a_batch_size_below_one_is_refused(alice):
    with pytest.raises(ValueError, match="batch_size"):
        erase_user(alice, batch_size=0)


def test_histories_that_are_not_lists_of_entries_are_left_as_they_are(alice, bob):
    odd = [
        "a string",
        5,
        None,
        True,
        ["nested"],
        {"user": alice.pk, "user_repr": "alice", "action": "update", "ip": "10.1.2.3"},
        {"user": bob.pk, "user_repr": "bob", "action": "update", "flag": False},
    ]
    rows = [Product.objects.create(name=f"odd {n}") for n in range(4)]
    Product.objects.filter(pk=rows[0].pk).update(history=odd)
    Product.objects.filter(pk=rows[1].pk).update(history={"user": alice.pk})
    Product.objects.filter(pk=rows[2].pk).update(history="alice")
    Product.objects.filter(pk=rows[3].pk).update(history=Value(None, JSONField()))  # JSON null

    report = erase_user(alice)

    assert report.counts["history"]["testapp.Product"].rows == 1
    histories = dict(Product.objects.values_list("pk", "history"))
    assert histories[rows[0].pk] == [
        *odd[:5],
        {"action": "update", "user": None, "user_repr": ERASED},
        odd[6],
    ]
    assert histories[rows[1].pk] == {"user": alice.pk}
    assert histories[rows[2].pk] == "alice"
    assert histories[rows[3].pk] is None


def test_scrubbed_own_rows_keep_odd_entries_as_they_are(alice):
    member = Member.objects.create(user=alice, email="a@example.com", full_name="A")
    odd = [
        "text",
        {"action": "update", "changes": "not an object"},
        {"action": "update", "changes": {"email": "a@example.com", "phone": [None, "1", 2, []]}},
        {"action": "update"},
    ]
    Member.objects.filter(pk=member.pk).update(history=odd)

    erase_user(alice)

    assert Member.objects.get().history == [
        "text",
        {"action": "update", "changes": "not an object"},
        {"action": "update", "changes": {"email": MASK, "phone": [None, MASK, MASK, MASK]}},
        {"action": "update"},
    ]


def _statements(queries, table):
    return [q["sql"] for q in queries if table in q["sql"]]


def test_a_hundred_thousand_entries_in_ten_thousand_rows_are_erased_in_bounded_batches(alice, bob):
    when = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).isoformat()

    def entry(user, n):
        return {
            "action": "update",
            "timestamp": when,
            "user": user.pk,
            "user_repr": str(user),
            "changes": {"quantity": [n, n + 1]},
            "ip": "198.51.100.23",
        }

    with tracking_disabled():
        Product.objects.bulk_create(
            [
                Product(
                    name=f"p{row}",
                    history=[entry(alice, n) for n in range(10)] + [entry(bob, 10)],
                )
                for row in range(10_000)
            ],
            batch_size=1000,
        )
        Product.objects.bulk_create(
            [Product(name=f"bob {n}", history=[entry(bob, n)]) for n in range(500)]
        )
    table = Product._meta.db_table
    seen = []

    with CaptureQueriesContext(connection) as queries:
        report = erase_user(
            alice,
            batch_size=1000,
            progress=lambda store, target, rows: (
                seen.append(rows) if target == "testapp.Product" else None
            ),
        )

    product = report.counts["history"]["testapp.Product"]
    assert (product.rows, product.entries) == (10_000, 100_000)
    statements = _statements(queries.captured_queries, table)
    updates = [sql for sql in statements if sql.startswith("UPDATE")]
    selects = [sql for sql in statements if sql.startswith("SELECT")]
    # Per batch: one SELECT of at most 1000 primary keys, one UPDATE of that range;
    # then one SELECT that finds nothing left. Stamps: one SELECT each, nothing to do.
    assert len(updates) == 10
    assert all(f"{connection.ops.quote_name(table)}." in sql and " <= " in sql for sql in updates)
    assert len([sql for sql in selects if "LIMIT 1000" in sql]) == 11 + 2
    assert seen == [1000 * n for n in range(1, 11)]
    remaining = Product.objects.filter(name="p9999").get().history
    assert [e["user"] for e in remaining] == [None] * 10 + [bob.pk]
    assert remaining[0] == {
        "action": "update",
        "timestamp": when,
        "changes": {"quantity": [0, 1]},
        "user": None,
        "user_repr": ERASED,
    }
    assert remaining[10] == entry(bob, 10)


@pytest.mark.django_db(transaction=True)
def test_each_batch_commits_on_its_own_so_an_interrupted_erasure_resumes(alice):
    with acting_as(alice):
        for n in range(5):
            Product.objects.create(name=f"p{n}")

    class Stop(Exception):
        pass

    def stop_after_the_first_batch(store, target, rows):
        raise Stop

    with pytest.raises(Stop):
        erase_user(alice, batch_size=2, progress=stop_after_the_first_batch)

    assert Product.objects.modified_by(alice).count() == 5  # stamps not yet reached
    erased = [p.history[0]["user"] is None for p in Product.objects.order_by("pk")]
    assert erased == [True, True, False, False, False]
    report = erase_user(alice, batch_size=2)
    assert report.counts["history"]["testapp.Product"].rows == 3
    assert not Product.objects.modified_by(alice).exists()


@pytest.mark.django_db(databases=["default", "other"])
def test_request_metadata_on_its_own_database_is_erased_there(rf, settings, alice):
    settings.TRACKABLE = {"DATABASE": "other"}
    UserVisit.objects.record(rf.get("/", REMOTE_ADDR=ALICE_IPS[0]), user=alice)
    LoginAttempt.objects.record(rf.post("/"), successful=True, user=alice)

    report = erase_user(alice)

    assert report.rows("visits") == 1
    assert report.rows("devices") == 1
    assert not UserVisit.objects.using("other").exists()
    assert not LoginAttempt.objects.using("other").exists()


def test_the_report_of_nothing_to_erase_is_zero_everywhere(alice):
    report = erase_user(alice)

    assert isinstance(report, ErasureReport)
    assert report.total == 0
    assert list(report.counts) == [store.name for store in registered_stores()]


def test_rows_about_a_person_whose_history_is_in_a_parent_table_are_scrubbed(alice, bob):
    from tests.privacyapp.models import Contact, Customer

    with acting_as(bob):
        mine = Customer.objects.create(user=alice, name="Alice Liddell")
        theirs = Customer.objects.create(user=bob, name="Bob B.")
        plain = Contact.objects.create(name="Alice's plain contact")

    report = erase_user(alice)

    assert report.counts["account history"]["privacyapp.Customer"].rows == 1
    assert Contact.objects.get(pk=mine.pk).history[0]["changes"]["name"] == [None, MASK]
    assert Contact.objects.get(pk=theirs.pk).history[0]["changes"]["name"] == [None, "Bob B."]
    assert Contact.objects.get(pk=plain.pk).history[0]["changes"]["name"][1].startswith("Alice")


def test_a_person_without_username_or_email_is_found_by_primary_key_only(rf, django_user_model):
    nameless = django_user_model.objects.create(username="", email="")
    LoginAttempt.objects.record(rf.post("/"), successful=True, user=nameless)
    LoginAttempt.objects.record(rf.post("/"), successful=False, username="")

    report = erase_user(nameless)

    assert report.rows("login attempts") == 1
    assert list(LoginAttempt.objects.values_list("username", "user")) == [("", None)]


def test_anonymising_survives_referrers_and_addresses_that_do_not_parse(
    rf, settings, alice, on_postgresql
):
    settings.TRACKABLE = {"ERASE_REQUEST_METADATA": "anonymize"}
    UserVisit.objects.record(
        rf.get("/a/alice/?x=1#frag", HTTP_REFERER="http://[::1/broken"), user=alice
    )
    if not on_postgresql:  # SQLite stores whatever text it is given
        UserVisit.objects.update(ip="not an address")

    erase_user(alice)

    visit = UserVisit.objects.get()
    assert (visit.url, visit.referrer, visit.user_id) == ("/a/erased/", "", None)
    assert visit.ip == ("127.0.0.0" if on_postgresql else None)


def test_entries_a_rows_window_moved_to_the_log_are_erased_too(settings, django_user_model):
    settings.TRACKABLE = {"HISTORY_WINDOW": 2}
    carol = django_user_model.objects.create(username="carol", email="carol@example.com")
    with acting_as(carol):
        product = Product.objects.create(name="counter", quantity=0)
        for i in range(1, 6):
            product.quantity = i
            product.save()
    assert AuditLog.objects.for_object(product).exists()  # the window moved entries out

    erase_user(carol)

    row = Product.objects.with_history().get(pk=product.pk)
    everything = row.full_history()
    assert len(everything) == 6
    assert {(e["user"], e["user_repr"]) for e in everything} == {(None, ERASED)}
    assert [e["changes"]["quantity"][1] for e in everything[1:]] == [1, 2, 3, 4, 5]
