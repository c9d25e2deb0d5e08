"""History at scale: every target of the history-at-scale work, committed, in one run.

    python -m benchmarks.scale                              # SQLite (a file in the temp dir)
    TRACKABLE_PG_DURABLE=1 bash .ci/with-postgres.sh python -m benchmarks.scale
                                                            # PostgreSQL, commits flushed
    make bench-scale                                        # both, one after the other

Unlike ``benchmarks.core`` (every sample rolled back: the ORM and SQL work
alone), every operation here is its own committed transaction, as in a
running site: a ``save()`` in autocommit, a ``bulk_create()`` or ``update()``
in the transaction Django opens for it. Variants of one operation run
interleaved in rotating order; the report gives medians, the statements per
operation (counted on a separate pass), and two ratios:

- to **plain** Django: the business fields only, what a model was before it
  became tracked;
- to **stamped by hand**: the same columns as a tracked model (the four stamps
  and a JSON ``history``) as plain Django fields, filled the way hand-written
  code keeps them (the times by ``auto_now``, the users by the code that
  writes, ``updated_at``/``updated_by`` passed to ``QuerySet.update()``), with
  nothing recorded into ``history``: the same model untracked. The targets are
  measured against it: the columns themselves are the user's choice, what we
  add to a write is the tracking. The same columns with the users left empty
  (**untracked**) are shown too: they skip the foreign-key checks that any
  attributed write pays (on PostgreSQL about a tenth of a ``create()``).

Loads compare with the same stamps and no ``history`` column at all.

Rows "with N prior entries" are in the window's steady state: their oldest
entries are in ``AuditLog`` (written by the move itself), and each row holds
between one and two windows of the newest, spread evenly, so the moves that
happen during the samples are included at the rate a long-lived row pays
them.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import django
from django.conf import settings
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks import core, rotated  # core sets up Django
from benchmarks.benchapp.models import Plain, PlainStamped, PlainStamps, Tracked
from django_trackable import acting_as, archive
from django_trackable.tracking import clear_model_options

ROWS = 10


@dataclass
class Variant:
    """One side of a comparison: a model, its rows, and what one sample does to them."""

    label: str
    model: type[models.Model]
    prepare: Callable[[], Any]  # once; returns the state
    run: Callable[[Any], None]  # one timed sample
    before_sample: Callable[[Any], None] = lambda state: None  # untimed, before each
    #: What the statement count runs instead of ``run``, and its operations: for rows
    #: past their window, a whole window's saves, so each row moves exactly once.
    count: tuple[Callable[[Any], None], int] | None = None
    state: Any = None
    samples: list[float] = field(default_factory=list)
    statements: float = 0.0


@dataclass
class Operation:
    name: str
    per_sample: int  # operations per sample
    variants: list[Variant]
    targets: list[tuple[str, str, float]]  # (variant, against, at most)


#: The columns a yardstick fills by hand (created_by, updated_by; history), by name.
Stamps = dict[str, Any]
#: The yardstick of the targets: the same columns untracked, stamped by hand-written code.
BY_HAND = "stamped by hand"


def made(model: type[models.Model], i: int, stamps: Stamps) -> models.Model:
    obj = core.make(model, i)
    for name, value in stamps.items():
        setattr(obj, name, value)
    return obj


def seed(model: type[models.Model], rows: int, stamps: Stamps | None = None) -> list[Any]:
    objs = model.objects.bulk_create([made(model, i, stamps or {}) for i in range(rows)])
    return list(model.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk"))


def with_prior_entries(prior: int) -> Callable[[], Any]:
    """Rows whose history has reached ``prior`` entries, in the window's steady state."""

    def prepare() -> Any:
        objs = seed(Tracked, ROWS)
        window = archive.window_of(Tracked)
        start = timezone.now() - datetime.timedelta(days=30)
        for i, obj in enumerate(objs):
            held = prior if window is None else min(prior, window + i * window // ROWS)
            entries = core.distinct_entries(prior, start)
            if held < prior:  # the older ones: moved to the log by the move itself
                Tracked.objects.filter(pk=obj.pk).update(history=entries[: prior - held])
                archive.move_out(Tracked, [obj.pk], 0, using=connection.alias)
            models.QuerySet.update(
                Tracked.objects.filter(pk=obj.pk), history=entries[prior - held :]
            )
        return list(Tracked.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk"))

    return prepare


def seeding(model: type[models.Model], rows: int, stamps: Stamps) -> Callable[[], Any]:
    return lambda: seed(model, rows, stamps)


def saving(saves_per_row: int) -> Callable[[Any], None]:
    def run(objs: Any) -> None:
        for obj in objs:
            for _ in range(saves_per_row):
                obj.quantity += 1
                obj.save()

    return run


def set_history(pks: Any, entries: int) -> None:
    """Give these tracked rows ``entries`` entries of the last day (not recorded)."""
    start = timezone.now() - datetime.timedelta(days=1)
    models.QuerySet.update(
        Tracked.objects.filter(pk__in=pks), history=core.distinct_entries(entries, start)
    )


def reset_history(entries: int) -> Callable[[Any], None]:
    return lambda objs: set_history([o.pk for o in objs], entries)


def stamped_by_hand(user: Any) -> Stamps:
    """The user columns hand-written code sets on the rows it writes."""
    return {"created_by": user, "updated_by": user}


def yardsticks(user: Any) -> list[tuple[str, type[models.Model], Stamps]]:
    """What every write is compared with, and the user columns each fills by hand:
    plain Django, then the same columns untracked, users left empty or stamped by
    hand-written code."""
    return [
        ("plain", Plain, {}),
        ("untracked", PlainStamped, {}),
        (BY_HAND, PlainStamped, stamped_by_hand(user)),
    ]


def writers(user: Any) -> list[tuple[str, type[models.Model], Stamps]]:
    """:func:`yardsticks` and ours, which fills nothing by hand: the tracking does."""
    return [*yardsticks(user), ("tracked", Tracked, {})]


def op_create(count: int, user: Any) -> Operation:
    def creating(model: type[models.Model], stamps: Stamps) -> Callable[[Any], None]:
        def run(_state: Any) -> None:
            for i in range(count):
                model.objects.create(
                    name=f"New {i}", sku=f"NEW-{i}", price=Decimal("1.00"), quantity=i, **stamps
                )

        return run

    return Operation(
        "create()",
        count,
        [
            Variant(name, model, lambda: None, creating(model, stamps))
            for name, model, stamps in writers(user)
        ],
        [("tracked", BY_HAND, 1.10)],
    )


def op_save(window: int, user: Any) -> Operation:
    saves_per_row = max(1, window // ROWS)
    run = saving(saves_per_row)
    cycle = (saving(window), ROWS * window)
    # A by-hand row as large as a 10-entry tracked row: what the row's size costs alone.
    as_full = {**stamped_by_hand(user), "history": core.distinct_entries(10, timezone.now())}
    return Operation(
        "save(), one field changed",
        ROWS * saves_per_row,
        [
            *(
                Variant(name, model, seeding(model, ROWS, stamps), run)
                for name, model, stamps in yardsticks(user)
            ),
            Variant(
                f"{BY_HAND}, 10 entries", PlainStamped, seeding(PlainStamped, ROWS, as_full), run
            ),
            Variant(
                "tracked, 10 entries", Tracked, lambda: seed(Tracked, ROWS), run, reset_history(10)
            ),
            Variant("tracked, 1,000 prior", Tracked, with_prior_entries(1_000), run, count=cycle),
            Variant("tracked, 10,000 prior", Tracked, with_prior_entries(10_000), run, count=cycle),
        ],
        [
            ("tracked, 10 entries", BY_HAND, 1.10),
            ("tracked, 1,000 prior", BY_HAND, 1.30),
            ("tracked, 10,000 prior", BY_HAND, 1.30),
            ("tracked, 1,000 prior", "tracked, 10 entries", 1.10),
            ("tracked, 10,000 prior", "tracked, 10 entries", 1.10),
        ],
    )


def op_bulk_create(rows: int, user: Any) -> Operation:
    def creating(model: type[models.Model], stamps: Stamps) -> Callable[[Any], None]:
        def run(_state: Any) -> None:
            objs = [made(model, i, stamps) for i in range(rows)]
            model.objects.bulk_create(objs, batch_size=1_000)

        return run

    def emptied(model: type[models.Model]) -> Callable[[Any], None]:
        return lambda _state: model.objects.all().delete()

    return Operation(
        f"bulk_create() {rows:,} rows",
        1,
        [
            Variant(name, model, lambda: None, creating(model, stamps), emptied(model))
            for name, model, stamps in writers(user)
        ],
        [("tracked", BY_HAND, 1.6)],
    )


def op_update(rows: int, user: Any) -> Operation:
    def updating(model: type[models.Model], stamps: Stamps) -> Callable[[Any], None]:
        def run(pks: Any) -> None:
            # By hand, an update keeps the stamps current itself: auto_now does not run.
            kept = (
                {"updated_at": timezone.now(), "updated_by": stamps["updated_by"]} if stamps else {}
            )
            model.objects.filter(pk__in=pks).update(quantity=models.F("quantity") + 1, **kept)

        return run

    def rows_of(model: type[models.Model], stamps: Stamps) -> Callable[[], Any]:
        return lambda: [o.pk for o in seed(model, rows, stamps)]

    by_hand = stamped_by_hand(user)
    # By-hand rows as large as the tracked ones: what the rows' size costs alone.
    as_full = {**by_hand, "history": core.distinct_entries(10, timezone.now())}
    return Operation(
        f"QuerySet.update() {rows:,} rows",
        1,
        [
            *(
                Variant(name, model, rows_of(model, stamps), updating(model, stamps))
                for name, model, stamps in yardsticks(user)
            ),
            Variant(
                f"{BY_HAND}, 10 entries",
                PlainStamped,
                rows_of(PlainStamped, as_full),
                updating(PlainStamped, by_hand),
            ),
            Variant(
                "tracked, 10 entries",
                Tracked,
                rows_of(Tracked, {}),
                updating(Tracked, {}),
                lambda pks: set_history(pks, 10),  # the same rows each sample, not longer ones
            ),
        ],
        [("tracked, 10 entries", BY_HAND, 2.0)],
    )


def op_load(rows: int, prior: int) -> Operation:
    """Listing rows whose history has reached ``prior`` entries, ``history`` not read."""

    def prepare_tracked() -> Any:
        objs = seed(Tracked, rows)
        window = archive.window_of(Tracked)
        start = timezone.now() - datetime.timedelta(days=30)
        # What each row holds in the steady state; the log's older entries are not read.
        sizes = [prior if window is None else min(prior, window + i % window) for i in range(rows)]
        for size in sorted(set(sizes)):
            pks = [o.pk for o, s in zip(objs, sizes, strict=True) if s == size]
            models.QuerySet.update(
                Tracked.objects.filter(pk__in=pks), history=core.distinct_entries(size, start)
            )
        return [o.pk for o in objs]

    def loading(model: type[models.Model]) -> Callable[[Any], None]:
        def run(pks: Any) -> None:
            list(model._default_manager.filter(pk__in=pks))

        return run

    return Operation(
        f"load {rows:,} rows of {prior:,} entries, history not read",
        1,
        [
            Variant(
                "stamps, no history",
                PlainStamps,
                lambda: [o.pk for o in seed(PlainStamps, rows)],
                loading(PlainStamps),
            ),
            Variant("tracked", Tracked, prepare_tracked, loading(Tracked)),
        ],
        [("tracked", "stamps, no history", 1.2)],
    )


def measure(operation: Operation, rounds: int) -> None:
    variants = operation.variants
    for variant in variants:
        variant.state = variant.prepare()
    for variant in variants:  # statements, counted on a pass of their own
        variant.before_sample(variant.state)
        run, per_run = variant.count or (variant.run, operation.per_sample)
        with CaptureQueriesContext(connection) as captured:
            run(variant.state)
        statements = [q for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
        variant.statements = len(statements) / per_run
    for round_ in range(rounds):
        for variant in rotated(variants, round_):
            variant.before_sample(variant.state)
            start = time.perf_counter()
            variant.run(variant.state)
            variant.samples.append((time.perf_counter() - start) / operation.per_sample)


def report(operation: Operation) -> list[tuple[str, float, float, bool]]:
    medians = {v.label: statistics.median(v.samples) for v in operation.variants}
    plain = medians[operation.variants[0].label]
    yardstick = medians.get(BY_HAND)
    print(f"\n{operation.name}")
    print(f"  {'':28} {'per op':>12} {'/ plain':>8} {'/ by hand':>12} {'statements':>11}")
    for variant in operation.variants:
        median = medians[variant.label]
        against = f"{median / yardstick:.2f}×" if yardstick else "—"
        print(
            f"  {variant.label:28} {median * 1e6:>10.0f}µs {median / plain:>7.2f}× "
            f"{against:>12} {variant.statements:>11.3g}"
        )
    results = []
    for label, against, limit in operation.targets:
        ratio = medians[label] / medians[against]
        results.append((f"{operation.name}: {label} / {against}", ratio, limit, ratio <= limit))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="fewer rows, for a smoke run")
    parser.add_argument("--only", default="", help="the operations whose name contains this")
    parser.add_argument(
        "--window", type=int, default=0, help="HISTORY_WINDOW for this run (default: the setting's)"
    )
    args = parser.parse_args(argv)
    if args.window:
        settings.TRACKABLE = {**settings.TRACKABLE, "HISTORY_WINDOW": args.window}
        clear_model_options()
    core.create_tables()
    user_model = Tracked._meta.get_field("created_by").related_model
    user, _ = user_model.objects.get_or_create(username="bench")  # type: ignore[union-attr]
    window = archive.window_of(Tracked)
    print(
        f"django_trackable scale benchmark: {core.describe_database()}, "
        f"Django {django.get_version()}, "
        f"Python {sys.version.split()[0]}, {args.rounds} rounds, HISTORY_WINDOW = {window}, "
        "each operation committed (medians per operation)"
    )
    load_rows = 1_000 if args.quick else 10_000
    operations = [
        op_create(50, user),
        op_save(window or 100, user),
        op_bulk_create(1_000, user),
        op_update(1_000, user),
        op_load(load_rows, 1_000),
    ]
    results = []
    with acting_as(user):
        for operation in operations:
            if args.only not in operation.name:
                continue
            measure(operation, args.rounds)
            results.extend(report(operation))
    print("\ntargets")
    for name, ratio, limit, met in results:
        print(f"  {'met    ' if met else 'NOT met'} {ratio:>5.2f}× (≤ {limit:.2f}×)  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
