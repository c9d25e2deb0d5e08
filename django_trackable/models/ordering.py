"""OrderedModel: rows kept in a contiguous order, per group, moved one transaction at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.db import connections, models, router, transaction
from django.utils.translation import gettext_lazy as _

from django_trackable import tracking
from django_trackable.fields import _StampMixin
from django_trackable.managers import LifecycleManager, LifecycleQuerySet
from django_trackable.models.lifecycle import _LifecycleModel, apply_written, stamp_values

__all__ = ["OrderedModel", "OrderedQuerySet", "PositionField"]

_M = TypeVar("_M", bound=models.Model)
_CHUNK = 500


if TYPE_CHECKING:
    _PositiveIntegerField = models.PositiveIntegerField[Any, Any]
else:
    _PositiveIntegerField = models.PositiveIntegerField


class PositionField(_StampMixin, _PositiveIntegerField):
    """A row's place in its group, from 0; written only by OrderedModel's own methods.

    A plain ``save()`` leaves the column as the row has it, so an instance
    loaded before someone else's move cannot undo that move.
    """

    trackable_role = "position"
    django_path = "django.db.models.PositiveIntegerField"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)
        self._place_last()


def _group_attnames(model: type[models.Model]) -> list[str]:
    names = getattr(model, "order_group_fields", ()) or ()
    return [model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]


def _rows(model: type[models.Model], using: str) -> models.QuerySet[Any]:
    """Every row that has a place: all rows, or the alive ones of a soft-deletable model."""
    queryset: models.QuerySet[Any] = model._base_manager.db_manager(using).all()
    deleted = tracking.options_for(model).roles.get("deleted_at")
    if deleted is not None:
        queryset = queryset.filter(**{f"{deleted.name}__isnull": True})
    return queryset


def _lock_group(model: type[models.Model], group: dict[str, Any], using: str) -> None:
    """Serialise writers of one group until the transaction ends.

    PostgreSQL: a transaction-level advisory lock on the table and group
    values (also when the group has no row yet to lock). SQLite lets one
    writer at a time anyway.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    name = f"{model._meta.db_table}|{sorted(group.items())!r}".encode()
    key = int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _next_position(model: type[models.Model], group: dict[str, Any], using: str) -> int:
    last = _rows(model, using).filter(**group).aggregate(last=models.Max("position"))["last"]
    return 0 if last is None else last + 1


def renumber(
    model: type[models.Model], group: dict[str, Any], using: str, last: Iterable[Any] = ()
) -> None:
    """Make the group's positions 0..n-1 again, keeping their order; ``last`` rows go to the end.

    One SELECT, and one UPDATE per 500 rows that actually move.
    """
    at_end = set(last)
    rows = list(_rows(model, using).filter(**group).values_list("pk", "position"))
    rows.sort(key=lambda row: (row[0] in at_end, row[1] is None, row[1] or 0, row[0]))
    moved = [(pk, index) for index, (pk, position) in enumerate(rows) if position != index]
    manager = model._base_manager.db_manager(using)
    for start in range(0, len(moved), _CHUNK):
        chunk = moved[start : start + _CHUNK]
        manager.filter(pk__in=[pk for pk, _index in chunk]).update(
            position=models.Case(
                *[models.When(pk=pk, then=models.Value(index)) for pk, index in chunk],
                output_field=models.PositiveIntegerField(),
            )
        )


class OrderedQuerySet(LifecycleQuerySet[_M]):
    """Bulk writes that keep positions contiguous."""

    _lifecycle_priority = 20

    def _groups(self) -> list[dict[str, Any]]:
        names = _group_attnames(self.model)
        if not names:
            return [{}]
        values = self.order_by().values_list(*names).distinct()
        return [dict(zip(names, row, strict=True)) for row in values]

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """Like Django's, with each new object placed last in its group, in the given order.

        An object given a ``position`` keeps it (nothing is shifted, unlike
        ``save()``); the objects after it in the batch follow it.
        """
        objs = list(objs)
        names = _group_attnames(self.model)
        using = self.db
        with transaction.atomic(using=using):
            following: dict[tuple[Any, ...], int] = {}
            for obj in objs:
                group = {name: getattr(obj, name) for name in names}
                key = tuple(group.values())
                if key not in following:
                    _lock_group(self.model, group, using)
                    following[key] = _next_position(self.model, group, using)
                given = obj.position  # type: ignore[attr-defined]
                if given is None:
                    obj.position = following[key]  # type: ignore[attr-defined]
                following[key] = max(following[key], obj.position + 1)  # type: ignore[attr-defined]
            return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def delete(self, *, hard: bool = False) -> tuple[int, dict[str, int]]:
        """Delete (soft or hard, as the model does), then close the gaps in each group.

        ``hard=True`` (soft-deletable models) is :meth:`hard_delete`.
        """
        if hard:
            return self.hard_delete()
        with transaction.atomic(using=self.db):
            groups = self._groups()
            result: tuple[int, dict[str, int]] = super().delete()
            self._renumber(groups)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def hard_delete(self) -> tuple[int, dict[str, int]]:
        """``hard_delete()`` of soft-deletable models, then close the gaps."""
        with transaction.atomic(using=self.db):
            groups = self._groups()
            result: tuple[int, dict[str, int]] = super().hard_delete()  # type: ignore[misc]
            self._renumber(groups)
        return result

    hard_delete.alters_data = True  # type: ignore[attr-defined]
    hard_delete.queryset_only = True  # type: ignore[attr-defined]

    def restore(self) -> tuple[int, dict[str, int]]:
        """``restore()`` of soft-deletable models; restored rows go to the end of their groups."""
        with transaction.atomic(using=self.db):
            targets = self.only_deleted()  # type: ignore[attr-defined]
            pks = set(targets.values_list("pk", flat=True))
            groups = targets._groups()
            result: tuple[int, dict[str, int]] = super().restore()  # type: ignore[misc]
            self._renumber(groups, last=pks)
        return result

    restore.alters_data = True  # type: ignore[attr-defined]
    restore.queryset_only = True  # type: ignore[attr-defined]

    def _renumber(self, groups: list[dict[str, Any]], last: Iterable[Any] = ()) -> None:
        at_end = set(last)
        for group in groups:
            _lock_group(self.model, group, self.db)
            renumber(self.model, group, self.db, at_end)


class OrderedModel(_LifecycleModel):
    """A ``position`` (0, 1, 2, ...) within the group given by ``order_group_fields``.

    New rows go last (or, created with a ``position``, there, shifting the
    rows after it); :meth:`move_to`, :meth:`move_up` and :meth:`move_down`
    shift the rows in between, each move in one transaction; a delete (soft
    or hard, of an instance or a queryset) closes the gap and a restore puts
    the row last, so positions stay contiguous. The default ordering is by
    ``position`` (keep it with ``class Meta(OrderedModel.Meta)``). Writers of
    one group are serialised (an advisory lock on PostgreSQL). With history, a
    move appends an ``update`` entry to the moved row only.
    """

    position = PositionField(_("position"))

    objects: ClassVar[LifecycleManager] = LifecycleManager()

    #: Fields whose values form a group with its own 0..n-1 positions, e.g. ("board",).
    order_group_fields: ClassVar[Sequence[str]] = ()

    _lifecycle_queryset: ClassVar[type[Any]] = OrderedQuerySet

    class Meta:
        abstract = True
        ordering = ("position",)

    def save_base(
        self,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        if raw or not self._state.adding:
            return super().save_base(raw, force_insert, force_update, using, update_fields)
        model = type(self)
        using = using or router.db_for_write(model, instance=self)
        with transaction.atomic(using=using):
            group = self.order_group()
            _lock_group(model, group, using)
            end = _next_position(model, group, using)
            if self.position is None or self.position >= end:
                self.position = end
            else:  # inserted at a given place: make room
                self.position = max(0, self.position)
                _rows(model, using).filter(position__gte=self.position, **group).update(
                    position=models.F("position") + 1
                )
            super().save_base(raw, force_insert, force_update, using, update_fields)
        return None

    save_base.alters_data = True  # type: ignore[attr-defined]

    def order_group(self) -> dict[str, Any]:
        """This row's group as ``{attname: value}`` (empty without ``order_group_fields``)."""
        return {name: getattr(self, name) for name in _group_attnames(type(self))}

    def move_to(self, position: int) -> None:
        """Move to ``position`` (0 is first; clamped to the group), shifting the rows in between."""
        self._move(lambda current, count: position)

    def move_up(self) -> None:
        """Swap places with the row before (nothing if this is the first)."""
        self._move(lambda current, count: current - 1)

    def move_down(self) -> None:
        """Swap places with the row after (nothing if this is the last)."""
        self._move(lambda current, count: current + 1)

    move_to.alters_data = True  # type: ignore[attr-defined]
    move_up.alters_data = True  # type: ignore[attr-defined]
    move_down.alters_data = True  # type: ignore[attr-defined]

    def _move(self, where: Any) -> None:
        if self._state.adding or self.pk is None:
            raise ValueError(f"Save this {self._meta.object_name} before moving it.")
        self._lifecycle_check_write()
        model = type(self)
        using = router.db_for_write(model, instance=self)
        with transaction.atomic(using=using):
            group = self.order_group()
            _lock_group(model, group, using)
            rows = _rows(model, using).filter(**group)
            mine = rows.filter(**self._lifecycle_row_filter())
            # The database's position, not this instance's: it may be stale.
            current = mine.values_list("position", flat=True).first()
            if current is None:
                raise ValueError(
                    f"{model._meta.label} {self.pk} is deleted or gone: it has no place"
                )
            count = rows.count()
            target = max(0, min(int(where(current, count)), count - 1))
            if target == current:
                self.position = current
                return
            if target < current:
                rows.filter(position__gte=target, position__lt=current).update(
                    position=models.F("position") + 1
                )
            else:
                rows.filter(position__gt=current, position__lte=target).update(
                    position=models.F("position") - 1
                )
            stamps, entry, user = stamp_values(
                model, "update", {"position": [current, target]}, tracking.Seed()
            )
            values = {"position": target, **stamps}
            models.QuerySet.update(mine, **values)
        apply_written(self, values, entry, user)

    def _lifecycle_before_remove(self) -> dict[str, Any]:
        state = super()._lifecycle_before_remove()
        state["order_group"] = self.order_group()
        return state

    def _lifecycle_after_remove(self, state: dict[str, Any]) -> None:
        super()._lifecycle_after_remove(state)
        using = router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            _lock_group(type(self), state["order_group"], using)
            renumber(type(self), state["order_group"], using)

    def _lifecycle_after_restore(self) -> None:
        super()._lifecycle_after_restore()
        model = type(self)
        using = router.db_for_write(model, instance=self)
        with transaction.atomic(using=using):
            group = self.order_group()
            _lock_group(model, group, using)
            renumber(model, group, using, last=[self.pk])
            self.position = (
                _rows(model, using).filter(pk=self.pk).values_list("position", flat=True).first()
            )
