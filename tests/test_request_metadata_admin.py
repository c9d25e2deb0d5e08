"""Admin pages of visits, login attempts and devices: read-only, deletable by superusers."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission

from django_trackable.admin import LoginAttemptAdmin, UserDeviceAdmin, UserVisitAdmin
from django_trackable.models import LoginAttempt, UserDevice, UserVisit

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"


@pytest.fixture
def data(alice, client, rf):
    request = rf.get("/hello/", HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.7")
    UserVisit.objects.record(request, user=alice)
    client.post("/sign-in/", {"username": "alice", "password": "pw-alice"}, HTTP_USER_AGENT=FIREFOX)
    client.post("/sign-in/", {"username": "mallory", "password": "guess"})
    client.logout()


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_uservisit", "view_loginattempt", "view_userdevice"]
        )
    )
    return user


def test_the_three_models_are_registered_with_their_admins():
    assert isinstance(admin.site._registry[UserVisit], UserVisitAdmin)
    assert isinstance(admin.site._registry[LoginAttempt], LoginAttemptAdmin)
    assert isinstance(admin.site._registry[UserDevice], UserDeviceAdmin)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/django_trackable/uservisit/",
        "/admin/django_trackable/uservisit/?q=alice",
        "/admin/django_trackable/uservisit/?q=198.51",
        "/admin/django_trackable/uservisit/?browser=Firefox&device_type=pc",
        "/admin/django_trackable/loginattempt/?successful__exact=0",
        "/admin/django_trackable/loginattempt/?q=mallory",
        "/admin/django_trackable/userdevice/?country=GB",
        "/admin/django_trackable/userdevice/?q=alice",
    ],
)
def test_the_lists_filter_and_search(data, admin_client, url):
    assert admin_client.get(url).status_code == 200


def test_searching_login_attempts_by_username_finds_failures(data, admin_client):
    response = admin_client.get("/admin/django_trackable/loginattempt/?q=mallory")

    assert [attempt.username for attempt in response.context["cl"].result_list] == ["mallory"]


def test_the_lists_have_a_date_hierarchy(data, admin_client):
    response = admin_client.get("/admin/django_trackable/uservisit/")

    assert response.context["cl"].date_hierarchy == "timestamp"


def test_nothing_can_be_added(admin_client):
    assert admin_client.get("/admin/django_trackable/loginattempt/add/").status_code == 403


def test_a_row_is_shown_read_only(data, admin_client):
    visit = UserVisit.objects.get()

    response = admin_client.get(f"/admin/django_trackable/uservisit/{visit.pk}/change/")

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b"198.51.100.7" in response.content


def test_superusers_may_delete_rows(data, admin_client):
    visit = UserVisit.objects.get()

    response = admin_client.post(
        f"/admin/django_trackable/uservisit/{visit.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not UserVisit.objects.exists()


def test_staff_with_view_permission_see_rows_but_may_not_delete_them(data, client, staff):
    client.force_login(staff)
    visit = UserVisit.objects.get()

    assert client.get("/admin/django_trackable/uservisit/").status_code == 200
    response = client.post(f"/admin/django_trackable/uservisit/{visit.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert UserVisit.objects.exists()
