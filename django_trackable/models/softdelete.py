"""Soft delete: rows are marked deleted, hidden by ``objects``, and can be restored.

A soft delete is one UPDATE per model: ``date_deleted``, ``deleted_by``, the
``updated_*`` stamps and a ``delete`` history entry (when the model is also a
:class:`~django_trackable.models.TrackableModel`) are written by the same
statement, for an instance or a whole queryset. Rows of soft-deletable models
that point at a deleted row through an ``on_delete=CASCADE`` foreign key are
soft-deleted with it, with the very same ``date_deleted``; a restore brings
back exactly the related rows that carry their parent's ``date_deleted``, so
rows deleted earlier on their own stay deleted.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from django.db import models, router, transaction
from django.db.models.lookups import IsNull
from django.db.models.sql.where import WhereNode
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from django_trackable import statements, tracking
from django_trackable.context import is_tracking_enabled
from django_trackable.fields import _DateTimeField, _StampMixin, _UserStampField
from django_trackable.history import Entry, to_datetime
from django_trackable.managers import DeletedRows, LifecycleManager, LifecycleQuerySet
from django_trackable.models.lifecycle import (
    _LifecycleModel,
    apply_written,
    row_queryset,
    stamp_values,
)
from django_trackable.models.trackable import TrackableModel
from django_trackable.querysets import _TrackedWritesQuerySet
from django_trackable.signals import restored, send_signal, soft_deleted

if TYPE_CHECKING:
    from typing_extensions import Self

    from django_trackable.querysets import Timestamp

__all__ = [
    "DeletedAtField",
    "DeletedByField",
    "SoftDeleteModel",
    "SoftDeleteQuerySet",
    "TimestampedModel",
    "alive_related",
]

_M = TypeVar("_M", bound=models.Model)

# Primary keys per statement when restoring (well under every backend's limit).
_CHUNK = 500

#: Internal, for the integrations (django-simple-history): sent inside the
#: write's transaction after a soft delete or restore, once per model (and per
#: statement of a restore), with ``sender`` (the model), ``action``
#: (``"delete"`` or ``"restore"``), ``rows`` (a lazy queryset of exactly the
#: rows written, evaluated only by a receiver that needs them) and ``when``
#: (the write's time). Not sent when nobody listens.
rows_soft_written = Signal()


class DeletedAtField(_StampMixin, _DateTimeField):
    """When the row was soft-deleted; ``NULL`` while it is alive."""

    trackable_role = "deleted_at"
    django_path = "django.db.models.DateTimeField"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)
        self._place_last()


class DeletedByField(_UserStampField):
    """Who soft-deleted the row."""

    trackable_role = "deleted_by"


class _Alive(IsNull):
    """``date_deleted IS NULL``, recognisable so that ``with_deleted()`` can lift it."""


class _Dead(IsNull):
    """``date_deleted IS NOT NULL``, as applied by ``deleted_objects``."""


def _lift(where: WhereNode) -> None:
    """Remove the alive/dead markers from every node that is not negated."""
    if where.negated:
        return
    where.children = [child for child in where.children if not isinstance(child, _Alive | _Dead)]
    for child in where.children:
        if isinstance(child, WhereNode):
            _lift(child)


def deleted_field(model: type[models.Model]) -> models.Field[Any, Any] | None:
    """The ``date_deleted`` field of a soft-deletable model, else ``None``."""
    return tracking.options_for(model).roles.get("deleted_at")


def _required_deleted_field(model: type[models.Model]) -> models.Field[Any, Any]:
    field = deleted_field(model)
    if field is None:
        raise TypeError(f"{model._meta.label} is not soft-deletable (it has no DeletedAtField)")
    return field


class SoftDeleteQuerySet(LifecycleQuerySet[_M]):
    """Queries and bulk writes of soft-deletable models.

    ``delete()`` is soft; ``hard_delete()`` and ``restore()`` do the rest.
    ``alive()``, ``with_deleted()`` and ``only_deleted()`` choose rows by state,
    whatever manager the queryset came from: ``Post.objects.filter(...).with_deleted()``.
    """

    _lifecycle_priority = 90

    def _lifecycle_scope(self, deleted: DeletedRows) -> Self:
        queryset = super()._lifecycle_scope(deleted)
        if deleted == "exclude":
            return queryset.alive()
        if deleted == "only":
            return queryset.only_deleted()
        return queryset

    def _lifted(self) -> Self:
        queryset = self.all()
        _lift(queryset.query.where)
        return cast("Self", queryset)

    def alive(self) -> Self:
        """Only rows that are not soft-deleted."""
        name = _required_deleted_field(self.model).name
        return cast("Self", self._lifted().filter(_Alive(models.F(name), True)))

    def with_deleted(self) -> Self:
        """Alive and soft-deleted rows (the other filters stay)."""
        return self._lifted()

    def only_deleted(self) -> Self:
        """Only soft-deleted rows."""
        name = _required_deleted_field(self.model).name
        return cast("Self", self._lifted().filter(_Dead(models.F(name), False)))

    def _without_deleted(self) -> Self:
        return self.alive()

    def since(
        self,
        timestamp: Timestamp | None = None,
        version: int | None = None,
        deleted: bool = False,
    ) -> Self:
        """Rows created or changed after ``timestamp``; with ``deleted=True``, deletions count.

        ``deleted=True`` includes soft-deleted rows, whichever manager the
        queryset came from, and a row deleted after ``timestamp`` counts as
        changed even when the delete recorded nothing (``tracking_disabled()``).
        """
        if not deleted:
            return super().since(timestamp, version, deleted)
        queryset = super(SoftDeleteQuerySet, self.with_deleted()).since(None, version, True)
        if timestamp is None:
            return queryset
        when = to_datetime(timestamp)
        roles = tracking.options_for(self.model).roles
        changed = models.Q(**{f"{_required_deleted_field(self.model).name}__gt": when})
        if "updated_at" in roles:
            changed |= models.Q(**{f"{roles['updated_at'].name}__gt": when})
        return cast("Self", queryset.filter(changed))

    def deleted_since(self, timestamp: Timestamp) -> Self:
        """Rows soft-deleted strictly after ``timestamp`` (and still deleted)."""
        name = _required_deleted_field(self.model).name
        return cast("Self", self.with_deleted().filter(**{f"{name}__gt": to_datetime(timestamp)}))

    def delete(self, *, hard: bool = False) -> tuple[int, dict[str, int]]:
        """Soft-delete the rows, and their soft-deletable CASCADE dependants.

        One UPDATE per model (per level of a self-referencing relation), with
        stamps and a ``delete`` entry per row. Returns ``(count, {label: count})``
        like Django's ``delete()``. No ``pre_delete``/``post_delete`` signals.
        ``hard=True`` is :meth:`hard_delete` (django-handleref's spelling).
        """
        if hard:
            return self.hard_delete()
        self._check_deletable("delete")
        return soft_delete(self)

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def hard_delete(self) -> tuple[int, dict[str, int]]:
        """Delete the rows for real, with Django's cascades and signals."""
        self._check_deletable("hard_delete")
        return _TrackedWritesQuerySet.delete(self)

    hard_delete.alters_data = True  # type: ignore[attr-defined]
    hard_delete.queryset_only = True  # type: ignore[attr-defined]

    def restore(self) -> tuple[int, dict[str, int]]:
        """Restore the soft-deleted rows among these (whatever the alive filter says).

        Related rows that were soft-deleted *with* a restored row (same
        ``date_deleted``) are restored too. Each restored row gets a
        ``restore`` entry and fresh ``updated_*`` stamps.
        """
        self._check_deletable("restore")
        name = _required_deleted_field(self.model).name
        return soft_restore(self.with_deleted().filter(**{f"{name}__isnull": False}))

    restore.alters_data = True  # type: ignore[attr-defined]
    restore.queryset_only = True  # type: ignore[attr-defined]

    def _check_deletable(self, method: str) -> None:
        self._not_support_combined_queries(method)  # type: ignore[attr-defined]
        if self.query.is_sliced:
            raise TypeError(f"Cannot use 'limit' or 'offset' with {method}().")
        if self.query.distinct_fields:
            raise TypeError(f"Cannot call {method}() after .distinct(*fields).")
        if self._fields is not None:  # type: ignore[attr-defined]
            raise TypeError(f"Cannot call {method}() after .values() or .values_list()")


def alive_related(relation: str, **lookups: Any) -> models.Q:
    """A ``Q`` on the rows across ``relation`` that are alive, with ``lookups`` on the same rows.

    Filters and annotations that cross a relation join the related table
    directly, so they see soft-deleted rows (the ``objects`` scope applies
    only to querysets of that model)::

        Author.objects.filter(alive_related("posts", title="Draft"))
        Author.objects.annotate(posts=Count("posts", filter=alive_related("posts")))

    ``alive_related("posts", title="Draft")`` is
    ``Q(posts__date_deleted=None, posts__title="Draft")``: one ``filter()``
    call, so both conditions hold for the same post. ``relation`` must lead
    to a soft-deletable model; for a path through several
    (``"posts__comments"``), combine one per level with ``&``.
    """
    conditions = {f"{relation}__{name}": value for name, value in lookups.items()}
    # isnull=False: a row must be there (an alive one), not merely no deleted one.
    return models.Q(
        **{f"{relation}__isnull": False, f"{relation}__date_deleted__isnull": True}, **conditions
    )


# --- the writes ---------------------------------------------------------------


def _lifecycle_values(
    model: type[models.Model],
    action: str,
    seed: tracking.Seed,
    instance: models.Model | None = None,
) -> tuple[dict[str, Any], Entry | None, Any]:
    """Column values for a soft delete or restore, the entry appended, and the user."""
    roles = tracking.options_for(model).roles
    deleting = action == "delete"
    values: dict[str, Any] = {roles["deleted_at"].name: seed.now if deleting else None}
    user = None
    if "deleted_by" in roles:
        user = seed.resolve_user() if deleting and is_tracking_enabled() else None
        values[roles["deleted_by"].name] = tracking.user_pk_for(roles["deleted_by"], user)
    stamps, entry, stamped_by = stamp_values(model, action, None, seed, instance=instance)
    return {**values, **stamps}, entry, stamped_by if stamped_by is not None else user


def _write(
    queryset: models.QuerySet[Any],
    action: str,
    seed: tracking.Seed,
    instance: models.Model | None = None,
) -> int:
    values, _entry, _user = _lifecycle_values(queryset.model, action, seed, instance)
    # Every value is explicit: Django's update(), not the tracked one, as a
    # tracked statement (for the audit log).
    return models.QuerySet.update(statements.tracked(queryset), **values)


_relations: dict[type[models.Model], list[tuple[type[models.Model], models.Field[Any, Any]]]] = {}


def cascade_relations(
    model: type[models.Model],
) -> list[tuple[type[models.Model], models.Field[Any, Any]]]:
    """(soft-deletable model, its foreign key) for each ``on_delete=CASCADE`` relation to ``model``.

    The same candidates as Django's deletion collector (hidden relations
    included), minus parent links of multi-table inheritance.
    """
    model = model._meta.concrete_model or model
    try:
        return _relations[model]
    except KeyError:
        pass
    found = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_one or rel.one_to_many)):
            continue
        if getattr(rel, "on_delete", None) is not models.CASCADE or getattr(
            rel, "parent_link", False
        ):
            continue
        child = rel.related_model
        if isinstance(child, type) and deleted_field(child) is not None:
            found.append((child, rel.field))  # type: ignore[union-attr]
    _relations[model] = found
    return found


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def soft_delete(
    queryset: models.QuerySet[Any],
    seed: tracking.Seed | None = None,
    instance: models.Model | None = None,
) -> tuple[int, dict[str, int]]:
    """Soft-delete the alive rows of ``queryset`` and their CASCADE dependants.

    ``instance`` is the one row of ``queryset``, when it is one row."""
    seed = seed or tracking.Seed()
    model = queryset.model
    using = queryset.db
    counts: Counter[str] = Counter()
    written: dict[str, type[models.Model]] = {_label(model): model}
    with transaction.atomic(using=using, savepoint=False):
        name = _required_deleted_field(model).name
        count = _write(queryset.filter(**{f"{name}__isnull": True}), "delete", seed, instance)
        counts[_label(model)] += count
        # Rows deleted by this call share seed.now: the parents of the next level.
        pending = [model] if count else []
        while pending:
            parent = pending.pop(0)
            parent_deleted = _required_deleted_field(parent).name
            for child, fk in cascade_relations(parent):
                child_deleted = _required_deleted_field(child).name
                dependants = child._base_manager.db_manager(using).filter(
                    **{
                        f"{fk.name}__{parent_deleted}": seed.now,
                        f"{child_deleted}__isnull": True,
                    }
                )
                found = _write(dependants, "delete", seed)
                if found:
                    counts[_label(child)] += found
                    written[_label(child)] = child
                    pending.append(child)
        for label, written_model in written.items():
            if counts[label]:
                # The call's rows, all levels at once: each got date_deleted = seed.now.
                deleted = _required_deleted_field(written_model).name
                rows = written_model._base_manager.db_manager(using).filter(**{deleted: seed.now})
                _announce(written_model, "delete", rows, seed.now, using)
    return sum(counts.values()), {label: n for label, n in counts.items() if n}


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def soft_restore(
    queryset: models.QuerySet[Any], seed: tracking.Seed | None = None
) -> tuple[int, dict[str, int]]:
    """Restore the rows of ``queryset`` and what was soft-deleted with them."""
    seed = seed or tracking.Seed()
    using = queryset.db
    counts: Counter[str] = Counter()
    visited: dict[type[models.Model], set[Any]] = {}
    with transaction.atomic(using=using, savepoint=False):
        level = [(queryset.model, list(queryset.values_list("pk", flat=True)))]
        while level:
            next_level = []
            for model, pks in level:
                seen = visited.setdefault(model, set())
                todo = [pk for pk in pks if pk not in seen]
                seen.update(todo)
                deleted = _required_deleted_field(model).name
                for chunk in _chunks(todo):
                    # Dependants are matched by their parent's date_deleted, so
                    # they are found before the parents are restored.
                    for child, fk in cascade_relations(model):
                        child_deleted = _required_deleted_field(child).name
                        dependants = child._base_manager.db_manager(using).filter(
                            **{
                                f"{fk.name}__pk__in": chunk,
                                f"{child_deleted}__isnull": False,
                                child_deleted: models.F(f"{fk.name}__{deleted}"),
                            }
                        )
                        found = list(dependants.values_list("pk", flat=True))
                        if found:
                            next_level.append((child, found))
                    rows = model._base_manager.db_manager(using).filter(
                        pk__in=chunk, **{f"{deleted}__isnull": False}
                    )
                    restored = _write(rows, "restore", seed)
                    counts[_label(model)] += restored
                    if restored:
                        rows = model._base_manager.db_manager(using).filter(pk__in=chunk)
                        _announce(model, "restore", rows, seed.now, using)
            level = next_level
    return sum(counts.values()), {label: n for label, n in counts.items() if n}


def _announce(
    model: type[models.Model],
    action: str,
    rows: models.QuerySet[Any],
    when: datetime.datetime,
    using: str,
) -> None:
    """The integrations' internal signal, then the public ``soft_deleted`` / ``restored``."""
    if rows_soft_written.has_listeners(model):
        rows_soft_written.send(model, action=action, rows=rows, when=when)
    public = soft_deleted if action == "delete" else restored
    if public.has_listeners(model):
        send_signal(public, model, using, queryset=rows, when=when)


def _apply_to_instance(instance: models.Model, action: str, seed: tracking.Seed) -> None:
    """Give ``instance`` the values its row just got from a soft delete or restore."""
    values, entry, user = _lifecycle_values(type(instance), action, seed)
    apply_written(instance, values, entry, user)


# --- the models ---------------------------------------------------------------


class SoftDeleteModel(_LifecycleModel):
    """Rows are hidden, not removed, by ``delete()``; ``restore()`` brings them back.

    Managers: ``objects`` (alive rows; the default manager, so reverse related
    managers, forms' choices and the admin hide deleted rows), ``all_objects``
    and ``deleted_objects``. Django's base manager stays unfiltered, so a
    foreign key to a deleted row still resolves. Uniqueness checks
    (``full_clean()``, ModelForm, admin) see deleted rows too, so a clash with
    one is a ValidationError rather than an IntegrityError. ``dumpdata``
    leaves deleted rows out unless given ``--all``.

    Combine with :class:`~django_trackable.models.TrackableModel` (or use
    :class:`TimestampedModel`) to stamp ``updated_*`` and record ``delete`` and
    ``restore`` entries. List this mixin *before* ``TrackableModel``.
    """

    date_deleted = DeletedAtField(_("deleted at"))
    deleted_by = DeletedByField(verbose_name=_("deleted by"))

    objects: ClassVar[LifecycleManager] = LifecycleManager()
    all_objects: ClassVar[LifecycleManager] = LifecycleManager(deleted="include")
    deleted_objects: ClassVar[LifecycleManager] = LifecycleManager(deleted="only")

    _lifecycle_queryset: ClassVar[type[Any]] = SoftDeleteQuerySet

    class Meta:
        abstract = True

    def delete(
        self, using: str | None = None, keep_parents: bool = False, *, hard: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Soft-delete this row (one UPDATE) and its soft-deletable CASCADE dependants.

        Returns ``(count, {label: count})``; ``(0, {})`` when the row was
        already deleted. Sends no ``pre_delete``/``post_delete`` signals.
        ``keep_parents`` is accepted for Django's signature and ignored.
        ``hard=True`` is :meth:`hard_delete` (django-handleref's spelling).
        """
        if hard:
            return self.hard_delete(using=using, keep_parents=keep_parents)
        if self.pk is None:
            raise ValueError(
                f"{self._meta.object_name} object can't be deleted because its "
                f"{self._meta.pk.attname} attribute is set to None."
            )
        self._lifecycle_check_write()
        using = using or router.db_for_write(type(self), instance=self)
        seed = tracking.Seed()
        with transaction.atomic(using=using, savepoint=False):
            state = self._lifecycle_before_remove()
            result = soft_delete(row_queryset(self, using), seed, self)
            if result[0]:
                self._lifecycle_after_remove(state)
        if result[0]:
            _apply_to_instance(self, "delete", seed)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]

    def hard_delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete the row for real, with Django's cascades and signals."""
        return _LifecycleModel.delete(self, using=using, keep_parents=keep_parents)

    hard_delete.alters_data = True  # type: ignore[attr-defined]

    def restore(self) -> tuple[int, dict[str, int]]:
        """Restore this row and the rows soft-deleted with it; ``(0, {})`` if it is alive."""
        self._lifecycle_check_write()
        seed = tracking.Seed()
        name = _required_deleted_field(type(self)).name
        rows = row_queryset(self).filter(**{f"{name}__isnull": False})
        with transaction.atomic(using=rows.db, savepoint=False):
            self._lifecycle_before_restore()
            result = soft_restore(rows, seed)
            if result[0]:
                _apply_to_instance(self, "restore", seed)
                self._lifecycle_after_restore()
        return result

    restore.alters_data = True  # type: ignore[attr-defined]

    @property
    def is_deleted(self) -> bool:
        """Whether this instance was soft-deleted (as loaded or as this instance did it)."""
        field = _required_deleted_field(type(self))
        return getattr(self, field.attname) is not None


class TimestampedModel(SoftDeleteModel, TrackableModel):
    """:class:`~django_trackable.models.TrackableModel` plus :class:`SoftDeleteModel`.

    ``date_added`` and ``date_updated`` are read-only aliases of
    ``created_at`` and ``updated_at`` (no extra columns; query with the real names).
    """

    class Meta:
        abstract = True

    @property
    def date_added(self) -> datetime.datetime:
        """Alias of ``created_at``."""
        value: datetime.datetime = self.created_at
        return value

    @property
    def date_updated(self) -> datetime.datetime:
        """Alias of ``updated_at``."""
        value: datetime.datetime = self.updated_at
        return value
