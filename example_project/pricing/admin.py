"""Each offer's records in the admin: a chart of its price with tax, and the newest records."""

from __future__ import annotations

from django.contrib import admin

from django_trackable.admin.records import RecordChartMixin, record_inline
from pricing.models import Offer


@admin.register(Offer)
class OfferAdmin(RecordChartMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "net_price", "price_with_tax", "updated_at")
    list_select_related = ("product", "supplier")
    fields = ("product", "supplier", "net_price", "tax_rate", "records_chart")
    inlines = [record_inline(Offer, records_limit=20)]
    record_chart_field = "price_with_tax"
