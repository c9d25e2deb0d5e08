"""Concurrent writers never lose each other's history entries."""

from __future__ import annotations

import datetime
import threading

import pytest

from django_trackable import acting_as
from tests.testapp.models import Product
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
SAVES = 50


def run_threads(target):
    barrier = threading.Barrier(THREADS)

    def start_together(index):
        barrier.wait()
        target(index)

    errors = run_in_threads(start_together, [(i,) for i in range(THREADS)])
    assert errors == []


def test_concurrent_saves_of_one_row_keep_every_entry(django_user_model):
    users = [django_user_model.objects.create_user(f"writer{i}") for i in range(THREADS)]
    product = Product.objects.create(name="shared", quantity=0)

    def work(index):
        mine = Product.objects.get(pk=product.pk)  # each thread loads its own copy
        with acting_as(users[index]):
            for round_ in range(SAVES):
                mine.quantity = index * 1000 + round_ + 1
                mine.save()

    run_threads(work)

    history = Product.objects.get(pk=product.pk).full_history()
    updates = [entry for entry in history if entry["action"] == "update"]
    assert len(updates) == THREADS * SAVES
    per_user = {user.pk: 0 for user in users}
    for entry in updates:
        per_user[entry["user"]] += 1
    assert set(per_user.values()) == {SAVES}


def test_concurrent_update_queries_keep_every_entry():
    product = Product.objects.create(name="shared", quantity=0)

    def work(index):
        for round_ in range(SAVES // 5):
            Product.objects.filter(pk=product.pk).update(name=f"t{index}-r{round_}")

    run_threads(work)

    history = Product.objects.get(pk=product.pk).full_history()
    assert len([e for e in history if e["action"] == "update"]) == THREADS * (SAVES // 5)


def test_concurrent_saves_respect_the_history_limit(settings):
    settings.TRACKABLE = {"HISTORY_LIMIT": 10}
    product = Product.objects.create(name="shared")

    def work(index):
        mine = Product.objects.get(pk=product.pk)
        for round_ in range(10):
            mine.name = f"t{index}-r{round_}"
            mine.save()

    run_threads(work)

    assert len(Product.objects.get(pk=product.pk).history) == 10


def test_updated_at_is_never_older_than_the_newest_entry_under_racing_writers():
    from django_trackable.history import entry_time

    product = Product.objects.create(name="shared", quantity=0)
    violations = []

    def work(index):
        mine = Product.objects.get(pk=product.pk)
        for round_ in range(20):
            mine.quantity = index * 100 + round_ + 1
            mine.save()
            row = Product.objects.with_history().get(pk=product.pk)  # one read of both
            newest = max(entry_time(entry) for entry in row.history)
            if row.updated_at < newest:
                violations.append((row.updated_at, newest))
            if not Product.objects.since(newest - datetime.timedelta(microseconds=1)).exists():
                violations.append(("since", newest))

    run_threads(work)

    assert violations == []


def test_a_shared_acting_as_object_never_leaves_its_actor_on_a_thread(django_user_model):
    bot = django_user_model.objects.create_user("bot")
    system = acting_as(bot, reason="shared")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def save(name):
        return Product.objects.create(name=name).pk

    def first():
        with system:
            first_in.set()
            second_in.wait(timeout=30)
            save("first inside")
        save("first after")
        first_out.set()

    def second():
        first_in.wait(timeout=30)
        with system:
            second_in.set()
            first_out.wait(timeout=30)
            save("second inside")
        save("second after")

    errors = run_in_threads(lambda step: step(), [(first,), (second,)])

    assert errors == []
    made_by = {
        p.name: (p.created_by_id, p.history[0]["user"], p.history[0].get("reason"))
        for p in Product.objects.all()
    }
    assert made_by == {
        "first inside": (bot.pk, bot.pk, "shared"),
        "second inside": (bot.pk, bot.pk, "shared"),
        "first after": (None, None, None),
        "second after": (None, None, None),
    }
