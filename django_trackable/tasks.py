"""Tasks that write visits and login attempts off the request path (``TASK_BACKEND``).

Imported only when ``TASK_BACKEND`` is set. Uses ``django.tasks`` (Django 6)
or its backport, the ``django-tasks`` package (``django_tasks``). A task gets
the row's values as JSON, ready to store: the client was read, the IP
anonymised and the query string masked in the request, so nothing the
database would not hold ever reaches the queue.
"""

from __future__ import annotations

import datetime
from typing import Any

try:
    from django.tasks import task  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # Django < 6: the backport
    from django_tasks import task  # type: ignore[no-redef, unused-ignore]

from django_trackable.conf import trackable_settings

__all__ = ["record_login_attempt", "record_visit", "to_payload"]

# A task is validated against its backend when it is defined, so define ours
# with the configured one: TASKS need not have a "default". This module is
# imported only once TASK_BACKEND is set, never while settings load.
_BACKEND = trackable_settings.TASK_BACKEND or "default"


def to_payload(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as JSON: the timestamp in ISO 8601, the user's key as text."""
    payload = dict(values)
    payload["timestamp"] = values["timestamp"].isoformat()
    if values.get("user_id") is not None:
        payload["user_id"] = str(values["user_id"])
    return payload


def _from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    values = dict(payload)
    values["timestamp"] = datetime.datetime.fromisoformat(payload["timestamp"])
    return values


@task(backend=_BACKEND)
def record_visit(payload: dict[str, Any]) -> None:
    """Store a visit recorded by ``UserVisit.objects.record()``."""
    from django_trackable.models.visits import UserVisit

    UserVisit.objects.all()._store(_from_payload(payload))


@task(backend=_BACKEND)
def record_login_attempt(payload: dict[str, Any]) -> None:
    """Store a login attempt recorded by ``LoginAttempt.objects.record()``, and its device."""
    from django_trackable.models.visits import LoginAttempt

    LoginAttempt.objects.all()._store(_from_payload(payload))
