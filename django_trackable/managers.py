"""One ``objects`` for models that combine lifecycle mixins.

Each lifecycle mixin (soft delete, status, tenant, slug, ordering, ...) brings
its own queryset methods, and a model may use several mixins at once. Python
lets only one of them own ``objects``, so every mixin declares the same
:class:`LifecycleManager`, whose queryset class is *composed* for the model:
the manager's own queryset class (for custom methods) plus the queryset of
every lifecycle mixin in the model's bases. ``Order(StatusModel,
SoftDeleteModel, TrackableModel)`` therefore gets ``by_status()``,
``restore()`` and ``since()`` on one manager, and hides deleted rows.

The manager also applies each mixin's default scope (alive rows only, the
current tenant's rows only). Reverse related managers are built from the
default manager's class, so they are scoped the same way; Django's *base*
manager is left as the plain, unfiltered manager, so foreign keys to deleted
or foreign rows still resolve and Django's internals see every row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from django.db import models

from django_trackable.loading import history_deferred
from django_trackable.querysets import TrackableQuerySet

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["LifecycleManager", "LifecycleQuerySet"]

_M = TypeVar("_M", bound=models.Model)

#: Which rows of a soft-deletable model a manager shows.
DeletedRows = Literal["exclude", "include", "only"]

# Set while Django validates uniqueness: the database's constraints cover every
# row (deleted ones, other tenants'), so the checks must see every row too.
_every_row_var: ContextVar[bool] = ContextVar("trackable_every_row", default=False)


@contextlib.contextmanager
def every_row() -> Iterator[None]:
    """Inside the block, lifecycle managers apply no default scope."""
    token = _every_row_var.set(True)
    try:
        yield
    finally:
        _every_row_var.reset(token)


class LifecycleQuerySet(TrackableQuerySet[_M]):
    """The base of every lifecycle mixin's queryset.

    Subclasses override :meth:`_lifecycle_scope` (calling ``super()``) to apply
    their default filter; ``as_manager()`` gives a :class:`LifecycleManager`,
    so a custom queryset keeps the other mixins' methods and scopes.
    """

    #: Where a mixin's queryset goes among the composed bases (lower: earlier in
    #: the MRO). Mixins that wrap writes (tenant checks, ordering) come before
    #: soft delete, whose ``delete()`` does not call ``super()``.
    _lifecycle_priority: ClassVar[int] = 50

    def _lifecycle_scope(self, deleted: DeletedRows) -> Self:
        """The default scope a manager applies; here, none."""
        return self


_composed: dict[tuple[type[models.Model], type[models.QuerySet[Any]]], type[Any]] = {}


def queryset_class_for(
    model: type[models.Model], base: type[models.QuerySet[Any]]
) -> type[models.QuerySet[Any]]:
    """``base`` combined with the queryset of each lifecycle mixin ``model`` uses (cached)."""
    key = (model, base)
    try:
        return _composed[key]
    except KeyError:
        pass
    mixins: list[type[Any]] = []
    for klass in model.__mro__:
        queryset = klass.__dict__.get("_lifecycle_queryset")
        if queryset is not None and queryset not in mixins:
            mixins.append(queryset)
    # Keep the most derived of related mixins (TaskQuerySet over StatusQuerySet)
    # and leave out what ``base`` already has.
    mixins = [
        m
        for m in mixins
        if not issubclass(base, m) and not any(o is not m and issubclass(o, m) for o in mixins)
    ]
    mixins.sort(key=lambda m: m._lifecycle_priority)
    bases = list(mixins)
    if not any(issubclass(m, base) for m in mixins):
        bases.insert(0, base)
    if len(bases) == 1:
        cls: type[Any] = bases[0]
    else:
        cls = type(
            f"{model.__name__}QuerySet",
            tuple(bases),
            {"__module__": __name__, "__reduce__": _reduce, "_lifecycle_base": base},
        )
    _composed[key] = cls
    return cls


def _reduce(self: models.QuerySet[Any]) -> Any:
    # Composed classes are not importable: pickle the recipe instead.
    base = type(self)._lifecycle_base  # type: ignore[attr-defined]
    return _rebuild, (self.model._meta.label, base), self.__getstate__()


def _rebuild(label: str, base: type[models.QuerySet[Any]]) -> models.QuerySet[Any]:
    from django.apps import apps

    cls = queryset_class_for(apps.get_model(label), base)
    queryset: models.QuerySet[Any] = cls.__new__(cls)
    return queryset


if TYPE_CHECKING:
    _ManagerBase = models.Manager[Any]
else:
    _ManagerBase = models.Manager.from_queryset(LifecycleQuerySet)


class LifecycleManager(_ManagerBase):
    """``objects`` (and ``all_objects``, ``deleted_objects``) of the lifecycle mixins.

    ``deleted`` says which rows of a soft-deletable model it shows:
    ``"exclude"`` (alive rows, the default), ``"include"`` or ``"only"``. With
    a current tenant, a tenant-scoped model's rows are limited to it. Methods
    of every mixin's queryset are available on the manager; for custom ones
    use ``LifecycleManager.from_queryset(MyQuerySet)()`` or
    ``MyQuerySet.as_manager()`` with ``MyQuerySet`` derived from a mixin's queryset.
    """

    def __init__(self, *, deleted: DeletedRows = "exclude") -> None:
        super().__init__()
        # Private: the manager's public names are its queryset methods, and
        # ``objects.deleted()`` must not find a string.
        self._deleted_rows: DeletedRows = deleted

    def get_queryset(self) -> Any:
        cls = queryset_class_for(self.model, self._queryset_class)
        queryset = cls(model=self.model, using=self._db, hints=self._hints)
        if _every_row_var.get() or not isinstance(queryset, LifecycleQuerySet):
            return queryset
        return history_deferred(queryset._lifecycle_scope(self._deleted_rows))

    def __getattr__(self, name: str) -> Any:
        # Methods of the composed queryset that the manager class cannot know.
        if name.startswith("_") or self.__dict__.get("model") is None:
            raise AttributeError(name)
        cls = queryset_class_for(self.model, self._queryset_class)
        method = getattr(cls, name, None)
        if not callable(method) or getattr(method, "queryset_only", False):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.get_queryset(), name)
