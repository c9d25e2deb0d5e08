"""StatusModel: checked, atomic transitions with history."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError

from django_trackable import acting_as
from django_trackable.models import TransitionConflict, TransitionNotAllowed
from tests.testapp.models import Order, OrderStatus, Ticket
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 5, 1, 8, 0, tzinfo=datetime.timezone.utc)
T1 = T0 + datetime.timedelta(minutes=5)


def test_new_rows_start_in_the_initial_status():
    assert Order.objects.create(reference="o").status == "new"  # the first choice
    assert Ticket.objects.create(title="t").status == "open"  # INITIAL_STATUS


def test_status_field_takes_its_choices_from_the_model():
    assert Order._meta.get_field("status").choices == OrderStatus.choices
    assert Ticket._meta.get_field("status").choices == [("open", "Open"), ("closed", "Closed")]


def test_status_changed_at_is_set_when_a_row_is_created():
    with time_machine.travel(T0, tick=False):
        order = Order.objects.create(reference="o")

    assert order.status_changed_at == T0


def test_a_status_changed_at_given_on_create_is_kept():
    assert Order.objects.create(reference="o", status_changed_at=T0).status_changed_at == T0


def test_transition_writes_status_stamps_and_a_transition_entry(alice):
    with time_machine.travel(T0, tick=False):
        order = Order.objects.create(reference="o")
    with acting_as(alice), time_machine.travel(T1, tick=False):
        order.transition_to(OrderStatus.PAID)

    stored = Order.objects.get(pk=order.pk)
    assert stored.status == "paid"
    assert stored.status_changed_at == T1
    assert stored.updated_at == T1
    assert stored.updated_by == alice
    assert stored.history[-1] == {
        "action": "transition",
        "timestamp": T1.isoformat(timespec="microseconds"),
        "user": alice.pk,
        "user_repr": "alice",
        "changes": {"status": ["new", "paid"]},
    }
    assert order.history == stored.history
    assert (order.status, order.status_changed_at) == ("paid", T1)


def test_transition_is_one_update_statement(django_assert_num_queries):
    order = Order.objects.create(reference="o")
    with django_assert_num_queries(1):
        order.transition_to("paid")


def test_transition_extra_keys_go_into_the_entry():
    order = Order.objects.create(reference="o")
    order.transition_to("cancelled", reason="customer asked")

    assert Order.objects.get(pk=order.pk).history[-1]["reason"] == "customer asked"


def test_a_transition_the_model_does_not_allow_is_refused_naming_both_states():
    order = Order.objects.create(reference="o")
    with pytest.raises(TransitionNotAllowed, match="from 'new' to 'shipped'") as excinfo:
        order.transition_to(OrderStatus.SHIPPED)

    assert (excinfo.value.current, excinfo.value.target) == ("new", "shipped")
    assert Order.objects.get(pk=order.pk).status == "new"
    assert len(Order.objects.get(pk=order.pk).history) == 1


def test_a_terminal_status_allows_no_transition():
    order = Order.objects.create(reference="o")
    order.transition_to("cancelled")
    with pytest.raises(TransitionNotAllowed, match="none"):
        order.transition_to("new")


def test_a_transition_to_an_unknown_status_is_refused():
    with pytest.raises(TransitionNotAllowed, match="not a status"):
        Ticket.objects.create(title="t").transition_to("archived")


def test_without_transitions_any_other_status_is_allowed_but_not_the_same():
    ticket = Ticket.objects.create(title="t")
    ticket.transition_to("closed")
    ticket.transition_to("open")
    with pytest.raises(TransitionNotAllowed):
        ticket.transition_to("open")


def test_a_transition_from_a_stale_status_is_a_conflict_and_writes_nothing():
    order = Order.objects.create(reference="o")
    stale = Order.objects.get(pk=order.pk)
    order.transition_to("paid")

    with pytest.raises(TransitionConflict, match="from 'new' to 'cancelled'.*'paid' now") as exc:
        stale.transition_to("cancelled")
    assert (exc.value.expected, exc.value.current, exc.value.target) == (
        "new",
        "paid",
        "cancelled",
    )
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == "paid"
    assert [e["action"] for e in stored.history] == ["create", "transition"]


def test_a_transition_of_an_unsaved_row_is_refused():
    with pytest.raises(ValueError, match="Save"):
        Order(reference="o").transition_to("paid")


def test_transition_of_a_deleted_row_is_a_conflict():
    order = Order.objects.create(reference="o")
    Order.objects.filter(pk=order.pk).delete()
    with pytest.raises(TransitionConflict, match="no longer exists"):
        order.transition_to("paid")


def test_reserved_entry_keys_cannot_be_passed_to_transition_to():
    with pytest.raises(ValueError, match="user"):
        Order.objects.create(reference="o").transition_to("paid", user=3)


def test_a_plain_save_that_changes_status_stamps_status_changed_at():
    with time_machine.travel(T0, tick=False):
        order = Order.objects.create(reference="o")
    order = Order.objects.get(pk=order.pk)
    order.status = "paid"
    with time_machine.travel(T1, tick=False):
        order.save(update_fields=["status"])

    stored = Order.objects.get(pk=order.pk)
    assert stored.status_changed_at == T1
    # status_changed_at is left out of entries: it repeats the entry's time.
    assert stored.history[-1]["changes"] == {"status": ["new", "paid"]}


def test_a_save_that_keeps_the_status_keeps_status_changed_at():
    with time_machine.travel(T0, tick=False):
        order = Order.objects.create(reference="o")
    order = Order.objects.get(pk=order.pk)
    order.reference = "renamed"
    with time_machine.travel(T1, tick=False):
        order.save()

    assert Order.objects.get(pk=order.pk).status_changed_at == T0


def test_full_clean_refuses_a_status_change_the_model_does_not_allow():
    order = Order.objects.get(pk=Order.objects.create(reference="o").pk)
    order.status = "shipped"

    with pytest.raises(ValidationError) as excinfo:
        order.full_clean()
    assert "status" in excinfo.value.message_dict
    order.status = "paid"
    order.full_clean()


def test_by_status_and_active():
    new = Order.objects.create(reference="new")
    paid = Order.objects.create(reference="paid")
    paid.transition_to("paid")
    done = Order.objects.create(reference="done")
    done.transition_to("cancelled")

    assert set(Order.objects.by_status("paid", OrderStatus.NEW)) == {new, paid}
    # Without ACTIVE_STATUSES: the statuses TRANSITIONS lets a row leave.
    assert set(Order.objects.active()) == {new, paid}
    assert set(Order.objects.filter(reference__startswith="n").active()) == {new}
    assert Order.active_statuses() == ["new", "paid"]
    assert Ticket.active_statuses() == ["open", "closed"]


@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_transition_to_leave_one_winner_and_one_conflict():
    order = Order.objects.create(reference="race")
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(target):
        mine = Order.objects.get(pk=order.pk)
        barrier.wait()
        try:
            mine.transition_to(target)
            outcomes.append(("won", target))
        except TransitionConflict as exc:
            outcomes.append(("lost", exc))

    run_in_threads(worker, [("paid",), ("cancelled",)])

    assert sorted(kind for kind, _ in outcomes) == ["lost", "won"]
    (winner,) = [target for kind, target in outcomes if kind == "won"]
    (conflict,) = [exc for kind, exc in outcomes if kind == "lost"]
    assert conflict.expected == "new"
    assert conflict.current == winner
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == winner
    assert [e["action"] for e in stored.history] == ["create", "transition"]


def test_status_choices_may_be_plain_values():
    from django_trackable.models.status import status_choices

    class Plain:
        STATUS_CHOICES = ["draft", "final"]

    assert status_choices(Plain) == [("draft", "draft"), ("final", "final")]


def test_full_clean_accepts_an_unchanged_status():
    order = Order.objects.create(reference="o")
    order.transition_to("cancelled")
    Order.objects.get(pk=order.pk).full_clean()
