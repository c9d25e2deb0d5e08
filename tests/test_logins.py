"""LoginAttempt: every login and failed login, with the username typed and never a password."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.utils import timezone

from django_trackable.client import MAX_LENGTHS
from django_trackable.models import LoginAttempt, UserDevice
from django_trackable.receivers import attempted_username
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
PASSWORD = "correct horse battery staple"
T0 = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)


def sign_in(client, username, password, **headers):
    return client.post("/sign-in/", {"username": username, "password": password}, **headers)


def test_a_successful_login_records_an_attempt_with_the_client(alice, client):
    response = sign_in(
        client, "alice", "pw-alice", HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.7"
    )

    assert response.content == b"yes"
    attempt = LoginAttempt.objects.get()
    assert attempt.successful
    assert (attempt.user, attempt.username) == (alice, "alice")
    assert (attempt.ip, attempt.browser, attempt.os) == ("198.51.100.7", "Firefox", "Windows")


def test_a_wrong_password_stores_the_username_and_no_password_anywhere(alice, client, caplog):
    response = sign_in(client, "alice", PASSWORD, HTTP_USER_AGENT=FIREFOX)

    assert response.status_code == 401
    attempt = LoginAttempt.objects.get()
    assert not attempt.successful
    assert (attempt.user, attempt.username) == (None, "alice")
    for model in apps.get_models():
        for row in model._default_manager.values():
            assert all(PASSWORD not in str(value) for value in row.values()), model
    assert PASSWORD not in caplog.text


def test_a_failed_login_for_an_unknown_user_stores_what_was_typed(client):
    sign_in(client, "mallory", "guess")

    attempt = LoginAttempt.objects.get()
    assert (attempt.username, attempt.successful, attempt.user) == ("mallory", False, None)


def test_a_failed_login_without_a_request_is_recorded_without_client_details(alice):
    assert authenticate(username="alice", password="nope") is None

    attempt = LoginAttempt.objects.get()
    assert (attempt.username, attempt.ip, attempt.user_agent) == ("alice", None, "")


def test_only_the_username_is_read_from_the_credentials():
    assert attempted_username({"username": "alice", "password": "secret"}) == "alice"
    assert attempted_username({"email": "a@example.com", "password": "secret"}) == "a@example.com"
    assert attempted_username({"password": "secret", "token": "t"}) == ""
    assert attempted_username({"username": ["not", "text"]}) == ""
    assert attempted_username(None) == ""


def test_a_long_username_is_cut_to_its_column(client):
    sign_in(client, "x" * 1000, "guess")

    assert len(LoginAttempt.objects.get().username) == MAX_LENGTHS["username"]


def test_nul_characters_in_the_username_are_removed(rf):
    # Sent directly: on PostgreSQL, ModelBackend's own user lookup rejects NUL.
    user_login_failed.send(
        sender=__name__, credentials={"username": "ali\x00ce"}, request=rf.post("/")
    )

    assert LoginAttempt.objects.get().username == "alice"


def test_record_logins_false_records_nothing(alice, client, settings):
    settings.TRACKABLE = {"RECORD_LOGINS": False}

    sign_in(client, "alice", "pw-alice")
    sign_in(client, "alice", "wrong")

    assert not LoginAttempt.objects.exists()
    assert not UserDevice.objects.exists()


def test_a_failing_recording_under_atomic_requests_does_not_break_the_login(
    alice, client, monkeypatch, caplog
):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    with connection.cursor() as cursor:  # a real failing INSERT inside the view's transaction
        cursor.execute("ALTER TABLE django_trackable_loginattempt RENAME TO loginattempt_away")

    response = sign_in(client, "alice", "pw-alice")

    assert response.content == b"yes"
    assert Product.objects.get().name == "signed in: alice"  # written after the failure
    assert "could not record a login" in caplog.text
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE loginattempt_away RENAME TO django_trackable_loginattempt")


def test_a_failing_recording_of_a_failed_login_is_logged(client, caplog):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE django_trackable_loginattempt RENAME TO loginattempt_away")

    response = sign_in(client, "mallory", "guess")

    assert response.status_code == 401
    assert "could not record a failed login" in caplog.text
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE loginattempt_away RENAME TO django_trackable_loginattempt")


def test_task_backend_records_logins_through_the_task(alice, client, settings):
    settings.TRACKABLE = {"TASK_BACKEND": "default"}

    sign_in(client, "alice", "pw-alice", HTTP_USER_AGENT=FIREFOX)
    sign_in(client, "alice", "wrong")

    assert list(LoginAttempt.objects.order_by("pk").values_list("successful", "user_id")) == [
        (True, alice.pk),
        (False, None),
    ]
    assert UserDevice.objects.get().browser == "Firefox"


@pytest.mark.django_db(databases=["default", "other"])
def test_login_attempts_and_devices_are_written_to_the_database_setting(alice, client, settings):
    settings.TRACKABLE = {"DATABASE": "other"}

    sign_in(client, "alice", "pw-alice")

    assert not LoginAttempt.objects.using("default").exists()
    assert LoginAttempt.objects.using("other").get().user_id == alice.pk
    assert UserDevice.objects.using("other").get().login_count == 1


# -- queries for lockouts ------------------------------------------------------------


def fail(username, ip="198.51.100.7", rf=None):
    request = rf.post("/", REMOTE_ADDR=ip)
    LoginAttempt.objects.record(request, successful=False, username=username)


def test_recent_failures_counts_failures_for_a_username_within_the_window(rf):
    with time_machine.travel(T0, tick=False):
        fail("alice", rf=rf)
    with time_machine.travel(T0 + datetime.timedelta(minutes=20), tick=False):
        fail("alice", rf=rf)
        fail("alice", rf=rf)
        fail("bob", rf=rf)

        recent = LoginAttempt.objects.recent_failures(username="alice")

        assert recent.count() == 2
        assert (
            LoginAttempt.objects.recent_failures(
                "alice", within=datetime.timedelta(hours=1)
            ).count()
            == 3
        )


def test_recent_failures_by_ip(rf):
    fail("alice", ip="198.51.100.7", rf=rf)
    fail("bob", ip="198.51.100.7", rf=rf)
    fail("carol", ip="203.0.113.9", rf=rf)

    assert LoginAttempt.objects.recent_failures(ip="198.51.100.7").count() == 2
    assert LoginAttempt.objects.recent_failures(username="bob", ip="203.0.113.9").count() == 0


def test_recent_failures_ignores_successful_logins(alice, client):
    sign_in(client, "alice", "pw-alice")

    assert LoginAttempt.objects.recent_failures(username="alice").count() == 0


def test_a_lockout_built_on_recent_failures(alice, client):
    for _ in range(5):
        sign_in(client, "alice", "wrong")

    locked = LoginAttempt.objects.recent_failures(username="alice").count() >= 5

    assert locked


def test_for_user_includes_failures_under_their_username(alice, bob, client):
    sign_in(client, "alice", "wrong")
    sign_in(client, "alice", "pw-alice")
    sign_in(client, "bob", "wrong")

    assert LoginAttempt.objects.for_user(alice).count() == 2
    assert LoginAttempt.objects.for_user(alice).failed().count() == 1
    assert LoginAttempt.objects.for_user(alice).successful().count() == 1


def test_an_attempt_reads_well(client):
    sign_in(client, "mallory", "guess")

    assert str(LoginAttempt.objects.get()) == "mallory failed"


def test_since_lists_attempts_from_a_time_on(rf):
    with time_machine.travel(T0, tick=False):
        fail("old", rf=rf)
    fail("new", rf=rf)

    recent = LoginAttempt.objects.since(timezone.now() - datetime.timedelta(days=1))

    assert [attempt.username for attempt in recent] == ["new"]
