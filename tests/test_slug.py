"""SluggedModel and UUIDModel: identifiers that are unique, stable and race-safe."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import IntegrityError, transaction

from tests.testapp.models import Page, Token
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def test_the_slug_comes_from_the_source_field():
    assert Page.objects.create(title="Hello World").slug == "hello-world"


def test_a_taken_slug_gets_the_lowest_free_suffix():
    slugs = [Page.objects.create(title="Hello").slug for _ in range(3)]
    Page.objects.filter(slug="hello-2").hard_delete()

    assert slugs == ["hello", "hello-2", "hello-3"]
    assert Page.objects.create(title="Hello").slug == "hello-2"


def test_unicode_is_kept():
    assert Page.objects.create(title="Crème brûlée à Zürich").slug == "crème-brûlée-à-zürich"
    assert Page.objects.create(title="日本語 テキスト").slug == "日本語-テキスト"


def test_a_source_without_letters_falls_back_to_the_model_name():
    assert Page.objects.create(title="!!!").slug == "page"
    assert Page.objects.create(title="").slug == "page-2"


def test_the_slug_stays_when_the_source_changes():
    page = Page.objects.create(title="First title")
    page.title = "Second title"
    page.save()

    assert Page.objects.get(pk=page.pk).slug == "first-title"


def test_a_slug_given_by_hand_is_kept():
    assert Page.objects.create(title="x", slug="custom").slug == "custom"


def test_a_soft_deleted_rows_slug_is_not_reused():
    Page.objects.create(title="Hello").delete()
    assert Page.objects.create(title="Hello").slug == "hello-2"


def test_long_sources_are_cut_to_fit_with_a_suffix(monkeypatch):
    monkeypatch.setattr(Page, "slug_base", lambda self: "word-" * 80)
    first = Page.objects.create(title="a")
    second = Page.objects.create(title="b")

    assert len(first.slug) <= 255
    assert second.slug.endswith("-2")
    assert len(second.slug) <= 255


def test_the_create_entry_holds_the_slug():
    page = Page.objects.create(title="Hello")
    assert Page.objects.get(pk=page.pk).history[0]["changes"]["slug"] == [None, "hello"]


def test_bulk_create_gives_distinct_free_slugs():
    Page.objects.create(title="Hello")
    pages = Page.objects.bulk_create([Page(title="Hello"), Page(title="Hello")])

    assert [p.slug for p in pages] == ["hello-2", "hello-3"]


def test_an_integrity_error_that_is_not_about_the_slug_is_raised():
    page = Page.objects.create(title="Hello")
    clash = Page(pk=page.pk, title="Other")
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save(force_insert=True)
    assert clash.slug == ""


@pytest.mark.django_db(transaction=True)
def test_two_racing_saves_of_the_same_source_both_succeed_with_distinct_slugs(monkeypatch):
    # Both writers look for a free slug before either inserts: the worst case.
    looked = threading.Barrier(2)
    original = Page._free_slug
    first_look = set()

    def free_slug_after_both_looked(self, taken=None, using=None):
        slug = original(self, taken, using)
        if threading.get_ident() not in first_look:
            first_look.add(threading.get_ident())
            looked.wait()
        return slug

    monkeypatch.setattr(Page, "_free_slug", free_slug_after_both_looked)
    saved = []

    def writer():
        saved.append(Page.objects.create(title="Same Title"))

    errors = run_in_threads(writer, [(), ()])

    assert errors == []
    assert sorted(page.slug for page in saved) == ["same-title", "same-title-2"]
    assert sorted(Page.objects.values_list("slug", flat=True)) == ["same-title", "same-title-2"]


def test_uuid_model_has_a_random_uuid_primary_key():
    first, second = Token.objects.create(label="a"), Token.objects.create(label="b")

    assert isinstance(first.pk, uuid.UUID)
    assert first.pk != second.pk
    assert Token.objects.get(pk=str(first.pk)) == first


def test_uuid_model_history_records_the_user_and_changes():
    token = Token.objects.create(label="a")
    token.label = "b"
    token.save()

    assert Token.objects.get(pk=token.pk).history[-1]["changes"] == {"label": ["a", "b"]}


def test_a_cleared_slug_is_made_again_even_with_update_fields():
    page = Page.objects.create(title="Hello")
    page.slug = ""
    page.title = "Other"
    page.save(update_fields=["title"])

    assert Page.objects.get(pk=page.pk).slug == "other"


def test_the_source_may_be_a_method(monkeypatch):
    monkeypatch.setattr(Page, "slug_source_field", "describe")
    monkeypatch.setattr(Page, "describe", lambda self: f"About {self.title}", raising=False)

    assert Page.objects.create(title="Cats").slug == "about-cats"
