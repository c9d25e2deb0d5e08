"""Move the whole demo forward in time, so a demo seeded weeks ago looks as if it just happened.

Every date/time column of every model (but sessions') and every history entry's
``timestamp`` (and date/time values in its changes) move by the same amount:
what happened three weeks before the last activity still did, and "since",
"as of" and the recent-changes page show the same story on any day.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import F, Max

from django_trackable.models import TrackableModel

#: Apps whose dates are not part of the demo's story.
SKIPPED_APPS = {"sessions"}


def _dated_models() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        if model._meta.app_label in SKIPPED_APPS or model._meta.proxy:
            continue
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.DateTimeField)
        ]
        if fields:
            found.append((model, fields))
    return found


def latest_activity() -> datetime.datetime | None:
    """The newest date/time anywhere in the demo's data (``None`` when there is none)."""
    newest = None
    for model, fields in _dated_models():
        values = model._base_manager.aggregate(**{f: Max(f) for f in fields}).values()
        for value in values:
            if value is not None and (newest is None or value > newest):
                newest = value
    return newest


def _shift_value(value: Any, shift: datetime.timedelta) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment + shift).isoformat()


def _shift_entry(entry: Any, dated: set[str], shift: datetime.timedelta) -> Any:
    if not isinstance(entry, dict):
        return entry
    moved = dict(entry)
    if "timestamp" in moved:
        moved["timestamp"] = _shift_value(moved["timestamp"], shift)
    changes = moved.get("changes")
    if isinstance(changes, dict):
        moved["changes"] = {
            name: [_shift_value(v, shift) for v in pair] if name in dated else pair
            for name, pair in changes.items()
        }
    return moved


def redate(shift: datetime.timedelta) -> None:
    """Add ``shift`` to every date/time of the demo, in one transaction, recording nothing.

    Plain ``QuerySet.update()`` (Django's, not the tracked one): moving the demo
    in time is not a change of the data, so no entry and no stamp is written.
    """
    with transaction.atomic():
        for model, fields in _dated_models():
            rows = model._base_manager.all()
            models.QuerySet.update(rows, **{name: F(name) + shift for name in fields})
            if not issubclass(model, TrackableModel):
                continue
            dated = set(fields)
            for pk, history in rows.values_list("pk", "history"):
                if not history:
                    continue
                moved = [_shift_entry(entry, dated, shift) for entry in history]
                models.QuerySet.update(rows.filter(pk=pk), history=moved)
