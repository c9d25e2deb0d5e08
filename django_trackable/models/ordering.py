"""OrderedModel: rows kept in a contiguous order, per group, moved one transaction at a time."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.db import connections, models, router, transaction
from django.utils.translation import gettext_lazy as _

from django_trackable import statements, tracking
from django_trackable.fields import _StampMixin
from django_trackable.managers import LifecycleManager, LifecycleQuerySet
from django_trackable.models.lifecycle import _LifecycleModel, apply_written, stamp_values

__all__ = ["OrderedModel", "OrderedQuerySet", "PositionField"]

_M = TypeVar("_M", bound=models.Model)
_CHUNK = 500
# Kept in instance.__dict__ (so copies and pickles carry them).
#: The group values and position the row had when this instance last read or wrote it.
_PLACE = "_trackable_place"
#: The position a group-changing save() writes (read by PositionField.pre_save()).
_NEW_POSITION = "_trackable_new_position"
#: The group a row being restored is in (found while taking its lock).
_RESTORE_GROUP = "_trackable_restore_group"


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

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        new_position = model_instance.__dict__.get(_NEW_POSITION)
        if new_position is not None:  # a save that changes the row's group
            model_instance.__dict__[self.attname] = new_position
            return new_position
        return super().pre_save(model_instance, add)


def _group_attnames(model: type[models.Model]) -> list[str]:
    names = getattr(model, "order_group_fields", ()) or ()
    return [model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]


def _group_names(model: type[models.Model]) -> set[str]:
    """The group fields by name and by attname (``board`` and ``board_id``)."""
    names = set(getattr(model, "order_group_fields", ()) or ())
    return names | set(_group_attnames(model))


def _rows(model: type[models.Model], using: str) -> models.QuerySet[Any]:
    """Every row that has a place: all rows, or the alive ones of a soft-deletable model."""
    queryset: models.QuerySet[Any] = model._base_manager.db_manager(using).all()
    deleted = tracking.options_for(model).roles.get("deleted_at")
    if deleted is not None:
        queryset = queryset.filter(**{f"{deleted.name}__isnull": True})
    return queryset


def _group_key(model: type[models.Model], group: dict[str, Any]) -> tuple[str, ...]:
    """The group as its database values would compare (``5`` and ``"5"`` alike)."""
    parts = []
    for attname in _group_attnames(model):
        field: Any = model._meta.get_field(attname)
        value = group.get(attname)
        # A value the field refuses is compared as given.
        with contextlib.suppress(Exception):
            value = field.get_prep_value(value)
        parts.append(f"{attname}={value!s}")
    return tuple(parts)


def _lock_number(model: type[models.Model], group: dict[str, Any]) -> int:
    name = f"{model._meta.db_table}|{_group_key(model, group)!r}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


# How writers of an ordered table lock, on PostgreSQL (SQLite lets one writer
# at a time anyway), with transaction-level advisory locks, so that no two
# writers ever wait for each other in a cycle:
#
# 1. Writers that need to know which group an existing row is in (moves,
#    deletes, restores, queryset deletes) first take the table's lock in
#    shared mode; writers that change rows' groups (a save, update() or
#    bulk_update() of a group field) take it in exclusive mode. So a row's
#    group, once read, cannot change under a writer: it never finds a locked
#    group to be the wrong one and needs another lock late. Creates skip this
#    step (their group is the new row's), and so do models without groups.
# 2. Then every lock of the groups the write touches, in one statement, in
#    ascending order of their numbers (also for an empty group). Positions
#    are read only now: other writers of the group may have been shifting them.
# 3. Only then rows are written (and so locked). Deleting used to lock the
#    row before its group while moves did the opposite: concurrent deletes
#    deadlocked.


def _lock_table(model: type[models.Model], using: str, *, exclusive: bool) -> None:
    """Step 1 above: the table's lock, shared for readers of groups, exclusive for movers."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    name = f"{model._meta.db_table}|groups".encode()
    number = int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [number])


def _lock_groups(model: type[models.Model], groups: Iterable[dict[str, Any]], using: str) -> None:
    """Step 2 above: serialise the writers of these groups until the transaction ends."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    numbers = sorted({_lock_number(model, group) for group in groups})
    if not numbers:
        return
    with connection.cursor() as cursor:
        # PostgreSQL evaluates a volatile select list after ORDER BY: in this order.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(n) FROM unnest(%s::bigint[]) AS n ORDER BY n", [numbers]
        )


def _next_position(model: type[models.Model], group: dict[str, Any], using: str) -> int:
    last = _rows(model, using).filter(**group).aggregate(last=models.Max("position"))["last"]
    return 0 if last is None else last + 1


def renumber(
    model: type[models.Model], group: dict[str, Any], using: str, last: Iterable[Any] = ()
) -> None:
    """Make the group's positions 0..n-1 again, keeping their order; ``last`` rows go to the end.

    One SELECT, and one UPDATE per 500 rows that actually move. The caller
    holds the group's lock.
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


def _groups_of(
    model: type[models.Model], rows: models.QuerySet[Any]
) -> dict[tuple[str, ...], dict[str, Any]]:
    names = _group_attnames(model)
    if not names:
        return {(): {}}
    values = rows.order_by().values_list(*names).distinct()
    groups = [dict(zip(names, row, strict=True)) for row in values]
    return {_group_key(model, group): group for group in groups}


def _lock_groups_of(
    model: type[models.Model], rows: models.QuerySet[Any], using: str
) -> list[dict[str, Any]]:
    """Lock the table (shared), then the groups ``rows`` are in; returns those groups."""
    if _group_attnames(model):
        _lock_table(model, using, exclusive=False)
    groups = list(_groups_of(model, rows).values())
    _lock_groups(model, groups, using)
    return groups


def _places(
    model: type[models.Model], rows: models.QuerySet[Any]
) -> dict[Any, tuple[tuple[str, ...], dict[str, Any]]]:
    """Each row's group (as a key, and as ``{attname: value}``), by primary key."""
    names = _group_attnames(model)
    places = {}
    for pk, *values in rows.order_by().values_list("pk", *names):
        group = dict(zip(names, values, strict=True))
        places[pk] = (_group_key(model, group), group)
    return places


class OrderedQuerySet(LifecycleQuerySet[_M]):
    """Bulk writes that keep positions contiguous, taking the groups' locks first."""

    _lifecycle_priority = 20

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """Like Django's, with each new object placed last in its group, in the given order.

        An object given a ``position`` keeps it (nothing is shifted, unlike
        ``save()``); the objects after it in the batch follow it.
        """
        objs = list(objs)
        names = _group_attnames(self.model)
        using = self.db
        with transaction.atomic(using=using):
            groups: dict[tuple[str, ...], dict[str, Any]] = {}
            for obj in objs:
                group = {name: getattr(obj, name) for name in names}
                groups.setdefault(_group_key(self.model, group), group)
            _lock_groups(self.model, groups.values(), using)
            following = {
                key: _next_position(self.model, group, using) for key, group in groups.items()
            }
            for obj in objs:
                key = _group_key(self.model, {name: getattr(obj, name) for name in names})
                if obj.position is None:  # type: ignore[attr-defined]
                    obj.position = following[key]  # type: ignore[attr-defined]
                following[key] = max(following[key], obj.position + 1)  # type: ignore[attr-defined]
            created = super().bulk_create(objs, *args, **kwargs)
        for obj in objs:
            _remember_place(obj)
        return created

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def update(self, **kwargs: Any) -> int:
        """Like the tracked ``update()``; rows whose group it changes go last in the new group.

        The groups they leave close their gaps, in the same transaction.
        """
        model = self.model
        if not _group_names(model).intersection(kwargs):
            return super().update(**kwargs)
        given: dict[str, Any] = {}
        for name in getattr(model, "order_group_fields", ()):
            field: Any = model._meta.get_field(name)
            if name in kwargs:
                value = kwargs[name]
                given[field.attname] = value.pk if isinstance(value, models.Model) else value
            elif field.attname in kwargs:
                given[field.attname] = kwargs[field.attname]
        # With an expression (update(board=F(...))) only the database knows the new groups.
        known = not any(hasattr(value, "resolve_expression") for value in given.values())

        def targets(old: dict[str, Any]) -> dict[str, Any] | None:
            return {**old, **given} if known else None

        return self._regroup(self, targets, lambda: super(OrderedQuerySet, self).update(**kwargs))

    update.alters_data = True  # type: ignore[attr-defined]

    def bulk_update(
        self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        """Like the tracked ``bulk_update()``; objects that change group go last in the new one."""
        objs, fields = list(objs), list(fields)
        model = self.model
        if not _group_names(model).intersection(fields):
            return super().bulk_update(objs, fields, batch_size=batch_size)
        names = _group_attnames(model)
        wanted = {obj.pk: {name: getattr(obj, name) for name in names} for obj in objs}
        rows = model._base_manager.db_manager(self.db).filter(pk__in=list(wanted))
        count = self._regroup(
            rows,
            lambda old: None,
            lambda: super(OrderedQuerySet, self).bulk_update(objs, fields, batch_size),
            also=list(wanted.values()),
        )
        positions = dict(rows.values_list("pk", "position"))
        for obj in objs:
            obj.position = positions.get(obj.pk)  # type: ignore[attr-defined]
            _remember_place(obj)
        return count

    bulk_update.alters_data = True  # type: ignore[attr-defined]

    def _regroup(
        self,
        rows: models.QuerySet[Any],
        targets: Callable[[dict[str, Any]], dict[str, Any] | None],
        write: Callable[[], int],
        also: Iterable[dict[str, Any]] = (),
    ) -> int:
        """Run ``write``, which may move ``rows`` to other groups, keeping every group contiguous.

        The old groups and the new ones (``targets(old)`` and ``also``, where
        known beforehand) are locked together before anything is written.
        Rows that changed group go last in their new one, in their old order;
        the groups they left close their gaps.
        """
        model, using = self.model, self.db
        with transaction.atomic(using=using):
            _lock_table(model, using, exclusive=True)
            old = _groups_of(model, rows)
            new = [targets(group) for group in old.values()]
            _lock_groups(model, [*old.values(), *(g for g in new if g is not None), *also], using)
            before = _places(model, rows)
            count = write()
            after = _places(model, model._base_manager.db_manager(using).filter(pk__in=before))
            moved = {pk for pk, (key, _group) in after.items() if before[pk][0] != key}
            if moved:
                arrived = {key: group for pk, (key, group) in after.items() if pk in moved}
                left = {before[pk][0]: before[pk][1] for pk in moved}
                # Held already unless only the database knew them (update(board=F(...))):
                # late, but with the table held exclusively only creators can hold them,
                # and a creator waits for nothing while holding its group.
                _lock_groups(model, arrived.values(), using)
                for group in left.values():
                    renumber(model, group, using)
                for group in arrived.values():
                    renumber(model, group, using, last=moved)
        return count

    def delete(self, *, hard: bool = False) -> tuple[int, dict[str, int]]:
        """Delete (soft or hard, as the model does), then close the gaps in each group.

        ``hard=True`` (soft-deletable models) is :meth:`hard_delete`.
        """
        if hard:
            return self.hard_delete()
        with transaction.atomic(using=self.db):
            groups = _lock_groups_of(self.model, self, self.db)
            result: tuple[int, dict[str, int]] = super().delete()
            self._renumber(groups)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def hard_delete(self) -> tuple[int, dict[str, int]]:
        """``hard_delete()`` of soft-deletable models, then close the gaps."""
        with transaction.atomic(using=self.db):
            groups = _lock_groups_of(self.model, self, self.db)
            result: tuple[int, dict[str, int]] = super().hard_delete()  # type: ignore[misc]
            self._renumber(groups)
        return result

    hard_delete.alters_data = True  # type: ignore[attr-defined]
    hard_delete.queryset_only = True  # type: ignore[attr-defined]

    def restore(self) -> tuple[int, dict[str, int]]:
        """``restore()`` of soft-deletable models; restored rows go to the end of their groups."""
        with transaction.atomic(using=self.db):
            targets = self.only_deleted()  # type: ignore[attr-defined]
            groups = _lock_groups_of(self.model, targets, self.db)
            pks = set(targets.values_list("pk", flat=True))
            result: tuple[int, dict[str, int]] = super().restore()  # type: ignore[misc]
            self._renumber(groups, last=pks)
        return result

    restore.alters_data = True  # type: ignore[attr-defined]
    restore.queryset_only = True  # type: ignore[attr-defined]

    def _renumber(self, groups: list[dict[str, Any]], last: Iterable[Any] = ()) -> None:
        at_end = set(last)
        for group in groups:
            renumber(self.model, group, self.db, at_end)


def _remember_place(instance: models.Model) -> None:
    """Take the instance's group and position as the row's (after a load or a write).

    Replaced, never changed in place: a copy of the instance keeps its own.
    """
    current = instance.__dict__
    names = [*_group_attnames(type(instance)), "position"]
    current[_PLACE] = {name: current[name] for name in names if name in current}


def _lock_row_group(
    instance: OrderedModel,
    using: str,
    *groups: dict[str, Any],
    alive: bool = True,
    exclusive: bool = False,
) -> dict[str, Any] | None:
    """Lock the table, then the row's group (and ``groups``); return the row's group.

    The group is the one the database has, not the one a stale instance may
    know; ``None`` if there is no such row (alive, with ``alive``), and then
    the instance's group is locked. ``exclusive`` for a write that changes
    the row's group. Positions must be read after this: until the group's
    lock is held, other writers of the group may be shifting them.
    """
    model = type(instance)
    names = _group_attnames(model)
    if not names:  # one group, which no write can change
        _lock_groups(model, [{}, *groups], using)
        return {}
    _lock_table(model, using, exclusive=exclusive)
    rows = _rows(model, using) if alive else model._base_manager.db_manager(using).all()
    found = rows.filter(**instance._lifecycle_row_filter()).values_list(*names).first()
    group = None if found is None else dict(zip(names, found, strict=True))
    _lock_groups(model, [group if group is not None else instance.order_group(), *groups], using)
    return group


class OrderedModel(_LifecycleModel):
    """A ``position`` (0, 1, 2, ...) within the group given by ``order_group_fields``.

    New rows go last (or, created with a ``position``, there, shifting the
    rows after it); :meth:`move_to`, :meth:`move_up` and :meth:`move_down`
    shift the rows in between, each move in one transaction; a delete (soft
    or hard, of an instance or a queryset) closes the gap and a restore puts
    the row last, so positions stay contiguous. Changing a row's group (a
    ``save()``, ``QuerySet.update()`` or ``bulk_update()`` of a group field)
    closes the gap in the old group and puts the row last in the new one (a
    ``save()`` with a ``position`` set inserts it there), in one transaction.
    The default ordering is by ``position`` (keep it with
    ``class Meta(OrderedModel.Meta)``). Writers of a group are serialised
    (advisory locks on PostgreSQL, taken in one global order before any row
    is written, so concurrent writers never deadlock). With history, a move appends
    an ``update`` entry to the moved row only.
    """

    position = PositionField(_("position"))

    objects: ClassVar[LifecycleManager] = LifecycleManager()

    #: Fields whose values form a group with its own 0..n-1 positions, e.g. ("board",).
    order_group_fields: ClassVar[Sequence[str]] = ()

    _lifecycle_queryset: ClassVar[type[Any]] = OrderedQuerySet

    class Meta:
        abstract = True
        ordering = ("position",)

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Any:
        instance = super().from_db(db, field_names, values, **kwargs)
        _remember_place(instance)
        return instance

    def refresh_from_db(
        self, using: str | None = None, fields: Any = None, from_queryset: Any = None
    ) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        _remember_place(self)

    def save_base(
        self,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        if raw:
            return super().save_base(raw, force_insert, force_update, using, update_fields)
        model = type(self)
        using = using or router.db_for_write(model, instance=self)
        if self._state.adding:
            with transaction.atomic(using=using):
                group = self.order_group()
                _lock_groups(model, [group], using)
                end = _next_position(model, group, using)
                if self.position is None or self.position >= end:
                    self.position = end
                else:  # inserted at a given place: make room
                    self.position = max(0, self.position)
                    _rows(model, using).filter(position__gte=self.position, **group).update(
                        position=models.F("position") + 1
                    )
                super().save_base(raw, force_insert, force_update, using, update_fields)
        elif self._group_may_change(update_fields):
            with transaction.atomic(using=using):
                update_fields = self._change_group(using, update_fields)
                try:
                    super().save_base(raw, force_insert, force_update, using, update_fields)
                finally:
                    self.__dict__.pop(_NEW_POSITION, None)
        else:
            super().save_base(raw, force_insert, force_update, using, update_fields)
        _remember_place(self)
        return None

    save_base.alters_data = True  # type: ignore[attr-defined]

    def _group_may_change(self, update_fields: Any) -> bool:
        """Whether this save writes group values that may differ from the row's (no query)."""
        model = type(self)
        names = _group_attnames(model)
        if not names:
            return False
        if update_fields is not None and not _group_names(model).intersection(update_fields):
            return False
        remembered = self.__dict__.get(_PLACE) or {}
        current = self.__dict__
        for attname in names:
            if attname not in current:  # deferred and never set: not written
                continue
            if attname not in remembered:  # unknown: ask the database
                return True
            if _group_key(model, {attname: current[attname]}) != _group_key(
                model, {attname: remembered[attname]}
            ):
                return True
        return False

    def _change_group(self, using: str, update_fields: Any) -> Any:
        """Make room in the new group and close the gap in the old one; returns ``update_fields``.

        Runs inside the save's transaction, before its UPDATE, which then
        writes the new position (set aside for :class:`PositionField`).
        """
        model = type(self)
        group = self.order_group()
        remembered = self.__dict__.get(_PLACE) or {}
        old_group = _lock_row_group(self, using, group, exclusive=True)
        if old_group is None:  # soft-deleted or gone: no place to change
            return update_fields
        if _group_key(model, old_group) == _group_key(model, group):
            return update_fields
        old_position = (
            _rows(model, using)
            .filter(**self._lifecycle_row_filter())
            .values_list("position", flat=True)
            .first()
        )
        if old_position is None:
            return update_fields
        _rows(model, using).filter(position__gt=old_position, **old_group).update(
            position=models.F("position") - 1
        )
        end = _next_position(model, group, using)
        wanted = self.position
        if wanted is None or wanted == remembered.get("position", old_position) or wanted >= end:
            target = end  # appended, unless a position was set for the new group
        else:
            target = max(0, wanted)
            _rows(model, using).filter(position__gte=target, **group).update(
                position=models.F("position") + 1
            )
        self.__dict__[_NEW_POSITION] = target
        if update_fields is not None:
            update_fields = {*update_fields, "position"}
        return update_fields

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
            # The database's group and position, not this instance's: it may be stale.
            group = _lock_row_group(self, using)
            current = count = None
            if group is not None:
                rows = _rows(model, using).filter(**group)
                mine = rows.filter(**self._lifecycle_row_filter())
                found = rows.aggregate(  # both in one query, now that the group is locked
                    count=models.Count("pk"),
                    current=models.Max("position", filter=models.Q(**self._lifecycle_row_filter())),
                )
                current, count = found["current"], found["count"]
            if current is None or count is None:
                raise ValueError(
                    f"{model._meta.label} {self.pk} is deleted or gone: it has no place"
                )
            target = max(0, min(int(where(current, count)), count - 1))
            if target == current:
                self.position = current
                _remember_place(self)
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
            models.QuerySet.update(statements.tracked(mine), **values)
        apply_written(self, values, entry, user)
        _remember_place(self)

    def _lifecycle_before_remove(self) -> dict[str, Any]:
        state = super()._lifecycle_before_remove()
        using = router.db_for_write(type(self), instance=self)
        group = _lock_row_group(self, using)
        state["order_group"] = group if group is not None else self.order_group()
        return state

    def _lifecycle_after_remove(self, state: dict[str, Any]) -> None:
        super()._lifecycle_after_remove(state)
        using = router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            renumber(type(self), state["order_group"], using)  # its lock is held

    def _lifecycle_before_restore(self) -> None:
        super()._lifecycle_before_restore()
        self.__dict__.pop(_RESTORE_GROUP, None)
        group = _lock_row_group(self, router.db_for_write(type(self), instance=self), alive=False)
        if group is not None:  # the group the row really is in, for after the restore
            self.__dict__[_RESTORE_GROUP] = group

    def _lifecycle_after_restore(self) -> None:
        super()._lifecycle_after_restore()
        model = type(self)
        using = router.db_for_write(model, instance=self)
        group = self.__dict__.pop(_RESTORE_GROUP, None)
        group = self.order_group() if group is None else group
        with transaction.atomic(using=using):
            renumber(model, group, using, last=[self.pk])  # its lock is held
            self.position = (
                _rows(model, using).filter(pk=self.pk).values_list("position", flat=True).first()
            )
        _remember_place(self)
