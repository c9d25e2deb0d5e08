"""SluggedModel: a unique slug made from another field, once, and never changed after."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from django.db import IntegrityError, models, router, transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from django_trackable.managers import LifecycleManager, LifecycleQuerySet
from django_trackable.models.lifecycle import _LifecycleModel

__all__ = ["SluggedModel", "SlugQuerySet"]

_M = TypeVar("_M", bound=models.Model)

SLUG_MAX_LENGTH = 255
#: How many times a save retries with the next suffix after losing a race.
_ATTEMPTS = 20


class SlugQuerySet(LifecycleQuerySet[_M]):
    """``bulk_create()`` that gives each new object a free slug too."""

    _lifecycle_priority = 30

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """Like Django's, after filling missing slugs (unique among the batch and the table).

        Unlike ``save()``, a bulk insert does not retry when a concurrent
        writer takes a slug first: the IntegrityError is raised.
        """
        objs = list(objs)
        taken: set[str] = set()
        for obj in objs:
            if not obj.slug:  # type: ignore[attr-defined]
                obj.slug = obj._free_slug(taken, using=self.db)  # type: ignore[attr-defined]
            taken.add(obj.slug)  # type: ignore[attr-defined]
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True  # type: ignore[attr-defined]


class SluggedModel(_LifecycleModel):
    """A unique ``slug``, generated from ``slug_source_field`` (default ``name``) on first save.

    ``"Crème brûlée"`` becomes ``crème-brûlée`` (unicode kept; set
    ``slug_allow_unicode = False`` for ASCII), a taken slug gets ``-2``,
    ``-3``, ... and the slug stays as it is when the source changes later. A
    slug set by hand is kept. The check for a free slug sees every row (deleted
    ones, other tenants'), as the unique index does; if two saves race for the
    same slug, the loser retries with the next suffix inside a savepoint, so
    both succeed with distinct slugs.
    """

    slug = models.SlugField(
        _("slug"), max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True, blank=True
    )

    objects: ClassVar[LifecycleManager] = LifecycleManager()

    slug_source_field: ClassVar[str] = "name"
    slug_allow_unicode: ClassVar[bool] = True

    _lifecycle_queryset: ClassVar[type[Any]] = SlugQuerySet

    class Meta:
        abstract = True

    def save_base(
        self,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        if raw or self.slug:
            return super().save_base(raw, force_insert, force_update, using, update_fields)
        using = using or router.db_for_write(type(self), instance=self)
        if update_fields is not None:
            update_fields = {*update_fields, "slug"}
        for attempt in range(_ATTEMPTS):
            self.slug = self._free_slug(using=using)
            try:
                with transaction.atomic(using=using):
                    super().save_base(raw, force_insert, force_update, using, update_fields)
            except IntegrityError:
                # Someone took this slug between our look and our write: try
                # the next one. Any other integrity error is not ours to hide.
                if attempt + 1 == _ATTEMPTS or not self._slug_taken(self.slug, using):
                    self.slug = ""
                    raise
            else:
                return None
        return None  # pragma: no cover - the loop returns or raises

    save_base.alters_data = True  # type: ignore[attr-defined]

    def slug_base(self) -> str:
        """The slug before any suffix: the slugified source (or the model name if empty)."""
        source = getattr(self, self.slug_source_field, "")
        if callable(source):
            source = source()
        base = slugify(str(source or ""), allow_unicode=self.slug_allow_unicode)
        return base or self._meta.model_name or "item"

    def _free_slug(self, taken: set[str] | None = None, using: str | None = None) -> str:
        """The base slug, or the base with the lowest free ``-N`` suffix."""
        field: Any = self._meta.get_field("slug")
        max_length = field.max_length or SLUG_MAX_LENGTH
        base = self.slug_base()[:max_length].strip("-") or "item"
        using = using or router.db_for_write(type(self), instance=self)
        manager = type(self)._base_manager.db_manager(using)
        stem = base[: max_length - 8].strip("-")
        used = set(
            manager.filter(models.Q(slug=base) | models.Q(slug__startswith=f"{stem}-"))
            .exclude(pk=self.pk)
            .values_list("slug", flat=True)
        ) | (taken or set())
        if base not in used:
            return base
        pattern = re.compile(rf"^{re.escape(stem)}-(\d+)$")
        numbers = {int(m.group(1)) for s in used if (m := pattern.match(s))}
        suffix = 2
        while suffix in numbers:
            suffix += 1
        return f"{stem}-{suffix}"

    def _slug_taken(self, slug: str, using: str) -> bool:
        return bool(
            type(self)
            ._base_manager.db_manager(using)
            .filter(slug=slug)
            .exclude(pk=self.pk)
            .exists()
        )
