"""SoftDeleteModel and TimestampedModel: soft deletes, restores, cascades and their edges."""

from __future__ import annotations

import datetime
import io
import json

import pytest
import time_machine
from django import forms
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Prefetch, Q
from django.test.utils import CaptureQueriesContext

from django_trackable import acting_as, tracking_disabled
from django_trackable.models import alive_related
from tests.testapp.models import (
    Attachment,
    Author,
    Comment,
    Folder,
    Label,
    Post,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.timezone.utc)
T1 = T0 + datetime.timedelta(hours=1)
T2 = T0 + datetime.timedelta(hours=2)


def make_author(name="Ann", email=None):
    return Author.objects.create(name=name, email=email or f"{name.lower()}@example.com")


def actions(obj):
    return [entry["action"] for entry in type(obj).all_objects.get(pk=obj.pk).history]


# --- instances -------------------------------------------------------------------


def test_delete_hides_the_row_from_objects_but_keeps_it():
    author = make_author()
    author.delete()

    assert not Author.objects.filter(pk=author.pk).exists()
    assert Author.all_objects.filter(pk=author.pk).exists()
    assert list(Author.deleted_objects.all()) == [author]


def test_delete_stamps_who_and_when_and_appends_a_delete_entry(alice):
    with time_machine.travel(T0, tick=False):
        author = make_author()
    with acting_as(alice, reason="spam"), time_machine.travel(T1, tick=False):
        count, per_model = author.delete()

    stored = Author.all_objects.get(pk=author.pk)
    assert (count, per_model) == (1, {"testapp.Author": 1})
    assert stored.date_deleted == T1
    assert stored.deleted_by == alice
    assert stored.updated_at == T1
    assert stored.updated_by == alice
    assert stored.history[-1] == {
        "action": "delete",
        "timestamp": T1.isoformat(timespec="microseconds"),
        "user": alice.pk,
        "user_repr": "alice",
        "reason": "spam",
    }


def test_delete_is_one_update_statement(django_assert_num_queries):
    label = Label.objects.create(name="x")
    with django_assert_num_queries(1):
        label.delete()


def test_deleted_instance_holds_what_the_row_holds(alice):
    author = make_author()
    with acting_as(alice):
        author.delete()

    stored = Author.all_objects.get(pk=author.pk)
    assert author.is_deleted
    assert author.date_deleted == stored.date_deleted
    assert author.deleted_by_id == alice.pk
    assert author.history == stored.history


def test_saving_a_stale_instance_does_not_undelete_the_row():
    author = make_author()
    stale = Author.objects.get(pk=author.pk)
    author.delete()
    stale.name = "Renamed"
    stale.save()

    stored = Author.all_objects.get(pk=author.pk)
    assert stored.is_deleted
    assert stored.name == "Renamed"


def test_a_stale_save_inside_tracking_disabled_does_not_undelete_the_row():
    author = make_author()
    stale = Author.objects.get(pk=author.pk)
    author.delete()
    stale.name = "Renamed"
    with tracking_disabled():
        stale.save()

    stored = Author.all_objects.get(pk=author.pk)
    assert stored.is_deleted
    assert stored.deleted_by_id == author.deleted_by_id
    assert stored.name == "Renamed"
    assert stored.history == author.history  # no entry, and none lost


def test_deleting_a_deleted_row_again_changes_nothing():
    author = make_author()
    author.delete()
    again = Author.all_objects.get(pk=author.pk)

    assert again.delete() == (0, {})
    assert actions(author) == ["create", "delete"]


def test_deleting_an_unsaved_instance_raises():
    with pytest.raises(ValueError, match="can't be deleted"):
        Author(name="x", email="x@example.com").delete()


def test_restore_brings_the_row_back_with_a_restore_entry(alice, bob):
    with time_machine.travel(T0, tick=False):
        author = make_author()
    with acting_as(alice), time_machine.travel(T1, tick=False):
        author.delete()
    with acting_as(bob), time_machine.travel(T2, tick=False):
        assert author.restore() == (1, {"testapp.Author": 1})

    stored = Author.objects.get(pk=author.pk)
    assert not stored.is_deleted
    assert stored.deleted_by is None
    assert stored.updated_by == bob
    assert stored.updated_at == T2
    assert [e["action"] for e in stored.history] == ["create", "delete", "restore"]
    assert not author.is_deleted
    assert author.history == stored.history


def test_restoring_an_alive_row_does_nothing():
    author = make_author()
    assert author.restore() == (0, {})
    assert actions(author) == ["create"]


def test_hard_delete_removes_the_row_and_its_dependants():
    author = make_author()
    post = Post.objects.create(author=author, title="p")
    Attachment.objects.create(post=post, name="a")
    author.hard_delete()

    assert not Author.all_objects.exists()
    assert not Post.all_objects.exists()
    assert not Attachment.objects.exists()


def test_hard_delete_also_removes_rows_already_soft_deleted():
    author = make_author()
    Post.objects.create(author=author, title="p").delete()
    author.hard_delete()

    assert not Post.all_objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_adelete_is_soft():
    author = await Author.objects.acreate(name="A", email="a@example.com")
    await author.adelete()

    assert await Author.all_objects.filter(pk=author.pk, date_deleted__isnull=False).aexists()


def test_soft_delete_without_trackable_model_records_who(alice):
    label = Label.objects.create(name="x")
    with acting_as(alice):
        label.delete()

    stored = Label.all_objects.get(pk=label.pk)
    assert stored.deleted_by == alice
    assert stored.date_deleted is not None


def test_soft_delete_inside_tracking_disabled_deletes_but_records_nothing(alice):
    author = make_author()
    with acting_as(alice), tracking_disabled():
        author.delete()

    stored = Author.all_objects.get(pk=author.pk)
    assert stored.is_deleted
    assert stored.deleted_by is None
    assert [e["action"] for e in stored.history] == ["create"]


def test_rolled_back_soft_delete_leaves_no_trace():
    author = make_author()
    with pytest.raises(RuntimeError), transaction.atomic():
        Author.objects.get(pk=author.pk).delete()
        raise RuntimeError

    assert Author.objects.get(pk=author.pk).history == author.history


def test_timestamped_aliases_read_the_stamps():
    author = make_author()
    assert author.date_added == author.created_at
    assert author.date_updated == author.updated_at
    with pytest.raises(AttributeError):
        author.date_added = T0


# --- querysets -------------------------------------------------------------------


def test_queryset_delete_of_1000_rows_is_one_update_per_model_with_an_entry_each(alice):
    author = make_author()
    Post.objects.bulk_create([Post(author=author, title=f"p{i}") for i in range(1000)])
    with acting_as(alice), CaptureQueriesContext(connection) as queries:
        count, per_model = Post.objects.filter(author=author).delete()

    # Posts, then their comments (none): one statement for each model.
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2
    assert all(sql.startswith("UPDATE") for sql in statements)
    assert '"testapp_post"' in statements[0] and '"testapp_comment"' in statements[1]
    assert (count, per_model) == (1000, {"testapp.Post": 1000})
    assert not Post.objects.exists()
    for post in Post.all_objects.all():
        assert post.deleted_by == alice
        assert [e["action"] for e in post.history] == ["create", "delete"]


def test_queryset_delete_of_a_model_without_dependants_is_one_statement():
    Label.objects.bulk_create([Label(name=f"l{i}") for i in range(1000)])
    with CaptureQueriesContext(connection) as queries:
        Label.objects.all().delete()

    assert len(queries) == 1
    assert Label.deleted_objects.count() == 1000


def test_queryset_delete_skips_rows_already_deleted():
    author = make_author()
    first = Post.objects.create(author=author, title="first")
    Post.objects.create(author=author, title="second")
    first.delete()

    assert Post.all_objects.all().delete() == (1, {"testapp.Post": 1})
    assert actions(first) == ["create", "delete"]


def test_manager_has_no_delete_method():
    with pytest.raises(AttributeError):
        Post.objects.delete()


def test_sliced_queryset_cannot_be_deleted():
    with pytest.raises(TypeError, match="limit"):
        Post.objects.all()[:1].delete()


def test_queryset_restore_finds_deleted_rows_from_any_manager():
    author = make_author()
    post = Post.objects.create(author=author, title="p")
    post.delete()

    assert Post.objects.filter(pk=post.pk).restore() == (1, {"testapp.Post": 1})
    assert Post.objects.filter(pk=post.pk).exists()
    assert actions(post) == ["create", "delete", "restore"]


def test_queryset_hard_delete_removes_only_the_rows_it_holds():
    author = make_author()
    alive = Post.objects.create(author=author, title="alive")
    dead = Post.objects.create(author=author, title="dead")
    dead.delete()
    Post.objects.all().hard_delete()

    assert list(Post.all_objects.all()) == [dead]
    Post.deleted_objects.all().hard_delete()
    assert not Post.all_objects.exists()
    assert alive.pk is not None


def test_update_of_deleted_rows_needs_all_objects():
    author = make_author()
    Post.objects.create(author=author, title="p").delete()

    assert Post.objects.update(title="x") == 0
    assert Post.all_objects.update(title="x") == 1


# --- cascades --------------------------------------------------------------------


def test_delete_cascades_to_soft_deletable_children_and_grandchildren():
    author = make_author()
    post = Post.objects.create(author=author, title="p")
    Comment.objects.create(post=post, text="c1")
    Comment.objects.create(post=post, text="c2")
    with time_machine.travel(T1, tick=False):
        result = author.delete()

    assert result == (4, {"testapp.Author": 1, "testapp.Post": 1, "testapp.Comment": 2})
    assert not Post.objects.exists()
    assert not Comment.objects.exists()
    assert set(Comment.all_objects.values_list("date_deleted", flat=True)) == {T1}


def test_restore_restores_exactly_what_the_delete_removed():
    author = make_author()
    kept = Post.objects.create(author=author, title="deleted on its own")
    post = Post.objects.create(author=author, title="deleted with the author")
    comment = Comment.objects.create(post=post, text="deleted with the author")
    earlier = Comment.objects.create(post=post, text="deleted on its own")
    with time_machine.travel(T0, tick=False):
        kept.delete()
        earlier.delete()
    with time_machine.travel(T1, tick=False):
        author.delete()
    with time_machine.travel(T2, tick=False):
        assert author.restore() == (
            3,
            {"testapp.Author": 1, "testapp.Post": 1, "testapp.Comment": 1},
        )

    assert set(Post.objects.all()) == {post}
    assert set(Comment.objects.all()) == {comment}
    assert set(Post.deleted_objects.all()) == {kept}
    assert set(Comment.deleted_objects.all()) == {earlier}
    assert actions(earlier) == ["create", "delete"]


def test_cascade_follows_a_self_referencing_tree():
    root = Folder.objects.create(name="root")
    child = Folder.objects.create(name="child", parent=root)
    grandchild = Folder.objects.create(name="grandchild", parent=child)
    other = Folder.objects.create(name="other")
    root.delete()

    assert list(Folder.objects.all()) == [other]
    root.restore()
    assert set(Folder.objects.all()) == {root, child, grandchild, other}


def test_cascade_follows_hidden_reverse_relations():
    post = Post.objects.create(author=make_author(), title="p")
    question = Comment.objects.create(post=post, text="?")
    answer = Comment.objects.create(post=post, text="!", reply_to=question)
    question.delete()

    assert Comment.deleted_objects.get(pk=answer.pk)


def test_plain_models_pointing_at_a_deleted_row_are_left_alone():
    post = Post.objects.create(author=make_author(), title="p")
    attachment = Attachment.objects.create(post=post, name="a.pdf")
    post.delete()

    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.post == post  # the foreign key still resolves
    assert stored.post.is_deleted


def test_queryset_delete_cascades_and_queryset_restore_restores_it():
    authors = [make_author(f"A{i}") for i in range(3)]
    for author in authors:
        Post.objects.create(author=author, title="p")
    Author.objects.filter(pk__in=[a.pk for a in authors[:2]]).delete()

    assert Post.objects.count() == 1
    Author.deleted_objects.all().restore()
    assert Post.objects.count() == 3


# --- reading ---------------------------------------------------------------------


def test_reverse_related_managers_exclude_deleted_rows():
    author = make_author()
    alive = Post.objects.create(author=author, title="alive")
    Post.objects.create(author=author, title="dead").delete()

    assert list(author.posts.all()) == [alive]
    assert author.posts.count() == 1
    assert set(author.posts.with_deleted()) == set(Post.all_objects.all())


def test_prefetch_related_excludes_deleted_rows():
    author = make_author()
    alive = Post.objects.create(author=author, title="alive")
    Post.objects.create(author=author, title="dead").delete()

    (loaded,) = Author.objects.prefetch_related("posts")
    assert list(loaded.posts.all()) == [alive]
    (loaded,) = Author.objects.prefetch_related(
        Prefetch("posts", queryset=Post.all_objects.all(), to_attr="every_post")
    )
    assert len(loaded.every_post) == 2


def test_foreign_key_to_a_deleted_row_still_resolves():
    author = make_author()
    post = Post.objects.create(author=author, title="p")
    Author.objects.filter(pk=author.pk).update(name="x")  # keep the post alive:
    Author.all_objects.filter(pk=author.pk).update(date_deleted=T0)  # delete without cascade

    assert Post.objects.get(pk=post.pk).author == author


def test_managers_and_base_manager():
    assert Post._default_manager is Post.objects
    assert Post._base_manager.name == "_base_manager"  # Django's own, unfiltered
    post = Post.objects.create(author=make_author(), title="p")
    post.delete()
    assert Post._base_manager.filter(pk=post.pk).exists()
    post.refresh_from_db()  # works through the base manager
    assert post.is_deleted


def test_with_deleted_keeps_the_other_filters():
    author = make_author()
    Post.objects.create(author=author, title="a").delete()
    Post.objects.create(author=author, title="b").delete()

    assert Post.objects.filter(title="a").count() == 0
    assert Post.objects.filter(title="a").with_deleted().count() == 1
    assert Post.objects.exclude(title="a").with_deleted().count() == 1
    assert (
        Post.objects.filter(title="a") | Post.objects.filter(title="b")
    ).with_deleted().count() == 2


def test_alive_and_only_deleted_switch_the_state_filter():
    author = make_author()
    alive = Post.objects.create(author=author, title="alive")
    dead = Post.objects.create(author=author, title="dead")
    dead.delete()

    assert list(Post.deleted_objects.alive()) == [alive]
    assert list(Post.objects.only_deleted()) == [dead]
    assert Post.deleted_objects.with_deleted().count() == 2


def test_since_excludes_deleted_rows_unless_asked():
    author = make_author()
    with time_machine.travel(T0, tick=False):
        post = Post.objects.create(author=author, title="p")
    with time_machine.travel(T2, tick=False):
        post.delete()

    assert list(Post.objects.since(T1)) == []
    assert list(Post.objects.since(T1, deleted=True)) == [post]
    assert list(Post.all_objects.since(T1)) == []
    assert list(Post.deleted_objects.since(T1, deleted=True)) == [post]
    assert list(Post.objects.since(T2, deleted=True)) == []


def test_a_deletion_counts_as_a_change_even_when_nothing_was_recorded():
    with time_machine.travel(T0, tick=False):
        post = Post.objects.create(author=make_author(), title="p")
    with time_machine.travel(T2, tick=False), tracking_disabled():
        post.delete()

    assert list(Post.objects.since(T1, deleted=True)) == [post]


def test_deleted_since_lists_rows_deleted_after_a_time():
    author = make_author()
    old = Post.objects.create(author=author, title="old")
    new = Post.objects.create(author=author, title="new")
    Post.objects.create(author=author, title="alive")
    with time_machine.travel(T0, tick=False):
        old.delete()
    with time_machine.travel(T2, tick=False):
        new.delete()

    assert list(Post.objects.deleted_since(T1)) == [new]
    assert list(Post.objects.deleted_since(T1.timestamp())) == [new]


def test_a_restore_counts_as_a_change():
    with time_machine.travel(T0, tick=False):
        post = Post.objects.create(author=make_author(), title="p")
        post.delete()
    with time_machine.travel(T2, tick=False):
        post.restore()

    assert list(Post.objects.since(T1)) == [post]


# --- uniqueness ----------------------------------------------------------------


def test_unique_clash_with_a_deleted_row_is_a_validation_error():
    make_author(email="ann@example.com").delete()
    again = Author(name="Ann", email="ann@example.com")

    with pytest.raises(ValidationError) as excinfo:
        again.full_clean()
    assert "email" in excinfo.value.message_dict


def test_modelform_reports_a_clash_with_a_deleted_row():
    class AuthorForm(forms.ModelForm):
        class Meta:
            model = Author
            fields = ("name", "email")

    make_author(email="ann@example.com").delete()
    form = AuthorForm(data={"name": "Ann", "email": "ann@example.com"})

    assert not form.is_valid()
    assert "email" in form.errors


def test_conditional_unique_constraint_lets_alive_rows_reuse_a_deleted_value():
    Label.objects.create(name="a", code="X").delete()
    fresh = Label(name="b", code="X")
    fresh.full_clean()
    fresh.save()

    with pytest.raises(ValidationError):
        Label(name="c", code="X").full_clean()


# --- dumpdata ---------------------------------------------------------------------


def test_dumpdata_leaves_deleted_rows_out_and_all_brings_them_with_their_state():
    alive = make_author("Alive")
    dead = make_author("Dead")
    dead.delete()

    plain = json.loads(_dump("testapp.Author"))
    every = json.loads(_dump("testapp.Author", "--all"))

    assert [row["pk"] for row in plain] == [alive.pk]
    assert sorted(row["pk"] for row in every) == sorted([alive.pk, dead.pk])
    (dumped,) = [row for row in every if row["pk"] == dead.pk]
    assert dumped["fields"]["date_deleted"] is not None


def test_loaddata_of_a_full_dump_restores_deleted_rows_as_deleted(tmp_path):
    dead = make_author("Dead")
    dead.delete()
    fixture = tmp_path / "authors.json"
    fixture.write_text(_dump("testapp.Author", "--all"))
    Author.all_objects.all().hard_delete()

    call_command("loaddata", str(fixture), verbosity=0)

    stored = Author.all_objects.get(pk=dead.pk)
    assert stored.is_deleted
    assert [e["action"] for e in stored.history] == ["create", "delete"]


def _dump(*args):
    out = io.StringIO()
    call_command("dumpdata", *args, stdout=out)
    return out.getvalue()


def test_since_with_deleted_and_no_timestamp_is_every_row():
    author = make_author()
    Post.objects.create(author=author, title="a").delete()
    Post.objects.create(author=author, title="b")

    assert Post.objects.since(deleted=True).count() == 2


def test_a_values_queryset_cannot_be_deleted_or_restored():
    with pytest.raises(TypeError, match="values"):
        Post.objects.values("title").delete()
    with pytest.raises(TypeError, match="values"):
        Post.objects.values("title").restore()


def test_delete_and_restore_respect_the_history_limit(settings):
    settings.TRACKABLE = {"HISTORY_LIMIT": 1}
    author = make_author()
    author.delete()
    assert [e["action"] for e in author.history] == ["delete"]
    author.restore()

    assert [e["action"] for e in author.history] == ["restore"]
    assert Author.objects.get(pk=author.pk).history == author.history


def test_restore_clears_the_deleting_user_from_the_instance(alice, django_assert_num_queries):
    author = make_author()
    with acting_as(alice):
        author.delete()
    assert author.deleted_by == alice
    author.restore()

    with django_assert_num_queries(0):
        assert author.deleted_by is None


# -- filters and annotations across relations ------------------------------------


@pytest.fixture
def authors_with_a_deleted_post():
    """Ann: a deleted post "Draft" and an alive one; Bob: an alive "Draft"; Cy: no posts."""
    ann, bob, cy = make_author("Ann"), make_author("Bob"), make_author("Cy")
    Post.objects.create(author=ann, title="Draft").delete()
    Post.objects.create(author=ann, title="Live")
    Post.objects.create(author=bob, title="Draft")
    return ann, bob, cy


def names(queryset):
    return sorted(queryset.values_list("name", flat=True))


def test_a_plain_filter_across_a_reverse_relation_sees_deleted_rows(authors_with_a_deleted_post):
    # Django joins the related table directly: the documented limit.
    assert names(Author.objects.filter(posts__title="Draft")) == ["Ann", "Bob"]
    counts = dict(Author.objects.annotate(n=Count("posts")).values_list("name", "n"))
    assert counts == {"Ann": 2, "Bob": 1, "Cy": 0}


def test_alive_related_filters_on_alive_related_rows_only(authors_with_a_deleted_post):
    assert names(Author.objects.filter(alive_related("posts", title="Draft"))) == ["Bob"]
    assert names(Author.objects.filter(alive_related("posts"))) == ["Ann", "Bob"]


def test_alive_related_counts_alive_related_rows_only(authors_with_a_deleted_post):
    counts = Author.objects.annotate(
        n=Count("posts", filter=alive_related("posts")),
        drafts=Count("posts", filter=alive_related("posts", title="Draft")),
    )

    assert sorted(counts.values_list("name", "n", "drafts")) == [
        ("Ann", 1, 0),
        ("Bob", 1, 1),
        ("Cy", 0, 0),
    ]


def test_a_filtered_relation_of_alive_rows_serves_filters_and_counts(authors_with_a_deleted_post):
    authors = Author.objects.annotate(
        alive_posts=FilteredRelation("posts", condition=Q(posts__date_deleted=None))
    )

    assert names(authors.filter(alive_posts__title="Draft")) == ["Bob"]
    counts = dict(authors.annotate(n=Count("alive_posts")).values_list("name", "n"))
    assert counts == {"Ann": 1, "Bob": 1, "Cy": 0}


def test_exists_over_objects_excludes_by_alive_related_rows(authors_with_a_deleted_post):
    drafts = Post.objects.filter(author=OuterRef("pk"), title="Draft")  # objects: alive only

    assert names(Author.objects.filter(~Exists(drafts))) == ["Ann", "Cy"]


def test_exclude_across_a_reverse_relation_tests_each_condition_on_its_own(
    authors_with_a_deleted_post,
):
    # Django's rule for exclude() across multi-valued relations, documented
    # with Exists() as the way around: "no alive Draft" loses Ann here.
    assert names(Author.objects.exclude(alive_related("posts", title="Draft"))) == ["Cy"]
