"""Admin for the catalogue: stamps, each row's History page with diffs, revert, restore."""

from __future__ import annotations

from django.contrib import admin

from django_trackable.admin import SoftDeleteAdminMixin, TrackableAdminMixin
from shop.models import Order, Product, Supplier


class TrackedAdmin(TrackableAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Stamps read-only in a "Tracking" fieldset; "History" shows the row's entries."""


@admin.register(Supplier)
class SupplierAdmin(TrackedAdmin):
    list_display = ("name", "updated_at", "updated_by")


@admin.register(Product)
class ProductAdmin(SoftDeleteAdminMixin, TrackedAdmin):
    list_display = ("name", "sku", "price", "stock", "updated_at", "updated_by")
    list_filter = ("supplier",)
    search_fields = ("name", "sku")


@admin.register(Order)
class OrderAdmin(TrackedAdmin):
    list_display = ("__str__", "status", "status_changed_at", "updated_by")
    list_filter = ("status",)
    readonly_fields = ("status", "status_changed_at")
