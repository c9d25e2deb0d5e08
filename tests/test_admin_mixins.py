"""SoftDeleteAdminMixin: the admin shows, filters, restores and purges soft-deleted rows."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import path

from django_trackable.admin_mixins import SoftDeleteAdminMixin
from tests.testapp.models import Author

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

site = admin.AdminSite(name="lifecycle_admin")


@admin.register(Author, site=site)
class AuthorAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    list_display = ("name", "email")


urlpatterns = [path("admin/", site.urls)]

CHANGELIST = "/admin/testapp/author/"


@pytest.fixture
def authors():
    alive = Author.objects.create(name="Alive", email="alive@example.com")
    dead = Author.objects.create(name="Dead", email="dead@example.com")
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
