"""VersionedModel: a counter of the row's recorded writes, django-handleref's ``version``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_trackable.fields import _StampMixin
from django_trackable.models.trackable import TrackableModel

if TYPE_CHECKING:
    _PositiveIntegerField = models.PositiveIntegerField[Any, Any]
else:
    _PositiveIntegerField = models.PositiveIntegerField

__all__ = ["VersionField", "VersionedModel"]


class VersionField(_StampMixin, _PositiveIntegerField):
    """How many writes recorded an entry for this row: 1 after the create, +1 per entry.

    Raised by the row's own INSERT/UPDATE (``version = version + 1``), never
    read and written back, so concurrent writers lose no increment.
    """

    trackable_role = "version"
    django_path = "django.db.models.PositiveIntegerField"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", 0)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)
        self._place_last()


class VersionedModel(TrackableModel):
    """:class:`~django_trackable.models.TrackableModel` plus django-handleref's ``version``.

    ``version`` is 1 after the create and goes up by one with every write that
    appends a history entry (a save that changes a tracked field, a tracked
    ``QuerySet.update()``, ``bulk_update()``, a soft delete, a restore, a
    status transition); a save that changes nothing leaves it. Inside
    django-reversion revisions that is handleref's meaning. Query with
    ``Model.objects.since(version=n)`` (rows above ``n``; the column is indexed).

    After a write that raised it, the instance reads ``version`` again on
    first access (one query): only the database knows the count when others
    write concurrently. Nothing is counted inside ``tracking_disabled()``.
    """

    version = VersionField(_("version"))

    class Meta:
        abstract = True
