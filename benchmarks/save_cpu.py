"""CPU time of one single-field save, tracked against the same columns stamped by hand.

    bash .ci/with-postgres.sh .venv/bin/python -m benchmarks.save_cpu   # PostgreSQL
    python -m benchmarks.save_cpu                                       # SQLite

Ten rows of each model, each holding ten entries (the by-hand rows the same
ten, so both rows are as large); three saves of each row per transaction,
rolled back, 40 transactions per sample, samples interleaved for
``--rounds`` rounds; the report gives the median CPU time (this process only,
so the database server's work is left out on PostgreSQL) per save. Two
diagnostic variants show what a tracked save spends on the history window
(``HISTORY_WINDOW``): one without the ``RETURNING`` of the new history length
that tells a save whether its row passed the window, one also without the
statement hooks (the tracked query and compiler classes) the window needs.
They are switched off here only, by replacing two functions: no setting
turns them off, and without them no entry ever leaves a row.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

from django.db import transaction
from django.utils import timezone

from benchmarks import core, rotated, scale  # core sets up Django
from benchmarks.benchapp.models import PlainStamped, Tracked
from django_trackable import acting_as, archive, tracking

ROWS = 10


def rows(user: Any) -> tuple[list[Any], list[Any]]:
    """Ten by-hand and ten tracked rows, each holding ten entries."""
    ten = core.distinct_entries(10, timezone.now())
    by_hand = scale.seed(PlainStamped, ROWS, {**scale.stamped_by_hand(user), "history": ten})
    tracked = scale.seed(Tracked, ROWS)
    scale.reset_history(10)(tracked)
    return by_hand, tracked


def cpu_per_save(objs: list[Any]) -> float:
    """Microseconds of CPU per save, each transaction rolled back."""
    spent = 0.0
    for _ in range(40):
        with transaction.atomic():
            start = time.process_time()
            for _ in range(3):
                for obj in objs:
                    obj.quantity += 1
                    obj.save()
            spent += time.process_time() - start
            transaction.set_rollback(True)
        for obj in objs:  # the rolled-back entries: load the row's again on access
            obj.__dict__.pop("history", None)
    return spent / (40 * 3 * len(objs)) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    core.create_tables()
    user_model = Tracked._meta.get_field("created_by").related_model
    user, _ = user_model.objects.get_or_create(username="bench")  # type: ignore[union-attr]
    by_hand, tracked = rows(user)
    no_lengths = (archive, "applies", lambda compiler: None)
    no_hooks = (tracking, "statement_hooks", lambda model: False)
    variants: dict[str, Callable[[], float]] = {
        "stamped by hand": lambda: cpu_per_save(by_hand),
        "tracked": lambda: cpu_per_save(tracked),
    }

    def ablated(*switches: tuple[Any, str, Any]) -> Callable[[], float]:
        def run() -> float:
            with ExitStack() as patched:
                for module, name, replacement in switches:
                    patched.enter_context(mock.patch.object(module, name, replacement))
                return cpu_per_save(tracked)

        return run

    variants["tracked, no length reported"] = ablated(no_lengths)
    variants["tracked, no length, no hooks"] = ablated(no_lengths, no_hooks)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with acting_as(user):
        for round_ in range(args.rounds):
            for name in rotated(list(variants), round_):
                samples[name].append(variants[name]())
    print(f"CPU per single-field save, {core.describe_database()}, {args.rounds} rounds (medians)")
    yardstick = statistics.median(samples["stamped by hand"])
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:30} {median:7.0f} µs  {median / yardstick:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
