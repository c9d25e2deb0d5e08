"""The history window: what moving entries to the log costs, and a save at each window size.

    python -m benchmarks.window                       # SQLite (a file in the temp dir)
    bash .ci/with-postgres.sh python -m benchmarks.window   # PostgreSQL

Three tables:

- **the move**: rows holding 199 entries are cut to their newest 100, the
  other 99 going to ``AuditLog``, by the SQL move (``INSERT ... SELECT`` over
  the row's JSON) and by the Python one (read, build, ``bulk_create``), one row
  at a time, interleaved; then again with 100,000 other rows in the log, which
  must not change the cost (an index lookup per entry). Statements are counted.
- **a move after a save**: what one move costs when it runs, as after a save
  in autocommit, in its own committed transaction, for 1, 25 and 100 entries
  moved (the fixed part, and the part per entry).
- **a save at each window size**: single-field saves from the steady state
  through one move, per save, against the same save on a row of 10 entries
  without a window. Each save is its own committed transaction, as in
  ``benchmarks.scale``.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from typing import Any
from unittest import mock

from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from benchmarks import core, rotated  # core sets up Django
from benchmarks.benchapp.models import Tracked
from django_trackable import archive
from django_trackable.models import AuditLog
from django_trackable.models.audit import content_type_for
from django_trackable.tracking import clear_model_options

ROWS = 10


def rows_holding(entries: int, rows: int = ROWS) -> list[Any]:
    """New rows holding ``entries`` distinct entries each (the log tells them apart)."""
    objs = Tracked.objects.bulk_create([core.make(Tracked, i) for i in range(rows)])
    pks = [obj.pk for obj in objs]
    history = core.distinct_entries(entries, timezone.now() - datetime.timedelta(days=1))
    models.QuerySet.update(Tracked.objects.filter(pk__in=pks), history=history)
    return list(Tracked.objects.filter(pk__in=pks))


def time_move(in_sql: bool, log_rows: int) -> tuple[float, float]:
    """Seconds and statements per move of 99 entries (one row per move)."""
    with transaction.atomic():
        if log_rows:
            content_type = content_type_for(Tracked)
            moment = timezone.now()
            AuditLog.objects.bulk_create(
                (
                    AuditLog(
                        content_type=content_type,
                        object_id=str(10**9 + i),
                        action="update",
                        timestamp=moment,
                    )
                    for i in range(log_rows)
                ),
                batch_size=2_000,
            )
        objs = rows_holding(199)
        chosen = mock.patch.object(archive, "_movable_in_sql", lambda *args: in_sql)
        with chosen, CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            for obj in objs:
                archive.move_out(Tracked, [obj.pk], 100, using=connection.alias)
            elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed / len(objs), len(queries) / len(objs)


def time_committed_move(moved: int) -> float:
    """Seconds per move of ``moved`` entries from a row keeping 25, each move its own
    transaction, committed, as the move after a save in autocommit runs."""
    objs = rows_holding(25 + moved)
    start = time.perf_counter()
    for obj in objs:
        archive.move_out(Tracked, [obj.pk], 25, using=connection.alias)
    elapsed = time.perf_counter() - start
    forget(objs)
    return elapsed / len(objs)


def forget(objs: list[Any]) -> None:
    """Delete these rows and their entries in the log: the next sample starts as this one."""
    pks = [str(obj.pk) for obj in objs]
    AuditLog.objects.filter(content_type=content_type_for(Tracked), object_id__in=pks).delete()
    Tracked.objects.filter(pk__in=[obj.pk for obj in objs]).delete()


def time_saves(window: int | None, start: int, saves: int) -> float:
    """Seconds per save of rows that start with ``start`` entries, each save committed.

    (In one long transaction PostgreSQL would keep every version of the rows alive,
    and each save would pay for the ones before it.)
    """
    with override_settings(TRACKABLE={"HISTORY_WINDOW": window}):
        clear_model_options()
        try:
            objs = rows_holding(start, rows=5)
            begin = time.perf_counter()
            for obj in objs:
                for _ in range(saves):
                    obj.quantity += 1
                    obj.save()
            elapsed = time.perf_counter() - begin
            forget(objs)
        finally:
            clear_model_options()
    return elapsed / (len(objs) * saves)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--log-rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    core.create_tables()
    content_type_for(Tracked)  # cached in a running site: not a statement of the move
    print(
        f"django_trackable window benchmark: {core.describe_database()}, "
        f"{args.rounds} rounds (medians)"
    )
    print()
    print("| moving 99 entries of a row | per move | per entry | statements |")
    print("|---|---|---|---|")
    cases = [
        (f"{way}, log of {log:,} other rows", way == "SQL", log)
        for log in (0, args.log_rows)
        for way in ("SQL", "Python")
    ]
    moves: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in cases}
    for round_ in range(args.rounds):
        order = cases if round_ % 2 == 0 else cases[::-1]
        for label, in_sql, log in order:
            moves[label].append(time_move(in_sql, log))
    for label, _, _ in cases:
        seconds = statistics.median(s for s, _ in moves[label])
        statements = statistics.median(q for _, q in moves[label])
        print(
            f"| {label} | {seconds * 1e3:.2f} ms | {seconds / 99 * 1e6:.0f} µs | {statements:g} |"
        )
    print()
    print("| a move after a save (own transaction, committed) | per move | per save, window 25 |")
    print("|---|---|---|")
    sizes = (1, 25, 100)
    committed: dict[int, list[float]] = {size: [] for size in sizes}
    for round_ in range(args.rounds):
        for size in rotated(list(sizes), round_):
            committed[size].append(time_committed_move(size))
    for size in sizes:
        seconds = statistics.median(committed[size])
        print(
            f"| {size} {'entry' if size == 1 else 'entries'} | {seconds * 1e3:.2f} ms "
            f"| {seconds / 25 * 1e6:.0f} µs |"
        )
    first, last = (statistics.median(committed[size]) for size in (sizes[0], sizes[-1]))
    print(f"\nper entry moved: {(last - first) / (sizes[-1] - sizes[0]) * 1e6:.0f} µs")
    print()
    print("| save, one field changed | per save | vs 10 entries, no window |")
    print("|---|---|---|")
    windows: list[tuple[str, int | None, int, int]] = [
        ("row of 10 entries, no window", None, 10, 10),
        *((f"HISTORY_WINDOW = {w} (rows of {w}–{2 * w - 1})", w, w, 2 * w) for w in (25, 50, 100)),
    ]
    saves: dict[str, list[float]] = {label: [] for label, *_ in windows}
    for round_ in range(args.rounds):
        order = windows if round_ % 2 == 0 else windows[::-1]
        for label, window, start, count in order:
            saves[label].append(time_saves(window, start, count))
    baseline = statistics.median(saves[windows[0][0]])
    for label, *_ in windows:
        seconds = statistics.median(saves[label])
        print(f"| {label} | {seconds * 1e6:.0f} µs | {seconds / baseline:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
