"""Read-only admins of visits, login attempts and devices; visits and logins have charts."""

from __future__ import annotations

from django.http import HttpRequest

from django_trackable.admin.activity import ActivityChartMixin
from django_trackable.admin.base import ReadOnlyAdmin
from django_trackable.admin.charts import Chart, logins_chart, visits_chart

__all__ = ["LoginAttemptAdmin", "UserDeviceAdmin", "UserVisitAdmin"]


class UserVisitAdmin(ActivityChartMixin, ReadOnlyAdmin):
    date_hierarchy = "timestamp"
    list_display = (
        "timestamp",
        "user",
        "method",
        "url",
        "status_code",
        "ip",
        "browser",
        "os",
        "device_type",
        "location",
    )
    list_filter = ("method", "status_code", "device_type", "browser", "country")
    search_extra = ("^ip", "url")

    def get_activity_chart(self, request: HttpRequest, days: int) -> Chart | None:
        return visits_chart(days)


class LoginAttemptAdmin(ActivityChartMixin, ReadOnlyAdmin):
    date_hierarchy = "timestamp"
    list_display = (
        "timestamp",
        "username",
        "successful",
        "user",
        "ip",
        "browser",
        "os",
        "device_type",
        "location",
    )
    list_filter = ("successful", "device_type", "browser", "country")
    search_extra = ("username", "^ip")

    def get_activity_chart(self, request: HttpRequest, days: int) -> Chart | None:
        return logins_chart(days)


class UserDeviceAdmin(ReadOnlyAdmin):
    date_hierarchy = "last_seen"
    list_display = (
        "user",
        "browser",
        "os",
        "device",
        "device_type",
        "login_count",
        "first_seen",
        "last_seen",
        "last_ip",
        "location",
    )
    list_filter = ("device_type", "browser", "os", "country")
    search_extra = ("^last_ip",)
