from __future__ import annotations

from django.contrib import admin

from tests.testapp.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    fields = ("name", "price", "quantity", "notes")
