"""django-handleref's API on our managers: undeleted(), last_change(), since(), hard deletes."""

from __future__ import annotations

import time

import pytest

from tests.integrationsapp.models import Note
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db


def test_undeleted_leaves_soft_deleted_rows_out():
    alive = Note.objects.create(text="alive")
    gone = Note.objects.create(text="gone")
    gone.delete()

    assert list(Note.objects.undeleted()) == [alive]
    assert list(Note.all_objects.undeleted()) == [alive]


def test_undeleted_on_a_model_that_does_not_soft_delete_is_every_row():
    product = Product.objects.create(name="Lamp")
    assert list(Product.objects.undeleted()) == [product]


def test_last_change_is_the_newest_updated_at_of_the_queryset(time_machine):
    time_machine.move_to("2026-03-01 09:00Z")
    first = Product.objects.create(name="a")
    time_machine.move_to("2026-03-02 09:00Z")
    second = Product.objects.create(name="b")
    time_machine.move_to("2026-03-03 09:00Z")
    first.name = "a2"
    first.save()

    first.refresh_from_db()
    second.refresh_from_db()
    assert Product.objects.last_change() == first.updated_at
    assert Product.objects.filter(pk=second.pk).last_change() == second.updated_at
    assert first.updated_at > second.updated_at > first.created_at


def test_last_change_of_no_rows_is_none(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert Product.objects.last_change() is None


def test_delete_hard_removes_the_row():
    note = Note.objects.create(text="x")
    note.delete(hard=True)

    assert not Note.all_objects.filter(pk=note.pk).exists()


def test_queryset_delete_hard_removes_the_rows():
    Note.objects.create(text="x")
    Note.objects.create(text="y")

    count, _by_model = Note.objects.all().delete(hard=True)

    assert count == 2
    assert not Note.all_objects.exists()


def test_since_takes_handlerefs_arguments_by_name(time_machine):
    time_machine.move_to("2026-03-01 09:00Z")
    note = Note.objects.create(text="x")
    moment = time.time()
    time_machine.move_to("2026-03-02 09:00Z")
    note.text = "y"
    note.save()
    note.delete()

    assert Note.objects.since(timestamp=moment).count() == 0
    assert Note.objects.since(timestamp=moment, deleted=True).count() == 1
    assert Note.objects.since(timestamp=moment, version=2, deleted=True).count() == 1
    assert Note.objects.since(timestamp=moment, version=3, deleted=True).count() == 0


def test_the_managers_scope_is_not_a_public_attribute():
    with pytest.raises(AttributeError, match="deleted"):
        Note.objects.deleted()  # handleref users try it; it used to be the scope string
    assert not hasattr(Note.deleted_objects, "deleted")
