"""SoftDeleteAdminMixin: the admin shows, filters, restores and purges soft-deleted rows."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import path

from django_trackable import acting_as
from django_trackable.admin import SoftDeleteAdminMixin
from tests.testapp.models import Author, Product

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

site = admin.AdminSite(name="lifecycle_admin")


@admin.register(Author, site=site)
class AuthorAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    list_display = ("name", "email")
    search_fields = ("name",)


urlpatterns = [path("admin/", site.urls)]

CHANGELIST = "/admin/testapp/author/"


@pytest.fixture
def authors(alice):
    alive = Author.objects.create(name="Alive", email="alive@example.com")
    dead = Author.objects.create(name="Dead", email="dead@example.com")
    with acting_as(alice):
        dead.delete()
    return alive, dead


def listed(response):
    return {obj.name for obj in response.context["cl"].result_list}


def test_the_change_list_shows_alive_rows_by_default(admin_client, authors):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert listed(response) == {"Alive"}
    assert b"Alive" in response.content  # the filter's default choice


def test_the_filter_shows_deleted_or_all_rows(admin_client, authors):
    assert listed(admin_client.get(CHANGELIST, {"deleted": "only"})) == {"Dead"}
    assert listed(admin_client.get(CHANGELIST, {"deleted": "include"})) == {"Alive", "Dead"}


def test_the_deleted_column_shows_only_where_both_kinds_of_row_are_listed(admin_client, authors):
    def columns(response):
        return list(response.context["cl"].list_display)

    assert "deleted" not in columns(admin_client.get(CHANGELIST))
    assert "deleted" not in columns(admin_client.get(CHANGELIST, {"deleted": "only"}))
    assert columns(admin_client.get(CHANGELIST, {"deleted": "include"}))[-1] == "deleted"


def test_a_deleted_rows_page_opens(admin_client, authors):
    _alive, dead = authors
    assert admin_client.get(f"{CHANGELIST}{dead.pk}/change/").status_code == 200


def test_the_delete_action_is_soft(admin_client, authors):
    alive, _dead = authors
    admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [alive.pk], "post": "yes"}
    )

    assert Author.all_objects.get(pk=alive.pk).is_deleted


def test_the_restore_action_restores(admin_client, authors):
    _alive, dead = authors
    response = admin_client.post(
        f"{CHANGELIST}?deleted=only",
        {"action": "restore_selected", "_selected_action": [dead.pk]},
        follow=True,
    )

    assert not Author.objects.get(pk=dead.pk).is_deleted
    assert "Restored 1 row." in [str(m) for m in response.context["messages"]]


def test_superusers_may_delete_permanently(admin_client, authors):
    _alive, dead = authors
    admin_client.post(
        f"{CHANGELIST}?deleted=only",
        {"action": "hard_delete_selected", "_selected_action": [dead.pk]},
    )

    assert not Author.all_objects.filter(pk=dead.pk).exists()


def test_staff_without_superuser_cannot_delete_permanently(client, django_user_model, authors):
    _alive, dead = authors
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_author", "change_author", "delete_author"])
    )
    client.force_login(staff)

    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    names = [name for name, _label in actions]
    assert "restore_selected" in names
    assert "hard_delete_selected" not in names
    client.post(CHANGELIST, {"action": "hard_delete_selected", "_selected_action": [dead.pk]})
    assert Author.all_objects.filter(pk=dead.pk).exists()


def test_a_clash_with_a_deleted_row_is_a_form_error_not_a_crash(admin_client, authors):
    response = admin_client.post(
        f"{CHANGELIST}add/", {"name": "Again", "email": "dead@example.com"}
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert Author.all_objects.filter(email="dead@example.com").count() == 1


def test_the_old_import_path_still_works():
    from django_trackable import admin_mixins

    assert admin_mixins.SoftDeleteAdminMixin is SoftDeleteAdminMixin


def test_a_deleted_rows_form_says_when_and_by_whom_with_a_restore_button(admin_client, authors):
    _alive, dead = authors

    response = admin_client.get(f"{CHANGELIST}{dead.pk}/change/")

    html = response.content.decode()
    assert 'id="trackable-deleted-banner"' in html
    assert "This author was deleted on" in html and "by alice" in html
    assert f'action="{CHANGELIST}{dead.pk}/restore/"' in html


def test_an_alive_rows_form_has_no_banner(admin_client, authors):
    alive, _dead = authors

    response = admin_client.get(f"{CHANGELIST}{alive.pk}/change/")

    assert b"trackable-deleted-banner" not in response.content


def test_the_restore_button_restores_the_row(admin_client, authors):
    _alive, dead = authors

    response = admin_client.post(f"{CHANGELIST}{dead.pk}/restore/", follow=True)

    assert not Author.objects.get(pk=dead.pk).is_deleted
    assert response.redirect_chain[-1][0] == f"{CHANGELIST}{dead.pk}/change/"
    assert "Restored Dead." in [str(m) for m in response.context["messages"]]
    assert b"trackable-deleted-banner" not in response.content


def test_restoring_an_alive_row_changes_nothing(admin_client, authors):
    alive, _dead = authors

    response = admin_client.post(f"{CHANGELIST}{alive.pk}/restore/", follow=True)

    assert "Alive is not deleted." in [str(m) for m in response.context["messages"]]


def test_restore_is_post_only(admin_client, authors):
    _alive, dead = authors

    assert admin_client.get(f"{CHANGELIST}{dead.pk}/restore/").status_code == 405
    assert Author.all_objects.get(pk=dead.pk).is_deleted


def test_restore_needs_the_change_permission(client, staff_with, authors):
    _alive, dead = authors
    client.force_login(staff_with("view_author"))

    page = client.get(f"{CHANGELIST}{dead.pk}/change/")
    response = client.post(f"{CHANGELIST}{dead.pk}/restore/")

    assert b"trackable-deleted-banner" in page.content
    assert b"/restore/" not in page.content  # no button
    assert response.status_code == 403
    assert Author.all_objects.get(pk=dead.pk).is_deleted


def test_restore_refuses_a_post_without_the_csrf_token(admin_user, authors):
    _alive, dead = authors
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(f"{CHANGELIST}{dead.pk}/restore/").status_code == 403
    assert Author.all_objects.get(pk=dead.pk).is_deleted


def test_restoring_a_missing_row_redirects(admin_client):
    assert admin_client.post(f"{CHANGELIST}987654/restore/").status_code == 302


def test_the_delete_confirmation_says_the_row_can_be_restored(admin_client, authors):
    alive, _dead = authors

    one = admin_client.get(f"{CHANGELIST}{alive.pk}/delete/")
    several = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [alive.pk]}
    )

    for response in (one, several):
        assert b'id="trackable-restorable"' in response.content
        assert b"can be restored" in response.content


def test_the_total_counts_alive_rows_only(admin_client, authors):
    Author.objects.create(name="Another", email="another@example.com")

    response = admin_client.get(CHANGELIST, {"q": "Alive"})

    cl = response.context["cl"]
    assert (cl.result_count, cl.full_result_count) == (1, 2)
    assert b"2 total" in response.content


def test_the_total_stays_the_alive_count_under_the_deleted_filter(admin_client, authors):
    deleted = admin_client.get(CHANGELIST, {"q": "D", "deleted": "only"})

    assert deleted.context["cl"].full_result_count == 1
    assert [a.name for a in deleted.context["cl"].result_list] == ["Dead"]


def test_check_e051_the_mixin_needs_a_soft_deletable_model():
    class NotSoftAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
        pass

    errors = NotSoftAdmin(Product, admin.AdminSite()).check()

    assert [e.id for e in errors] == ["django_trackable.E051"]
