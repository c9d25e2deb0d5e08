"""What the lifecycle mixins share: the composed manager, validation and write hooks."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models, router, transaction

from django_trackable import statements, tracking
from django_trackable.context import get_current_extra, is_tracking_enabled
from django_trackable.expressions import HistoryAppend, LatestTime
from django_trackable.history import Entry, JSONValue, build_entry
from django_trackable.managers import LifecycleManager, every_row
from django_trackable.models.trackable import _TrackedWritesModel


class _LifecycleModel(_TrackedWritesModel):
    """The base of every lifecycle mixin.

    Hooks, all overridable and cooperative (call ``super()``):
    :meth:`_lifecycle_check_write` before any write this package makes to one
    row, and :meth:`_lifecycle_row_filter` to select it;
    :meth:`_lifecycle_before_remove` / :meth:`_lifecycle_after_remove`
    around a delete, soft or hard; :meth:`_lifecycle_before_restore` /
    :meth:`_lifecycle_after_restore` around a restore. The "before" hooks run
    inside the write's transaction, before any row is written (the place to
    take locks that must come first).
    """

    objects: ClassVar[LifecycleManager] = LifecycleManager()

    class Meta:
        abstract = True

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Django's delete, with the lifecycle hooks around it."""
        self._lifecycle_check_write()
        using = using or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            state = self._lifecycle_before_remove()
            result = super().delete(using=using, keep_parents=keep_parents)
            self._lifecycle_after_remove(state)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]

    def validate_unique(self, exclude: Any = None) -> None:
        # The unique columns cover every row, deleted or another tenant's: so
        # must the check, or a clash surfaces as an IntegrityError on save.
        with every_row():
            super().validate_unique(exclude=exclude)

    def validate_constraints(self, exclude: Any = None) -> None:
        with every_row():
            super().validate_constraints(exclude=exclude)

    def _lifecycle_check_write(self) -> None:
        """Raise if this row may not be written now (see TenantScopedModel)."""

    def _lifecycle_row_filter(self) -> dict[str, Any]:
        """Lookups that select this row for an UPDATE of this package (see TenantScopedModel)."""
        return {"pk": self.pk}

    def _lifecycle_before_remove(self) -> dict[str, Any]:
        """State that :meth:`_lifecycle_after_remove` needs (taken before the row goes)."""
        return {}

    def _lifecycle_after_remove(self, state: dict[str, Any]) -> None:
        """Called after this row was deleted (soft or hard)."""

    def _lifecycle_before_restore(self) -> None:
        """Called before this row is restored from a soft delete, in the same transaction."""

    def _lifecycle_after_restore(self) -> None:
        """Called after this row was restored from a soft delete."""


def row_queryset(instance: _LifecycleModel, using: str | None = None) -> models.QuerySet[Any]:
    """This row, for the writes of this package: Django's plain queryset (no tracked
    ``update()``, no default scope) filtered by :meth:`_LifecycleModel._lifecycle_row_filter`.

    Its UPDATEs are tracked statements (they write the audit log); write with
    ``models.QuerySet.update(rows, **values)`` and every value explicit."""
    model = type(instance)
    using = using or router.db_for_write(model, instance=instance)
    rows: models.QuerySet[Any] = model._base_manager.db_manager(using).filter(
        **instance._lifecycle_row_filter()
    )
    return statements.tracked(rows)


def stamp_values(
    model: type[models.Model],
    action: str,
    changes: dict[str, list[JSONValue]] | None,
    seed: tracking.Seed,
    extra: dict[str, Any] | None = None,
    instance: models.Model | None = None,
) -> tuple[dict[str, Any], Entry | None, Any]:
    """The ``updated_*`` stamps and history append of one change this package writes.

    Returns the column values (by field name), the entry (``None`` without
    history) and the acting user. Nothing inside ``tracking_disabled()``.
    ``instance`` is the one row written, when there is one (for the audit log).
    """
    options = tracking.options_for(model)
    if not is_tracking_enabled() or not options.stamped:
        return {}, None, None
    roles = options.roles
    user = seed.resolve_user()
    values: dict[str, Any] = {}
    if "updated_at" in roles:
        values[roles["updated_at"].name] = LatestTime(roles["updated_at"], seed.now)
    if "updated_by" in roles:
        values[roles["updated_by"].name] = tracking.user_pk_for(roles["updated_by"], user)
    entry = None
    if options.history is not None:
        entry = build_entry(
            action, seed.now, user, changes, {**get_current_extra(), **(extra or {})}
        )
        target = None
        if tracking.statement_hooks(model):
            target = tracking.audit_target(instance) if instance else tracking.AuditTarget(model)
        values[options.history.name] = HistoryAppend(
            options.history.name, entry, limit=options.limit, target=target
        )
        if "version" in roles:
            values[roles["version"].name] = models.F(roles["version"].name) + 1
    return values, entry, user


def apply_written(
    instance: models.Model, values: dict[str, Any], entry: Entry | None, user: Any
) -> None:
    """Give ``instance`` the values an UPDATE of this package just wrote to its row.

    ``values`` maps field names to plain values, except the history field,
    whose in-memory list (when loaded) gets ``entry`` appended instead, and
    values the database computed (``version``), which are loaded on access.
    """
    model = type(instance)
    options = tracking.options_for(model)
    history = options.history
    for name, value in values.items():
        field: Any = model._meta.get_field(name)
        if isinstance(value, LatestTime):
            value = value.time
        if history is not None and field is history:
            entries = instance.__dict__.get(history.attname)
            if entry is not None and isinstance(entries, list):
                entries.append(entry)
                if options.limit is not None and len(entries) > options.limit:
                    del entries[: -options.limit]
            continue
        if hasattr(value, "resolve_expression"):
            instance.__dict__.pop(field.attname, None)
            continue
        setattr(instance, field.attname, value)
        if field.is_relation:
            if value is not None and value == getattr(user, "pk", None):
                field.set_cached_value(instance, user)
            elif field.is_cached(instance):
                field.delete_cached_value(instance)
    # The row holds these values now: later saves diff against them.
    tracking.remember(
        instance, [name for name in values if name != getattr(options.history, "name", None)]
    )
