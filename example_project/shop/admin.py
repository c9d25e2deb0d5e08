"""Admin for the catalogue: stamps, each row's History page with diffs, revert, restore.

Orders change status only through ``transition_to()``: one action per status
("Mark selected orders as paid", ...), each checked against ``Order.TRANSITIONS``
and safe against a concurrent change, with the outcome shown as messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import ngettext

from django_trackable.admin import SoftDeleteAdminMixin, TrackableAdminMixin
from django_trackable.models import TransitionConflict, TransitionNotAllowed
from shop.models import Order, Product, Supplier


class TrackedAdmin(TrackableAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Stamps read-only in a "Tracking" fieldset; "History" shows the row's entries."""

    @admin.display(description="last change", ordering="updated_at")
    def last_change(self, obj: Any) -> str:
        """When and by whom, in one column: a change list fits a 1366-pixel screen."""
        when = date_format(localtime(obj.updated_at), "SHORT_DATETIME_FORMAT")
        return f"{when} by {obj.updated_by}" if obj.updated_by else when


@admin.register(Supplier)
class SupplierAdmin(TrackedAdmin):
    list_display = ("name", "last_change")
    list_select_related = ("updated_by",)


@admin.register(Product)
class ProductAdmin(SoftDeleteAdminMixin, TrackedAdmin):
    list_display = ("name", "sku", "price", "stock", "last_change")
    list_select_related = ("updated_by",)
    list_filter = ("supplier",)
    search_fields = ("name", "sku")

    class Media:
        css = {"all": ("shop/admin.css",)}


def _label(status: str | None) -> str:
    return str(Order.Status(status).label).lower() if status else "deleted"


def _transition_action(status: Order.Status) -> Callable[..., None]:
    def action(modeladmin: OrderAdmin, request: HttpRequest, queryset: Any) -> None:
        modeladmin.transition_selected(request, queryset.order_by("pk"), status)

    action.__name__ = f"mark_{status.value}"
    return admin.action(
        description=f"Mark selected orders as {status.label.lower()}", permissions=["change"]
    )(action)


#: The statuses an order can be moved to, in the order STATUS_CHOICES lists them.
_TARGETS = [
    status
    for status in Order.Status
    if any(status in targets for targets in (Order.TRANSITIONS or {}).values())
]


@admin.register(Order)
class OrderAdmin(TrackedAdmin):
    list_display = ("__str__", "status", "next_statuses", "status_changed_at", "updated_by")
    list_select_related = ("product", "updated_by")
    list_filter = ("status",)
    readonly_fields = ("status", "status_changed_at")
    actions = [_transition_action(status) for status in _TARGETS]

    @admin.display(description="can become")
    def next_statuses(self, obj: Order) -> str:
        return ", ".join(_label(s) for s in obj.allowed_transitions(obj.status)) or "—"

    def transition_selected(
        self, request: HttpRequest, orders: Iterable[Order], status: Order.Status
    ) -> None:
        """Move each order to ``status`` with ``transition_to()``; say what happened to each.

        An order that may not go there, or that someone else changed since the
        list was loaded, keeps its status and gets a message of its own; the
        others move.
        """
        moved = 0
        for order in orders:
            try:
                order.transition_to(status)
            except TransitionNotAllowed as exc:
                allowed = ", ".join(_label(s) for s in order.allowed_transitions(exc.current))
                self.message_user(
                    request,
                    f"{order} is {_label(exc.current)}: it cannot become "
                    f"{_label(exc.target)} (it can become: {allowed or 'nothing'}).",
                    messages.ERROR,
                )
            except TransitionConflict as exc:
                self.message_user(
                    request,
                    f"{order} was changed by someone else (it is {_label(exc.current)} now); "
                    "it was left as it is.",
                    messages.WARNING,
                )
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                ngettext(
                    "%(count)d order marked as %(status)s.",
                    "%(count)d orders marked as %(status)s.",
                    moved,
                )
                % {"count": moved, "status": _label(status)},
                messages.SUCCESS,
            )
