"""The stamp and history fields of the mixins.

Their ``pre_save()`` asks :mod:`django_trackable.tracking` what to write, so
the stamps and the history entry come from one plan per save, computed after
every other field's ``pre_save()`` (file uploads committed, ``auto_now`` set,
``pre_save`` signal receivers run): the mixins give these fields a creation
order after any field a model declares.

They deconstruct as the plain Django fields they extend, so the migrations of
models using the mixins mention only ``django.db.models``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from django_trackable import tracking
from django_trackable.loading import HistoryAttribute

if TYPE_CHECKING:
    _DateTimeField = models.DateTimeField[Any, Any]
    _ForeignKey = models.ForeignKey[Any, Any]
    _JSONField = models.JSONField[Any, Any]
else:
    _DateTimeField = models.DateTimeField
    _ForeignKey = models.ForeignKey
    _JSONField = models.JSONField

__all__ = ["CreatedAtField", "CreatedByField", "HistoryField", "UpdatedAtField", "UpdatedByField"]

# Far above Field.creation_counter of any field a project declares, so the
# mixins' fields sort (and pre_save) after the model's own fields.
_LATE = itertools.count(2**40)


class _StampMixin:
    #: Which stamp this field holds; read by tracking.field_pre_save().
    trackable_role = ""
    #: The Django field this one is in migrations.
    django_path = ""

    def _place_last(self) -> None:
        self.creation_counter = next(_LATE)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return tracking.field_pre_save(self, model_instance, add)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        return name, self.django_path, args, kwargs


class CreatedAtField(_StampMixin, _DateTimeField):
    """When the row was inserted; set once, from the same clock as its first entry."""

    trackable_role = "created_at"
    django_path = "django.db.models.DateTimeField"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("default", timezone.now)
        super().__init__(*args, **kwargs)
        self._place_last()


class UpdatedAtField(_StampMixin, _DateTimeField):
    """When a tracked field last changed (or the row was inserted)."""

    trackable_role = "updated_at"
    django_path = "django.db.models.DateTimeField"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("default", timezone.now)
        super().__init__(*args, **kwargs)
        self._place_last()


class _UserStampField(_StampMixin, _ForeignKey):
    django_path = "django.db.models.ForeignKey"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("to", settings.AUTH_USER_MODEL)
        kwargs.setdefault("on_delete", models.SET_NULL)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("related_name", "+")
        super().__init__(*args, **kwargs)
        self._place_last()


class CreatedByField(_UserStampField):
    """Who inserted the row (``None`` for anonymous or system activity)."""

    trackable_role = "created_by"


class UpdatedByField(_UserStampField):
    """Who last changed a tracked field."""

    trackable_role = "updated_by"


class HistoryField(_StampMixin, _JSONField):
    """The row's history: a JSON list of entries, oldest first, appended in SQL."""

    trackable_role = "history"
    django_path = "django.db.models.JSONField"
    # Deferred by the managers; loaded for every instance of a query at once.
    descriptor_class = HistoryAttribute

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", list)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)
        self._place_last()
