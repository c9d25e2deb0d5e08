"""An admin site using every django_trackable admin class, as a project would."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from django_trackable.admin import (
    AuditLogAdmin,
    LoginAttemptAdmin,
    SoftDeleteAdminMixin,
    TrackableAdminMixin,
    UserActivityAdminMixin,
    UserDeviceAdmin,
    UserVisitAdmin,
)
from django_trackable.models import AuditLog, LoginAttempt, UserDevice, UserVisit
from tests.adminapp.models import Issue
from tests.testapp.models import AllTypes, Author, Category, Order, Product

site = admin.AdminSite(name="trackable_admin")
# Wider pages for the documentation's screenshots.
site.enable_nav_sidebar = False


@admin.register(Product, site=site)
class ProductAdmin(TrackableAdminMixin, admin.ModelAdmin):
    list_display = ("name", "price", "updated_at", "updated_by")
    search_fields = ("name",)


@admin.register(Issue, site=site)
class IssueAdmin(TrackableAdminMixin, admin.ModelAdmin):
    list_display = ("title", "state", "priority", "assignee")
    fieldsets = (
        (None, {"fields": ("title", "body", ("priority", "state"))}),
        ("People", {"fields": ("assignee", "category")}),
        ("More", {"fields": ("data", "due", "urgent", "access_token")}),
    )


@admin.register(Author, site=site)
class AuthorAdmin(SoftDeleteAdminMixin, TrackableAdminMixin, admin.ModelAdmin):
    list_display = ("name", "email")
    search_fields = ("name",)


@admin.register(Order, site=site)
class OrderAdmin(TrackableAdminMixin, admin.ModelAdmin):
    list_display = ("reference", "status")
    readonly_fields = ("status", "status_changed_at")


@admin.register(AllTypes, site=site)
class AllTypesAdmin(TrackableAdminMixin, admin.ModelAdmin):
    pass


@admin.register(get_user_model(), site=site)
class TrackedUserAdmin(UserActivityAdminMixin, UserAdmin):  # type: ignore[type-arg]
    pass


site.register(Category)
site.register(AuditLog, AuditLogAdmin)
site.register(UserVisit, UserVisitAdmin)
site.register(LoginAttempt, LoginAttemptAdmin)
site.register(UserDevice, UserDeviceAdmin)
