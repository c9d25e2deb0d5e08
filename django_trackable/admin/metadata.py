"""Read-only admins of visits, login attempts and devices; visits and logins have charts."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_trackable.admin.activity import ActivityChartMixin
from django_trackable.admin.base import ReadOnlyAdmin, _ModelAdmin
from django_trackable.admin.charts import Chart, logins_chart, visits_chart
from django_trackable.models import UserVisit

__all__ = ["ClientColumnsMixin", "LoginAttemptAdmin", "UserDeviceAdmin", "UserVisitAdmin"]

#: Longest URL shown in a change list cell; the whole URL is its tooltip and on the row's page.
URL_COLUMN_LENGTH = 60

# Where a shown URL may wrap: after each of these characters.
_URL_BREAKS = re.compile(r"(?<=[/?&])")


def _describe_client(obj: Any) -> str:
    """``"Firefox 120.0 on Windows 10 (pc)"``, ``"Safari 17.0 on iOS 17.0, iPhone (mobile)"``.

    Browser, OS, the hardware when user-agents names it, and the device type, from
    a visit, a login attempt or a device (which has no versions: an update is the
    same device).
    """
    browser = _known(obj.browser, getattr(obj, "browser_version", ""))
    system = _known(obj.os, getattr(obj, "os_version", ""))
    if browser and system:
        described = gettext("%(browser)s on %(os)s") % {"browser": browser, "os": system}
    else:
        described = browser or system
    hardware = _known(obj.device)
    if hardware:
        described = f"{described}, {hardware}" if described else hardware
    kind = obj.get_device_type_display()
    return f"{described} ({kind})" if described else str(kind)


def _known(name: str, version: str = "") -> str:
    """``name version``, or ``""`` for user-agents' ``"Other"`` (it could not tell)."""
    if not name or name == "Other":
        return ""
    return f"{name} {version}" if version else name


class ClientColumnsMixin(_ModelAdmin):
    """Change list columns that combine several fields, so a list fits a laptop's screen.

    ``client`` is browser, OS and device type; ``where`` is the IP address and the
    location. Each sorts by its first field; the row's page shows every field.
    """

    #: The field ``where`` shows the IP address of.
    ip_field = "ip"

    @admin.display(description=_("client"), ordering="browser")
    def client(self, obj: Any) -> str:
        return _describe_client(obj)

    @admin.display(description=_("where"), ordering="country")
    def where(self, obj: Any) -> str:
        return " · ".join(str(part) for part in (getattr(obj, self.ip_field), obj.location) if part)


class UserVisitAdmin(ActivityChartMixin, ClientColumnsMixin, ReadOnlyAdmin):
    date_hierarchy = "timestamp"
    list_display = ("timestamp", "user", "request", "client", "where")
    list_filter = ("method", "status_code", "device_type", "browser", "country")
    search_extra = ("^ip", "url")

    @admin.display(description=_("request"), ordering="url")
    def request(self, obj: UserVisit) -> str:
        """``GET /path/ → 200``, the URL cut to :data:`URL_COLUMN_LENGTH` (whole in a tooltip).

        The URL may wrap after each ``/``, ``?`` and ``&``: one long path would
        otherwise widen the whole table.
        """
        status = f" → {obj.status_code}" if obj.status_code is not None else ""
        shown = Truncator(obj.url).chars(URL_COLUMN_LENGTH)
        wrappable = mark_safe(  # each piece is escaped; only the <wbr> tags are markup
            "<wbr>".join(conditional_escape(piece) for piece in _URL_BREAKS.split(shown))
        )
        return format_html(
            '<span title="{}">{} {}{}</span>', obj.url, obj.method, wrappable, status
        )

    def get_activity_chart(
        self, request: HttpRequest, days: int, queryset: models.QuerySet[Any]
    ) -> Chart | None:
        return visits_chart(days, queryset)


class LoginAttemptAdmin(ActivityChartMixin, ClientColumnsMixin, ReadOnlyAdmin):
    date_hierarchy = "timestamp"
    # No "user" column: it repeats the username of every successful attempt.
    list_display = ("timestamp", "username", "successful", "client", "where")
    list_filter = ("successful", "device_type", "browser", "country")
    search_extra = ("username", "^ip")

    def get_activity_chart(
        self, request: HttpRequest, days: int, queryset: models.QuerySet[Any]
    ) -> Chart | None:
        return logins_chart(days, queryset)


class UserDeviceAdmin(ClientColumnsMixin, ReadOnlyAdmin):
    date_hierarchy = "last_seen"
    list_display = ("user", "client", "login_count", "last_seen", "where")  # first_seen: on the row
    list_filter = ("device_type", "browser", "os", "country")
    search_extra = ("^last_ip",)
    ip_field = "last_ip"
