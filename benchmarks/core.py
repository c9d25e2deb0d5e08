"""Overhead of TrackableModel against plain Django, measured in the same run.

    python -m benchmarks.core                       # SQLite (a file in the temp dir)
    bash .ci/with-postgres.sh python -m benchmarks.core   # PostgreSQL

Each operation runs on a plain model and on a tracked model with the same
fields, interleaved (plain, tracked, tracked, plain, ...) for several rounds;
the report gives the median time per operation, the ratio tracked/plain and
the queries per operation. Every sample runs inside one transaction, so what
is measured is the ORM and SQL work, not the disk's fsync.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from benchmarks import rotated  # noqa: E402
from benchmarks.benchapp.models import Audited, Plain, PlainStamped, PlainStamps, Tracked  # noqa: E402
from benchmarks.database import ensure_database  # noqa: E402
from django_trackable import acting_as, archive  # noqa: E402
from django_trackable.history import build_entry  # noqa: E402


def make(model: type[models.Model], i: int) -> models.Model:
    return model(
        name=f"Product {i}",
        sku=f"SKU-{i:06d}",
        price=Decimal("9.99"),
        quantity=i,
        description="A reasonably short description of the product.",
    )


def distinct_entries(count: int, start: datetime.datetime) -> list[dict[str, Any]]:
    """``count`` update entries a microsecond apart: the log tells each from the others."""
    return [
        build_entry(
            "update", start + datetime.timedelta(microseconds=i), None, {"quantity": [i, i + 1]}
        )
        for i in range(count)
    ]


def create_tables() -> None:
    """A fresh database schema: auth tables plus the benchmark tables."""
    ensure_database()
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in (Plain, Tracked, PlainStamped, PlainStamps, Audited):
            if model._meta.db_table in existing:
                editor.delete_model(model)
    # Migrated apps first: the benchmark tables have foreign keys to auth_user.
    call_command("migrate", verbosity=0)
    call_command("migrate", run_syncdb=True, verbosity=0)


def reset(model: type[models.Model], rows: int) -> None:
    model.objects.all().delete()
    model.objects.bulk_create([make(model, i) for i in range(rows)], batch_size=1000)
    if model is PlainStamped:
        # The same history a tracked row starts with, so loads parse as much JSON.
        model.objects.update(history=Tracked.objects.first().history)


# Each operation: (name, setup(model) -> state, run(model, state) -> None, ops per run)
Operation = tuple[str, Callable[[Any], Any], Callable[[Any, Any], None], int]
MODELS = (Plain, PlainStamped, Tracked)


def op_create(batch: int) -> Operation:
    def run(model: Any, _state: Any) -> None:
        for i in range(batch):
            model.objects.create(name=f"New {i}", sku=f"NEW-{i}", price=Decimal("1.00"), quantity=i)

    return ("create()", lambda model: None, run, batch)


def op_save(rows: int, saves: int, entries: int, label: str) -> Operation:
    """``saves`` single-field saves on each of ``rows`` rows holding ``entries`` entries."""

    def setup(model: Any) -> Any:
        model.objects.all().delete()
        model.objects.bulk_create([make(model, i) for i in range(rows)])
        if entries and model is Tracked:
            entry = build_entry("update", django.utils.timezone.now(), None, {"quantity": [1, 2]})
            model.objects.update(history=[entry] * entries)
            window = archive.window_of(model)
            if window is not None:  # the steady state: the older entries in the log
                archive.move_out(
                    model,
                    model.objects.values_list("pk", flat=True),
                    window,
                    using=connection.alias,
                )
        return list(model.objects.all())

    def run(model: Any, objs: Any) -> None:
        for obj in objs:
            for _ in range(saves):
                obj.quantity += 1
                obj.save()

    return (label, setup, run, rows * saves)


def op_bulk_create(rows: int) -> Operation:
    def run(model: Any, _state: Any) -> None:
        model.objects.bulk_create([make(model, i) for i in range(rows)], batch_size=1000)

    return (f"bulk_create() {rows:,} rows", lambda model: None, run, 1)


def op_update(rows: int) -> Operation:
    def setup(model: Any) -> None:
        if model is PlainStamped:
            reset(Tracked, 1)
        reset(model, rows)

    def run(model: Any, _state: Any) -> None:
        model.objects.update(quantity=models.F("quantity") + 1)

    return (f"QuerySet.update() {rows:,} rows", setup, run, 1)


def op_load(rows: int) -> Operation:
    def setup(model: Any) -> None:
        if model is PlainStamped:
            reset(Tracked, 1)
        reset(model, rows)

    def run(model: Any, _state: Any) -> None:
        list(model.objects.all())

    return (f"load {rows:,} rows", setup, run, 1)


def op_load_long(rows: int, entries: int) -> Operation:
    """Listing rows that each hold ``entries`` entries, without reading ``history``."""

    def setup(model: Any) -> None:
        reset(model, rows)
        if model is Tracked:
            entry = build_entry("update", django.utils.timezone.now(), None, {"quantity": [1, 2]})
            model.objects.update(history=[entry] * entries)

    def run(model: Any, _state: Any) -> None:
        list(model.objects.all())

    return (f"load {rows:,} rows of {entries:,} entries", setup, run, 1)


def sample(
    operation: Operation, rounds: int, models: tuple[Any, ...] = MODELS
) -> tuple[dict[Any, float], dict[Any, float]]:
    """Median seconds and queries per operation of each model, in interleaved rounds.

    Shared with ``benchmarks.peers``, so other libraries are measured the same way.
    """
    _name, setup, run, per_run = operation
    samples: dict[Any, list[float]] = {model: [] for model in models}
    queries: dict[Any, float] = {}
    states = {}
    for model in models:
        with transaction.atomic():
            states[model] = setup(model)
    for round_ in range(rounds):
        for model in rotated(models, round_):
            with transaction.atomic():
                sid = transaction.savepoint()
                if round_ == 0:
                    with CaptureQueriesContext(connection) as captured:
                        run(model, states[model])
                    queries[model] = len(captured) / per_run
                    transaction.savepoint_rollback(sid)
                    _refresh(states[model])
                    sid = transaction.savepoint()
                start = time.perf_counter()
                run(model, states[model])
                samples[model].append((time.perf_counter() - start) / per_run)
                # Undo, so every round starts from the same rows and histories.
                transaction.savepoint_rollback(sid)
            _refresh(states[model])
    return {model: statistics.median(samples[model]) for model in models}, queries


def measure(operation: Operation, rounds: int, models: tuple[Any, ...] = MODELS) -> dict[str, Any]:
    """Medians of ``models`` (plain, a yardstick, tracked) and tracked's ratios to the others."""
    plain, yardstick, tracked = models
    medians, queries = sample(operation, rounds, models)
    return {
        "operation": operation[0],
        "us": [medians[model] * 1e6 for model in models],
        "ratio": medians[tracked] / medians[plain],
        "ratio_same_columns": medians[tracked] / medians[yardstick],
        "queries": [queries[model] for model in models],
    }


def _refresh(state: Any) -> None:
    for obj in state or ():
        obj.refresh_from_db()


def describe_database() -> str:
    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    version = connection.pg_version
    return f"PostgreSQL {version // 10000}.{version % 100}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="fewer rows, for a smoke run")
    args = parser.parse_args(argv)
    big = 1_000 if args.quick else 10_000
    create_tables()
    user_model = django.apps.apps.get_model("auth", "User")
    user, _ = user_model.objects.get_or_create(username="bench")

    print(
        f"django_trackable core benchmark: {describe_database()}, Django {django.get_version()}, "
        f"Python {sys.version.split()[0]}, {args.rounds} rounds (median per operation)"
    )
    header = (
        f"{'operation':42} {'plain':>9} {'+columns':>9} {'tracked':>9} "
        f"{'ratio':>6} {'vs cols':>7} {'queries':>9}"
    )
    print(header)
    print("-" * len(header))
    operations: list[tuple[Operation, dict[str, Any]]] = [
        (op_create(200), {}),
        (op_save(40, 5, 0, "save(), one field changed"), {}),
        (op_save(10, 5, 10, "save(), row has 10 entries"), {}),
        (op_save(10, 5, 1_000, "save(), row has 1,000 entries"), {}),
        (op_save(10, 5, 10_000, "save(), row has 10,000 entries"), {}),
        # 100 saves per row take each row from its window (100) to twice it: one move each.
        (op_save(10, 100, 1_000, "save(), 1,000 entries, moves included"), {}),
        (
            op_save(10, 5, 1_000, "save(), 1,000 entries, no window"),
            {"HISTORY_WINDOW": None},
        ),
        (op_save(10, 5, 100, "save(), 100 entries, HISTORY_LIMIT=100"), {"HISTORY_LIMIT": 100}),
        (op_bulk_create(1_000), {}),
        (op_update(big), {}),
        (op_load(big), {}),
    ]
    # A listing that does not read history, against the same stamps without a history
    # column (the "+columns" figure of this row is PlainStamps), with rows as full as the
    # default window lets them be (twice the window, less one): older ones are in AuditLog.
    fullest = 2 * (archive.window_of(Tracked) or 100) - 1
    listing = (op_load_long(big, 10 if args.quick else fullest), (Plain, PlainStamps, Tracked))
    with acting_as(user):
        for operation, trackable_settings in operations:
            with override_settings(TRACKABLE=trackable_settings):
                report(measure(operation, args.rounds))
        report(measure(listing[0], args.rounds, listing[1]), "(+stamps, no history)")
    return 0


def report(result: dict[str, Any], note: str = "") -> None:
    (plain, yardstick, tracked), queries = result["us"], result["queries"]
    print(
        f"{result['operation']:42} {plain:>7.0f}µs {yardstick:>7.0f}µs "
        f"{tracked:>7.0f}µs {result['ratio']:>5.2f}× "
        f"{result['ratio_same_columns']:>6.2f}× "
        f"{queries[0]:>4.3g} → {queries[-1]:<4.3g} {note}".rstrip()
    )


if __name__ == "__main__":
    sys.exit(main())
