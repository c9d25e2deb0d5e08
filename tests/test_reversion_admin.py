"""reversion's VersionAdmin and our admin mixins on one admin class."""

from __future__ import annotations

import pytest
from reversion.models import Version

from tests.integrationsapp.models import Note

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("staff", password="pw")


@pytest.fixture
def client_as_staff(client, staff):
    client.force_login(staff)
    return client


def test_the_change_form_saves_one_revision_and_one_entry_by_the_staff_user(client_as_staff, staff):
    note = Note.objects.create(text="draft")

    response = client_as_staff.post(
        f"/admin/integrationsapp/note/{note.pk}/change/", {"text": "final"}
    )

    assert response.status_code == 302, response.content
    note.refresh_from_db()
    versions = Version.objects.get_for_object(note)
    assert versions.count() == 1
    assert versions.first().revision.user == staff
    assert note.history[-1]["user"] == staff.pk
    assert note.version == 2


def test_reversions_history_and_revert_pages_work_and_the_revert_is_recorded(
    client_as_staff, staff
):
    response = client_as_staff.post("/admin/integrationsapp/note/add/", {"text": "one"})
    assert response.status_code == 302
    note = Note.objects.get()
    client_as_staff.post(f"/admin/integrationsapp/note/{note.pk}/change/", {"text": "two"})
    first = Version.objects.get_for_object(note).last()

    revert_url = f"/admin/integrationsapp/note/{note.pk}/history/{first.pk}/"
    history = client_as_staff.get(f"/admin/integrationsapp/note/{note.pk}/history/")
    assert history.status_code == 200
    assert revert_url.encode() in history.content  # reversion's list of versions
    assert client_as_staff.get(revert_url).status_code == 200
    response = client_as_staff.post(revert_url, {"text": "one"})

    assert response.status_code == 302, response.content
    note.refresh_from_db()
    assert note.text == "one"
    assert [e["action"] for e in note.history] == ["create", "update", "revert"]
    assert note.history[-1]["changes"] == {"text": ["two", "one"]}
    assert note.history[-1]["user"] == staff.pk
    assert note.history[-1]["reverted_to"] == first.revision.date_created.isoformat()
    assert note.version == 3


def test_the_delete_button_soft_deletes_and_the_filter_shows_the_row(client_as_staff):
    note = Note.objects.create(text="x")

    response = client_as_staff.post(
        f"/admin/integrationsapp/note/{note.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert Note.deleted_objects.filter(pk=note.pk).exists()
    listing = client_as_staff.get("/admin/integrationsapp/note/?deleted=only")
    assert listing.status_code == 200
    assert b"x" in listing.content


def test_a_version_admin_without_tracked_reverts_is_warned_about():
    from django.contrib.admin import AdminSite
    from reversion.admin import VersionAdmin

    from django_trackable.integrations.reversion import check_version_admins
    from tests.integrationsapp.models import Article

    site = AdminSite(name="w060")
    site.register(Article, VersionAdmin)
    try:
        messages = [m for m in check_version_admins() if m.id == "django_trackable.W060"]
    finally:
        site.unregister(Article)

    assert len(messages) == 1
    assert "integrationsapp.Article" in messages[0].msg
    assert "TrackedRevertsAdminMixin" in messages[0].hint


def test_the_tests_own_version_admin_passes_the_check():
    from django_trackable.integrations.reversion import check_version_admins

    assert check_version_admins() == []


def test_reversions_recover_view_brings_a_hard_deleted_row_back_with_a_revert_entry(
    client_as_staff,
):
    client_as_staff.post("/admin/integrationsapp/note/add/", {"text": "kept"})
    note = Note.objects.get()
    version = Version.objects.get_for_object(note).first()
    note.hard_delete()
    recover_url = f"/admin/integrationsapp/note/recover/{version.pk}/"

    assert client_as_staff.get(recover_url).status_code == 200
    response = client_as_staff.post(recover_url, {"text": "kept"})

    assert response.status_code == 302, response.content
    note = Note.objects.get()
    assert note.text == "kept"
    assert note.history[-1]["action"] == "revert"
    assert note.history[-1]["reverted_to"] == version.revision.date_created.isoformat()


def test_a_version_id_that_is_no_number_adds_no_reverted_to(db):
    from django_trackable.integrations.reversion import _reverted_to

    assert _reverted_to("nope") == {}
    assert _reverted_to(10**9) == {}
