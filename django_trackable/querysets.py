"""Querysets of tracked models: bulk writes that record history, and "since" queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from django_trackable import tracking
from django_trackable.context import get_current_extra, is_tracking_enabled
from django_trackable.expressions import (
    HistoryAppend,
    HistoryHasUser,
    IfChanged,
    SQLChange,
)
from django_trackable.history import build_entry, to_datetime

if TYPE_CHECKING:
    from typing_extensions import Self

    Timestamp = datetime.datetime | datetime.date | float | str

__all__ = ["AuditableQuerySet", "TrackableQuerySet"]

_M = TypeVar("_M", bound=models.Model)


class _TrackedWritesQuerySet(models.QuerySet[_M]):
    """``update()``, ``bulk_create()`` and ``bulk_update()`` that stamp and record."""

    def update(self, **kwargs: Any) -> int:
        """Update rows in one statement, stamping and appending an entry to each changed row.

        Each row's entry holds the old values read from the row by the same
        UPDATE; rows whose values do not actually change get no entry and keep
        their stamps.
        """
        if is_tracking_enabled():
            kwargs.update(_tracked_update_values(self.model, kwargs))
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """Insert like Django's ``bulk_create()``, with stamps and a create entry per row."""
        objs = list(objs)
        seed = tracking.Seed()
        for obj in objs:
            tracking.begin_write(obj, seed)
        saved = False
        try:
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
        objs = list(objs)
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
        restore[field.attname] = obj.__dict__.get(field.attname, _ABSENT)
        obj.__dict__[field.attname] = value.as_expression(field.name)
    return restore


def _tracked_update_values(model: type[models.Model], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The stamp and history values to add to ``QuerySet.update(**kwargs)``."""
    options = tracking.options_for(model)
    roles = options.roles
    if not options.stamped:
        return {}
    given = set(kwargs)
    sql_changes = []
    for key, value in kwargs.items():
        tf = options.by_name.get(key)
        if tf is not None and tf.in_history_table:
            sql_changes.append(SQLChange(tf.field, value, masked=tf.masked))
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
        values[history.name] = HistoryAppend(history.name, entry, sql_changes, options.limit)
        for role, value in (("updated_at", seed.now), ("updated_by", user_pk)):
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
