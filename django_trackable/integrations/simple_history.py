"""django-simple-history with django_trackable's context: users, reasons, soft deletes.

- :func:`get_user` for ``HistoricalRecords(get_user=...)``: historical rows get
  the acting user of :mod:`django_trackable.context`, in requests bound by
  ``CurrentUserMiddleware`` (sync or async, DRF included), in ``acting_as()``
  blocks and in async views; simple-history's ``HistoryRequestMiddleware`` is
  not needed.
- Connected by ``django_trackable``'s ``AppConfig.ready()`` when
  ``simple_history`` is in ``INSTALLED_APPS``: the ``reason`` given to
  ``acting_as()`` fills ``history_change_reason`` when the record has none, and
  a soft delete or restore of a model with ``HistoricalRecords`` writes a
  historical record (type ``"~"``) for each row, as a save would. Our soft
  delete is an UPDATE, which sends no signal simple-history listens to.
- Historical models copy our stamp fields (``created_at``, ``updated_by``,
  ...); on them those become the plain Django fields they are in migrations,
  so a historical row keeps the values it was given, as simple-history does
  for ``auto_now`` fields.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models
from django.utils.module_loading import import_string
from simple_history.signals import pre_create_historical_record

from django_trackable import tracking
from django_trackable.context import get_current_request, get_current_user
from django_trackable.integrations import current_reason
from django_trackable.models.softdelete import rows_soft_written

__all__ = ["connect", "disconnect", "fill_change_reason", "get_user", "record_soft_write"]

#: Rows per INSERT of historical records for a soft delete or restore.
BATCH_SIZE = 500

_REASON_UID = "django_trackable.integrations.simple_history.fill_change_reason"
_SOFT_WRITE_UID = "django_trackable.integrations.simple_history.record_soft_write"


def get_user(request: Any = None, instance: Any = None, **kwargs: Any) -> Any:
    """The user simple-history stores as ``history_user``: the context's acting user.

    Pass it as ``HistoricalRecords(get_user=get_user)``. Outside a request our
    middleware bound (a site that only has simple-history's middleware), the
    ``request`` simple-history hands over is used instead.
    """
    user = get_current_user()
    if user is None and request is not None and get_current_request() is None:
        candidate = getattr(request, "user", None)
        if candidate is not None and getattr(candidate, "is_authenticated", False):
            user = candidate
    return user


def _reason_for(history_model: type[models.Model]) -> str | None:
    field: Any = history_model._meta.get_field("history_change_reason")
    return current_reason(getattr(field, "max_length", None))


def fill_change_reason(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """``pre_create_historical_record`` receiver: ``acting_as(reason=...)`` as the change reason.

    A reason set on the instance (``_change_reason``) is kept; a reason longer
    than the column is cut to fit, so the save never fails because of it.
    """
    if history_instance.history_change_reason:
        return
    reason = _reason_for(type(history_instance))
    if reason is not None:
        history_instance.history_change_reason = reason


def record_soft_write(
    sender: type[models.Model], action: str, rows: models.QuerySet[Any], when: Any, **kwargs: Any
) -> None:
    """Write a historical record for each row a soft delete or restore changed.

    One SELECT of the rows and one INSERT per :data:`BATCH_SIZE` rows, in the
    write's transaction, through simple-history's ``bulk_history_create()``:
    the user is the one :func:`get_user` (or the model's ``get_user``) gives,
    ``history_date`` the write's time, the reason ``acting_as()``'s.
    """
    manager_name = getattr(sender._meta, "simple_history_manager_attribute", None)
    if manager_name is None:
        return
    history = getattr(sender, manager_name)
    reason = _reason_for(history.model)
    batch: list[models.Model] = []
    for row in rows.iterator(chunk_size=BATCH_SIZE):
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            history.bulk_history_create(
                batch, update=True, default_date=when, default_change_reason=reason
            )
            batch = []
    if batch:
        history.bulk_history_create(
            batch, update=True, default_date=when, default_change_reason=reason
        )


def plain_historical_fields() -> None:
    """Make our stamp fields on every historical model the plain fields they deconstruct to.

    Copied as they are, they would stamp each historical row with the time
    and user of the history insert. Idempotent.
    """
    for model in apps.get_models():
        manager_name = getattr(model._meta, "simple_history_manager_attribute", None)
        if manager_name is None:
            continue
        history_model = getattr(model, manager_name).model
        for model_field in history_model._meta.concrete_fields:
            path = getattr(model_field, "django_path", "")
            if getattr(model_field, "trackable_role", "") and path:
                model_field.__class__ = import_string(path)
    tracking.clear_model_options()


def connect() -> None:
    """Connect :func:`fill_change_reason` and :func:`record_soft_write` (idempotent).

    Also runs :func:`plain_historical_fields`.
    """
    plain_historical_fields()
    pre_create_historical_record.connect(fill_change_reason, dispatch_uid=_REASON_UID)
    rows_soft_written.connect(record_soft_write, dispatch_uid=_SOFT_WRITE_UID)


def disconnect() -> None:
    """Undo :func:`connect`."""
    pre_create_historical_record.disconnect(dispatch_uid=_REASON_UID)
    rows_soft_written.disconnect(dispatch_uid=_SOFT_WRITE_UID)
