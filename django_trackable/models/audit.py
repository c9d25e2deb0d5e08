"""The central audit trail: ``AuditLog``, one row per history entry of any tracked model.

With ``TRACKABLE["AUDIT_LOG"] = True`` (or a model's ``track_audit_log``),
every entry a tracked write appends to a row's ``history`` is also written
here, by the same transaction (see :mod:`django_trackable.audit`), and hard
deletes are logged with the row's last values. Rows are never changed after
they are written; retention is ``trackable_purge --audit``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_trackable.history import Entry, to_datetime, to_json
from django_trackable.models.visits import set_null_on_write_database
from django_trackable.statements import InsertsThrough

if TYPE_CHECKING:
    from typing_extensions import Self

    from django_trackable.querysets import Timestamp

__all__ = ["AuditLog", "AuditLogQuerySet"]

_M = TypeVar("_M", bound=models.Model)

#: The entry keys that have columns of their own; every other key is in ``extra``.
ENTRY_COLUMNS = frozenset({"action", "timestamp", "user", "user_repr", "changes"})

#: Longest ``object_id`` and ``*_repr`` kept (longer text is cut).
REPR_LENGTH = 255


def content_type_for(model: type[models.Model] | models.Model) -> ContentType:
    """The content type the log files a model's rows under: its concrete model's (cached)."""
    content_type: ContentType = ContentType.objects.get_for_model(model, for_concrete_model=True)
    return content_type


def _with_children(model: type[models.Model]) -> list[type[models.Model]]:
    """``model`` and the multi-table-inheritance models derived from it (their rows are its)."""
    from django.apps import apps

    concrete = model._meta.concrete_model or model
    return [
        m
        for m in apps.get_models()
        if not m._meta.proxy and (m is concrete or concrete in m._meta.get_parent_list())
    ]


def _sharing_history(model: type[models.Model]) -> list[type[models.Model]]:
    """The models whose rows share ``model``'s history column (multi-table inheritance).

    A row saved through a ``Restaurant`` and through its ``Place`` parent is
    one row with one history: its entries are filed under either model.
    """
    from django_trackable import tracking

    history = tracking.options_for(model).history
    concrete = model._meta.concrete_model or model
    if history is None:
        return [concrete]
    sharing = [
        m for m in _with_children(history.model) if tracking.options_for(m).history is history
    ]
    return sharing or [concrete]


class AuditLogQuerySet(InsertsThrough[_M]):
    """Reads of the audit trail; each is served by one of the table's indexes.

    Its bulk INSERTs take ``changes`` and ``extra`` as one text each on
    PostgreSQL (:class:`~django_trackable.statements.JSONTextInsertQuery`).
    """

    def since(self, timestamp: Timestamp) -> Self:
        """Rows logged strictly after ``timestamp`` (a datetime, date or UNIX time)."""
        return cast("Self", self.filter(timestamp__gt=to_datetime(timestamp)))

    def until(self, timestamp: Timestamp) -> Self:
        """Rows logged at or before ``timestamp``."""
        return cast("Self", self.filter(timestamp__lte=to_datetime(timestamp)))

    def for_object(self, obj: models.Model) -> Self:
        """Rows about ``obj``, whatever its primary key type.

        Proxies share their concrete model's rows; under multi-table
        inheritance a row's entries are found through the parent and the child.
        """
        models_ = _sharing_history(type(obj))
        return cast(
            "Self",
            self.filter(
                content_type__in=[content_type_for(m) for m in models_], object_id=str(obj.pk)
            ),
        )

    def for_model(self, model: type[models.Model] | str) -> Self:
        """Rows about rows of ``model`` (a class or an ``"app_label.Model"`` label),
        multi-table-inheritance children included."""
        if isinstance(model, str):
            from django.apps import apps

            model = apps.get_model(model)
        cts = [content_type_for(m) for m in _with_children(model)]
        return cast("Self", self.filter(content_type__in=cts))

    def by(self, user: Any) -> Self:
        """Rows whose actor is ``user`` (a user or a primary key)."""
        return cast("Self", self.filter(actor=getattr(user, "pk", user)))

    def chronological(self) -> Self:
        """Oldest first, ties in the order the rows were written."""
        return cast("Self", self.order_by("timestamp", "pk"))


class AuditLog(models.Model):
    """One change to one row of a tracked model: who, when, what, and to which object.

    ``changes`` has the history entry's format (field → ``[old, new]``, masked
    values as ``"***"``); ``extra`` holds the entry's other keys (a request id,
    an IP address, a reason given to ``acting_as()``). The actor and the target
    are kept as text too, so rows stay readable after the user or the object is
    gone. The log may live on another database (``TRACKABLE["DATABASE"]`` or a
    router): foreign keys have no database constraint.
    """

    timestamp = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=set_null_on_write_database,
        db_constraint=False,
        db_index=False,  # the (actor, timestamp) index serves it
        related_name="+",
    )
    actor_repr = models.CharField(_("actor (as text)"), max_length=REPR_LENGTH, blank=True)
    action = models.CharField(_("action"), max_length=32)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("content type"),
        null=True,
        blank=True,
        on_delete=set_null_on_write_database,
        db_constraint=False,
        db_index=False,  # the (content_type, object_id, timestamp) index serves it
        related_name="+",
    )
    object_id = models.CharField(_("object id"), max_length=REPR_LENGTH, blank=True)
    target_repr = models.CharField(_("object"), max_length=REPR_LENGTH, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    extra = models.JSONField(_("extra"), default=dict, blank=True)

    target = GenericForeignKey("content_type", "object_id")

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ("-timestamp", "-pk")
        get_latest_by = "timestamp"
        indexes = [
            models.Index(fields=["timestamp"], name="trackable_audit_time_idx"),
            models.Index(
                fields=["content_type", "object_id", "timestamp"],
                name="trackable_audit_target_idx",
            ),
            models.Index(fields=["actor", "timestamp"], name="trackable_audit_actor_idx"),
        ]

    def __str__(self) -> str:
        target = self.target_repr or f"{self.object_id}"
        who = self.actor_repr or _("nobody")
        return f"{self.action} {target} by {who}"

    def as_entry(self) -> Entry:
        """This row as a history entry (the format of a tracked row's ``history``)."""
        entry: Entry = {
            "action": self.action,
            "timestamp": _iso(self.timestamp),
            "user": to_json(self.actor_id),
            "user_repr": self.actor_repr or None,
            "changes": self.changes if isinstance(self.changes, dict) else {},
        }
        if isinstance(self.extra, dict):
            for key, value in self.extra.items():
                entry.setdefault(key, value)
        return entry


def _iso(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.isoformat(timespec="microseconds")
