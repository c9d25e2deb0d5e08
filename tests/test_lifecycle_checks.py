"""System checks of the lifecycle mixins and the TENANT_RESOLVER setting, by exact ID."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import models
from django.test.utils import isolate_apps

from django_trackable import checks
from django_trackable.managers import LifecycleManager
from django_trackable.models import (
    OrderedModel,
    SluggedModel,
    SoftDeleteModel,
    StatusModel,
    TenantScopedModel,
    TrackableModel,
)


def ids(messages):
    return [message.id for message in messages]


def lifecycle_ids(monkeypatch, *models_):
    monkeypatch.setattr(checks, "_lifecycle_models", lambda: list(models_))
    return ids(checks.check_lifecycle_models())


def test_the_test_apps_models_pass_every_lifecycle_check():
    assert checks.check_lifecycle_models() == []
    assert checks.check_tenant_resolver() == []


@isolate_apps("tests.testapp")
def test_trackable_model_listed_before_a_lifecycle_mixin_passes_the_checks(monkeypatch):
    class Backwards(TrackableModel, SoftDeleteModel):
        class Meta:
            app_label = "testapp"

    assert lifecycle_ids(monkeypatch, Backwards) == []
    assert Backwards._default_manager._deleted_rows == "exclude"
    assert hasattr(Backwards.objects, "deleted_since")


@isolate_apps("tests.testapp")
def test_a_manager_from_a_plain_queryset_is_an_error(monkeypatch):
    class PlainQueries(SoftDeleteModel):
        objects = models.QuerySet.as_manager()

        class Meta:
            app_label = "testapp"

    assert lifecycle_ids(monkeypatch, PlainQueries) == ["django_trackable.E020"]


@isolate_apps("tests.testapp")
def test_a_plain_manager_as_objects_is_an_error(monkeypatch):
    class Plain(SoftDeleteModel):
        objects = models.Manager()

        class Meta:
            app_label = "testapp"

    assert lifecycle_ids(monkeypatch, Plain) == ["django_trackable.E020"]


@isolate_apps("tests.testapp")
def test_a_default_manager_that_shows_deleted_rows_warns(monkeypatch):
    class ShowsAll(SoftDeleteModel):
        class Meta:
            app_label = "testapp"
            default_manager_name = "all_objects"

    assert lifecycle_ids(monkeypatch, ShowsAll) == ["django_trackable.W020"]


@isolate_apps("tests.testapp")
def test_a_filtering_base_manager_is_an_error(monkeypatch):
    class FilteredBase(SoftDeleteModel):
        class Meta:
            app_label = "testapp"
            base_manager_name = "objects"

    class ScopedBase(TenantScopedModel):
        everything = LifecycleManager(deleted="include")

        class Meta:
            app_label = "testapp"
            base_manager_name = "everything"

    assert lifecycle_ids(monkeypatch, FilteredBase) == ["django_trackable.E021"]
    assert lifecycle_ids(monkeypatch, ScopedBase) == ["django_trackable.E021"]


@isolate_apps("tests.testapp")
@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({}, "empty"),
        ({"STATUS_CHOICES": [("a", "A")], "INITIAL_STATUS": "b"}, "'b'"),
        ({"STATUS_CHOICES": [("a", "A")], "TRANSITIONS": {"a": ["z"]}}, "'z'"),
        ({"STATUS_CHOICES": [("a", "A")], "ACTIVE_STATUSES": ["y"]}, "'y'"),
        ({"STATUS_CHOICES": [("x" * 101, "long")]}, "longer"),
    ],
)
def test_status_configuration_problems_are_errors(monkeypatch, attributes, problem):
    Broken = type(
        "Broken",
        (StatusModel,),
        {"__module__": __name__, "Meta": type("Meta", (), {"app_label": "testapp"}), **attributes},
    )

    monkeypatch.setattr(checks, "_lifecycle_models", lambda: [Broken])
    (error,) = checks.check_lifecycle_models()
    assert error.id == "django_trackable.E022"
    assert problem in error.msg


@isolate_apps("tests.testapp")
def test_an_unknown_tenant_field_is_an_error(monkeypatch):
    class Scoped(TenantScopedModel):
        tenant_field = "organisation"

        class Meta:
            app_label = "testapp"

    assert lifecycle_ids(monkeypatch, Scoped) == ["django_trackable.E023"]


@isolate_apps("tests.testapp")
def test_an_unknown_slug_source_is_an_error(monkeypatch):
    class Slugged(SluggedModel):
        title = models.CharField(max_length=10)

        class Meta:
            app_label = "testapp"

    assert lifecycle_ids(monkeypatch, Slugged) == ["django_trackable.E024"]


@isolate_apps("tests.testapp")
@pytest.mark.parametrize("groups", [("board",), "name"])
def test_unknown_or_misspelled_order_groups_are_errors(monkeypatch, groups):
    class Ordered(OrderedModel):
        name = models.CharField(max_length=10)
        order_group_fields = groups

        class Meta:
            app_label = "testapp"

    assert lifecycle_ids(monkeypatch, Ordered) == ["django_trackable.E025"]


@isolate_apps("tests.testapp")
def test_a_redeclared_lifecycle_field_is_an_error(monkeypatch):
    class Redeclared(SoftDeleteModel):
        date_deleted = models.DateTimeField(null=True)

        class Meta:
            app_label = "testapp"

    assert lifecycle_ids(monkeypatch, Redeclared) == ["django_trackable.E027"]


@pytest.mark.parametrize(
    "path", ["tests.no_such_module.resolve", "django_trackable.conf.SETTING_NAME"]
)
def test_a_tenant_resolver_that_is_not_an_importable_callable_is_an_error(settings, path):
    settings.TRACKABLE = {"TENANT_RESOLVER": path}
    assert ids(checks.check_tenant_resolver()) == ["django_trackable.E026"]


def test_a_tenant_resolver_of_the_wrong_type_is_e003_only(settings):
    settings.TRACKABLE = {"TENANT_RESOLVER": 3}
    assert ids(checks.check_settings()) == ["django_trackable.E003"]
    assert checks.check_tenant_resolver() == []


# Django 6.1 runs JSONField checks against every database alias.
@pytest.mark.django_db(databases=["default", "other"])
def test_manage_py_check_fails_on_a_lifecycle_error(settings):
    settings.TRACKABLE = {"TENANT_RESOLVER": "tests.no_such_module.resolve"}
    with pytest.raises(SystemCheckError, match="django_trackable.E026"):
        call_command("check")
