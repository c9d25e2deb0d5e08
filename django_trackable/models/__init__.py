"""The model mixins and the concrete models of django_trackable."""

from __future__ import annotations

from django_trackable.models.trackable import AuditableModel, HistoryUnavailable, TrackableModel

__all__ = ["AuditableModel", "HistoryUnavailable", "TrackableModel"]
