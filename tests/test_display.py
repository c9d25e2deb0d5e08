"""Entries as a person reads them: labels, related objects, masking, word diffs."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.utils import formats, timezone

from django_trackable import acting_as
from django_trackable.display import (
    action_label,
    describe_entries,
    describe_fields,
    word_diff,
)
from tests.adminapp.models import Issue, Priority
from tests.testapp.models import Category

pytestmark = pytest.mark.django_db


def one_change(model, name, old, new):
    (display,) = describe_entries(model, [{"action": "update", "changes": {name: [old, new]}}])
    (change,) = display.changes
    return change


def test_fields_show_their_verbose_names_capitalised():
    change = one_change(Issue, "title", "a", "b")

    assert change.label == "Headline"


def test_choices_show_their_labels_on_both_sides():
    text_choice = one_change(Issue, "state", "open", "closed")
    integer_choice = one_change(Issue, "priority", Priority.LOW.value, Priority.URGENT.value)

    assert (text_choice.old, text_choice.new) == ("Open", "Closed for good")
    assert (integer_choice.old, integer_choice.new) == ("Low", "Urgent")


def test_a_value_that_is_no_longer_a_choice_shows_as_stored():
    change = one_change(Issue, "state", "archived", "open")

    assert (change.old, change.new) == ("archived", "Open")


def test_foreign_keys_show_the_related_objects_str(alice, bob):
    change = one_change(Issue, "assignee", alice.pk, bob.pk)

    assert (change.old, change.new) == ("alice", "bob")


def test_a_related_row_that_is_gone_says_so(alice):
    change = one_change(Issue, "assignee", alice.pk, 987654)

    assert change.old == "alice"
    assert change.new_missing
    assert "987654" in change.new
    assert "no longer exists" in change.new


def test_related_objects_are_fetched_once_per_related_model(django_assert_num_queries, alice, bob):
    categories = [Category.objects.create(name=f"c{n}") for n in range(30)]
    entries = [
        {
            "action": "update",
            "changes": {
                "category": [categories[n].pk, categories[n + 1].pk],
                "assignee": [alice.pk if n % 2 else bob.pk, bob.pk if n % 2 else alice.pk],
            },
        }
        for n in range(29)
    ]

    with django_assert_num_queries(2):  # one for the categories, one for the users
        displays = describe_entries(Issue, entries)

    assert [d.changes[0].new for d in displays] == [f"c{n + 1}" for n in range(29)]


def test_no_query_without_foreign_key_changes(django_assert_num_queries):
    with django_assert_num_queries(0):
        describe_entries(Issue, [{"action": "update", "changes": {"title": ["a", "b"]}}] * 20)


def test_masked_fields_show_no_value_at_all():
    by_setting = one_change(Issue, "access_token", "***", "***")
    by_name_with_leaked_values = one_change(Issue, "access_token", "old-secret", "new-secret")

    for change in (by_setting, by_name_with_leaked_values):
        assert change.hidden
        assert (change.old, change.new) == ("", "")


def test_a_field_masked_by_name_is_hidden_even_when_no_longer_tracked():
    change = one_change(Issue, "api_token", "old-secret", "new-secret")

    assert change.hidden
    assert "secret" not in change.old + change.new


def test_long_text_is_shown_as_a_word_diff():
    old = "The quick brown fox jumps over the lazy dog, " * 3
    new = old.replace("lazy", "sleepy", 1)

    change = one_change(Issue, "body", old, new)

    removed = [s.text for s in change.segments if s.kind == "removed"]
    added = [s.text for s in change.segments if s.kind == "added"]
    assert (removed, added) == (["lazy"], ["sleepy"])
    assert "".join(s.text for s in change.segments if s.kind != "added") == old


def test_short_text_is_shown_as_before_and_after():
    change = one_change(Issue, "body", "short", "shorter")

    assert change.segments == ()
    assert (change.old, change.new) == ("short", "shorter")


def test_word_diffs_keep_whitespace_and_line_breaks():
    segments = word_diff("one two\nthree", "one 2\nthree")

    assert [(s.kind, s.text) for s in segments] == [
        ("same", "one "),
        ("removed", "two"),
        ("added", "2"),
        ("same", "\nthree"),
    ]


def test_json_is_pretty_printed():
    change = one_change(Issue, "data", {"b": 1, "a": [1, 2]}, {})

    assert change.preformatted
    assert change.old == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}'
    assert change.new == "{}"


def test_datetimes_are_shown_in_the_current_time_zone():
    with timezone.override("Europe/Paris"):
        change = one_change(Issue, "due", "2026-11-23T10:00:00.000000+00:00", None)

    paris_eleven = formats.date_format(datetime.datetime(2026, 11, 23, 11, 0), "DATETIME_FORMAT")
    assert change.old == paris_eleven
    assert change.new == ""


def test_booleans_read_yes_and_no():
    change = one_change(Issue, "urgent", False, True)

    assert (change.old, change.new) == ("No", "Yes")


def test_an_entrys_action_user_time_and_revert_moment_are_read():
    moment = "2026-11-23T10:00:00.000000+00:00"
    (display,) = describe_entries(
        Issue,
        [
            {
                "action": "revert",
                "timestamp": "2026-11-23T12:00:00.000000+00:00",
                "user": 7,
                "user_repr": "alice",
                "reverted_to": moment,
                "reason": "typo",
                "changes": {},
            }
        ],
    )

    assert display.action_label == "Reverted"
    assert (display.user_id, display.user_repr, display.reason) == (7, "alice", "typo")
    assert display.timestamp == datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.timezone.utc)
    assert display.reverted_to == datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    "entry",
    [
        {"action": "update", "changes": "not a dict"},
        {"action": "update", "changes": {"title": "not a pair"}},
        {"action": "update", "changes": {"assignee": ["not a key", {"a": 1}]}},
        {"action": "update", "changes": {"due": ["not a date", 5]}},
        {"action": "update", "changes": {"gone_field": [1, [2]]}},
        {"timestamp": "yesterday", "reverted_to": 5},
    ],
)
def test_odd_entries_are_shown_as_stored_never_an_error(entry):
    (display,) = describe_entries(Issue, [entry, "not an entry"])

    assert display.entry == entry


def test_unknown_actions_show_as_stored():
    assert action_label("archive") == "archive"
    assert action_label("update") == "Changed"


def test_entries_of_a_model_that_is_gone_are_masked_by_name():
    (display,) = describe_entries(
        None, [{"action": "update", "changes": {"password": ["a", "b"], "name": ["x", "y"]}}]
    )

    hidden = {change.name: change.hidden for change in display.changes}
    assert hidden == {"password": True, "name": False}


def test_describe_fields_compares_two_versions_like_an_entry(alice):
    changes = describe_fields(Issue, {"assignee": (None, alice.pk), "state": ("open", "closed")})

    assert [(c.label, c.old, c.new) for c in changes] == [
        ("Assigned to", "", "alice"),
        ("State", "Open", "Closed for good"),
    ]


def test_the_template_tag_renders_a_raw_entry_of_an_object(alice):
    with acting_as(alice):
        issue = Issue.objects.create(title="First", access_token="tok-secret-1")
        issue.title = "Second"
        issue.access_token = "tok-secret-2"
        issue.assignee = alice
        issue.save()
    issue = Issue.objects.get()

    html = Template("{% load trackable_history %}{% trackable_changes entry issue %}").render(
        Context({"entry": issue.history[-1], "issue": issue})
    )

    assert "Headline" in html
    assert "First" in html and "Second" in html
    assert "Assigned to" in html and "alice" in html
    assert "changed (hidden)" in html
    assert "tok-secret" not in html


def test_a_create_entry_lists_the_fields_given_a_value():
    (display,) = describe_entries(
        Issue,
        [
            {
                "action": "create",
                "changes": {
                    "title": [None, "New"],
                    "body": [None, ""],
                    "assignee": [None, None],
                    "urgent": [None, False],
                    "access_token": [None, ""],
                },
            }
        ],
    )

    assert [(c.name, c.new, c.hidden) for c in display.changes] == [
        ("title", "New", False),
        ("urgent", "No", False),
        ("access_token", "", True),
    ]


def _rendered(action):
    (display,) = describe_entries(Issue, [{"action": action, "changes": {}}])
    return Template('{% include "django_trackable/entry_changes.html" %}').render(
        Context({"entry": display})
    )


@pytest.mark.parametrize("action", ["delete", "restore"])
def test_a_delete_or_restore_shows_no_note_about_values_not_recorded(action):
    assert "No field values recorded." not in _rendered(action)


def test_an_update_without_changes_says_no_values_were_recorded():
    assert "No field values recorded." in _rendered("update")
