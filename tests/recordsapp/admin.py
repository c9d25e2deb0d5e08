from __future__ import annotations

from django.contrib import admin

from django_trackable.admin.records import RecordChartMixin, RecordInline, record_inline
from tests.recordsapp.models import Article, Item, ItemRecord


class ItemRecordInline(RecordInline):
    model = ItemRecord
    records_limit = 3


@admin.register(Item)
class ItemAdmin(RecordChartMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    fields = ("name", "price", "tax_rate", "supplier", "records_chart")
    inlines = [ItemRecordInline]
    record_chart_field = "price_with_tax"


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    fields = ("title",)
    inlines = [record_inline(Article)]
