"""What recording properties costs, against the same model unrecorded, measured in the same run.

    python -m benchmarks.records                         # SQLite (a file in the temp dir)
    bash .ci/with-postgres.sh python -m benchmarks.records   # PostgreSQL

Each operation runs on a plain model and on the same model with three values
recorded (a field, a property and a method: ``benchapp.Recorded``),
interleaved for several rounds, every sample inside a transaction rolled back
afterwards (see ``benchmarks.core``). The fan-out operation renames a supplier
that 1,000 rows point to: plain Django writes one UPDATE; with the rows
recording the supplier's name (``auditing_relatives``) the same save also
loads the 1,000 dependants and writes their records.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402

from benchmarks.benchapp.models import (  # noqa: E402
    Plain,
    PlainDependant,
    PlainSupplier,
    Recorded,
    RecordedDependant,
    RecordedSupplier,
)
from benchmarks.core import Operation, describe_database, make, sample  # noqa: E402
from benchmarks.database import ensure_database  # noqa: E402
from django_trackable.models import record_model_for  # noqa: E402

PAIRS = ((Plain, Recorded), (PlainSupplier, RecordedSupplier))
DEPENDANT = {PlainSupplier: PlainDependant, RecordedSupplier: RecordedDependant}


def create_tables() -> None:
    ensure_database()
    tables = [Plain, Recorded, PlainSupplier, RecordedSupplier, PlainDependant, RecordedDependant]
    tables += [record_model_for(Recorded), record_model_for(RecordedDependant)]  # type: ignore[list-item]
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in reversed(tables):
            if model._meta.db_table in existing:
                editor.delete_model(model)
    call_command("migrate", verbosity=0)
    call_command("migrate", run_syncdb=True, verbosity=0)


def op_create(batch: int) -> Operation:
    def run(model: Any, _state: Any) -> None:
        for i in range(batch):
            model.objects.create(name=f"New {i}", sku=f"NEW-{i}", price=Decimal("1.00"), quantity=i)

    return ("create()", lambda model: None, run, batch)


def op_save(rows: int, saves: int, recorded_change: bool) -> Operation:
    """``saves`` saves of each of ``rows`` instances that stay in memory."""

    def setup(model: Any) -> Any:
        model.objects.all().delete()
        model.objects.bulk_create([make(model, i) for i in range(rows)])
        objs = list(model.objects.all())
        for obj in objs:  # from now on each knows what it recorded: the steady state
            obj.save()
        return objs

    def run(model: Any, objs: Any) -> None:
        for obj in objs:
            for _ in range(saves):
                if recorded_change:
                    obj.quantity += 1
                else:
                    obj.description += "."
                obj.save()

    what = "a recorded value changed" if recorded_change else "no recorded value changed"
    return (f"save(), {what}", setup, run, rows * saves)


def op_first_save(rows: int) -> Operation:
    """Load an instance and save it unchanged: its first save compares in SQL."""

    def setup(model: Any) -> Any:
        model.objects.all().delete()
        model.objects.bulk_create([make(model, i) for i in range(rows)])
        return None

    def run(model: Any, _state: Any) -> None:
        for obj in list(model.objects.all()):
            obj.save()

    return ("first save() after load, unchanged", setup, run, rows)


def op_bulk_create(rows: int) -> Operation:
    def run(model: Any, _state: Any) -> None:
        model.objects.bulk_create([make(model, i) for i in range(rows)], batch_size=1000)

    return (f"bulk_create() {rows:,} rows", lambda model: None, run, 1)


def op_update(rows: int) -> Operation:
    def setup(model: Any) -> None:
        model.objects.all().delete()
        model.objects.bulk_create([make(model, i) for i in range(rows)], batch_size=1000)

    def run(model: Any, _state: Any) -> None:
        model.objects.update(quantity=models.F("quantity") + 1)

    return (f"QuerySet.update() {rows:,} rows", setup, run, 1)


def op_fan_out(dependants: int) -> Operation:
    """Rename a supplier that ``dependants`` rows point to (their records: its name)."""

    def setup(supplier_model: Any) -> Any:
        dependant = DEPENDANT[supplier_model]
        dependant.objects.all().delete()
        supplier_model.objects.all().delete()
        supplier = supplier_model.objects.create(name="Supplier")
        dependant.objects.bulk_create(
            [
                dependant(name=f"P{i}", sku=f"S{i}", price=Decimal("1.00"), supplier=supplier)
                for i in range(dependants)
            ],
            batch_size=1000,
        )
        return [supplier]

    def run(supplier_model: Any, state: Any) -> None:
        (supplier,) = state
        supplier.name += "!"
        supplier.save()

    return (f"relative saved, {dependants:,} dependants", setup, run, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    create_tables()
    print(
        f"django_trackable records benchmark: {describe_database()}, "
        f"Django {django.get_version()}, Python {sys.version.split()[0]}, "
        f"{args.rounds} rounds (median per operation)"
    )
    header = f"{'operation':40} {'plain':>10} {'recorded':>10} {'ratio':>6} {'queries':>10}"
    print(header)
    print("-" * len(header))
    operations: list[tuple[Operation, tuple[Any, Any]]] = [
        (op_create(200), PAIRS[0]),
        (op_save(40, 5, recorded_change=True), PAIRS[0]),
        (op_save(40, 5, recorded_change=False), PAIRS[0]),
        (op_first_save(200), PAIRS[0]),
        (op_bulk_create(1_000), PAIRS[0]),
        (op_update(1_000), PAIRS[0]),
        (op_fan_out(1_000), PAIRS[1]),
    ]
    for operation, pair in operations:
        medians, queries = sample(operation, args.rounds, pair)
        plain, recorded = pair
        print(
            f"{operation[0]:40} {medians[plain] * 1e6:>8.0f}µs {medians[recorded] * 1e6:>8.0f}µs "
            f"{medians[recorded] / medians[plain]:>5.2f}× "
            f"{queries[plain]:>4.3g} → {queries[recorded]:<4.3g}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
