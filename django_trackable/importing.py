"""Turn another library's history into history entries (``manage.py trackable_import``).

A *source* (django-simple-history, django-reversion, django-auditlog) yields
:class:`SourceRecord` objects, one row's records after the other, oldest first,
streamed from the database. :func:`import_history` groups them by row, builds
entries from them (diffs between consecutive snapshots, or the changes the
source stored), and rewrites each row's ``history`` with those entries in front
of the entries the row already has, in one UPDATE per row.

Records from the moment the row's own tracking began (its first entry that is
not imported) are left out: those changes are already recorded. Every imported
entry carries ``"imported": {"source": ..., "id": ...}``, so a second run
rebuilds the same entries and writes nothing. Masked fields are masked as
tracked writes mask them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.db import models, transaction
from django.utils import timezone

from django_trackable import archive, tracking
from django_trackable.conf import trackable_settings
from django_trackable.history import MASK, Entry, JSONValue, build_entry, entry_time, to_json

__all__ = [
    "SOURCES",
    "ImportStats",
    "SourceRecord",
    "import_history",
    "source_models",
]

#: Marks an imported entry: ``entry[IMPORTED] == {"source": name, "id": source id}``.
IMPORTED = "imported"


@dataclass(frozen=True)
class SourceRecord:
    """One record of another library about one row, as the importer needs it.

    Either ``snapshot`` (attname → value, the row's tracked fields after the
    change) or ``changes`` (field name → ``[old, new]`` as JSON) is given.
    """

    object_pk: Any
    when: datetime.datetime
    action: str  # "create", "update" or "delete"
    source_id: Any
    user_pk: Any = None
    reason: str | None = None
    snapshot: dict[str, Any] | None = None
    changes: dict[str, list[JSONValue]] | None = None


@dataclass
class ImportStats:
    """What an import read and wrote (for the command's report and for tests)."""

    records: int = 0
    rows: int = 0
    rows_written: int = 0
    entries: int = 0
    audit_rows: int = 0
    missing_rows: int = 0
    users: set[Any] = field(default_factory=set)


Source = Callable[[type[models.Model], int], Iterator[SourceRecord]]


def _aware(value: datetime.datetime) -> datetime.datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value, datetime.timezone.utc)
    return value


def _is_tracked(model: type[models.Model]) -> bool:
    return not model._meta.abstract and tracking.options_for(model).history is not None


# --- django-simple-history -----------------------------------------------------


def _simple_history_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if hasattr(model._meta, "simple_history_manager_attribute") and _is_tracked(model)
    ]


def _simple_history_records(model: type[models.Model], chunk: int) -> Iterator[SourceRecord]:
    manager_name: str = model._meta.simple_history_manager_attribute  # type: ignore[attr-defined]
    history_model = getattr(model, manager_name).model
    stored = {f.attname for f in history_model._meta.concrete_fields}
    attnames = [tf.attname for tf in tracking.options_for(model).tracked if tf.attname in stored]
    pk = model._meta.pk.attname
    actions = {"+": "create", "~": "update", "-": "delete"}
    columns = ["history_id", "history_date", "history_type", "history_user_id"]
    rows = (
        history_model._default_manager.order_by(pk, "history_date", "history_id")
        .values(pk, *columns, "history_change_reason", *attnames)
        .iterator(chunk_size=chunk)
    )
    for row in rows:
        yield SourceRecord(
            object_pk=row[pk],
            when=_aware(row["history_date"]),
            action=actions.get(row["history_type"], "update"),
            source_id=to_json(row["history_id"]),
            user_pk=row["history_user_id"],
            reason=row["history_change_reason"] or None,
            snapshot={name: row[name] for name in attnames},
        )


# --- django-reversion ----------------------------------------------------------------


def _reversion_models() -> list[type[models.Model]]:
    import reversion

    return [model for model in reversion.get_registered_models() if _is_tracked(model)]


def _reversion_records(model: type[models.Model], chunk: int) -> Iterator[SourceRecord]:
    from django.contrib.contenttypes.models import ContentType
    from reversion.models import Version

    options = tracking.options_for(model)
    content_type = ContentType.objects.get_for_model(model)
    versions = (
        Version.objects.filter(content_type=content_type)
        .select_related("revision")
        .order_by("object_id", "revision__date_created", "pk")
        .iterator(chunk_size=chunk)
    )
    previous = None  # the object_id of the last version read (they come grouped)
    for version in versions:
        try:
            # Deserialised here, not through reversion's registration: a model
            # unregistered since still has its versions imported.
            data = serializers.deserialize(
                version.format, version.serialized_data, ignorenonexistent=True
            )
            obj = next(iter(data)).object
        except Exception:  # noqa: BLE001 - data no model field accepts any more: skipped
            continue
        revision = version.revision
        yield SourceRecord(
            object_pk=model._meta.pk.to_python(version.object_id),
            when=_aware(revision.date_created),
            action="update" if version.object_id == previous else "create",
            source_id=version.pk,
            user_pk=revision.user_id,
            reason=revision.comment or None,
            snapshot={tf.attname: getattr(obj, tf.attname, None) for tf in options.tracked},
        )
        previous = version.object_id


# --- django-auditlog -------------------------------------------------------------------


def _auditlog_models() -> list[type[models.Model]]:
    from auditlog.registry import auditlog

    return [model for model in auditlog.get_models() if _is_tracked(model)]


def _auditlog_value(model_field: models.Field[Any, Any], raw: Any) -> JSONValue:
    """A value as auditlog stored it (mostly ``str()``, ``"None"`` for null) as entry JSON."""
    if raw is None or raw == "None":
        return None
    target: Any = model_field
    if target.is_relation:
        target = target.target_field
    try:
        if target.get_internal_type() == "JSONField":
            return to_json(json.loads(raw) if isinstance(raw, str) else raw)
        value = target.to_python(raw)
        if isinstance(value, datetime.datetime) and settings.USE_TZ:
            value = _aware(value)  # auditlog stores UTC without an offset
        return to_json(value)
    except Exception:  # noqa: BLE001 - keep what auditlog stored when no field reads it
        return to_json(raw)


def _auditlog_records(model: type[models.Model], chunk: int) -> Iterator[SourceRecord]:
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    options = tracking.options_for(model)
    content_type = ContentType.objects.get_for_model(model)
    actions = {
        LogEntry.Action.CREATE: "create",
        LogEntry.Action.UPDATE: "update",
        LogEntry.Action.DELETE: "delete",
    }
    entries = (
        LogEntry.objects.filter(content_type=content_type, action__in=list(actions))
        .order_by("object_pk", "timestamp", "pk")
        .values("pk", "object_pk", "timestamp", "action", "actor_id", "changes")
        .iterator(chunk_size=chunk)
    )
    for row in entries:
        raw = row["changes"]
        if isinstance(raw, str):  # auditlog 2 stored the JSON as text
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = {}
        changes: dict[str, list[JSONValue]] = {}
        for name, pair in (raw or {}).items():
            tf = options.by_name.get(name)
            if tf is None or not isinstance(pair, list) or len(pair) != 2:
                continue
            changes[tf.name] = [
                _auditlog_value(tf.field, pair[0]),
                _auditlog_value(tf.field, pair[1]),
            ]
        yield SourceRecord(
            object_pk=model._meta.pk.to_python(row["object_pk"]),
            when=_aware(row["timestamp"]),
            action=actions[row["action"]],
            source_id=row["pk"],
            user_pk=row["actor_id"],
            changes=changes,
        )


#: name → (models that have records there, records of one model).
SOURCES: dict[str, tuple[str, Callable[[], list[type[models.Model]]], Source]] = {
    "simple_history": ("simple_history", _simple_history_models, _simple_history_records),
    "reversion": ("reversion", _reversion_models, _reversion_records),
    "auditlog": ("auditlog", _auditlog_models, _auditlog_records),
}


def source_models(source: str) -> list[type[models.Model]]:
    """The tracked models ``source`` holds records for (its app must be installed)."""
    app, find, _records = SOURCES[source]
    if not apps.is_installed(app):
        raise LookupError(f"{app} is not in INSTALLED_APPS")
    return find()


# --- building entries ----------------------------------------------------------------


def _snapshot_changes(
    options: tracking.ModelOptions,
    before: dict[str, JSONValue] | None,
    after: dict[str, JSONValue],
    raw: dict[str, Any],
) -> dict[str, list[JSONValue]]:
    changes: dict[str, list[JSONValue]] = {}
    for tf in options.tracked:
        if tf.attname not in after:
            continue
        new = after[tf.attname]
        if before is None:
            masked = tf.masked and raw[tf.attname] not in (None, "")
            changes[tf.name] = [None, MASK if masked else new]
        elif before.get(tf.attname) != new:
            changes[tf.name] = [MASK, MASK] if tf.masked else [before.get(tf.attname), new]
    return changes


def _masked(
    options: tracking.ModelOptions, action: str, changes: dict[str, list[JSONValue]]
) -> dict[str, Any]:
    """Stored changes with masked fields masked as the write path masks them."""
    result: dict[str, list[JSONValue]] = {}
    for name, (old, new) in changes.items():
        if not options.by_name[name].masked:
            result[name] = [old, new]
        elif action == "create":
            result[name] = [None, None if new in (None, "") else MASK]
        else:
            result[name] = [MASK, MASK]
    return result


def _entries(
    source: str,
    options: tracking.ModelOptions,
    records: Iterable[SourceRecord],
    users: dict[Any, Any],
) -> list[Entry]:
    """The entries for one row's records, oldest first; records that change nothing add none."""
    entries: list[Entry] = []
    before: dict[str, JSONValue] | None = None
    for record in records:
        if record.snapshot is not None:
            after = {name: to_json(value) for name, value in record.snapshot.items()}
            first = before is None
            changes = _snapshot_changes(options, before, after, record.snapshot)
            before = after
            action = "create" if first else record.action
            if action == "update" and not changes:
                continue
        else:
            action = record.action
            changes = _masked(options, action, record.changes or {})
            if action == "update" and not changes:
                continue
        user = users.get(record.user_pk)
        extra: dict[str, Any] = {IMPORTED: {"source": source, "id": record.source_id}}
        if record.reason:
            extra["reason"] = record.reason
        entry = build_entry(action, record.when, user, changes, extra)
        if user is None and record.user_pk is not None:  # the user is gone; keep the key
            entry["user"] = to_json(record.user_pk)
        entries.append(entry)
    return entries


def _is_imported(entry: Any, source: str | None = None) -> bool:
    marker = entry.get(IMPORTED) if isinstance(entry, dict) else None
    return isinstance(marker, dict) and (source is None or marker.get("source") == source)


# --- the import ------------------------------------------------------------------------


def _by_row(records: Iterator[SourceRecord]) -> Iterator[tuple[Any, list[SourceRecord]]]:
    pk: Any = object()
    group: list[SourceRecord] = []
    for record in records:
        if record.object_pk != pk:
            if group:
                yield pk, group
            pk, group = record.object_pk, []
        group.append(record)
    if group:
        yield pk, group


def _batches(
    groups: Iterator[tuple[Any, list[SourceRecord]]], size: int
) -> Iterator[list[tuple[Any, list[SourceRecord]]]]:
    batch: list[tuple[Any, list[SourceRecord]]] = []
    for group in groups:
        batch.append(group)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _audit_log_on(model: type[models.Model]) -> bool:
    wanted = getattr(model, "track_audit_log", None)
    return bool(trackable_settings.AUDIT_LOG if wanted is None else wanted)


def import_history(
    source: str,
    model: type[models.Model],
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    progress: Callable[[ImportStats], None] | None = None,
) -> ImportStats:
    """Import ``source``'s records about ``model``'s rows into their ``history``.

    Reads the source's records streamed, ``batch_size`` rows at a time; per
    batch, one query for the rows (locked), one for the users, one for the
    rows with entries in ``AuditLog`` (and one per such row), one UPDATE per
    row whose history changes, with ``AUDIT_LOG`` one query and one INSERT for
    the audit trail, and the move of the rows past their window
    (``HISTORY_WINDOW``), in one transaction. With ``dry_run`` nothing
    is written (the counts say what would be). ``progress`` is called after
    each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    _app, _find, records_of = SOURCES[source]
    options = tracking.options_for(model)
    history = options.history
    if history is None:
        raise TypeError(f"{model._meta.label} has no history to import into")
    stats = ImportStats()
    groups = _by_row(records_of(model, batch_size))
    for batch in _batches(groups, batch_size):
        with transaction.atomic(using=model._base_manager.db):
            _import_batch(source, model, options, batch, stats, dry_run)
        if progress is not None:
            progress(stats)
    return stats


def _import_batch(
    source: str,
    model: type[models.Model],
    options: tracking.ModelOptions,
    batch: list[tuple[Any, list[SourceRecord]]],
    stats: ImportStats,
    dry_run: bool,
) -> None:
    history = options.history
    assert history is not None
    created_at = options.roles.get("created_at")
    created_by = options.roles.get("created_by")
    columns = ["pk", history.attname]
    columns += [f.attname for f in (created_at, created_by) if f is not None]
    rows_qs = model._base_manager.filter(pk__in=[pk for pk, _records in batch])
    if not dry_run:
        rows_qs = rows_qs.select_for_update()  # no entry of a concurrent write is lost
    rows = {row[0]: row for row in rows_qs.values_list(*columns)}
    user_pks = {r.user_pk for _pk, records in batch for r in records if r.user_pk is not None}
    user_model = get_user_model()
    found = user_model._base_manager.in_bulk(list(user_pks)) if user_pks else {}
    users = {pk: found[pk] for pk in user_pks if pk in found}
    # Entries hold primary keys as JSON: the users by that key too.
    existing_users = {to_json(pk) for pk in users}
    audit: list[tuple[Any, Entry]] = []
    to_log: list[tuple[Any, Entry]] = []  # rows whose older entries are in the log already
    past_window: list[Any] = []
    logged = _rows_in_log(model, [pk for pk, _records in batch])
    for pk, records in batch:
        stats.records += len(records)
        row = rows.get(pk)
        if row is None:
            stats.missing_rows += 1
            continue
        stats.rows += 1
        values = dict(zip(columns, row, strict=True))
        current = values[history.attname]
        current = list(current) if isinstance(current, list) else []
        # Entries a move took from the row (HISTORY_WINDOW) count as the row's too.
        older = []
        if str(pk) in logged and not archive.holds_everything(current):
            older = archive.older_in_log(model(pk=pk), current)
        everything = older + current
        own = [e for e in everything if not _is_imported(e)]
        start = entry_time(own[0]) if own else None
        wanted = [r for r in records if start is None or r.when < start]
        imported = _entries(source, options, wanted, users)
        before = [e for e in everything if _is_imported(e, source)]
        if imported == before:
            continue
        known = {to_json(e[IMPORTED].get("id")) for e in before}
        update: dict[str, Any] = {}
        new_history: list[Entry] = []
        if older:
            # Older than every entry the log holds for the row: they go there too, so
            # readers keep the order; what the row or the log holds is not written again.
            imported = [e for e in imported if e[IMPORTED]["id"] not in known]
            if not imported:
                continue
            to_log.extend((pk, entry) for entry in imported)
        else:
            kept = [e for e in current if not _is_imported(e, source)]
            new_history = imported + kept
            if options.limit is not None:
                new_history = new_history[-options.limit :]
            update[history.name] = new_history
            audit.extend((pk, entry) for entry in imported)
        first = imported[0] if imported else None
        if first is not None and first["action"] == "create":
            when = entry_time(first)
            if created_at is not None and when is not None:
                stamp = values[created_at.attname]
                if stamp is None or when < stamp:
                    update[created_at.name] = when
            user = first.get("user")
            if (
                created_by is not None
                and values[created_by.attname] is None
                and user in existing_users
            ):
                update[created_by.attname] = user
        stats.rows_written += 1
        stats.entries += sum(1 for e in imported if e[IMPORTED]["id"] not in known)
        stats.users.update(e["user"] for e in imported if e.get("user") is not None)
        if update and not dry_run:
            models.QuerySet.update(model._base_manager.filter(pk=pk), **update)
        if options.window is not None and tracking.past_window(len(new_history), options.window):
            past_window.append(pk)
    audit_on = _audit_log_on(model)
    # The audit trail's copies and the entries that go to the log only: one write.
    logs = [*(audit if audit_on else ()), *to_log]
    if logs:
        written = _write_audit_log(model, logs, existing_users, dry_run)
        stats.audit_rows += written if audit_on else 0
    if past_window and options.window is not None and not dry_run:
        # As a save would: the row keeps its window, the older entries go to the log.
        archive.move_out(model, past_window, options.window, using=model._base_manager.db)


def _rows_in_log(model: type[models.Model], pks: list[Any]) -> set[str]:
    """The keys (as text) of these rows that have entries in the log: one query."""
    from django_trackable.audit import log_database
    from django_trackable.models.audit import AuditLog, _sharing_history, content_type_for

    return set(
        AuditLog.objects.using(log_database())
        .filter(
            content_type__in=[content_type_for(m) for m in _sharing_history(model)],
            object_id__in=[str(pk) for pk in pks],
        )
        .values_list("object_id", flat=True)
        .distinct()
    )


def _write_audit_log(
    model: type[models.Model],
    imported: list[tuple[Any, Entry]],
    existing_users: set[Any],
    dry_run: bool,
) -> int:
    """AuditLog rows for the imported entries the log does not have yet: one INSERT."""
    from django_trackable.models.audit import ENTRY_COLUMNS, REPR_LENGTH, AuditLog, content_type_for

    content_type = content_type_for(model)
    object_ids = {str(pk) for pk, _entry in imported}
    logged = {
        (extra[IMPORTED].get("source"), to_json(extra[IMPORTED].get("id")))
        for extra in AuditLog.objects.filter(
            content_type=content_type, object_id__in=object_ids, extra__has_key=IMPORTED
        ).values_list("extra", flat=True)
        if isinstance(extra, dict) and isinstance(extra.get(IMPORTED), dict)
    }
    rows = []
    for pk, entry in imported:
        marker = entry[IMPORTED]
        if (marker["source"], marker["id"]) in logged:
            continue
        user_pk = entry.get("user")
        rows.append(
            AuditLog(
                timestamp=entry_time(entry) or timezone.now(),
                actor_id=user_pk if user_pk in existing_users else None,
                actor_repr=(entry.get("user_repr") or "")[:REPR_LENGTH],
                action=entry["action"],
                content_type=content_type,
                object_id=str(pk)[:REPR_LENGTH],
                changes=entry.get("changes") or {},
                extra={k: v for k, v in entry.items() if k not in ENTRY_COLUMNS},
            )
        )
    if rows and not dry_run:
        AuditLog.objects.bulk_create(rows)
    return len(rows)
