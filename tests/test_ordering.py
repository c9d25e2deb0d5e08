"""OrderedModel: new rows last, moves in one transaction, positions always contiguous."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from django_trackable import acting_as, tracking_disabled
from tests.testapp.models import Board, Card, Step
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def titles(board):
    return list(Card.objects.filter(board=board).values_list("title", flat=True))


def positions(board):
    return list(Card.objects.filter(board=board).values_list("position", flat=True))


@pytest.fixture
def board():
    board = Board.objects.create(name="b")
    for title in "abcde":
        Card.objects.create(board=board, title=title)
    return board


def card(title):
    return Card.objects.get(title=title)


def test_new_rows_go_last_in_their_group(board):
    other = Board.objects.create(name="other")
    Card.objects.create(board=other, title="x")

    assert titles(board) == list("abcde")
    assert positions(board) == [0, 1, 2, 3, 4]
    assert positions(other) == [0]


def test_a_row_created_with_a_position_is_inserted_there(board):
    Card.objects.create(board=board, title="x", position=1)
    Card.objects.create(board=board, title="y", position=99)

    assert titles(board) == list("axbcdey")
    assert positions(board) == list(range(7))


def test_without_groups_the_whole_table_is_one_order():
    for name in "xyz":
        Step.objects.create(name=name)
    Step.objects.get(name="z").move_to(0)

    assert list(Step.objects.values_list("name", "position")) == [("z", 0), ("x", 1), ("y", 2)]


def test_move_to_shifts_the_rows_in_between(board):
    card("d").move_to(1)
    assert titles(board) == list("adbce")
    card("a").move_to(3)
    assert titles(board) == list("dbcae")
    assert positions(board) == [0, 1, 2, 3, 4]


def test_move_to_is_clamped_to_the_group(board):
    card("c").move_to(99)
    assert titles(board) == list("abdec")
    card("d").move_to(-5)
    assert titles(board) == list("dabec")


def test_move_up_and_down_swap_with_a_neighbour(board):
    card("c").move_up()
    assert titles(board) == list("acbde")
    card("a").move_up()  # already first
    card("e").move_down()  # already last
    card("a").move_down()
    assert titles(board) == list("cabde")


def test_a_move_is_one_transaction(board, on_postgresql):
    moving = card("e")
    with CaptureQueriesContext(connection) as queries:
        moving.move_to(0)

    sql = [q["sql"] for q in queries.captured_queries]
    # Outside a test's own transaction these would be BEGIN ... COMMIT; here a savepoint.
    assert sql[0].startswith("SAVEPOINT")
    assert sql[-1].startswith("RELEASE SAVEPOINT")
    assert moving.position == 0


def test_a_stale_instance_moves_from_where_the_row_really_is(board):
    stale = card("e")
    card("a").move_to(4)  # e is now at 3
    stale.move_up()

    assert titles(board) == list("bceda")


def test_a_plain_save_never_writes_a_stale_position(board):
    stale = card("a")
    card("e").move_to(0)
    stale.title = "A"
    stale.save()

    assert titles(board) == list("eAbcd")
    assert positions(board) == [0, 1, 2, 3, 4]


def test_a_stale_save_inside_tracking_disabled_keeps_the_rows_position(board):
    stale = card("a")
    card("e").move_to(0)
    stale.title = "A"
    with tracking_disabled():
        stale.save()

    assert titles(board) == list("eAbcd")
    assert positions(board) == [0, 1, 2, 3, 4]


def test_deleting_closes_the_gap(board):
    card("b").delete()
    assert titles(board) == list("acde")
    assert positions(board) == [0, 1, 2, 3]
    card("d").hard_delete()
    assert positions(board) == [0, 1, 2]


def test_a_queryset_delete_closes_the_gaps_of_every_group(board):
    other = Board.objects.create(name="other")
    for title in "xyz":
        Card.objects.create(board=other, title=title)
    Card.objects.filter(title__in=["a", "c", "y"]).delete()

    assert titles(board) == list("bde")
    assert positions(board) == [0, 1, 2]
    assert titles(other) == ["x", "z"]
    assert positions(other) == [0, 1]


def test_a_restored_row_goes_last(board):
    b = card("b")
    b.delete()
    b.restore()

    assert titles(board) == list("acdeb")
    assert positions(board) == [0, 1, 2, 3, 4]
    assert b.position == 4


def test_a_queryset_restore_puts_the_restored_rows_last(board):
    Card.objects.filter(title__in=["a", "c"]).delete()
    Card.deleted_objects.all().restore()

    assert titles(board) == list("bdeac")
    assert positions(board) == [0, 1, 2, 3, 4]


def test_bulk_create_appends_in_the_given_order(board):
    Card.objects.bulk_create([Card(board=board, title="f"), Card(board=board, title="g")])

    assert titles(board) == list("abcdefg")
    assert positions(board) == list(range(7))


def test_a_move_appends_one_entry_to_the_moved_row_only(board, alice):
    with acting_as(alice):
        card("d").move_to(0)

    moved = card("d")
    assert moved.history[-1]["changes"] == {"position": [3, 0]}
    assert moved.updated_by == alice
    assert [len(card(t).history) for t in "abce"] == [1, 1, 1, 1]


def test_moving_a_deleted_row_is_refused(board):
    b = card("b")
    b.delete()
    with pytest.raises(ValueError, match="deleted"):
        b.move_to(0)


def test_moving_an_unsaved_row_is_refused(board):
    with pytest.raises(ValueError, match="Save"):
        Card(board=board, title="x").move_to(0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_inserts_and_moves_keep_positions_contiguous():
    board = Board.objects.create(name="race")
    for title in "abcd":
        Card.objects.create(board=board, title=title)
    barrier = threading.Barrier(4)

    def worker(index):
        barrier.wait()
        for round_ in range(5):
            Card.objects.create(board=board, title=f"{index}-{round_}")
            Card.objects.filter(board=board).order_by("?").first().move_to(round_)

    errors = run_in_threads(worker, [(i,) for i in range(4)])

    assert errors == []
    assert positions(board) == list(range(24))


def test_a_queryset_hard_delete_closes_the_gaps(board):
    Card.objects.filter(title__in=["b", "d"]).hard_delete()

    assert titles(board) == list("ace")
    assert positions(board) == [0, 1, 2]


def test_deleting_in_a_model_without_groups_closes_the_gap():
    for name in "xyz":
        Step.objects.create(name=name)
    Step.objects.filter(name="x").delete()
    Step.objects.get(name="z").delete()

    assert list(Step.objects.values_list("name", "position")) == [("y", 0)]


def test_bulk_create_keeps_positions_given_by_hand(board):
    Card.objects.bulk_create(
        [Card(board=board, title="f", position=5), Card(board=board, title="g")]
    )

    assert titles(board) == list("abcdefg")
    assert positions(board) == list(range(7))


# -- changing a row's group ----------------------------------------------------


@pytest.fixture
def other(board):
    other = Board.objects.create(name="other")
    for title in "xyz":
        Card.objects.create(board=other, title=title)
    return other


def test_changing_the_group_with_save_closes_the_gap_and_appends(board, other):
    moving = card("b")
    moving.board = other
    moving.save()

    assert (titles(board), positions(board)) == (list("acde"), [0, 1, 2, 3])
    assert (titles(other), positions(other)) == (list("xyzb"), [0, 1, 2, 3])
    assert moving.position == 3


def test_changing_the_group_with_a_position_set_inserts_the_row_there(board, other):
    moving = card("d")
    moving.board = other
    moving.position = 1
    moving.save()

    assert (titles(board), positions(board)) == (list("abce"), [0, 1, 2, 3])
    assert (titles(other), positions(other)) == (list("xdyz"), [0, 1, 2, 3])


def test_changing_the_group_with_update_fields_moves_the_row_too(board, other):
    moving = card("a")
    moving.board = other
    moving.save(update_fields=["board"])

    assert (titles(board), positions(board)) == (list("bcde"), [0, 1, 2, 3])
    assert (titles(other), positions(other)) == (list("xyza"), [0, 1, 2, 3])


def test_a_group_change_is_recorded_and_undone_with_its_transaction(board, other, alice):
    moving = card("c")
    with pytest.raises(RuntimeError), transaction.atomic():
        moving.board = other
        moving.save()
        raise RuntimeError("the caller changes its mind")

    assert (titles(board), titles(other)) == (list("abcde"), list("xyz"))
    moving = card("c")
    moving.board = other
    with acting_as(alice):
        moving.save()
    assert card("c").history[-1]["changes"] == {"board": [board.pk, other.pk]}


def test_a_stale_instance_changes_group_from_where_the_row_really_is(board, other):
    stale = card("e")
    card("a").move_to(4)  # e is now at 3
    stale.board = other
    stale.save()

    assert (titles(board), positions(board)) == (list("bcda"), [0, 1, 2, 3])
    assert (titles(other), positions(other)) == (list("xyze"), [0, 1, 2, 3])


def test_a_group_change_inside_tracking_disabled_keeps_positions_contiguous(board, other):
    moving = card("a")
    moving.board = other
    with tracking_disabled():
        moving.save()

    assert positions(board) == [0, 1, 2, 3]
    assert (titles(other), positions(other)) == (list("xyza"), [0, 1, 2, 3])


def test_a_save_that_keeps_the_group_costs_no_extra_query(board, django_assert_num_queries):
    renamed = card("b")
    renamed.title = "B"
    with django_assert_num_queries(1):
        renamed.save()


def test_moving_rows_to_another_group_with_update_appends_them_in_order(board, other):
    Card.objects.filter(title__in=["d", "b", "x"]).update(board=other)

    assert (titles(board), positions(board)) == (list("ace"), [0, 1, 2])
    # x was there already and keeps its place; b and d arrive in their old order.
    assert (titles(other), positions(other)) == (list("xyzbd"), [0, 1, 2, 3, 4])


def test_moving_rows_to_another_group_with_update_by_attname_or_expression(board, other):
    Card.objects.filter(title="a").update(board_id=other.pk)
    Card.objects.filter(title="y").update(board_id=Value(board.pk))

    assert (titles(board), positions(board)) == (list("bcdey"), [0, 1, 2, 3, 4])
    assert (titles(other), positions(other)) == (list("xza"), [0, 1, 2])


def test_moving_rows_to_another_group_with_bulk_update(board, other):
    moving = [card("e"), card("a")]
    for row in moving:
        row.board = other
    Card.objects.bulk_update(moving, ["board", "title"])

    assert (titles(board), positions(board)) == (list("bcd"), [0, 1, 2])
    assert (titles(other), positions(other)) == (list("xyzae"), [0, 1, 2, 3, 4])
    assert [row.position for row in moving] == [4, 3]


def test_a_deleted_row_changing_group_gets_its_place_when_restored(board, other):
    gone = card("b")
    gone.delete()
    gone.board = other
    gone.save()
    assert positions(other) == [0, 1, 2]

    gone.restore()
    assert (titles(other), positions(other)) == (list("xyzb"), [0, 1, 2, 3])
    assert positions(board) == [0, 1, 2, 3]


def test_a_row_loaded_without_its_group_field_changes_group_like_any_other(board, other):
    moving = Card.objects.only("title").get(title="c")
    moving.board = other
    moving.save()

    assert (titles(board), positions(board)) == (list("abde"), [0, 1, 2, 3])
    assert (titles(other), positions(other)) == (list("xyzc"), [0, 1, 2, 3])
