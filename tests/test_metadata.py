"""MetadataModel: dotted-path access, and set_meta(save=True) done in the database."""

from __future__ import annotations

import threading

import pytest

from django_trackable import acting_as
from tests.testapp.models import Profile
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def test_get_meta_reads_nested_keys_with_a_default():
    profile = Profile(name="p", metadata={"billing": {"plan": "pro"}, "n": 1})

    assert profile.get_meta("billing.plan") == "pro"
    assert profile.get_meta(["billing", "plan"]) == "pro"
    assert profile.get_meta("billing.seats", default=5) == 5
    assert profile.get_meta("n.deeper") is None
    assert profile.get_meta("missing") is None


def test_set_meta_creates_the_levels_in_between_in_memory():
    profile = Profile(name="p", metadata={"a": 3})
    profile.set_meta("a.b.c", 1)
    profile.set_meta("x", [1, 2])

    assert profile.metadata == {"a": {"b": {"c": 1}}, "x": [1, 2]}


def test_an_invalid_path_is_refused():
    with pytest.raises(ValueError, match="path"):
        Profile(name="p").set_meta("a..b", 1)


def test_set_meta_with_save_writes_in_one_update_and_reloads(django_assert_num_queries):
    profile = Profile.objects.create(name="p", metadata={"theme": "dark"})
    with django_assert_num_queries(2):  # the UPDATE, then reading metadata back
        profile.set_meta("billing.plan", "pro", save=True)

    assert Profile.objects.get(pk=profile.pk).metadata == {
        "theme": "dark",
        "billing": {"plan": "pro"},
    }


def test_set_meta_with_save_keeps_keys_another_writer_set_meanwhile():
    profile = Profile.objects.create(name="p")
    other = Profile.objects.get(pk=profile.pk)
    other.set_meta("b", 2, save=True)
    profile.set_meta("a", 1, save=True)

    assert Profile.objects.get(pk=profile.pk).metadata == {"a": 1, "b": 2}
    assert profile.metadata == {"a": 1, "b": 2}


def test_set_meta_with_save_replaces_values_that_are_not_objects():
    profile = Profile.objects.create(name="p", metadata={"a": 5, "keep": True})
    profile.set_meta("a.b", "x", save=True)
    Profile.objects.filter(pk=profile.pk).update(metadata=["not", "an", "object"])
    profile.set_meta("c", None, save=True)

    assert Profile.objects.get(pk=profile.pk).metadata == {"c": None}


def test_set_meta_with_save_records_the_change(alice):
    profile = Profile.objects.create(name="p", metadata={"a": 1})
    with acting_as(alice):
        profile.set_meta("b", 2, save=True)

    entry = Profile.objects.get(pk=profile.pk).history[-1]
    assert entry["action"] == "update"
    assert entry["user"] == alice.pk
    assert entry["changes"] == {"metadata": [{"a": 1}, {"a": 1, "b": 2}]}
    assert profile.history[-1] == entry
    assert profile.updated_by == alice


def test_set_meta_with_save_on_a_new_row_saves_it():
    profile = Profile(name="p")
    profile.set_meta("a", 1, save=True)

    assert Profile.objects.get(pk=profile.pk).metadata == {"a": 1}


def test_keys_with_quotes_and_unicode_are_written_as_given():
    profile = Profile.objects.create(name="p")
    profile.set_meta(['we"ird', "clé"], "ü", save=True)

    assert Profile.objects.get(pk=profile.pk).metadata == {'we"ird': {"clé": "ü"}}


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_different_keys_all_win():
    profile = Profile.objects.create(name="p")
    barrier = threading.Barrier(6)

    def writer(index):
        mine = Profile.objects.get(pk=profile.pk)
        barrier.wait()
        for round_ in range(5):
            mine.set_meta(f"k{index}.r{round_}", index, save=True)

    errors = run_in_threads(writer, [(i,) for i in range(6)])

    assert errors == []
    stored = Profile.objects.get(pk=profile.pk).metadata
    assert stored == {f"k{i}": {f"r{r}": i for r in range(5)} for i in range(6)}


# Keys that a JSON path would misread: quotes (SQLite read '"role"' as role),
# path syntax, escapes, wildcards.
HOSTILE_KEYS = [
    '"role"',
    '"x"',
    '"',
    '""',
    'a."b',
    "a.b",
    "a[0]",
    "[0]",
    "$",
    "$.role",
    "*",
    "\\",
    "\\u0072ole",
    'a\\"b',
    "'",
    "{}",
    " role",
    "NULL",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_set_meta_with_save_sets_exactly_the_key_named(key):
    profile = Profile.objects.create(name="p", metadata={"role": "admin", "x": 1, "a": {"b": 2}})

    profile.set_meta([key], "set", save=True)

    expected = {"role": "admin", "x": 1, "a": {"b": 2}, key: "set"}
    assert Profile.objects.get(pk=profile.pk).metadata == expected
    assert profile.metadata == expected


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_set_meta_with_save_sets_exactly_the_nested_key_named(key):
    profile = Profile.objects.create(name="p", metadata={"role": {"role": "admin"}, key: {"k": 0}})

    profile.set_meta([key, key], "set", save=True)

    expected = {"role": {"role": "admin"}, key: {"k": 0, key: "set"}}
    assert Profile.objects.get(pk=profile.pk).metadata == expected


def test_set_meta_with_save_stores_the_value_exactly():
    value = {"null": None, "flag": True, "off": False, "f": 0.1 + 0.2, "big": 2**53, "l": [None]}
    profile = Profile.objects.create(name="p", metadata={"v": {"old": 1}, "keep": None})

    profile.set_meta("v", value, save=True)
    profile.set_meta("n", None, save=True)

    assert Profile.objects.get(pk=profile.pk).metadata == {"v": value, "keep": None, "n": None}


def test_set_meta_on_a_row_whose_metadata_is_not_an_object_starts_afresh():
    profile = Profile(name="p", metadata=None)
    profile.set_meta("a", 1)

    assert profile.metadata == {"a": 1}
