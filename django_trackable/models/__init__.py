"""The model mixins and the concrete models of django_trackable."""

from __future__ import annotations

from django_trackable.models.trackable import AuditableModel, HistoryUnavailable, TrackableModel
from django_trackable.models.visits import (
    LoginAttempt,
    LoginAttemptQuerySet,
    UserDevice,
    UserDeviceQuerySet,
    UserVisit,
    UserVisitQuerySet,
)

__all__ = [
    "AuditableModel",
    "HistoryUnavailable",
    "LoginAttempt",
    "LoginAttemptQuerySet",
    "TrackableModel",
    "UserDevice",
    "UserDeviceQuerySet",
    "UserVisit",
    "UserVisitQuerySet",
]
