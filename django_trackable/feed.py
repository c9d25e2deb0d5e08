"""The changes feed: what changed across every tracked model since a moment, oldest first.

:func:`changes_since` reads models whose entries go to the audit log from
``AuditLog`` (one indexed query for all of them) and the others from their
rows' ``history`` (one query per model that expands the entries in SQL). Each
source is sorted by the database and read in chunks through a server-side
cursor where the backend has one, and the sources are merged as they stream:
Python holds one chunk per source, however many changes there are.
"""

from __future__ import annotations

import datetime
import heapq
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections, models, router

from django_trackable import tracking
from django_trackable.history import Entry, to_datetime, to_json

__all__ = ["Change", "changes_since", "tracked_models"]

#: Rows fetched from the database at a time, per source.
CHUNK_SIZE = 2000

_ENTRY_KEYS = frozenset({"action", "timestamp", "user", "user_repr", "changes"})


@dataclass(frozen=True)
class Change:
    """One entry of one row: who did what to which object, and when."""

    model: type[models.Model]
    pk: Any
    action: str
    timestamp: datetime.datetime
    user: Any  # the actor's primary key, or None
    user_repr: str | None
    changes: dict[str, Any]
    #: The object's ``str()``: as logged (audit log), or as the row is now
    #: (history); ``""`` when the row is gone or its model has no ``__str__``.
    object_repr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"app_label.Model"`` of the changed row's model."""
        return self.model._meta.label

    def describe(self) -> str:
        """The object as text: its logged ``str()``, else ``"<verbose name> <pk>"``."""
        return self.object_repr or f"{self.model._meta.verbose_name} {self.pk}"

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON-ready values (the entry format, plus model and object)."""
        return {
            "model": self.label,
            "pk": to_json(self.pk),
            "object": self.describe(),
            "action": self.action,
            "timestamp": self.timestamp.isoformat(timespec="microseconds"),
            "user": to_json(self.user),
            "user_repr": self.user_repr,
            "changes": self.changes,
            **self.extra,
        }


def tracked_models() -> list[type[models.Model]]:
    """Every installed model with a ``history`` of its own (not proxies, not
    multi-table children, whose entries are their parent's rows')."""
    found = []
    for model in apps.get_models():
        history = tracking.options_for(model).history
        if history is not None and not model._meta.proxy and history.model is model:
            found.append(model)
    return found


def changes_since(
    when: datetime.datetime | datetime.date | float | str,
    *,
    until: datetime.datetime | datetime.date | float | str | None = None,
    models: Iterable[type[models.Model] | str] | None = None,
    user: Any = None,
    actions: Iterable[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Change]:
    """The changes after ``when`` (and at or before ``until``), oldest first, streamed.

    ``models`` limits the feed to those models (classes or ``"app.Model"``
    labels; multi-table children are found through the model that holds
    their history), ``user`` to one actor (a user or a primary key), and
    ``actions`` to entries with those actions (``"update"``, ``"delete"``, ...).

    Entries written before the audit log was switched on for a model are in
    its rows only: switch it on before the moments you will ask about.
    """
    start = to_datetime(when)
    end = to_datetime(until) if until is not None else None
    chosen = _chosen_models(models)
    user_pk = getattr(user, "pk", user)
    wanted = tuple(actions) if actions is not None else None
    audited = [m for m in chosen if tracking.options_for(m).audit]
    sources: list[Iterator[Change]] = []
    if audited:
        sources.append(_from_audit_log(audited, start, end, user_pk, wanted, chunk_size))
    for model in chosen:
        if model not in audited:
            sources.append(_from_rows(model, start, end, user_pk, wanted, chunk_size))
    return heapq.merge(*sources, key=lambda change: change.timestamp)


def _chosen_models(
    wanted: Iterable[type[models.Model] | str] | None,
) -> list[type[models.Model]]:
    every = tracked_models()
    if wanted is None:
        return every
    chosen = []
    for item in wanted:
        model = apps.get_model(item) if isinstance(item, str) else item
        history = tracking.options_for(model).history
        if history is None:
            raise ValueError(f"{model._meta.label} has no history: it is not a tracked model")
        holder = history.model
        if holder not in chosen:
            chosen.append(holder)
    return chosen


# --- from the audit log -------------------------------------------------------------------


def _from_audit_log(
    models_: Sequence[type[models.Model]],
    start: datetime.datetime,
    end: datetime.datetime | None,
    user_pk: Any,
    actions: tuple[str, ...] | None,
    chunk_size: int,
) -> Iterator[Change]:
    from django_trackable.audit import log_database
    from django_trackable.models.audit import AuditLog, _with_children, content_type_for

    by_content_type: dict[int, type[models.Model]] = {}
    for model in models_:
        for member in _with_children(model):
            by_content_type[content_type_for(member).pk] = member
    rows = AuditLog.objects.using(log_database()).since(start)
    rows = rows.filter(content_type__in=list(by_content_type))
    if end is not None:
        rows = rows.until(end)
    if user_pk is not None:
        rows = rows.by(user_pk)
    if actions is not None:
        rows = rows.filter(action__in=actions)
    for row in rows.chronological().iterator(chunk_size=chunk_size):
        model = by_content_type[row.content_type_id]
        try:
            pk = model._meta.pk.to_python(row.object_id)
        except Exception:  # noqa: BLE001 - a primary key type that changed since
            pk = row.object_id
        yield Change(
            model=model,
            pk=pk,
            action=row.action,
            timestamp=row.timestamp,
            user=row.actor_id,
            user_repr=row.actor_repr or None,
            changes=row.changes if isinstance(row.changes, dict) else {},
            object_repr=row.target_repr,
            extra=row.extra if isinstance(row.extra, dict) else {},
        )


# --- from the rows' own history ---------------------------------------------------------------


def _from_rows(
    model: type[models.Model],
    start: datetime.datetime,
    end: datetime.datetime | None,
    user_pk: Any,
    actions: tuple[str, ...] | None,
    chunk_size: int,
) -> Iterator[Change]:
    """The entries of ``model``'s rows after ``start``, expanded and sorted in SQL.

    ``updated_at`` is never older than a row's newest entry, so its index
    narrows the rows to those changed after ``start``.
    """
    using = router.db_for_read(model)
    connection = connections[using]
    sql, params = _expanded_entries_sql(model, connection, start, end, user_pk, actions)
    pk_field = model._meta.pk
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(chunk_size)
            if not rows:
                return
            reprs = _reprs(model, using, {pk_field.to_python(pk) for pk, _raw in rows})
            for pk, raw in rows:
                entry = raw if isinstance(raw, dict) else json.loads(raw)
                change = _change(model, pk_field.to_python(pk), entry, reprs)
                # The SQL bounds are a millisecond wide on SQLite; these are exact.
                if change is None or change.timestamp <= start:
                    continue
                if end is not None and change.timestamp > end:
                    continue
                yield change


def _reprs(model: type[models.Model], using: str, pks: set[Any]) -> dict[Any, str]:
    """The ``str()`` of the rows of one chunk: one query, without their history."""
    history = tracking.options_for(model).history
    rows = model._base_manager.using(using).defer(history.name if history else None)
    return {pk: tracking.instance_repr(obj) for pk, obj in rows.in_bulk(list(pks)).items()}


def _change(
    model: type[models.Model], pk: Any, entry: Entry, reprs: dict[Any, str]
) -> Change | None:
    if not isinstance(entry, dict):
        return None
    try:
        timestamp = to_datetime(entry["timestamp"])
    except (KeyError, TypeError, ValueError):
        return None
    changes = entry.get("changes")
    return Change(
        model=model,
        pk=pk,
        action=str(entry.get("action") or ""),
        timestamp=timestamp,
        user=entry.get("user"),
        user_repr=entry.get("user_repr"),
        changes=changes if isinstance(changes, dict) else {},
        object_repr=reprs.get(pk, ""),
        extra={k: v for k, v in entry.items() if k not in _ENTRY_KEYS},
    )


def _expanded_entries_sql(
    model: type[models.Model],
    connection: Any,
    start: datetime.datetime,
    end: datetime.datetime | None,
    user_pk: Any,
    actions: tuple[str, ...] | None,
) -> tuple[str, list[Any]]:
    options = tracking.options_for(model)
    history = options.history
    assert history is not None
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    pk = f"t.{qn(model._meta.pk.column)}"
    column = f"t.{qn(history.column)}"
    stamp = options.roles.get("updated_at")
    where: list[str] = []
    params: list[Any] = []
    if stamp is not None:
        where.append(f"t.{qn(stamp.column)} > %s")
        params.append(stamp.get_db_prep_value(_stored(start), connection))
    if connection.vendor == "postgresql":
        # A text that is not a time must not fail the query: cast only what looks like one.
        moment = (
            "CASE WHEN (e.value ->> 'timestamp') ~ "
            "'^[0-9]{4}-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]' "
            "THEN (e.value ->> 'timestamp')::timestamptz END"
        )
        source = f"{table} AS t CROSS JOIN jsonb_array_elements({column}) WITH ORDINALITY AS e"
        where.append(f"jsonb_typeof({column}) = 'array' AND jsonb_typeof(e.value) = 'object'")
        order = f"{moment}, {pk}, e.ordinality"
        action = "e.value ->> 'action'"
        user_param: Any = json.dumps(to_json(user_pk))
        user_sql = "e.value -> 'user' = %s::jsonb"
        time_param: Any = start
        end_param: Any = end
    else:
        moment = "julianday(json_extract(e.value, '$.timestamp'))"
        source = f"{table} AS t, json_each({column}) AS e"
        where.append(f"json_valid({column}) AND json_type({column}) = 'array'")
        where.append("e.type = 'object'")
        # julianday() parses the offset; its precision is below a millisecond,
        # so the text breaks ties and the bounds are widened (see _from_rows()).
        order = f"{moment}, json_extract(e.value, '$.timestamp'), {pk}, e.key"
        action = "json_extract(e.value, '$.action')"
        user_sql = "json_extract(e.value, '$.user') = %s"
        user_param = to_json(user_pk)
        time_param = _julian(start) - _MILLISECOND
        end_param = _julian(end) + _MILLISECOND if end is not None else None
    where.append(f"{moment} > %s")
    params.append(time_param)
    if end is not None:
        where.append(f"{moment} <= %s")
        params.append(end_param)
    if user_pk is not None:
        where.append(user_sql)
        params.append(user_param)
    if actions is not None:
        if not actions:
            where.append("1 = 0")
        else:
            where.append(f"{action} IN ({', '.join(['%s'] * len(actions))})")
            params.extend(actions)
    return (
        f"SELECT {pk}, e.value FROM {source} WHERE {' AND '.join(where)} ORDER BY {order}",
        params,
    )


def _stored(when: datetime.datetime) -> datetime.datetime:
    from django.conf import settings
    from django.utils import timezone

    return when if settings.USE_TZ else timezone.make_naive(when)


_MILLISECOND = 1 / 86_400_000  # in days


def _julian(when: datetime.datetime) -> float:
    """``when`` as SQLite's ``julianday()`` gives it (days since noon, 4714 BC, UTC)."""
    seconds = when.astimezone(datetime.timezone.utc).timestamp()
    return seconds / 86400.0 + 2440587.5
