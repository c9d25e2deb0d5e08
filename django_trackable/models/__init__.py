"""The model mixins and the concrete models of django_trackable."""

from __future__ import annotations

from django_trackable.models.audit import AuditLog, AuditLogQuerySet
from django_trackable.models.metadata import MetadataModel
from django_trackable.models.ordering import OrderedModel, OrderedQuerySet, PositionField
from django_trackable.models.records import (
    RecordedModelMixin,
    RecordedQuerySet,
    RecordModel,
    RecordQuerySet,
    record_model_for,
    record_models,
)
from django_trackable.models.slug import SluggedModel, SlugQuerySet
from django_trackable.models.softdelete import (
    DeletedAtField,
    DeletedByField,
    SoftDeleteModel,
    SoftDeleteQuerySet,
    TimestampedModel,
    alive_related,
)
from django_trackable.models.status import (
    StatusModel,
    StatusQuerySet,
    TransitionConflict,
    TransitionError,
    TransitionNotAllowed,
)
from django_trackable.models.task import Task, TaskQuerySet, TaskStatus
from django_trackable.models.tenant import (
    MissingTenant,
    TenantMismatch,
    TenantQuerySet,
    TenantScopedModel,
)
from django_trackable.models.trackable import AuditableModel, HistoryUnavailable, TrackableModel
from django_trackable.models.uuid_pk import UUIDModel
from django_trackable.models.versioned import VersionedModel, VersionField
from django_trackable.models.visits import (
    LoginAttempt,
    LoginAttemptQuerySet,
    UserDevice,
    UserDeviceQuerySet,
    UserVisit,
    UserVisitQuerySet,
)

__all__ = [
    "AuditLog",
    "AuditLogQuerySet",
    "AuditableModel",
    "DeletedAtField",
    "DeletedByField",
    "HistoryUnavailable",
    "LoginAttempt",
    "LoginAttemptQuerySet",
    "MetadataModel",
    "MissingTenant",
    "OrderedModel",
    "OrderedQuerySet",
    "PositionField",
    "RecordModel",
    "RecordQuerySet",
    "RecordedModelMixin",
    "RecordedQuerySet",
    "SlugQuerySet",
    "SluggedModel",
    "SoftDeleteModel",
    "SoftDeleteQuerySet",
    "StatusModel",
    "StatusQuerySet",
    "Task",
    "TaskQuerySet",
    "TaskStatus",
    "TenantMismatch",
    "TenantQuerySet",
    "TenantScopedModel",
    "TimestampedModel",
    "TrackableModel",
    "TransitionConflict",
    "TransitionError",
    "TransitionNotAllowed",
    "UUIDModel",
    "UserDevice",
    "UserDeviceQuerySet",
    "UserVisit",
    "UserVisitQuerySet",
    "VersionField",
    "VersionedModel",
    "alive_related",
    "record_model_for",
    "record_models",
]
