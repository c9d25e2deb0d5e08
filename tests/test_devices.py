"""UserDevice and new_device_login: one row per user and client, one signal per new device."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from django_trackable.models import UserDevice
from django_trackable.signals import new_device_login
from tests.geoip import LONDON, write_city_database
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

FIREFOX_120 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
FIREFOX_121 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def new_devices():
    """Every new_device_login sent during the test, as (user, device, request)."""
    sent = []

    def receiver(sender, user, device, request, **kwargs):
        sent.append((user, device, request))

    new_device_login.connect(receiver, dispatch_uid="tests.new_devices")
    yield sent
    new_device_login.disconnect(dispatch_uid="tests.new_devices")


def sign_in(client, username, password, agent=FIREFOX_120, ip="198.51.100.7"):
    return client.post(
        "/sign-in/",
        {"username": username, "password": password},
        HTTP_USER_AGENT=agent,
        REMOTE_ADDR=ip,
    )


def test_the_first_login_from_a_client_creates_a_device_and_signals_once(
    alice, client, new_devices
):
    sign_in(client, "alice", "pw-alice")

    device = UserDevice.objects.get()
    assert (device.user, device.browser, device.os, device.device) == (
        alice,
        "Firefox",
        "Windows",
        "Other",
    )
    assert device.login_count == 1
    assert device.first_seen == device.last_seen
    ((user, signalled, request),) = new_devices
    assert (user, signalled) == (alice, device)
    assert request.path == "/sign-in/"


def test_the_next_login_from_the_same_client_updates_the_device_without_a_signal(
    alice, client, new_devices
):
    sign_in(client, "alice", "pw-alice", ip="198.51.100.7")

    sign_in(client, "alice", "pw-alice", ip="203.0.113.9")

    device = UserDevice.objects.get()
    assert device.login_count == 2
    assert device.last_ip == "203.0.113.9"
    assert device.last_seen > device.first_seen
    assert len(new_devices) == 1


def test_a_browser_update_is_not_a_new_device(alice, client, new_devices):
    sign_in(client, "alice", "pw-alice", agent=FIREFOX_120)

    sign_in(client, "alice", "pw-alice", agent=FIREFOX_121)

    device = UserDevice.objects.get()
    assert device.user_agent == FIREFOX_121
    assert len(new_devices) == 1


def test_another_browser_is_a_new_device(alice, client, new_devices):
    sign_in(client, "alice", "pw-alice", agent=FIREFOX_120)

    sign_in(client, "alice", "pw-alice", agent=IPHONE)

    assert sorted(UserDevice.objects.values_list("browser", "device_type")) == [
        ("Firefox", "pc"),
        ("Mobile Safari", "mobile"),
    ]
    assert [device.label for _user, device, _request in new_devices] == [
        "Firefox on Windows",
        "Mobile Safari on iOS (iPhone)",
    ]


def test_each_user_has_their_own_devices(alice, bob, new_devices):
    sign_in(Client(), "alice", "pw-alice")
    sign_in(Client(), "bob", "pw-bob")

    assert UserDevice.objects.count() == 2
    assert [user for user, _device, _request in new_devices] == [alice, bob]
    assert UserDevice.objects.for_user(bob).get().user == bob


def test_failed_logins_do_not_touch_devices(alice, client, new_devices):
    sign_in(client, "alice", "wrong")

    assert not UserDevice.objects.exists()
    assert new_devices == []


def test_the_device_keeps_the_last_location(alice, client, settings, tmp_path):
    from django_trackable.client import reset_geoip

    reset_geoip()
    settings.TRACKABLE = {"GEOIP_PATH": write_city_database(tmp_path / "city.mmdb")}

    sign_in(client, "alice", "pw-alice", ip=LONDON)

    device = UserDevice.objects.get()
    assert (device.city, device.country, device.location) == ("London", "GB", "London, GB")
    reset_geoip()


def test_a_device_recorded_by_a_task_signals_with_the_user_and_no_request(
    alice, client, settings, new_devices
):
    settings.TRACKABLE = {"TASK_BACKEND": "default"}

    sign_in(client, "alice", "pw-alice")

    ((user, device, request),) = new_devices
    assert (user, device.login_count, request) == (alice, 1, None)


def test_a_deleted_users_devices_stay_without_a_user(alice, client):
    sign_in(client, "alice", "pw-alice")

    alice.delete()

    assert UserDevice.objects.get().user is None


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_logins_from_one_client_signal_once(alice, new_devices):
    barrier = threading.Barrier(3)

    def log_in():
        client = Client()
        barrier.wait()
        assert sign_in(client, "alice", "pw-alice").content == b"yes"

    errors = run_in_threads(log_in, [(), (), ()])

    assert errors == []
    assert UserDevice.objects.get().login_count == 3
    assert len(new_devices) == 1


def test_an_unknown_client_still_reads_well():
    assert UserDevice(browser="", os="").label == "unknown client"
