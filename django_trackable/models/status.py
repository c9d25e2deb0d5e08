"""StatusModel: a status from a fixed set, changed by checked, atomic transitions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_trackable import tracking
from django_trackable.context import RESERVED_ENTRY_KEYS
from django_trackable.history import Entry
from django_trackable.managers import LifecycleManager, LifecycleQuerySet
from django_trackable.models.lifecycle import (
    _LifecycleModel,
    apply_written,
    row_queryset,
    stamp_values,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "StatusModel",
    "StatusQuerySet",
    "TransitionConflict",
    "TransitionError",
    "TransitionNotAllowed",
]

_M = TypeVar("_M", bound=models.Model)

#: Longest status value; a longer one is reported by check django_trackable.E022.
STATUS_MAX_LENGTH = 100

# Where the status an instance was loaded (or last saved) with is kept.
_LOADED = "_trackable_status_loaded"
_UNLOADED: Any = object()


class TransitionError(Exception):
    """A status change that did not happen; names the states involved."""

    def __init__(self, message: str, *, current: Any, target: Any) -> None:
        super().__init__(message)
        self.current = current
        self.target = target


class TransitionNotAllowed(TransitionError, ValueError):
    """``TRANSITIONS`` (or ``STATUS_CHOICES``) does not allow this change."""


class TransitionConflict(TransitionError):
    """The row left the expected status before this change; nothing was written."""

    def __init__(self, message: str, *, current: Any, target: Any, expected: Any) -> None:
        super().__init__(message, current=current, target=target)
        self.expected = expected


def _value(status: Any) -> str:
    """A status as stored: choices enum members and lazy strings become ``str``."""
    return str(getattr(status, "value", status))


def status_choices(model: type[Any]) -> list[tuple[str, Any]]:
    """``STATUS_CHOICES`` as ``(value, label)`` pairs (it may be a ``TextChoices`` class)."""
    declared: Any = getattr(model, "STATUS_CHOICES", ()) or ()
    declared = getattr(declared, "choices", declared)
    pairs = []
    for choice in declared:
        if isinstance(choice, list | tuple) and len(choice) == 2:
            pairs.append((_value(choice[0]), choice[1]))
        else:
            pairs.append((_value(choice), _value(choice)))
    return pairs


def status_values(model: type[Any]) -> list[str]:
    """The status values ``STATUS_CHOICES`` declares."""
    return [value for value, _label in status_choices(model)]


class StatusQuerySet(LifecycleQuerySet[_M]):
    """``by_status()`` and ``active()``."""

    _lifecycle_priority = 45

    def by_status(self, *statuses: Any) -> Self:
        """Rows in any of ``statuses``."""
        return cast("Self", self.filter(status__in=[_value(s) for s in statuses]))

    def active(self) -> Self:
        """Rows in one of the model's :meth:`StatusModel.active_statuses`."""
        statuses = self.model.active_statuses()  # type: ignore[attr-defined]
        return cast("Self", self.filter(status__in=statuses))


class StatusField(models.CharField):  # type: ignore[type-arg]
    """A ``CharField`` whose choices and default come from the model's ``STATUS_CHOICES``.

    Deconstructs as a plain ``CharField``: the choices and default appear in
    migrations, so changing ``STATUS_CHOICES`` makes a migration, as it should.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", STATUS_MAX_LENGTH)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        # An abstract parent's field is copied into each subclass and contributed
        # again, so each model gets its own STATUS_CHOICES.
        super().contribute_to_class(cls, name, private_only=private_only)
        choices = status_choices(cls)
        if not choices:
            return
        self.choices = choices
        initial = getattr(cls, "INITIAL_STATUS", None)
        self.default = _value(initial) if initial is not None else choices[0][0]

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class StatusModel(_LifecycleModel):
    """A ``status`` with ``STATUS_CHOICES``, changed by :meth:`transition_to`.

    Class attributes: ``STATUS_CHOICES`` (pairs, or a ``TextChoices`` class),
    ``INITIAL_STATUS`` (default: the first choice), ``TRANSITIONS`` (optional
    ``{from: [to, ...]}``; without it any change to another status is allowed)
    and ``ACTIVE_STATUSES`` (for ``active()``; default: the statuses
    ``TRANSITIONS`` lets a row leave, or every status).

    ``transition_to()`` is one conditional UPDATE: of two concurrent changers
    from the same status one wins and the other gets :class:`TransitionConflict`.
    A plain ``save()`` that changes ``status`` also sets ``status_changed_at``
    (not checked against ``TRANSITIONS``: ``full_clean()`` is). With
    :class:`~django_trackable.models.TrackableModel` each transition appends a
    ``transition`` entry with ``changes: {"status": [old, new]}``.
    """

    status = StatusField(_("status"))
    status_changed_at = models.DateTimeField(
        _("status changed at"), null=True, blank=True, editable=False
    )

    objects: ClassVar[LifecycleManager] = LifecycleManager()

    STATUS_CHOICES: ClassVar[Any] = ()
    INITIAL_STATUS: ClassVar[Any] = None
    TRANSITIONS: ClassVar[Mapping[str, Iterable[str]] | None] = None
    ACTIVE_STATUSES: ClassVar[Sequence[str] | None] = None
    #: ``status_changed_at`` would repeat each status entry's own timestamp.
    track_exclude: ClassVar[Sequence[str]] = ("status_changed_at",)

    _lifecycle_queryset: ClassVar[type[Any]] = StatusQuerySet

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Any:
        instance = super().from_db(db, field_names, values, **kwargs)
        if "status" in instance.__dict__:
            instance.__dict__[_LOADED] = instance.__dict__["status"]
        return instance

    def save_base(
        self,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        loaded = self.__dict__.get(_LOADED, _UNLOADED)
        if self._state.adding:  # unless given (an import, say)
            changed = self.status_changed_at is None
        else:
            changed = loaded is not _UNLOADED and self.status != loaded
        if changed and not raw and (update_fields is None or "status" in update_fields):
            self.status_changed_at = tracking.now()
            if update_fields is not None:
                update_fields = {*update_fields, "status_changed_at"}
        super().save_base(raw, force_insert, force_update, using, update_fields)
        self.__dict__[_LOADED] = self.status

    save_base.alters_data = True  # type: ignore[attr-defined]

    def clean(self) -> None:
        super().clean()
        loaded = self.__dict__.get(_LOADED, _UNLOADED)
        if loaded is _UNLOADED or self.status == loaded:
            return
        try:
            self.check_transition(loaded, self.status)
        except TransitionNotAllowed as exc:
            raise ValidationError({"status": str(exc)}) from exc

    @classmethod
    def allowed_transitions(cls, current: Any) -> list[str]:
        """The statuses a row in ``current`` may move to."""
        current = _value(current)
        if cls.TRANSITIONS is None:
            return [v for v in status_values(cls) if v != current]
        return [_value(t) for t in cls.TRANSITIONS.get(current, ())]

    @classmethod
    def active_statuses(cls) -> list[str]:
        """``ACTIVE_STATUSES``, else the statuses that have a way out, else all statuses."""
        if cls.ACTIVE_STATUSES is not None:
            return [_value(s) for s in cls.ACTIVE_STATUSES]
        values = status_values(cls)
        if cls.TRANSITIONS is None:
            return values
        return [v for v in values if cls.allowed_transitions(v)]

    @classmethod
    def check_transition(cls, current: Any, target: Any) -> None:
        """Raise :class:`TransitionNotAllowed` unless ``current`` → ``target`` is allowed."""
        current, target = _value(current), _value(target)
        if target not in status_values(cls):
            raise TransitionNotAllowed(
                f"{cls._meta.label}: cannot go from {current!r} to {target!r}: "
                f"{target!r} is not a status (choices: {', '.join(status_values(cls))})",
                current=current,
                target=target,
            )
        allowed = cls.allowed_transitions(current)
        if target not in allowed:
            raise TransitionNotAllowed(
                f"{cls._meta.label}: cannot go from {current!r} to {target!r} "
                f"(allowed from {current!r}: {', '.join(map(repr, allowed)) or 'none'})",
                current=current,
                target=target,
            )

    def transition_to(self, status: Any, **extra: Any) -> None:
        """Move to ``status`` with one conditional UPDATE; ``extra`` keys go into the entry.

        Raises :class:`TransitionNotAllowed` for a change the model does not
        allow, and :class:`TransitionConflict` when the row is no longer in the
        status this instance holds (someone changed it first); either way
        nothing is written. On success the instance holds the new status,
        ``status_changed_at`` and stamps.
        """
        self._transition_to(status, {}, extra)

    def _transition_to(
        self, status: Any, columns: Mapping[str, Any], extra: Mapping[str, Any]
    ) -> None:
        """:meth:`transition_to`, also writing ``columns`` (field name → value) in the UPDATE."""
        if self._state.adding or self.pk is None:
            raise ValueError(f"Save this {self._meta.object_name} before changing its status.")
        clash = RESERVED_ENTRY_KEYS.intersection(extra)
        if clash:
            raise ValueError(f"transition_to() cannot set history keys {', '.join(sorted(clash))}")
        current, target = _value(self.status), _value(status)
        self.check_transition(current, target)
        self._lifecycle_check_write()
        values, entry, user = _transition_values(type(self), current, target, extra, self)
        values.update(columns)
        row = row_queryset(self)
        if not models.QuerySet.update(row.filter(status=current), **values):
            found = row.values_list("status", flat=True).first()
            now = f"it is {found!r} now" if found is not None else "the row no longer exists"
            raise TransitionConflict(
                f"{self._meta.label} {self.pk}: cannot go from {current!r} to {target!r}: "
                f"{now} (changed by someone else)",
                current=found,
                target=target,
                expected=current,
            )
        apply_written(self, values, entry, user)
        self.__dict__[_LOADED] = target

    transition_to.alters_data = True  # type: ignore[attr-defined]
    _transition_to.alters_data = True  # type: ignore[attr-defined]


def _transition_values(
    model: type[models.Model],
    current: str,
    target: str,
    extra: Mapping[str, Any],
    instance: models.Model | None = None,
) -> tuple[dict[str, Any], Entry | None, Any]:
    """The columns one transition writes, the entry it appends and the user it stamps."""
    seed = tracking.Seed()
    stamps, entry, user = stamp_values(
        model, "transition", {"status": [current, target]}, seed, dict(extra), instance
    )
    return {"status": target, "status_changed_at": seed.now, **stamps}, entry, user
