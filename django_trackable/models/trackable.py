"""TrackableModel and AuditableModel: who and when on every row, and what changed."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models, router
from django.utils.translation import gettext_lazy as _

from django_trackable import archive, audit, statements, tracking
from django_trackable.fields import (
    CreatedAtField,
    CreatedByField,
    HistoryField,
    UpdatedAtField,
    UpdatedByField,
)
from django_trackable.history import MASK, Entry, entries_since, entry_time, to_datetime
from django_trackable.loading import PEERS
from django_trackable.managers import LifecycleManager
from django_trackable.querysets import AuditableQuerySet

__all__ = ["AuditableModel", "HistoryUnavailable", "TrackableModel"]


class HistoryUnavailable(LookupError):
    """The history does not reach back far enough (it was trimmed, or began later)."""


class _TrackedWritesModel(models.Model):
    """Routes every save through the tracking plan (see :mod:`django_trackable.tracking`)."""

    class Meta:
        abstract = True

    def __getstate__(self) -> dict[str, Any]:
        # copy.copy(), copy.deepcopy() and pickle: each copy diffs against a
        # snapshot of its own, or saving one would move the other's baseline.
        state: dict[str, Any] = super().__getstate__()
        snapshot = state.get(tracking.SNAPSHOT)
        if isinstance(snapshot, dict):
            state[tracking.SNAPSHOT] = dict(snapshot)
        state.pop(PEERS, None)  # weak references to the instances loaded with it
        return state

    def save_base(
        self,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        if raw:  # loaddata: store the fixture exactly as given
            return super().save_base(raw, force_insert, force_update, using, update_fields)
        only = None
        if update_fields is not None:
            only = frozenset(update_fields)
            update_fields = only | tracking.options_for(type(self)).update_names
        tracking.begin_write(self, tracking.Seed(only=only))
        saved = False
        try:
            super().save_base(raw, force_insert, force_update, using, update_fields)
            saved = True
        finally:
            tracking.finish_write(self, saved=saved)

    save_base.alters_data = True  # type: ignore[attr-defined]

    def _do_update(self, base_qs: Any, *args: Any, **kwargs: Any) -> Any:
        if tracking.statement_hooks(type(self)):
            # Django made this queryset for this one UPDATE: make it a tracked statement.
            base_qs.query.__class__ = statements.TrackedQuery
        return super()._do_update(base_qs, *args, **kwargs)

    def _do_insert(
        self, manager: Any, using: str, fields: Any, returning_fields: Any, raw: bool
    ) -> Any:
        if not tracking.statement_hooks(type(self)):
            return super()._do_insert(manager, using, fields, returning_fields, raw)  # type: ignore[misc]
        return statements.insert(
            manager.model,
            [self],
            fields,
            using=using,
            returning_fields=returning_fields,
            raw=raw,
        )

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Django's delete; with the audit log on, logged with the row's last values."""
        if not tracking.options_for(type(self)).audit_possible:
            return super().delete(using=using, keep_parents=keep_parents)
        using = using or router.db_for_write(type(self), instance=self)
        with audit.collecting_deletes(using):
            return super().delete(using=using, keep_parents=keep_parents)

    delete.alters_data = True  # type: ignore[attr-defined]


class AuditableModel(_TrackedWritesModel):
    """``created_by`` and ``updated_by`` only: who inserted the row and who saved it last.

    Every save and every ``QuerySet.update()`` stamps ``updated_by`` (there is
    no diff without history). For timestamps and history use :class:`TrackableModel`.
    """

    created_by = CreatedByField(verbose_name=_("created by"))
    updated_by = UpdatedByField(verbose_name=_("updated by"))

    objects = AuditableQuerySet.as_manager()

    class Meta:
        abstract = True


class TrackableModel(_TrackedWritesModel):
    """Who created and changed each row, when, and what changed (old → new).

    Adds ``created_at``, ``updated_at``, ``created_by``, ``updated_by`` and
    ``history``, a JSON list of entries, oldest first. A save costs no extra
    query: the diff comes from the values the instance was loaded with, and the
    entry is appended by the row's own INSERT or UPDATE. ``updated_at``,
    ``updated_by`` and a new entry are written together, when a tracked field
    changes. ``QuerySet.update()``, ``bulk_create()`` and ``bulk_update()`` record
    history too.

    Class attributes: ``track_fields`` (names to track; default all concrete
    fields but the primary key and the stamps), ``track_exclude`` (names not to
    track), ``track_mask`` (names whose values are written as ``"***"``, on
    top of the ``MASKED_FIELDS`` setting), ``track_audit_log`` (``True`` or
    ``False`` to override ``AUDIT_LOG`` for this model) and ``track_overwrites``
    (record a stale save's lost update, at the cost of a larger UPDATE).
    """

    created_at = CreatedAtField(_("created at"))
    updated_at = UpdatedAtField(_("updated at"))
    created_by = CreatedByField(verbose_name=_("created by"))
    updated_by = UpdatedByField(verbose_name=_("updated by"))
    history = HistoryField(_("history"))

    # The composing manager: combined with soft delete, tenants or any other
    # lifecycle mixin, in whatever order the bases are listed, it hides
    # deleted rows and offers every mixin's queryset methods.
    objects = LifecycleManager()

    track_fields: ClassVar[Sequence[str] | None] = None
    track_exclude: ClassVar[Sequence[str]] = ()
    track_mask: ClassVar[Sequence[str]] = ()
    #: Whether entries also go to ``AuditLog``; ``None`` follows ``TRACKABLE["AUDIT_LOG"]``.
    track_audit_log: ClassVar[bool | None] = None
    #: Whether a save also records what it writes over in columns it did not change
    #: (another writer's change since this instance was loaded; see the docs).
    track_overwrites: ClassVar[bool] = False

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Any:
        # **kwargs passes on Django 6.1's fetch_mode (and whatever comes next).
        every = tracking.with_history_deferred(cls, field_names, values)
        if every is None:
            instance = super().from_db(db, field_names, values, **kwargs)
        else:
            instance = super().from_db(db, *every, **kwargs)
        tracking.capture_loaded(instance, field_names, values)
        return instance

    def refresh_from_db(
        self, using: str | None = None, fields: Any = None, from_queryset: Any = None
    ) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        tracking.remember(self, fields)

    def history_since(self, when: datetime.datetime | datetime.date | float | str) -> list[Entry]:
        """This row's entries strictly after ``when`` (a datetime, date or UNIX time).

        Entries older than the row's window (``HISTORY_WINDOW``) are read from
        ``AuditLog`` when ``when`` reaches back to them (one more query).
        """
        return entries_since(archive.reaching_back(self, to_datetime(when)), when)

    def full_history(self) -> list[Entry]:
        """Every entry of this row, oldest first: the older ones kept in ``AuditLog``
        (``HISTORY_WINDOW``), then the row's own. At most one query for the log."""
        return archive.full_history(self)

    def as_of(self, when: datetime.datetime | datetime.date | float | str) -> Any:
        """An unsaved copy with this row's values at ``when``; ``None`` if it did not exist yet.

        Rebuilt from the current values by undoing, newest first, every entry
        after ``when`` (reading the older ones from ``AuditLog`` when the row's
        window does not reach back that far). Masked fields keep their current
        value (their history holds no values). Raises :class:`HistoryUnavailable`
        when entries that would be needed were dropped by ``HISTORY_LIMIT`` or
        predate tracking.
        Saving the copy writes those values back to the row (an UPDATE, for
        any primary key type) and records what it changed; :meth:`revert_to`
        does the same for the tracked fields only, as one ``revert`` entry.
        """
        moment = to_datetime(when)
        if self.created_at is not None and self.created_at > moment:
            return None
        options = tracking.options_for(type(self))
        entries = archive.reaching_back(self, moment)
        if entries and entries[0].get("action") != "create":
            first = entry_time(entries[0])
            if first is None or first > moment:
                raise HistoryUnavailable(
                    f"{self._meta.label} {self.pk}: history before {first} is not kept"
                )
        values = {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields}
        for entry in reversed(entries):
            stamp = entry_time(entry)
            if stamp is None or stamp <= moment:
                continue
            if entry.get("action") == "create":
                return None
            for name, change in (entry.get("changes") or {}).items():
                tf = options.by_name.get(name)
                if tf is None or tf.masked or change == [MASK, MASK]:
                    continue
                try:
                    values[tf.attname] = _from_json(tf.field, change[0])
                except (IndexError, TypeError, ValueError, ValidationError):
                    continue  # a value the field no longer accepts: keep the current one
        copy = type(self)(**values)
        # The copy is this row (an UPDATE when saved, whatever the primary key
        # type) with no snapshot: a save reads the row's values in SQL and
        # records exactly what it writes over.
        copy._state.adding = self._state.adding
        copy._state.db = self._state.db
        return copy

    def revert_to(self, when: datetime.datetime | datetime.date | float | str) -> list[str]:
        """Write back the values this row had at ``when``; the entry's action is ``revert``.

        One UPDATE, like any save, of the tracked fields that differ (masked
        fields are left as they are: their history holds no values). The entry
        carries ``reverted_to``, the moment reverted to. Returns the names of
        the fields written. Raises :class:`HistoryUnavailable` when the history
        does not reach back to ``when`` or the row did not exist yet.
        """
        moment = to_datetime(when)
        past = self.as_of(moment)
        if past is None:
            raise HistoryUnavailable(f"{self._meta.label} {self.pk} did not exist at {moment}")
        options = tracking.options_for(type(self))
        changed = []
        for tf in options.tracked:
            if tf.masked:
                continue
            value = getattr(past, tf.attname)
            if getattr(self, tf.attname) != value:
                setattr(self, tf.attname, value)
                changed.append(tf.name)
        if changed:
            with tracking.recording_as("revert", reverted_to=moment.isoformat()):
                self.save(update_fields=changed)
        return changed

    revert_to.alters_data = True  # type: ignore[attr-defined]


def _from_json(field: models.Field[Any, Any], value: Any) -> Any:
    """A history value back as the field's Python value."""
    if value is None:
        return None
    if field.is_relation:
        field = field.target_field  # type: ignore[attr-defined]
    if field.get_internal_type() == "JSONField":
        return value
    return field.to_python(value)
