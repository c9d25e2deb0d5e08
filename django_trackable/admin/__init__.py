"""The admin of django_trackable: mixins for your admins, and admins for its own models.

For your models: :class:`TrackableAdminMixin` (stamps, a History page with
diffs, "as of" and revert), :class:`SoftDeleteAdminMixin` (deleted rows seen,
filtered and restored), :class:`UserActivityAdminMixin` (a user's activity),
and the list filters :class:`ChangedSinceFilter` and :class:`ChangedByFilter`.

For django_trackable's models, registered on the default site: read-only
admins of the audit log (with the Activity page), visits, login attempts and
devices. The classes are importable, to register on another admin site or
extend::

    from django_trackable.admin import UserVisitAdmin

    my_site.register(UserVisit, UserVisitAdmin)
"""

from __future__ import annotations

from django.contrib import admin

from django_trackable.admin.activity import ActivityChartMixin
from django_trackable.admin.audit import AuditLogAdmin
from django_trackable.admin.base import ReadOnlyAdmin
from django_trackable.admin.filters import ChangedByFilter, ChangedSinceFilter
from django_trackable.admin.metadata import (
    ClientColumnsMixin,
    LoginAttemptAdmin,
    UserDeviceAdmin,
    UserVisitAdmin,
)
from django_trackable.admin.records import (
    RecordChartMixin,
    RecordInline,
    record_chart,
    record_inline,
)
from django_trackable.admin.softdelete import DeletedListFilter, SoftDeleteAdminMixin
from django_trackable.admin.trackable import TrackableAdminMixin, history_entries
from django_trackable.admin.users import UserActivityAdminMixin
from django_trackable.models import AuditLog, LoginAttempt, UserDevice, UserVisit

__all__ = [
    "RecordChartMixin",
    "RecordInline",
    "record_chart",
    "record_inline",
    "ActivityChartMixin",
    "AuditLogAdmin",
    "ChangedByFilter",
    "ClientColumnsMixin",
    "ChangedSinceFilter",
    "DeletedListFilter",
    "LoginAttemptAdmin",
    "ReadOnlyAdmin",
    "SoftDeleteAdminMixin",
    "TrackableAdminMixin",
    "UserActivityAdminMixin",
    "UserDeviceAdmin",
    "UserVisitAdmin",
    "history_entries",
]


def mixins_in_bases_order() -> tuple[type, ...]:
    """The mixins that must come before ``ModelAdmin`` in an admin's bases (check E053)."""
    return (ActivityChartMixin, SoftDeleteAdminMixin, TrackableAdminMixin, UserActivityAdminMixin)


admin.site.register(AuditLog, AuditLogAdmin)
admin.site.register(UserVisit, UserVisitAdmin)
admin.site.register(LoginAttempt, LoginAttemptAdmin)
admin.site.register(UserDevice, UserDeviceAdmin)
