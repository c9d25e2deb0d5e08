"""TrackableAdminMixin: stamps, the History page, "as of" and revert, filters, permissions."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.http import urlencode

from django_trackable import acting_as
from django_trackable.admin import ChangedByFilter, ChangedSinceFilter, TrackableAdminMixin
from django_trackable.checks import check_admin_classes
from django_trackable.history import to_datetime
from tests.adminapp.models import Issue, State
from tests.adminapp.site import IssueAdmin, ProductAdmin, site
from tests.testapp.models import Category, Note, Product

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.adminapp.urls")]

T0 = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.timezone.utc)
PRODUCTS = "/admin/testapp/product/"
ISSUES = "/admin/adminapp/issue/"
SECRET = "sk-live-very-secret"


def at(hours):
    return time_machine.travel(T0 + datetime.timedelta(hours=hours), tick=False)


@pytest.fixture
def product(alice, bob):
    """Created by alice at T0, edited by bob at T0+1h and alice at T0+2h."""
    tools = Category.objects.create(name="Tools")
    toys = Category.objects.create(name="Toys")
    with acting_as(alice), at(0):
        product = Product.objects.create(
            name="Lamp", price=Decimal("24.90"), category=tools, api_key=SECRET
        )
    with acting_as(bob), at(1):
        product.price = Decimal("19.90")
        product.category = toys
        product.api_key = SECRET + "-2"
        product.save()
    with acting_as(alice), at(2):
        product.name = "Desk lamp"
        product.save()
    return Product.objects.get(pk=product.pk)


def history_url(obj, model="testapp/product"):
    return f"/admin/{model}/{obj.pk}/history/"


def moment_of(entry):
    return urlencode({"at": entry["timestamp"]})


def entries_on(response):
    return [row.entry for row in response.context["rows"]]


# -- the change form and the change list ---------------------------------------------


def test_stamps_are_read_only_in_a_collapsed_tracking_fieldset(admin_client, product):
    response = admin_client.get(f"{PRODUCTS}{product.pk}/change/")

    fieldsets = response.context["adminform"].fieldsets
    assert fieldsets[-1] == (
        "Tracking",
        {
            "fields": ["created_at", "created_by", "updated_at", "updated_by"],
            "classes": ("collapse",),
        },
    )
    assert all("created_at" not in options["fields"] for _name, options in fieldsets[:-1])
    form_fields = response.context["adminform"].form.fields
    assert not {"created_at", "created_by", "updated_at", "updated_by"} & set(form_fields)
    assert b"alice" in response.content  # created_by, read-only


def test_the_add_form_has_no_tracking_fieldset(admin_client):
    response = admin_client.get(f"{PRODUCTS}add/")

    names = [name for name, _options in response.context["adminform"].fieldsets]
    assert "Tracking" not in names
    assert response.status_code == 200


def test_stamps_placed_by_the_admin_stay_where_it_put_them(rf, admin_user, product):
    class PlacedAdmin(TrackableAdminMixin, admin.ModelAdmin):
        fields = ("name", "updated_by")

    model_admin = PlacedAdmin(Product, admin.AdminSite())
    request = rf.get("/")
    request.user = admin_user

    fieldsets = model_admin.get_fieldsets(request, product)

    assert fieldsets[0][1]["fields"] == ["name", "updated_by"]
    assert fieldsets[1][1]["fields"] == ["created_at", "created_by", "updated_at"]
    assert "updated_by" in model_admin.get_readonly_fields(request, product)


class _LinesAdmin(admin.ModelAdmin):
    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": ["name", ("price", "created_at"), ("updated_at", "updated_by")]})]


def test_stamps_are_taken_off_lines_of_several_fields(rf, admin_user, product):
    class LinedAdmin(TrackableAdminMixin, _LinesAdmin):
        pass

    request = rf.get("/")
    request.user = admin_user

    fieldsets = LinedAdmin(Product, admin.AdminSite()).get_fieldsets(request, product)

    assert fieldsets[0][1]["fields"] == ["name", "price"]
    assert fieldsets[1][0] == "Tracking"


def test_saving_the_change_form_records_an_entry(admin_client, admin_user, product):
    response = admin_client.post(
        f"{PRODUCTS}{product.pk}/change/",
        {"name": "Floor lamp", "price": "19.90", "quantity": "0", "api_key": SECRET, "notes": ""},
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.history[-1]["changes"]["name"] == ["Desk lamp", "Floor lamp"]
    assert product.history[-1]["user"] == admin_user.pk


def test_the_change_list_never_loads_history(admin_client, product):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(PRODUCTS)

    assert response.status_code == 200
    product_selects = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and "testapp_product" in q["sql"]
    ]
    assert product_selects
    assert not any(re.search(r'"testapp_product"\."history"', sql) for sql in product_selects)


def test_the_change_list_has_the_changed_filters(admin_client, product):
    response = admin_client.get(PRODUCTS)

    specs = {type(spec) for spec in response.context["cl"].filter_specs}
    assert {ChangedSinceFilter, ChangedByFilter} <= specs


def test_changed_since_filters_by_updated_at(admin_client, product):
    with acting_as(None), at(24 * 3):
        Product.objects.create(name="Fresh")

    with at(24 * 3 + 0.5):
        last_hour = admin_client.get(PRODUCTS, {"changed_since": "1h"})
        week = admin_client.get(PRODUCTS, {"changed_since": "7d"})
        today = admin_client.get(PRODUCTS, {"changed_since": "today"})
        month = admin_client.get(PRODUCTS, {"changed_since": "30d"})

    def names(response):
        return {p.name for p in response.context["cl"].result_list}

    assert names(last_hour) == {"Fresh"}
    assert names(today) == {"Fresh"}
    assert names(week) == names(month) == {"Fresh", "Desk lamp"}


def test_changed_by_filters_with_modified_by(admin_client, alice, bob, product):
    with acting_as(alice):
        Product.objects.create(name="Alice's own")

    response = admin_client.get(PRODUCTS, {"changed_by": bob.pk})

    assert [p.name for p in response.context["cl"].result_list] == ["Desk lamp"]
    choices = [
        c["display"]
        for c in response.context["cl"].filter_specs[-1].choices(response.context["cl"])
    ]
    assert {"alice"} <= set(choices)


@pytest.mark.parametrize(
    "query", [{"changed_since": "forever"}, {"changed_by": "not-a-pk"}, {"changed_by": "1;--"}]
)
def test_hostile_filter_values_are_refused_not_an_error(admin_client, product, query):
    response = admin_client.get(PRODUCTS, query)

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_the_changed_filters_can_be_left_out(rf, admin_user):
    class QuietAdmin(TrackableAdminMixin, admin.ModelAdmin):
        changed_list_filters = False
        list_filter = ("category",)

    request = rf.get("/")
    request.user = admin_user

    assert QuietAdmin(Product, admin.AdminSite()).get_list_filter(request) == ["category"]


# -- the History page ------------------------------------------------------------------


def test_the_history_page_shows_the_entries_newest_first(admin_client, product):
    response = admin_client.get(history_url(product))

    assert response.status_code == 200
    assert [e.action for e in entries_on(response)] == ["update", "update", "create"]
    assert [e.user_repr for e in entries_on(response)] == ["alice", "bob", "alice"]
    assert b"3 entries" in response.content


def test_the_history_page_shows_a_readable_diff(admin_client, product):
    with at(5):
        response = admin_client.get(history_url(product))
    html = response.content.decode()

    bobs = entries_on(response)[1]
    shown = {c.name: (c.label, c.old, c.new, c.hidden) for c in bobs.changes}
    assert shown["price"] == ("Price", "24.90", "19.90", False)
    assert shown["category"] == ("Category", "Tools", "Toys", False)
    assert shown["api_key"][3] is True
    assert "changed (hidden)" in html
    assert "4\xa0hours ago" in html
    assert "Changed" in html and "Created" in html


def test_the_acting_user_links_to_their_admin_page(admin_client, alice, product):
    response = admin_client.get(history_url(product))

    assert f'href="/admin/auth/user/{alice.pk}/change/"' in response.content.decode()


def test_users_are_not_linked_for_a_viewer_who_may_not_see_them(client, staff_with, alice, product):
    client.force_login(staff_with("view_product"))

    response = client.get(history_url(product))

    assert response.status_code == 200
    assert "/admin/auth/user/" not in response.content.decode()
    assert "alice" in response.content.decode()


def test_the_history_page_filters_by_user_and_action(admin_client, alice, bob, product):
    by_bob = admin_client.get(history_url(product), {"user": bob.pk})
    creates = admin_client.get(history_url(product), {"action": "create"})
    alices_updates = admin_client.get(history_url(product), {"user": alice.pk, "action": "update"})

    assert [e.user_repr for e in entries_on(by_bob)] == ["bob"]
    assert [e.action for e in entries_on(creates)] == ["create"]
    assert [(e.user_repr, e.action) for e in entries_on(alices_updates)] == [("alice", "update")]
    assert b"1 matching entry" in by_bob.content
    choices = dict(by_bob.context["user_choices"])
    assert choices == {str(alice.pk): "alice", str(bob.pk): "bob"}


def test_entries_without_a_user_can_be_filtered(admin_client, product):
    product.name = "By a script"
    product.save()

    response = admin_client.get(history_url(product), {"user": "none"})

    assert [e.user_repr for e in entries_on(response)] == [""]
    assert b"by nobody" in response.content


def test_the_history_page_is_paginated(admin_client, product):
    for n in range(7):
        product.quantity = n + 1
        product.save()

    site._registry[Product].history_per_page = 4
    try:
        first = admin_client.get(history_url(product))
        last = admin_client.get(history_url(product), {"p": 3})
    finally:
        site._registry[Product].history_per_page = ProductAdmin.history_per_page

    assert len(entries_on(first)) == 4
    assert [e.action for e in entries_on(last)] == ["update", "create"]
    assert "?p=2" in first.content.decode()


def test_a_page_of_100_entries_costs_a_bounded_number_of_queries(
    admin_client, django_assert_num_queries, django_user_model, alice, bob
):
    categories = [Category.objects.create(name=f"Category {n}") for n in range(101)]
    users = [alice, bob, *(django_user_model.objects.create_user(f"u{n}") for n in range(5))]
    issue = Issue.objects.create(title="Busy")
    for n in range(100):
        with acting_as(users[n % len(users)]):
            issue.category = categories[n + 1]
            issue.assignee = users[(n + 1) % len(users)]
            issue.state = State.CLOSED if n % 2 else State.OPEN
            issue.save()
    site._registry[Issue].history_per_page = 100

    try:
        # session, user, the issue, its history, its older entries (in the log: past
        # its window), the categories, the assignees (named in the diffs), the acting
        # users (for their links).
        with django_assert_num_queries(8):
            response = admin_client.get(history_url(issue, "adminapp/issue"))
    finally:
        site._registry[Issue].history_per_page = IssueAdmin.history_per_page

    rows = response.context["rows"]
    assert len(rows) == 100
    newest = {c.name: c.new for c in rows[0].entry.changes}
    assert newest["category"] == "Category 100"
    assert newest["assignee"] in {str(u) for u in users}


def test_an_object_without_entries_says_so(admin_client):
    with acting_as(None):
        Product.objects.bulk_create([Product(name="Quiet")])
    quiet = Product.objects.get()
    Product._base_manager.filter(pk=quiet.pk).update(history=[])  # untracked: as if imported

    response = admin_client.get(history_url(quiet))

    assert b"no history entries yet" in response.content


def test_the_history_page_of_a_missing_object_redirects(admin_client):
    response = admin_client.get("/admin/testapp/product/987654/history/")

    assert response.status_code == 302


def test_the_history_page_needs_the_view_permission(client, staff_with, product):
    client.force_login(staff_with("view_category"))

    assert client.get(history_url(product)).status_code == 403


def test_view_permission_is_enough_for_the_history_page(client, staff_with, product):
    client.force_login(staff_with("view_product"))

    response = client.get(history_url(product))

    assert response.status_code == 200
    assert all(row.revert_url is None for row in response.context["rows"])
    assert b"Revert to this version" not in response.content


def test_reverted_entries_name_the_moment(admin_client, product):
    with at(3):
        product.revert_to(T0 + datetime.timedelta(minutes=30))

    response = admin_client.get(history_url(product))

    newest = entries_on(response)[0]
    assert newest.action == "revert"
    assert newest.reverted_to == T0 + datetime.timedelta(minutes=30)
    assert b"to the version of" in response.content


# -- "as of" ---------------------------------------------------------------------------


def test_as_of_shows_the_tracked_values_of_that_moment(admin_client, product):
    first = product.history[0]

    response = admin_client.get(f"{history_url(product)}as-of/?{moment_of(first)}")

    assert response.status_code == 200
    values = {
        change.name: (change.new, changed)
        for _name, rows in response.context["fieldsets"]
        for change, changed in rows
    }
    assert values["name"] == ("Lamp", True)
    assert values["price"] == ("24.90", True)
    assert values["category"] == ("Tools", True)
    assert values["quantity"] == ("0", False)
    assert "api_key" in values  # shown as hidden
    assert SECRET not in response.content.decode()
    assert response.context["revert_url"].endswith(moment_of(first))


def test_as_of_before_the_row_existed_says_so(admin_client, product):
    response = admin_client.get(
        f"{history_url(product)}as-of/?{urlencode({'at': '2020-01-01T00:00:00+00:00'})}",
        follow=True,
    )

    assert "did not exist yet" in [str(m) for m in response.context["messages"]][0]


def test_as_of_beyond_a_trimmed_history_says_so(admin_client, settings, product):
    Product._base_manager.filter(pk=product.pk).update(history=product.history[-1:])

    response = admin_client.get(
        f"{history_url(product)}as-of/?{moment_of(product.history[0])}", follow=True
    )

    assert "does not reach back" in [str(m) for m in response.context["messages"]][0]


@pytest.mark.parametrize("value", ["", "yesterday", "2026-13-45T99:00", "\x00" * 3, "9" * 400])
def test_a_hostile_moment_is_refused_with_a_message(admin_client, product, value):
    response = admin_client.get(f"{history_url(product)}as-of/", {"at": value}, follow=True)

    assert response.status_code == 200
    assert "is not a moment in time" in [str(m) for m in response.context["messages"]][0]


def test_as_of_needs_the_view_permission(client, staff_with, product):
    client.force_login(staff_with("view_category"))

    url = f"{history_url(product)}as-of/?{moment_of(product.history[0])}"
    assert client.get(url).status_code == 403


# -- revert ----------------------------------------------------------------------------


def test_revert_asks_for_confirmation_showing_what_changes(admin_client, product):
    first = product.history[0]

    response = admin_client.get(f"{history_url(product)}revert/?{moment_of(first)}")

    assert response.status_code == 200
    changes = {c.name: (c.old, c.new) for c in response.context["changes"]}
    assert changes == {
        "name": ("Desk lamp", "Lamp"),
        "price": ("19.90", "24.90"),
        "category": ("Toys", "Tools"),
    }
    assert "Api key" in [str(name).capitalize() for name in response.context["masked"]]
    assert Product.objects.get(pk=product.pk).name == "Desk lamp"  # nothing written yet
    assert SECRET not in response.content.decode()


def test_posting_the_confirmation_reverts_and_records_a_revert_entry(
    admin_client, admin_user, product
):
    first = product.history[0]

    with at(4):
        response = admin_client.post(
            f"{history_url(product)}revert/?{moment_of(first)}", follow=True
        )

    product = Product.objects.get(pk=product.pk)
    assert (product.name, product.price, product.category.name) == (
        "Lamp",
        Decimal("24.90"),
        "Tools",
    )
    assert product.api_key == SECRET + "-2"  # masked: left as it is
    entry = product.history[-1]
    assert entry["action"] == "revert"
    assert entry["user"] == admin_user.pk
    assert to_datetime(entry["reverted_to"]) == to_datetime(first["timestamp"])
    assert response.redirect_chain[-1][0] == history_url(product)
    assert "Reverted to the version of" in [str(m) for m in response.context["messages"]][0]
    assert entries_on(response)[0].action == "revert"


def test_reverting_to_the_current_version_writes_nothing(admin_client, product):
    newest = product.history[-1]

    response = admin_client.post(f"{history_url(product)}revert/?{moment_of(newest)}", follow=True)

    assert len(Product.objects.get(pk=product.pk).history) == 3
    assert "Nothing to revert" in [str(m) for m in response.context["messages"]][0]


def test_revert_needs_the_change_permission(client, staff_with, product):
    client.force_login(staff_with("view_product"))
    url = f"{history_url(product)}revert/?{moment_of(product.history[0])}"

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Product.objects.get(pk=product.pk).name == "Desk lamp"


def test_staff_with_the_change_permission_may_revert(client, staff_with, product):
    client.force_login(staff_with("view_product", "change_product"))
    url = f"{history_url(product)}revert/?{moment_of(product.history[0])}"

    assert client.post(url).status_code == 302
    assert Product.objects.get(pk=product.pk).name == "Lamp"


def test_revert_refuses_a_post_without_the_csrf_token(admin_user, product):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(f"{history_url(product)}revert/?{moment_of(product.history[0])}")

    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).name == "Desk lamp"


def test_revert_with_the_csrf_token_from_the_confirmation_page_works(admin_user, product):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    url = f"{history_url(product)}revert/?{moment_of(product.history[0])}"
    page = client.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]

    response = client.post(url, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).name == "Lamp"


def test_the_revert_is_logged_in_the_admin_log(admin_client, product):
    from django.contrib.admin.models import LogEntry

    admin_client.post(f"{history_url(product)}revert/?{moment_of(product.history[0])}")

    assert "Reverted to the version of" in LogEntry.objects.get().get_change_message()


# -- masked values never reach a page -------------------------------------------------


def test_masked_values_are_never_rendered(admin_client, product):
    product_pages = [
        f"{PRODUCTS}",
        history_url(product),
        f"{history_url(product)}as-of/?{moment_of(product.history[0])}",
        f"{history_url(product)}as-of/?{moment_of(product.history[1])}",
        f"{history_url(product)}revert/?{moment_of(product.history[0])}",
    ]

    for url in product_pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url


def test_masked_values_that_leaked_into_old_entries_are_not_rendered(admin_client, product):
    leaked = [*product.history, {**product.history[-1], "changes": {"api_key": ["a", SECRET]}}]
    Product._base_manager.filter(pk=product.pk).update(history=leaked)

    response = admin_client.get(history_url(product))

    assert SECRET not in response.content.decode()


# -- checks ------------------------------------------------------------------------------


def test_check_e050_the_mixin_needs_a_model_with_history():
    class NoteAdmin(TrackableAdminMixin, admin.ModelAdmin):
        pass

    errors = NoteAdmin(Note, admin.AdminSite()).check()

    assert [e.id for e in errors] == ["django_trackable.E050"]


def test_check_e053_the_mixin_must_come_before_model_admin():
    class BackwardsAdmin(admin.ModelAdmin, TrackableAdminMixin):
        pass

    backwards_site = admin.AdminSite(name="backwards")
    backwards_site.register(Product, BackwardsAdmin)

    errors = [e for e in check_admin_classes() if e.obj is BackwardsAdmin]

    assert [e.id for e in errors] == ["django_trackable.E053"]


def test_manage_py_check_fails_on_e053(capsys):
    class BackwardsAdmin(admin.ModelAdmin, TrackableAdminMixin):
        pass

    backwards_site = admin.AdminSite(name="backwards")
    backwards_site.register(Product, BackwardsAdmin)

    with pytest.raises(SystemCheckError, match="django_trackable.E053"):
        call_command("check", tags=["admin"])


def test_a_well_formed_admin_passes_the_checks():
    assert ProductAdmin(Product, admin.AdminSite()).check() == []


def test_an_entry_of_the_last_minute_reads_just_now(admin_client, product):
    product.name = "Now"
    product.save()

    response = admin_client.get(history_url(product))

    assert [row.ago for row in response.context["rows"]][0] == "just now"
