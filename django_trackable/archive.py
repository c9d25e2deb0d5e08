"""Bounded in-row history: a window of recent entries in the row, the rest in ``AuditLog``.

Appending to a JSON value rewrites it, so a save costs more the longer a
row's history grows. With ``TRACKABLE["HISTORY_WINDOW"] = N`` a row keeps its
newest entries only: every tracked UPDATE returns the new length of the rows'
``history`` (``RETURNING``, no extra statement), and when a row reaches ``2 *
N`` entries its oldest ``N`` move to ``AuditLog`` -- in one short transaction
that locks the row, writes the entries the log does not hold yet and trims the
row. A save therefore costs the same at 10 entries and at 10,000, and the move
costs a few statements once per ``N`` saves of a row.

Nothing is lost: the entries leave the row only in the transaction that
writes them to the log. :func:`full_history` reads both stores;
``history_since()`` and ``as_of()`` reach into the log when the row's window
does not go back far enough.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from django_trackable import tracking
from django_trackable.history import Entry, entry_time

if TYPE_CHECKING:
    from django_trackable.models.audit import AuditLog

__all__ = ["full_history", "move_out", "window_of"]

_KEYS = frozenset({"action", "timestamp", "user", "user_repr", "changes"})


def window_of(model: type[models.Model]) -> int | None:
    """The number of entries ``model``'s rows keep in ``history``, or ``None`` for all."""
    return tracking.options_for(model).window


def applies(compiler: Any) -> int | None:
    """The window of the history an UPDATE appends to, when it should report lengths."""
    query = compiler.query
    options = tracking.options_for(query.model)
    if options.window is None or getattr(compiler, "returning_fields", None):
        return None
    history = options.history
    from django_trackable.audit import _appends_in

    for column, _model, value in query.values:
        if column is history:
            return options.window if any(True for _ in _appends_in(value)) else None
    return None


def length_sql(compiler: Any, qualified: bool = True) -> str:
    """SQL for the length of the written rows' ``history`` (``RETURNING``)."""
    connection = compiler.connection
    qn = connection.ops.quote_name
    history = tracking.options_for(compiler.query.model).history
    assert history is not None
    column = qn(history.column)
    if qualified:
        column = f"{qn(compiler.query.model._meta.db_table)}.{column}"
    if connection.vendor == "postgresql":
        return f"CASE WHEN jsonb_typeof({column}) = 'array' THEN jsonb_array_length({column}) END"
    return f"json_array_length({column})"


def run_reporting_lengths(compiler: Any, result_type: Any, window: int) -> Any:
    """Execute the UPDATE with ``RETURNING pk, length``; move out what overflowed.

    Stands in for Django's ``execute_sql()``: the same row count, and the
    UPDATEs of multi-table parents after it.
    """
    from django.db.models.sql.compiler import SQLUpdateCompiler
    from django.db.models.sql.constants import CURSOR, NO_RESULTS

    compiler._trackable_lengths = True
    try:
        cursor = super(SQLUpdateCompiler, compiler).execute_sql(CURSOR)
    finally:
        compiler._trackable_lengths = False
    if cursor is None:  # nothing to update
        rows: list[Any] = []
    else:
        try:
            rows = list(cursor.fetchall())
        finally:
            cursor.close()
    for query in compiler.query.get_related_updates():
        query.get_compiler(compiler.using).execute_sql(result_type)
    full = [pk for pk, length in rows if length is not None and length >= 2 * window]
    if full:
        move_out(compiler.query.model, full, window, using=compiler.using)
    return None if result_type == NO_RESULTS else len(rows)


def move_out(model: type[models.Model], pks: Iterable[Any], window: int, *, using: str) -> int:
    """Move all but the newest ``window`` entries of these rows into ``AuditLog``.

    One transaction and four statements however many rows: the rows are read
    and locked, the log's entries of them are read, the log gets the entries
    it does not hold yet (with the audit log on it holds them already), and
    one UPDATE cuts the rows to their newest ``window`` entries. Returns the
    number of entries moved.
    """
    from django_trackable.audit import log_database
    from django_trackable.expressions import NewestEntries
    from django_trackable.models.audit import content_type_for

    options = tracking.options_for(model)
    history = options.history
    assert history is not None
    table = history.model
    with transaction.atomic(using=using, savepoint=False):
        rows = table._base_manager.using(using).filter(pk__in=list(pks))
        if rows.db != "sqlite":  # SQLite locks the whole database for the write already
            rows = rows.select_for_update()
        older = {
            pk: entries[:-window]
            for pk, entries in rows.values_list("pk", history.attname)
            if isinstance(entries, list) and len(entries) > window
        }
        if not older:
            return 0
        logs = _missing_logs(content_type_for(model), older, log_database())
        _write_logs(logs, using)
        # Django's own update(): the trim is not a change to record.
        models.QuerySet.update(
            table._base_manager.using(using).filter(pk__in=list(older)),
            **{history.name: NewestEntries(str(history.column), window)},
        )
    return sum(len(entries) for entries in older.values())


def _missing_logs(content_type: Any, older: dict[Any, list[Entry]], log_db: str) -> list[AuditLog]:
    """``AuditLog`` rows for the entries the log does not hold yet (one query)."""
    from django_trackable.audit import _stored_time
    from django_trackable.models.audit import AuditLog

    times = [
        _stored_time(e["timestamp"])
        for entries in older.values()
        for e in entries
        if isinstance(e, dict) and entry_time(e) is not None
    ]
    held: set[tuple[str, Any, str]] = set()
    if times:
        held = set(
            AuditLog.objects.using(log_db)
            .filter(
                content_type=content_type,
                object_id__in=[str(pk) for pk in older],
                timestamp__gte=min(times),
                timestamp__lte=max(times),
            )
            .values_list("object_id", "timestamp", "action")
        )
    logs = []
    for pk, entries in older.items():
        for entry in entries:
            if not isinstance(entry, dict) or entry_time(entry) is None:
                continue  # not an entry: nothing a reader could use
            when = _stored_time(entry["timestamp"])
            if (str(pk), when, str(entry.get("action") or "")) in held:
                continue
            logs.append(_log_of(content_type, pk, entry, when))
    return logs


def _log_of(content_type: Any, pk: Any, entry: Entry, when: datetime.datetime) -> AuditLog:
    from django_trackable.audit import _actor_pk
    from django_trackable.models.audit import REPR_LENGTH, AuditLog

    changes = entry.get("changes")
    return AuditLog(
        timestamp=when,
        actor_id=_actor_pk(entry.get("user")),
        actor_repr=str(entry.get("user_repr") or "")[:REPR_LENGTH],
        action=str(entry.get("action") or "")[:32],
        content_type=content_type,
        object_id=str(pk)[:REPR_LENGTH],
        target_repr="",
        changes=changes if isinstance(changes, dict) else {},
        extra={k: v for k, v in entry.items() if k not in _KEYS},
    )


def _write_logs(logs: list[AuditLog], using: str) -> None:
    from django_trackable.audit import log_database
    from django_trackable.models.audit import AuditLog

    if not logs:
        return
    log_db = log_database()
    if log_db == using:
        AuditLog.objects.using(log_db).bulk_create(logs)
    else:  # the log lives elsewhere: written once the trim commits (check W040)
        transaction.on_commit(lambda: AuditLog.objects.using(log_db).bulk_create(logs), using=using)


def full_history(instance: models.Model) -> list[Entry]:
    """Every entry of ``instance``'s row, oldest first: the log's older ones, then the row's.

    One query for the row's own ``history`` when it is not loaded, one for the
    log. Entries the log and the row both hold are listed once.
    """
    options = tracking.options_for(type(instance))
    history = options.history
    if history is None:
        return []
    window = list(getattr(instance, history.attname) or [])
    if window and window[0].get("action") == "create":
        return window  # the row still holds its whole history
    return [*_older_from_log(instance, window), *window]


def _older_from_log(instance: models.Model, window: list[Entry]) -> list[Entry]:
    from django_trackable.audit import log_database
    from django_trackable.models.audit import AuditLog

    in_row = {_key(e) for e in window if isinstance(e, dict)}
    logged = AuditLog.objects.using(log_database()).for_object(instance).chronological()
    return [e for e in (row.as_entry() for row in logged.iterator()) if _key(e) not in in_row]


def _key(entry: Entry) -> tuple[Any, ...]:
    return (entry_time(entry), entry.get("action"), entry.get("user"))


def reaching_back(instance: models.Model, moment: datetime.datetime) -> list[Entry]:
    """The row's entries, from the log too when its window begins after ``moment``."""
    options = tracking.options_for(type(instance))
    history = options.history
    assert history is not None
    entries = list(getattr(instance, history.attname) or [])
    if entries and entries[0].get("action") != "create":
        first = entry_time(entries[0])
        if first is None or first > moment:
            return full_history(instance)
    return entries
