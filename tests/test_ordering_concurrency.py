"""OrderedModel under real concurrent writers: one lock order, so no deadlock and no gap."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from tests.testapp.models import Board, Card
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 6
ROUNDS = 9
# Bounds, so that a deadlock or a lost wake-up fails the test instead of hanging it.
THREADS_BOUND = 120
LOCK_BOUND = "60s"


def bound_lock_waits():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{LOCK_BOUND}'")


def test_racing_deletes_moves_and_creates_in_one_group_keep_it_contiguous():
    board = Board.objects.create(name="race")
    seeded = {Card.objects.create(board=board, title=f"seed-{i}").pk for i in range(30)}
    barrier = threading.Barrier(WORKERS)
    created, deleted, gone = set(), set(), []

    def worker(index):
        bound_lock_waits()
        chance = random.Random(index)
        barrier.wait()
        for round_ in range(ROUNDS):
            cards = list(Card.objects.filter(board=board))
            victim = chance.choice(cards)
            kind = (index + round_) % 4
            if kind == 0:
                if victim.delete()[0]:
                    deleted.add(victim.pk)
            elif kind == 1:
                if Card.objects.filter(pk=victim.pk).delete()[0]:
                    deleted.add(victim.pk)
            elif kind == 2:
                try:
                    victim.move_to(chance.randrange(len(cards)))
                except ValueError as error:  # deleted by another worker meanwhile
                    assert "deleted or gone" in str(error)
                    gone.append(victim.pk)
            else:
                created.add(Card.objects.create(board=board, title=f"{index}-{round_}").pk)

    errors = run_in_threads(worker, [(i,) for i in range(WORKERS)], timeout=THREADS_BOUND)

    assert errors == []
    alive = list(Card.objects.filter(board=board).values_list("pk", "position"))
    assert sorted(position for _pk, position in alive) == list(range(len(alive)))
    assert {pk for pk, _position in alive} == (seeded | created) - deleted  # no row lost
    assert set(gone) <= deleted


def test_racing_group_changes_both_ways_with_deletes_and_creates_keep_both_groups_contiguous():
    boards = [Board.objects.create(name="left"), Board.objects.create(name="right")]
    seeded = {
        Card.objects.create(board=board, title=f"seed-{board.name}-{i}").pk
        for board in boards
        for i in range(15)
    }
    barrier = threading.Barrier(WORKERS)
    created, deleted = set(), set()

    def worker(index):
        bound_lock_waits()
        chance = random.Random(index)
        barrier.wait()
        for round_ in range(ROUNDS):
            source, target = boards if (index + round_) % 2 else boards[::-1]
            cards = list(Card.objects.filter(board=source))
            if not cards:
                continue
            victim = chance.choice(cards)
            kind = (index + round_) % 4
            if kind == 0:  # a plain save() that changes the group
                victim.board = target
                victim.save()
            elif kind == 1:
                Card.objects.filter(pk=victim.pk).update(board=target)
            elif kind == 2:
                if victim.delete()[0]:
                    deleted.add(victim.pk)
            else:
                created.add(Card.objects.create(board=target, title=f"{index}-{round_}").pk)

    errors = run_in_threads(worker, [(i,) for i in range(WORKERS)], timeout=THREADS_BOUND)

    assert errors == []
    alive = set()
    for board in boards:
        rows = list(Card.objects.filter(board=board).values_list("pk", "position"))
        assert sorted(position for _pk, position in rows) == list(range(len(rows)))
        alive |= {pk for pk, _position in rows}
    assert alive == (seeded | created) - deleted


def test_racing_deletes_restores_and_moves_in_one_group_keep_it_contiguous():
    board = Board.objects.create(name="undo")
    seeded = {Card.objects.create(board=board, title=f"seed-{i}").pk for i in range(30)}
    barrier = threading.Barrier(WORKERS)

    def worker(index):
        bound_lock_waits()
        chance = random.Random(index)
        barrier.wait()
        for round_ in range(ROUNDS):
            kind = (index + round_) % 3
            if kind == 0:
                chance.choice(list(Card.objects.filter(board=board))).delete()
            elif kind == 1:
                dead = list(Card.deleted_objects.filter(board=board))
                if dead:
                    chance.choice(dead).restore()
                else:
                    Card.deleted_objects.filter(board=board).restore()
            else:
                cards = list(Card.objects.filter(board=board))
                try:
                    chance.choice(cards).move_to(chance.randrange(len(cards)))
                except ValueError as error:  # deleted by another worker meanwhile
                    assert "deleted or gone" in str(error)

    errors = run_in_threads(worker, [(i,) for i in range(WORKERS)], timeout=THREADS_BOUND)

    assert errors == []
    positions = sorted(Card.objects.filter(board=board).values_list("position", flat=True))
    assert positions == list(range(len(positions)))
    assert set(Card.all_objects.filter(board=board).values_list("pk", flat=True)) == seeded
