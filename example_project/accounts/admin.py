from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User
from django_trackable.admin import TrackableAdminMixin, UserActivityAdminMixin


@admin.register(User)
class UserAdmin(UserActivityAdminMixin, TrackableAdminMixin, BaseUserAdmin):
    """The user is tracked like any model: its History page, and links to its activity."""

    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "updated_at", "updated_by")
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
