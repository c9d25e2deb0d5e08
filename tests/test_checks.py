"""System checks, by exact ID."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections, models
from django.test.utils import isolate_apps

from django_trackable import checks
from django_trackable.models import TrackableModel
from tests.testapp.models import Product


def ids(messages):
    return [message.id for message in messages]


def test_default_settings_pass_every_check():
    assert checks.check_settings() == []
    assert checks.check_middleware() == []
    assert checks.check_models() == []
    assert checks.check_databases() == []


def test_settings_must_be_a_dict(settings):
    settings.TRACKABLE = ["HISTORY_LIMIT"]
    assert ids(checks.check_settings()) == ["django_trackable.E001"]


def test_unknown_key_suggests_the_closest_known_one(settings):
    settings.TRACKABLE = {"HISTORY_LIMT": 5}
    (error,) = checks.check_settings()
    assert error.id == "django_trackable.E002"
    assert "HISTORY_LIMIT" in error.hint


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("HISTORY_LIMIT", 0),
        ("HISTORY_LIMIT", "10"),
        ("HISTORY_LIMIT", True),
        ("MASKED_FIELDS", "password"),
        ("AUDIT_LOG", "yes"),
        ("VISIT_EXCLUDE_PATHS", ["(unclosed"]),
        ("IP_PROXY_COUNT", -1),
        ("GEOIP_PATH", 3),
        ("DATABASE", "nowhere"),
        ("TASK_BACKEND", 1),
    ],
)
def test_values_of_the_wrong_type_are_errors(settings, key, value):
    settings.TRACKABLE = {key: value}
    assert ids(checks.check_settings()) == ["django_trackable.E003"]


def test_missing_current_user_middleware_warns(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CurrentUser" not in m]
    assert ids(checks.check_middleware()) == ["django_trackable.W001"]


def test_unknown_track_field_names_are_errors(monkeypatch):
    monkeypatch.setattr(Product, "track_exclude", ("no_such_field", "name"))
    errors = [m for m in checks.check_models() if m.obj is Product]
    assert ids(errors) == ["django_trackable.E004"]
    assert "no_such_field" in errors[0].msg


@isolate_apps("tests.testapp")
def test_a_manager_without_our_queryset_warns(monkeypatch):
    class Orphan(TrackableModel):
        name = models.CharField(max_length=10)
        objects = models.Manager()

        class Meta:
            app_label = "testapp"

    monkeypatch.setattr(checks, "_tracked_models", lambda: [Orphan])
    assert ids(checks.check_models()) == ["django_trackable.W002"]


def test_unsupported_database_is_an_error(monkeypatch):
    monkeypatch.setattr(type(connections["default"]), "vendor", "mysql")
    messages = checks.check_databases()
    assert messages
    assert set(ids(messages)) == {"django_trackable.E005"}


# Django 6.1 runs JSONField checks against every database alias.
@pytest.mark.django_db(databases=["default", "other"])
def test_manage_py_check_fails_on_an_error(settings):
    settings.TRACKABLE = {"HISTORY_LIMIT": -1}
    with pytest.raises(SystemCheckError, match="django_trackable.E003"):
        call_command("check")
