"""Querysets of tracked models: bulk writes that record history, and "since" queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

from django_trackable import audit, loading, statements, tracking
from django_trackable.context import get_current_extra, is_tracking_enabled
from django_trackable.expressions import (
    HistoryAppend,
    HistoryHasUser,
    IfChanged,
    LaterStamp,
    LatestTime,
    SQLChange,
    column_of_row,
)
from django_trackable.history import build_entry, to_datetime

if TYPE_CHECKING:
    from typing_extensions import Self

    Timestamp = datetime.datetime | datetime.date | float | str

__all__ = ["AuditableQuerySet", "TrackableQuerySet"]

_M = TypeVar("_M", bound=models.Model)


class _TrackedWritesQuerySet(statements.InsertsThrough[_M]):
    """``update()``, ``bulk_create()`` and ``bulk_update()`` that stamp and record.

    Its UPDATEs and INSERTs are tracked statements
    (:mod:`django_trackable.statements`), which also write the audit log.
    """

    insert_query = statements.TrackedInsertQuery

    def __init__(
        self,
        model: type[_M] | None = None,
        query: Any = None,
        using: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        if query is None:
            query = statements.TrackedQuery(model)
        super().__init__(model, query, using, hints)

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._result_cache and loading.defers_history(self):
            loading.introduce(self._result_cache)

    def _iterator(self, use_chunked_fetch: bool, chunk_size: int | None) -> Iterator[Any]:
        rows = super()._iterator(use_chunked_fetch, chunk_size)  # type: ignore[misc]
        if not loading.defers_history(self):
            return rows  # type: ignore[no-any-return]
        return loading.in_groups(rows, chunk_size or 2000)

    def update(self, **kwargs: Any) -> int:
        """Update rows in one statement, stamping and appending an entry to each changed row.

        Each row's entry holds the old values read from the row by the same
        UPDATE; rows whose values do not actually change get no entry and keep
        their stamps.
        """
        if is_tracking_enabled():
            history = tracking.options_for(self.model).history
            if history is not None and _tables(self.model, kwargs).keys() - {history.model}:
                return self._update_across_tables(kwargs)
            kwargs.update(_tracked_update_values(self.model, kwargs))
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def _update_across_tables(self, kwargs: dict[str, Any]) -> int:
        """``update()`` of columns outside the history's table (multi-table inheritance).

        Django updates the child's table before its parents'. The history's
        table goes first here, while the other tables still hold the old
        values its UPDATE reads, then each other table: the same statements
        as Django's (one SELECT of the primary keys, one UPDATE per table).
        """
        history = tracking.options_for(self.model).history
        assert history is not None
        tables = _tables(self.model, kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            pks = list(self.values_list("pk", flat=True))
            if not pks:
                return 0
            own = tables.pop(history.model, {})
            others = {name: value for values in tables.values() for name, value in values.items()}
            values = {
                **own,
                **_tracked_update_values(self.model, {**own, **others}, across_tables=True),
            }
            rows = history.model._base_manager.using(self.db).filter(pk__in=pks)
            count: int = models.QuerySet.update(statements.tracked(rows), **values)
            for table, table_values in tables.items():
                rows = table._base_manager.using(self.db).filter(pk__in=pks)
                count = models.QuerySet.update(rows, **table_values)
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        """Django's delete; with the audit log on, each row logged with its last values."""
        if not tracking.options_for(self.model).audit_possible:
            return super().delete()
        with audit.collecting_deletes(self.db):
            return super().delete()

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """Insert like Django's ``bulk_create()``, with stamps and a create entry per row."""
        objs = list(objs)
        seed = tracking.Seed()
        for obj in objs:
            tracking.begin_write(obj, seed)
        saved = False
        try:
            if tracking.options_for(self.model).audit_possible:
                # The audit rows of every batch in one statement, in this transaction.
                with transaction.atomic(using=self.db, savepoint=False), audit.deferred(self.db):
                    result = super().bulk_create(objs, *args, **kwargs)
            else:
                result = super().bulk_create(objs, *args, **kwargs)
            saved = True
        finally:
            for obj in objs:
                tracking.finish_write(obj, saved=saved)
        return result

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def bulk_update(
        self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        """Update like Django's ``bulk_update()``, recording each object's changes to ``fields``.

        The changes come from each object's load-time snapshot, as for ``save()``.
        """
        # The same object twice is one row with one plan (Django updates a row
        # from the first object listed for it anyway).
        objs = list({id(obj): obj for obj in objs}.values())
        options = tracking.options_for(self.model)
        if not is_tracking_enabled() or not options.roles:
            return super().bulk_update(objs, fields, batch_size=batch_size)
        fields = list(fields)
        seed = tracking.Seed(only=frozenset(fields))
        extra_fields = [name for name in options.update_names if name not in fields]
        restores = [_apply_plan(obj, seed, options) for obj in objs]
        saved = False
        try:
            rows = super().bulk_update(objs, [*fields, *extra_fields], batch_size=batch_size)
            saved = True
        finally:
            for obj, restore in zip(objs, restores, strict=True):
                for attname, value in restore.items():
                    if value is _ABSENT:
                        obj.__dict__.pop(attname, None)
                    else:
                        obj.__dict__[attname] = value
                tracking.finish_write(obj, saved=saved)
        return rows

    bulk_update.alters_data = True  # type: ignore[attr-defined]


_ABSENT: Any = object()


def _apply_plan(
    obj: models.Model, seed: tracking.Seed, options: tracking.ModelOptions
) -> dict[str, Any]:
    """Set the plan's update values on ``obj`` as ``bulk_update()`` reads them.

    Returns the attribute values to put back afterwards: ``bulk_update()`` takes
    expressions from attributes, and those must not stay on the instance.
    """
    tracking.begin_write(obj, seed)
    plan = obj.__dict__[tracking.PLAN] = tracking.make_plan(obj, add=False)
    restore: dict[str, Any] = {}
    for role in tracking.UPDATE_ROLES:
        field = options.roles.get(role)
        if field is None or role not in plan.values:
            continue
        value = plan.values[role]
        if not isinstance(value, tracking.SQL_VALUES):  # a new stamp stays on the instance
            obj.__dict__[field.attname] = value
            continue
        # After the write the instance holds its new stamp, or what it had.
        kept = (
            value.time
            if isinstance(value, LaterStamp)
            else obj.__dict__.get(field.attname, _ABSENT)
        )
        restore[field.attname] = kept
        obj.__dict__[field.attname] = value.as_expression(field.name)
    return restore


def _tables(model: type[models.Model], kwargs: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    """``update()``'s values by the model whose table holds each column."""
    tables: dict[Any, dict[str, Any]] = {}
    for name, value in kwargs.items():
        table = model._meta.get_field(name).model._meta.concrete_model
        tables.setdefault(table, {})[name] = value
    return tables


def _tracked_update_values(
    model: type[models.Model], kwargs: dict[str, Any], *, across_tables: bool = False
) -> dict[str, Any]:
    """The stamp and history values to add to ``QuerySet.update(**kwargs)``.

    ``across_tables``: the UPDATE of the history's table runs first, so the
    other tables' old values (and new ones computed from them) are read there.
    """
    options = tracking.options_for(model)
    roles = options.roles
    if not options.stamped:
        return {}
    given = set(kwargs)
    sql_changes = []
    for key, value in kwargs.items():
        tf = options.by_name.get(key)
        if tf is None:
            continue
        if tf.in_history_table:
            sql_changes.append(SQLChange(tf.field, value, masked=tf.masked))
        elif across_tables:
            table = tf.field.model
            new = (
                column_of_row(model, tf.field, value)
                if hasattr(value, "resolve_expression")
                else value
            )
            old = column_of_row(table, tf.field)
            sql_changes.append(SQLChange(tf.field, new, masked=tf.masked, old=old))
    seed = tracking.Seed()
    values: dict[str, Any] = {}
    history = options.history
    if history is None:  # stamps only: every update() is a change
        user_pk = tracking.user_pk_for(roles.get("updated_by"), seed.resolve_user())
        stamps = {"updated_at": seed.now, "updated_by": user_pk}
        for role, value in stamps.items():
            if role in roles:
                values[roles[role].name] = value
    elif sql_changes:
        user = seed.resolve_user()
        user_pk = tracking.user_pk_for(roles.get("updated_by"), user)
        entry = build_entry("update", seed.now, user, {}, get_current_extra())
        target = tracking.AuditTarget(model) if tracking.statement_hooks(model) else None
        values[history.name] = HistoryAppend(
            history.name, entry, sql_changes, options.limit, target=target
        )
        sql_stamps: dict[str, Any] = {"updated_by": user_pk}
        if "updated_at" in roles:
            sql_stamps["updated_at"] = LatestTime(roles["updated_at"], seed.now)
        for role, value in sql_stamps.items():
            if role in roles:
                values[roles[role].name] = IfChanged(roles[role], value, sql_changes)
        if "version" in roles:
            version = roles["version"]
            values[version.name] = IfChanged(version, models.F(version.name) + 1, sql_changes)
    # What the caller sets explicitly wins (e.g. update(history=[]) to clear it).
    return {
        name: value
        for name, value in values.items()
        if name not in given and getattr(model._meta.get_field(name), "attname", name) not in given
    }


class AuditableQuerySet(_TrackedWritesQuerySet[_M]):
    """The queryset of :class:`~django_trackable.models.AuditableModel`."""


class TrackableQuerySet(_TrackedWritesQuerySet[_M]):
    """The queryset of :class:`~django_trackable.models.TrackableModel`."""

    @classmethod
    def as_manager(cls) -> Any:
        """A :class:`~django_trackable.managers.LifecycleManager` with this queryset's methods.

        On a model that also uses lifecycle mixins (soft delete, tenants, ...)
        it adds their methods and default scopes, so a custom queryset derived
        from this one never loses them.
        """
        from django_trackable.managers import LifecycleManager

        manager = LifecycleManager.from_queryset(cls)()
        manager._built_with_as_manager = True
        return manager

    as_manager.__func__.queryset_only = True  # type: ignore[attr-defined]

    def since(
        self,
        timestamp: Timestamp | None = None,
        version: int | None = None,
        deleted: bool = False,
    ) -> Self:
        """Rows created or changed strictly after ``timestamp``.

        ``timestamp`` is a datetime (naive ones are read in the current time
        zone), a date or a UNIX time, as in django-handleref's ``since()``. Soft-deleted rows are
        included only with ``deleted=True`` (for models that soft-delete).
        ``version`` keeps rows whose ``version`` is above it (models with
        :class:`~django_trackable.models.VersionedModel`; an indexed filter).
        """
        qs = self
        if timestamp is not None:
            qs = qs.filter(updated_at__gt=to_datetime(timestamp))
        if version is not None:
            field = tracking.options_for(self.model).roles.get("version")
            if field is None:
                raise ImproperlyConfigured(
                    f"since(version=...) needs a version counter, which "
                    f"{self.model._meta.label} does not have: add "
                    "django_trackable.models.VersionedModel to its bases."
                )
            if isinstance(version, bool) or not isinstance(version, int):
                raise TypeError(f"since(version=...) takes an int, got {type(version).__name__}")
            qs = qs.filter(**{f"{field.name}__gt": version})
        if not deleted:
            qs = qs._without_deleted()
        return qs

    def _without_deleted(self) -> Self:
        """Hook for soft-deletable models; here every row is alive."""
        return self

    def with_history(self) -> Self:
        """Load ``history`` with the rows (the managers defer it: ``DEFER_HISTORY``)."""
        return loading.with_history(self)

    def only(self, *fields: Any) -> Self:
        """Django's ``only()``; naming ``history`` loads it although the manager defers it."""
        history = tracking.options_for(self.model).history
        queryset = self
        if history is not None and (history.name in fields or history.attname in fields):
            queryset = loading.with_history(queryset)
        return cast("Self", models.QuerySet.only(queryset, *fields))

    def undeleted(self) -> Self:
        """Rows that are not soft-deleted (every row of a model that does not soft-delete).

        django-handleref's name; ``alive()`` on soft-deletable models.
        """
        return self._without_deleted()

    def last_change(self) -> datetime.datetime | None:
        """The newest ``updated_at`` among these rows (one aggregate query); ``None`` if none.

        As django-handleref's ``last_change()``: ``updated_at`` is set on
        create too, so this is the time of the latest create or change.
        """
        newest: datetime.datetime | None = self.aggregate(newest=models.Max("updated_at"))["newest"]
        return newest

    def created_since(self, timestamp: Timestamp) -> Self:
        """Rows inserted strictly after ``timestamp`` (datetime, date or UNIX time)."""
        return cast("Self", self.filter(created_at__gt=to_datetime(timestamp)))

    def modified_by(self, user: Any) -> Self:
        """Rows that ``user`` created or changed, according to the stamps or any history entry."""
        pk = getattr(user, "pk", user)
        condition = models.Q(created_by=pk) | models.Q(updated_by=pk)
        return cast("Self", self.filter(condition | HistoryHasUser("history", pk)))
