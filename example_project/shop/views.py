"""A page answering "what changed in the last day?" with one query per model."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shop.models import Order, Product, Supplier


def recent_changes(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - datetime.timedelta(days=1)
    rows = []
    for model in (Supplier, Product, Order):
        for obj in model.objects.since(since, deleted=True).select_related("updated_by"):
            for entry in obj.history_since(since):
                rows.append((entry["timestamp"], model._meta.verbose_name, obj, entry))
    rows.sort(key=lambda row: row[0], reverse=True)
    return render(request, "shop/recent_changes.html", {"rows": rows, "since": since})
