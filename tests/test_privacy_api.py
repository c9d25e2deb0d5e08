"""The privacy API around erasure: stores, the command, settings checks, masked extras."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError

from django_trackable import acting_as, checks
from django_trackable.history import MASK
from django_trackable.models import UserVisit
from django_trackable.privacy import (
    Person,
    Store,
    StoreCount,
    erase_user,
    register_store,
    registered_stores,
    unregister_store,
)
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db


# --- stores -------------------------------------------------------------------


class Orders(Store):
    """A site's own data, kept in a list: what a real store does with a table."""

    name = "orders"

    def __init__(self):
        self.rows = []
        self.calls = []

    def _mine(self, person):
        return [row for row in self.rows if row["customer"] == person.pk]

    def count(self, person, *, batch_size=1000):
        self.calls.append("count")
        return [StoreCount("shop.Order", len(self._mine(person)))]

    def erase(self, person, *, batch_size=1000, progress=None):
        self.calls.append("erase")
        mine = self._mine(person)
        self.rows = [row for row in self.rows if row not in mine]
        if progress is not None:
            progress(self.name, "shop.Order", len(mine))
        return [StoreCount("shop.Order", len(mine))]


@pytest.fixture
def orders():
    store = register_store(Orders())
    yield store
    unregister_store(store.name)


def test_a_registered_store_is_counted_on_a_dry_run_and_erased_after_the_built_in_ones(
    orders, alice, bob
):
    orders.rows = [{"customer": alice.pk}, {"customer": alice.pk}, {"customer": bob.pk}]
    seen = []

    dry = erase_user(alice, dry_run=True)
    real = erase_user(alice, progress=lambda *args: seen.append(args))

    assert orders.calls == ["count", "erase"]
    assert dry.rows("orders") == real.rows("orders") == 2
    assert orders.rows == [{"customer": bob.pk}]
    assert list(real.counts)[-1] == "orders"
    assert ("orders", "shop.Order", 2) in seen
    assert erase_user(alice).rows("orders") == 0


def test_stores_are_registered_in_order_once_and_names_are_unique(orders):
    names = [store.name for store in registered_stores()]
    assert names[:8] == [
        "history",
        "account history",
        "stamps",
        "audit log",
        "visits",
        "login attempts",
        "devices",
        "records",
    ]
    assert names[-1] == "orders"
    assert register_store(orders) is orders  # the same store again: harmless
    assert [s.name for s in registered_stores()].count("orders") == 1
    with pytest.raises(ValueError, match="already registered"):
        register_store(Orders())


def test_a_store_needs_a_name():
    class Nameless(Orders):
        name = ""

    with pytest.raises(ValueError, match="no name"):
        register_store(Nameless())


def test_a_store_that_exports_nothing_adds_no_section(orders, alice):
    from django_trackable.privacy import export_user

    assert "orders" not in export_user(alice)


def test_a_person_is_who_the_stores_look_for(django_user_model):
    user = django_user_model.objects.create_user("Dana", email="DANA@example.com")
    person = Person.of(user)

    assert (person.pk, person.username, person.email, person.label) == (
        user.pk,
        "Dana",
        "DANA@example.com",
        "Dana",
    )
    assert person.identifiers == ("Dana", "DANA@example.com")
    same = django_user_model.objects.create_user("eve@example.com", email="EVE@example.com")
    assert Person.of(same).identifiers == ("eve@example.com",)  # no repeats, any case
    assert Person.of(django_user_model.objects.create_user("fay")).identifiers == ("fay",)


# --- the erase command ---------------------------------------------------------------


def erase(*args, **kwargs):
    out = StringIO()
    call_command("trackable_erase_user", *args, stdout=out, **kwargs)
    return out.getvalue()


def test_the_command_erases_the_person_named_by_username_or_primary_key(alice, bob, rf):
    with acting_as(alice):
        Product.objects.create(name="by alice")
    with acting_as(bob):
        Product.objects.create(name="by bob")

    dry = erase("alice", "--dry-run")
    output = erase(str(alice.pk))

    assert "history: testapp.Product: 1 rows, 1 entries" in dry
    assert f"User {alice.pk}: would change 3 rows, 1 entries." in dry
    assert "stamps: testapp.Product.created_by: 1 rows" in output
    assert f"User {alice.pk}: changed 3 rows, 1 entries." in output
    assert Product.objects.modified_by(bob).count() == 1
    assert f"User {bob.pk}: would change 3 rows, 1 entries." in erase("bob", "--dry-run")
    assert f"User {alice.pk}: changed 0 rows, 0 entries." in erase("alice")


def test_the_command_shows_progress_per_batch_unless_quiet(alice, bob):
    with acting_as(alice):
        for n in range(3):
            Product.objects.create(name=f"p{n}")

    output = erase("alice", "--batch-size", "2")

    assert "history: testapp.Product: 2 rows so far\nhistory: testapp.Product: 3 rows so far" in (
        output
    )
    assert "so far" not in erase("bob", verbosity=0)
    assert "so far" not in erase("alice", "--dry-run")


def test_an_unknown_person_is_an_error():
    with pytest.raises(CommandError, match="No user has the username or primary key 'nobody'"):
        erase("nobody")


def test_a_username_that_is_another_users_primary_key_is_an_error_not_a_guess(
    django_user_model,
):
    first = django_user_model.objects.create_user("first")
    second = django_user_model.objects.create_user(str(first.pk))  # a username that looks like a pk

    with pytest.raises(CommandError, match="primary key"):
        erase(str(first.pk))

    erase("first", "--dry-run")
    assert second.pk != first.pk


def test_a_username_that_is_its_own_users_primary_key_is_that_user(django_user_model):
    user = django_user_model.objects.create_user("placeholder")
    user.username = str(user.pk)
    user.save()

    assert f"User {user.pk}: would change" in erase(str(user.pk), "--dry-run")


def test_the_command_refuses_a_batch_size_below_one(alice):
    with pytest.raises(CommandError, match="batch-size"):
        erase("alice", "--batch-size", "0")


# --- settings and checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ERASE_REQUEST_METADATA", "keep"),
        ("ERASE_REQUEST_METADATA", None),
        ("AUDIT_RETENTION", 365),
        ("HISTORY_RETENTION", "2y"),
        ("ERASE_RECORDS", "keep"),
        ("RECORD_RETENTION", 30),
    ],
)
def test_privacy_settings_of_the_wrong_type_are_errors(settings, key, value):
    settings.TRACKABLE = {key: value}
    assert [m.id for m in checks.check_settings()] == ["django_trackable.E003"]


def test_the_default_privacy_settings_delete_and_keep(settings):
    from django_trackable.conf import trackable_settings

    assert trackable_settings.ERASE_REQUEST_METADATA == "delete"
    assert trackable_settings.AUDIT_RETENTION is None
    assert trackable_settings.HISTORY_RETENTION is None
    assert trackable_settings.ERASE_RECORDS == "delete"
    assert trackable_settings.RECORD_RETENTION is None
    assert checks.check_person_models() == []


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("privacyapp.Member", "nope"),
        ("privacyapp.Member", "email"),
        ("privacyapp.Member", "history"),
        ("privacyapp.Member", 3),
        ("testapp.Post", "author"),
    ],
    ids=repr,
)
def test_track_person_must_name_a_link_to_the_user_model(monkeypatch, model, name):
    from django.apps import apps

    model = apps.get_model(model)
    monkeypatch.setattr(model, "track_person", name, raising=False)

    errors = checks.check_person_models()

    assert [(e.id, e.obj) for e in errors] == [("django_trackable.E080", model)]


def test_track_person_may_name_a_foreign_key_or_one_to_one_to_the_user():
    from tests.privacyapp.models import Address, Member

    assert (Member.track_person, Address.track_person) == ("user", "owner")
    assert checks.check_person_models() == []


def test_check_person_models_only_looks_at_the_apps_it_is_given(monkeypatch):
    from django.apps import apps

    class Broken:
        track_person = "nope"

        class _meta:  # noqa: N801 - the shape of a model's _meta
            app_label = "elsewhere"

    monkeypatch.setattr(checks.apps, "get_models", lambda: [Broken])
    assert checks.check_person_models([apps.get_app_config("privacyapp")]) == []


# Django 6.1's JSONField check asks every database the model may migrate to.
@pytest.mark.django_db(databases=["default", "other"])
def test_manage_py_check_fails_on_a_bad_track_person(monkeypatch):
    from tests.privacyapp.models import Member

    monkeypatch.setattr(Member, "track_person", "email")
    with pytest.raises(SystemCheckError, match="django_trackable.E080"):
        call_command("check")


# --- masked acting_as() extras ------------------------------------------------------------


def test_extras_named_like_masked_fields_are_stored_masked(alice):
    with acting_as(alice, api_token="t-1", reason="import", session_secret="s"):
        product = Product.objects.create(name="p")
        product.price = 2
        product.save()

    create, update = Product.objects.get().history
    for entry in (create, update):
        assert (entry["api_token"], entry["session_secret"], entry["reason"]) == (
            MASK,
            MASK,
            "import",
        )


def test_nested_extras_are_masked_and_inherited(alice):
    with acting_as(alice, request_token="outer"), acting_as(alice, cvv_code="123", step=2):
        Product.objects.create(name="p")

    (entry,) = Product.objects.get().history
    assert (entry["request_token"], entry["cvv_code"], entry["step"]) == (MASK, MASK, 2)


def test_extras_follow_the_masked_fields_setting(settings, alice):
    settings.TRACKABLE = {"MASKED_FIELDS": []}
    with acting_as(alice, api_token="visible"):
        Product.objects.create(name="p")

    assert Product.objects.get().history[0]["api_token"] == "visible"


def test_bulk_writes_mask_extras_too(alice):
    with acting_as(alice, access_key="k"):
        Product.objects.bulk_create([Product(name="a"), Product(name="b")])
        Product.objects.update(quantity=3)

    for product in Product.objects.all():
        assert [entry["access_key"] for entry in product.history] == [MASK, MASK]


def test_visit_urls_use_the_same_name_rule_as_fields(rf, alice):
    UserVisit.objects.record(rf.get("/?refresh_token=abc&page=1&tokenizer=x"), user=alice)

    assert UserVisit.objects.get().url == f"/?refresh_token={MASK}&page=1&tokenizer=x"


def test_a_database_without_json_sql_is_refused_with_the_check_to_read(monkeypatch, alice):
    from django.db import NotSupportedError, connections

    monkeypatch.setattr(type(connections["default"]), "vendor", "mysql")

    with pytest.raises(NotSupportedError, match="E005"):
        erase_user(alice)
