"""The audit log's cost: a tracked model with ``AuditLog`` rows against the same model without.

    python -m benchmarks.audit                          # SQLite
    bash .ci/with-postgres.sh python -m benchmarks.audit  # PostgreSQL

The harness is ``benchmarks.core``'s: plain Django, the tracked model and the
audited one (the same fields, ``track_audit_log = True``), interleaved, each
sample in a rolled-back transaction; medians per operation, ratios and the
statements each runs. On PostgreSQL the AuditLog rows are written by the
row's own statement; elsewhere by one more statement per write.

Then the log's own bulk writes (the window's Python move, importing, a log on
another database): ``AuditLog.objects.bulk_create()`` against Django's own
``QuerySet.bulk_create()`` of the same rows.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import django
from django.db import models
from django.utils import timezone

from benchmarks import core
from benchmarks.benchapp.models import Audited, Plain, Tracked
from django_trackable import acting_as
from django_trackable.models import AuditLog
from django_trackable.models.audit import content_type_for

MODELS: tuple[Any, ...] = (Plain, Tracked, Audited)


def log_rows(count: int) -> list[AuditLog]:
    """Log rows as the move writes them: an entry's changes (quotes among them) and keys."""
    content_type, now = content_type_for(Tracked), timezone.now()
    return [
        AuditLog(
            timestamp=now,
            action="update",
            actor_repr="bench",
            content_type=content_type,
            object_id=str(i),
            changes={"name": [f'"{i}"', f"item {i}"], "quantity": [i, i + 1]},
            extra={"request_id": f"r-{i}"},
        )
        for i in range(count)
    ]


def op_log_bulk_create(rows: int) -> core.Operation:
    def run(queryset: Any, _state: Any) -> None:
        queryset.bulk_create(log_rows(rows))

    return (f"AuditLog bulk_create() {rows:,} rows", lambda queryset: None, run, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    core.create_tables()
    user_model = django.apps.apps.get_model("auth", "User")
    user, _ = user_model.objects.get_or_create(username="bench")
    print(
        f"django_trackable audit log benchmark: {core.describe_database()}, "
        f"Django {django.get_version()}, {args.rounds} rounds (median per operation)"
    )
    header = (
        f"{'operation':34} {'plain':>9} {'tracked':>9} {'audited':>9} "
        f"{'audited/tracked':>15} {'audited/plain':>13} {'statements':>16}"
    )
    print(header)
    print("-" * len(header))
    operations = [
        core.op_create(200),
        core.op_save(40, 5, 0, "save(), one field changed"),
        core.op_bulk_create(1_000),
        core.op_update(1_000),
    ]
    with acting_as(user):
        for operation in operations:
            medians, queries = core.sample(operation, args.rounds, MODELS)
            us = {model: medians[model] * 1e6 for model in MODELS}
            print(
                f"{operation[0]:34} {us[Plain]:>7.0f}µs {us[Tracked]:>7.0f}µs "
                f"{us[Audited]:>7.0f}µs {medians[Audited] / medians[Tracked]:>14.2f}× "
                f"{medians[Audited] / medians[Plain]:>12.2f}× "
                f"{queries[Plain]:>4.3g} → {queries[Tracked]:.3g} → {queries[Audited]:.3g}"
            )
    content_type_for(Tracked)  # cached in a running site: not a statement of the write
    django_qs, ours = models.QuerySet(AuditLog), AuditLog.objects.all()
    operation = op_log_bulk_create(1_000)
    medians, queries = core.sample(operation, args.rounds, (django_qs, ours))
    print(
        f"\n{operation[0]}: Django's bulk_create {medians[django_qs] * 1e3:.1f} ms, "
        f"AuditLog.objects {medians[ours] * 1e3:.1f} ms "
        f"({medians[ours] / medians[django_qs]:.2f}×), "
        f"statements {queries[django_qs]:.3g} → {queries[ours]:.3g}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
