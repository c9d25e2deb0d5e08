"""Admin for the catalogue, with each row's history shown read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from django_trackable.admin_mixins import SoftDeleteAdminMixin
from shop.models import Order, Product, Supplier

STAMPS = ("created_at", "created_by", "updated_at", "updated_by")


class TrackedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    readonly_fields = (*STAMPS, "history_table")

    @admin.display(description="History")
    def history_table(self, obj: Any) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get("timestamp", "")[:19].replace("T", " "),
                    entry.get("user_repr") or "system",
                    entry.get("action", ""),
                    "; ".join(
                        f"{name}: {old!r} → {new!r}"
                        for name, (old, new) in (entry.get("changes") or {}).items()
                    ),
                )
                for entry in reversed(obj.history or [])
            ),
        )
        return format_html(
            "<table><tr><th>When</th><th>Who</th><th>Action</th><th>Changes</th></tr>{}</table>",
            rows,
        )


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
    readonly_fields = (*TrackedAdmin.readonly_fields, "status", "status_changed_at")
