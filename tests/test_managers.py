"""LifecycleManager: one manager for models that combine lifecycle mixins."""

from __future__ import annotations

import pickle

import pytest

from django_trackable import acting_as
from django_trackable.managers import LifecycleManager
from django_trackable.models import (
    SoftDeleteQuerySet,
    StatusQuerySet,
    TaskQuerySet,
    TenantQuerySet,
)
from django_trackable.querysets import TrackableQuerySet
from tests.testapp.models import Invoice, Job, Label, Order, Recipe, RecipeQuerySet

pytestmark = pytest.mark.django_db


def test_the_queryset_combines_every_mixin_of_the_model():
    queryset = Job.objects.all()

    assert isinstance(queryset, TaskQuerySet)
    assert isinstance(queryset, SoftDeleteQuerySet)
    assert isinstance(queryset, TrackableQuerySet)
    assert isinstance(Invoice.objects.all(), TenantQuerySet)
    assert not isinstance(Order.objects.all(), SoftDeleteQuerySet)


def test_the_manager_offers_every_mixins_methods():
    job = Job.objects.create(name="a")

    assert list(Job.objects.by_status("pending")) == [job]
    assert list(Job.objects.since(None)) == [job]
    assert Job.objects.claim() == [job]
    assert list(Job.all_objects.active()) == [job]


def test_queryset_only_methods_stay_off_the_manager():
    for name in ("delete", "hard_delete", "restore", "as_manager"):
        with pytest.raises(AttributeError):
            getattr(Job.objects, name)
    with pytest.raises(AttributeError, match="no_such_method"):
        Job.objects.no_such_method()  # noqa: B018


def test_a_model_with_one_mixin_gets_that_mixins_own_queryset():
    assert type(Label.objects.all()) is SoftDeleteQuerySet
    assert type(Order.objects.all()) is StatusQuerySet


def test_composed_querysets_pickle():
    Job.objects.create(name="a")
    queryset = Job.objects.filter(name="a")

    restored = pickle.loads(pickle.dumps(queryset))
    assert [job.name for job in restored] == ["a"]
    assert type(restored) is type(queryset)
    query = pickle.loads(pickle.dumps(queryset.query))
    fresh = Job.objects.all()
    fresh.query = query
    assert fresh.count() == 1


def test_scopes_apply_together():
    with acting_as(None, tenant="a"):
        mine = Invoice.objects.create(number="1")
        Invoice.objects.create(number="2").delete()
    Invoice.objects.create(number="3", tenant_id="b")

    with acting_as(None, tenant="a"):
        assert list(Invoice.objects.all()) == [mine]
        assert Invoice.all_objects.count() == 2
    assert Invoice.objects.count() == 2


def test_a_custom_queryset_keeps_the_mixins():
    draft = Recipe.objects.create(name="a")
    published = Recipe.objects.create(name="b", status="published")
    Recipe.objects.create(name="c", status="published").delete()

    assert isinstance(Recipe.objects, LifecycleManager)
    assert isinstance(Recipe.objects.all(), RecipeQuerySet)
    assert list(Recipe.objects.published()) == [published]
    assert list(Recipe.objects.by_status("draft")) == [draft]
    assert Recipe.objects.published().with_deleted().count() == 2


def test_from_queryset_composes_a_plain_queryset():
    Recipe.objects.create(name="a")
    Recipe.objects.create(name="a").delete()

    assert Recipe.by_name.named("a").count() == 1
    assert isinstance(Recipe.by_name.named("a"), SoftDeleteQuerySet)
