"""Retention for the audit log and for in-row history: what ``trackable_purge`` runs."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable

from django.db import connections, models, router
from django.utils import timezone

from django_trackable.privacy import _sql
from django_trackable.privacy.stores import StoreCount, history_tables

#: Called after each batch with the target (a model label) and the rows done so far.
PurgeProgress = Callable[[str, int], None]


def _cutoff(older_than: datetime.timedelta | datetime.datetime) -> datetime.datetime:
    if isinstance(older_than, datetime.datetime):
        return older_than
    return timezone.now() - older_than


def purge_history(
    older_than: datetime.timedelta | datetime.datetime,
    *,
    batch_size: int = 1000,
    dry_run: bool = False,
    progress: PurgeProgress | None = None,
) -> list[StoreCount]:
    """Remove history entries older than ``older_than`` (an age or a cut-off) from every row.

    Each row keeps its newest entry, however old, so it still says who last
    changed it and when. ``updated_at`` is not touched: ``since()`` finds the
    same rows, and ``history_since(t)`` returns the same entries for any ``t``
    after the cut-off (``as_of()`` before it raises ``HistoryUnavailable``).
    Entries whose timestamp is not a date are kept. Rewritten in the
    database, one UPDATE per batch of rows that have such entries, each batch
    its own transaction. Returns per model the rows changed and the entries
    removed (or that would be, with ``dry_run``).
    """
    cutoff = _cutoff(older_than).astimezone(datetime.timezone.utc).isoformat()
    counts = []
    for model, field in history_tables():
        alias = router.db_for_write(model)
        connection = connections[alias]
        dialect = _sql.dialect_for(connection)
        col = _sql.column(model, field, connection)
        kept = _sql.value(dialect.without_older(col, cutoff), models.JSONField())
        label = model._meta.label
        rows, entries = _sql.run_batches(
            _sql.plain(model, alias).filter(_sql.condition(dialect.has_older(col, cutoff))),
            _sql.setting(**{field.name: kept}),
            weight=_sql.value(dialect.count_older(col, cutoff), models.IntegerField()),
            batch_size=batch_size,
            dry_run=dry_run,
            progress=None if progress is None else functools.partial(progress, label),
        )
        counts.append(StoreCount(label, rows, entries))
    return counts


def purge_audit_log(
    older_than: datetime.timedelta | datetime.datetime,
    *,
    batch_size: int = 1000,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete ``AuditLog`` rows logged before ``older_than`` (an age or a cut-off), in batches.

    One SELECT of primary keys and one DELETE per batch, each its own
    transaction, on the log's write database. Returns the rows deleted (or
    that would be, with ``dry_run``).
    """
    from django_trackable.models import AuditLog
    from django_trackable.models.visits import write_database

    rows, _ = _sql.run_batches(
        _sql.plain(AuditLog, write_database(AuditLog)).filter(timestamp__lt=_cutoff(older_than)),
        _sql.deleting,
        batch_size=batch_size,
        dry_run=dry_run,
        progress=progress,
    )
    return rows


def purge_records(
    older_than: datetime.timedelta | datetime.datetime,
    *,
    batch_size: int = 1000,
    dry_run: bool = False,
    progress: PurgeProgress | None = None,
) -> list[StoreCount]:
    """Delete records created before ``older_than`` (an age or a cut-off) from every record table.

    Each recorded instance keeps its newest record, however old, as each row
    keeps its newest history entry: it still holds the values last recorded,
    and the next save compares with it (no duplicate record is written). One
    SELECT of primary keys and one DELETE per batch, each its own
    transaction. Returns per record model the records deleted (or that would
    be, with ``dry_run``).
    """
    from django_trackable.models.records import record_models

    cutoff = _cutoff(older_than)
    counts = []
    for model in record_models():
        alias = router.db_for_write(model)
        newer = (
            _sql.plain(model, alias)
            .filter(recording=models.OuterRef("recording"))
            .filter(
                models.Q(created__gt=models.OuterRef("created"))
                | models.Q(created=models.OuterRef("created"), pk__gt=models.OuterRef("pk"))
            )
        )
        label = model._meta.label
        rows, _ = _sql.run_batches(
            _sql.plain(model, alias).filter(created__lt=cutoff).filter(models.Exists(newer)),
            _sql.deleting,
            batch_size=batch_size,
            dry_run=dry_run,
            progress=None if progress is None else functools.partial(progress, label),
        )
        counts.append(StoreCount(label, rows))
    return counts
