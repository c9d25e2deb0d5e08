"""Admin pages: read-only lists of visits, login attempts and devices.

The classes are importable, to register on another admin site or extend::

    from django_trackable.admin import UserVisitAdmin

    my_site.register(UserVisit, UserVisitAdmin)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from django_trackable.models import LoginAttempt, UserDevice, UserVisit

__all__ = ["LoginAttemptAdmin", "ReadOnlyAdmin", "UserDeviceAdmin", "UserVisitAdmin"]

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:  # ModelAdmin is generic for type checkers only
    _ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(_ModelAdmin):
    """Rows are shown, never added or changed; only superusers may delete them.

    Staff see the pages with the model's ``view`` permission. Searching by
    user searches the user model's ``USERNAME_FIELD``.
    """

    #: Searched besides the user's name, e.g. ``("^ip", "url")``.
    search_extra: tuple[str, ...] = ()
    list_select_related = ("user",)
    show_full_result_count = False  # a COUNT(*) of a large log table on every page is slow

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [f"user__{get_user_model().USERNAME_FIELD}", *self.search_extra]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(UserVisit)
class UserVisitAdmin(ReadOnlyAdmin):
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


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdmin):
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


@admin.register(UserDevice)
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
