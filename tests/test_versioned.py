"""VersionedModel: django-handleref's ``version``, counted by the row's own statement."""

from __future__ import annotations

import pytest
import reversion
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models.signals import post_save
from reversion.models import Version

from django_trackable import acting_as, tracking_disabled
from tests.integrationsapp.models import Article, Note
from tests.testapp.models import Product
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def test_handlerefs_documented_example_gives_the_same_versions():
    with reversion.create_revision():
        obj = Article.objects.create(title="This is a test")
        obj.save()
        assert obj.version == 1
        obj.title = "Changed my mind"
        obj.save()
        assert obj.version == 2

    assert Article.objects.since(version=1).count() == 1
    assert Article.objects.since(version=2).count() == 0


def test_each_recorded_change_raises_the_version_by_one():
    article = Article.objects.create(title="a")
    for title in ("b", "c", "d"):
        article.title = title
        article.save()

    article.refresh_from_db()
    assert article.version == 4
    assert len(article.history) == 4


def test_a_save_that_changes_nothing_keeps_the_version():
    article = Article.objects.create(title="a")
    article.save()
    article.save(update_fields=["title"])

    article.refresh_from_db()
    assert article.version == 1


def test_the_save_counts_in_its_own_update_and_the_new_value_is_read_on_access(
    django_assert_num_queries,
):
    article = Article.objects.create(title="a")
    article.title = "b"
    with django_assert_num_queries(1):
        article.save()
    with django_assert_num_queries(1):
        assert article.version == 2
    with django_assert_num_queries(0):
        assert article.version == 2


def test_a_stale_instance_does_not_write_its_old_version_back():
    article = Article.objects.create(title="a")
    stale = Article.objects.get(pk=article.pk)
    article.title = "b"
    article.save()
    stale.body = "text"
    stale.save()

    article.refresh_from_db()
    assert article.version == 3


def test_queryset_update_raises_the_version_of_changed_rows_only():
    changed = Article.objects.create(title="a")
    same = Article.objects.create(title="b")

    Article.objects.filter(pk__in=[changed.pk, same.pk]).update(title="b")

    assert Article.objects.get(pk=changed.pk).version == 2
    assert Article.objects.get(pk=same.pk).version == 1


def test_bulk_create_and_bulk_update_count_too():
    articles = Article.objects.bulk_create([Article(title="a"), Article(title="b")])
    assert [a.version for a in articles] == [1, 1]
    loaded = list(Article.objects.order_by("pk"))
    for article in loaded:
        article.title += "!"

    Article.objects.bulk_update(loaded, ["title"])

    assert [a.version for a in loaded] == [2, 2]  # read again on access
    assert list(Article.objects.order_by("pk").values_list("version", flat=True)) == [2, 2]


def test_soft_delete_and_restore_count_as_changes():
    note = Note.objects.create(text="x")
    note.delete()
    assert note.version == 2
    note.restore()
    assert note.version == 3
    Note.objects.filter(pk=note.pk).delete()
    assert Note.all_objects.get(pk=note.pk).version == 4


def test_nothing_is_counted_when_tracking_is_disabled():
    article = Article.objects.create(title="a")
    with tracking_disabled():
        article.title = "b"
        article.save()
        Article.objects.update(title="c")

    article.refresh_from_db()
    assert article.version == 1


def test_a_save_that_rolls_back_leaves_the_stored_version():
    article = Article.objects.create(title="a")

    def fail(**kwargs):
        raise RuntimeError("after the UPDATE")

    post_save.connect(fail, sender=Article)
    try:
        article.title = "b"
        with pytest.raises(RuntimeError), transaction.atomic():
            article.save()
    finally:
        post_save.disconnect(fail, sender=Article)

    assert article.version == 1


def test_since_version_is_an_indexed_filter_combined_with_timestamp_and_deleted(time_machine):
    time_machine.move_to("2026-01-01 10:00Z")
    old = Note.objects.create(text="old")
    time_machine.move_to("2026-01-02 10:00Z")
    busy = Note.objects.create(text="busy")
    busy.text = "busier"
    busy.save()
    gone = Note.objects.create(text="gone")
    gone.text = "going"
    gone.save()
    gone.delete()

    assert set(Note.objects.since(version=1)) == {busy}
    assert set(Note.objects.since(version=1, deleted=True)) == {
        busy,
        Note.all_objects.get(pk=gone.pk),
    }
    assert set(Note.objects.since(timestamp="2026-01-01 12:00Z", version=0)) == {busy}
    assert old not in Note.objects.since(version=0, timestamp="2026-01-01 12:00Z")
    assert Note._meta.get_field("version").db_index


def test_since_version_on_a_model_without_a_counter_says_what_to_add():
    with pytest.raises(ImproperlyConfigured, match="VersionedModel"):
        Product.objects.since(version=1)


@pytest.mark.parametrize("bad", ["1", 1.5, True])
def test_since_version_takes_an_int(bad):
    with pytest.raises(TypeError, match="int"):
        Article.objects.since(version=bad)


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_in_revisions_lose_no_increment(alice):
    with reversion.create_revision():
        article = Article.objects.create(title="start")

    def work(index):
        mine = Article.objects.get(pk=article.pk)
        for round_ in range(50):
            with reversion.create_revision(), acting_as(alice):
                mine.title = f"t{index}-{round_}"
                mine.save()

    errors = run_in_threads(work, [(i,) for i in range(8)])

    assert errors == []
    article.refresh_from_db()
    assert article.version == 401
    assert Version.objects.get_for_object(article).count() == 401
    assert len(article.full_history()) == 401
