"""Admin pages of visits, login attempts and devices: read-only, deletable by superusers."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.http import HttpResponse

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


SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def _columns(html: str) -> list[str]:
    return re.findall(r'<th scope="col" class="[^"]*column-([\w]+)', html)


def test_the_visit_list_combines_request_client_and_where_into_five_columns(
    alice, admin_client, rf
):
    request = rf.get("/orders/?page=2", HTTP_USER_AGENT=SAFARI_IPHONE, REMOTE_ADDR="198.51.100.7")
    UserVisit.objects.record(request, HttpResponse(status=404), user=alice)
    html = admin_client.get("/admin/django_trackable/uservisit/").content.decode()
    assert _columns(html) == ["timestamp", "user", "request", "client", "where"]
    assert "GET /<wbr>orders/<wbr>?<wbr>page=2 → 404" in html  # may wrap after / ? &
    assert "Mobile Safari 17.0 on iOS 17.0, iPhone (mobile)" in html
    assert "198.51.100.7</td>" in html


def test_a_long_url_is_cut_in_the_visit_list_and_whole_in_its_tooltip(alice, admin_client, rf):
    path = "/search/?" + "&".join(f"term{n}=value{n}" for n in range(20))
    UserVisit.objects.record(rf.get(path), HttpResponse(), user=alice)
    html = admin_client.get("/admin/django_trackable/uservisit/").content.decode()
    shown = re.search(r'<span title="([^"]*)">GET (.*?) → 200</span>', html)
    assert shown, html
    assert unescape(shown[1]) == path
    cut = unescape(shown[2].replace("<wbr>", ""))
    assert len(cut) == 60
    assert cut.endswith("…")
    assert path.startswith(cut[:-1])


def test_a_url_in_the_visit_list_is_escaped(alice, admin_client):
    UserVisit.objects.create(user=alice, method="GET", url="/a/<script>x</script>?q=&amp")
    html = admin_client.get("/admin/django_trackable/uservisit/").content.decode()
    assert "<script>x" not in html
    assert "GET /<wbr>a/<wbr>&lt;script&gt;x&lt;/<wbr>script&gt;?<wbr>q=&amp;<wbr>amp" in html


def test_the_login_and_device_lists_show_client_and_where(data, admin_client):
    logins = admin_client.get("/admin/django_trackable/loginattempt/").content.decode()
    devices = admin_client.get("/admin/django_trackable/userdevice/").content.decode()
    assert _columns(logins) == ["timestamp", "username", "successful", "client", "where"]
    assert _columns(devices) == ["user", "client", "login_count", "last_seen", "where"]
    assert "Firefox 120.0 on Windows 10 (computer)" in logins
    assert '<td class="field-client">other</td>' in logins  # no user agent: nothing known
    assert "Firefox on Windows (computer)" in devices  # a device has no versions
    assert "127.0.0.1</td>" in devices


def test_where_joins_the_ip_address_and_the_location(rf):
    visit = UserVisit(ip="81.2.69.10", city="London", country="GB")
    assert UserVisitAdmin(UserVisit, admin.site).where(visit) == "81.2.69.10 · London, GB"
    assert UserVisitAdmin(UserVisit, admin.site).where(UserVisit(country="FR")) == "FR"
    device = UserDevice(last_ip="81.2.69.10")
    assert UserDeviceAdmin(UserDevice, admin.site).where(device) == "81.2.69.10"
