"""System checks of request metadata: tasks (E030-E032), GeoIP (W030-W032), middleware (W033)."""

from __future__ import annotations

import datetime
import importlib
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from mmdb_writer import MMDBWriter
from netaddr import IPSet

import django_trackable
from django_trackable.checks import check_request_metadata, check_settings
from tests.geoip import write_city_database, write_country_database

VISIT_MIDDLEWARE = "django_trackable.middleware.VisitMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def ids(messages):
    return [message.id for message in messages]


def test_the_default_settings_pass():
    assert check_request_metadata() == []


# -- GeoIP ---------------------------------------------------------------------------


def test_a_missing_geoip_file_is_w030(settings, tmp_path):
    settings.TRACKABLE = {"GEOIP_PATH": str(tmp_path / "GeoLite2-City.mmdb")}

    assert ids(check_request_metadata()) == ["django_trackable.W030"]


def test_a_corrupt_geoip_file_is_w031(settings, tmp_path):
    corrupt = tmp_path / "corrupt.mmdb"
    corrupt.write_bytes(b"garbage" * 100)
    settings.TRACKABLE = {"GEOIP_PATH": corrupt}

    assert ids(check_request_metadata()) == ["django_trackable.W031"]


def test_a_geoip_database_without_locations_is_w031(settings, tmp_path):
    writer = MMDBWriter(database_type="GeoLite2-ASN")
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"autonomous_system_number": 1})
    writer.to_db_file(str(tmp_path / "asn.mmdb"))
    settings.TRACKABLE = {"GEOIP_PATH": tmp_path / "asn.mmdb"}

    (message,) = check_request_metadata()

    assert message.id == "django_trackable.W031"
    assert "GeoLite2-ASN" in message.msg


def test_a_geoip_database_without_geoip2_installed_is_w032(settings, tmp_path, monkeypatch):
    settings.TRACKABLE = {"GEOIP_PATH": write_city_database(tmp_path / "city.mmdb")}
    monkeypatch.setitem(sys.modules, "geoip2.database", None)

    assert ids(check_request_metadata()) == ["django_trackable.W032"]


@pytest.mark.parametrize("write", [write_city_database, write_country_database])
def test_a_city_or_country_database_passes(settings, tmp_path, write):
    settings.TRACKABLE = {"GEOIP_PATH": write(tmp_path / "geo.mmdb")}

    assert check_request_metadata() == []


def test_djangos_geoip_path_is_checked_too(settings, tmp_path):
    settings.GEOIP_PATH = str(tmp_path)  # a directory without GeoLite2-City.mmdb

    assert ids(check_request_metadata()) == ["django_trackable.W030"]


# -- middleware ----------------------------------------------------------------------


def test_visit_middleware_without_authentication_middleware_is_w033(settings):
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE]

    assert ids(check_request_metadata()) == ["django_trackable.W033"]


def test_visit_middleware_before_authentication_middleware_is_fine(settings):
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, AUTH_MIDDLEWARE]

    assert check_request_metadata() == []


def test_visit_middleware_without_users_is_fine_when_anonymous_visits_are_recorded(settings):
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE]
    settings.TRACKABLE = {"VISIT_ANONYMOUS": True}

    assert check_request_metadata() == []


# -- tasks --------------------------------------------------------------------------


def test_a_task_backend_without_a_tasks_framework_is_e030(settings, monkeypatch):
    settings.TRACKABLE = {"TASK_BACKEND": "default"}
    monkeypatch.setitem(sys.modules, "django.tasks", None)
    monkeypatch.setitem(sys.modules, "django_tasks", None)

    assert ids(check_request_metadata()) == ["django_trackable.E030"]


def test_a_task_backend_missing_from_tasks_is_e031(settings):
    settings.TRACKABLE = {"TASK_BACKEND": "nowhere"}

    (message,) = check_request_metadata()

    assert message.id == "django_trackable.E031"
    assert "default, dummy" in message.hint


def test_a_task_backend_that_cannot_be_loaded_is_e032(settings, monkeypatch):
    framework = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
    importlib.import_module(f"{framework}.signals")  # resets the backends when TASKS changes
    settings.TASKS = {"broken": {"BACKEND": "tests.no_such_module.Backend"}}
    settings.TRACKABLE = {"TASK_BACKEND": "broken"}
    monkeypatch.delitem(sys.modules, "django_trackable.tasks", raising=False)
    monkeypatch.delattr(django_trackable, "tasks", raising=False)

    assert ids(check_request_metadata()) == ["django_trackable.E032"]


def test_a_working_task_backend_passes(settings):
    settings.TRACKABLE = {"TASK_BACKEND": "dummy"}

    assert check_request_metadata() == []


# -- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VISIT_RETENTION", 90),
        ("VISIT_RETENTION", datetime.timedelta(0)),
        ("VISIT_RETENTION", datetime.timedelta(days=999999999)),
        ("LOGIN_RETENTION", "365d"),
        ("IP_TRUSTED_PROXIES", ["not an address"]),
        ("IP_TRUSTED_PROXIES", [""]),
    ],
)
def test_wrong_request_metadata_settings_are_e003(settings, key, value):
    settings.TRACKABLE = {key: value}

    assert ids(check_settings()) == ["django_trackable.E003"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VISIT_RETENTION", None),
        ("LOGIN_RETENTION", datetime.timedelta(days=30)),
        ("IP_TRUSTED_PROXIES", ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "172.16."]),
    ],
)
def test_valid_request_metadata_settings_pass(settings, key, value):
    settings.TRACKABLE = {key: value}

    assert check_settings() == []


# Django 6.1 runs JSONField checks against every database alias.
@pytest.mark.django_db(databases=["default", "other"])
def test_manage_py_check_fails_on_a_request_metadata_error(settings):
    settings.TRACKABLE = {"TASK_BACKEND": "nowhere"}

    with pytest.raises(SystemCheckError, match="django_trackable.E031"):
        call_command("check")
