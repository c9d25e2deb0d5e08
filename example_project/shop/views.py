"""A page answering "what changed in the last day?" with one query per model."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.admin.utils import quote
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from django_trackable.display import describe_entries
from shop.models import Order, Product, Supplier


@login_required
def recent_changes(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - datetime.timedelta(days=1)
    rows: list[dict[str, Any]] = []
    for model in (Supplier, Product, Order):
        changed = list(model.objects.since(since, deleted=True))
        found = [(obj, entry) for obj in changed for entry in obj.history_since(since)]
        # One query per related model for all of this model's entries.
        displays = describe_entries(model, [entry for _obj, entry in found])
        opts = model._meta
        for (obj, _entry), display in zip(found, displays, strict=True):
            rows.append(
                {
                    "kind": opts.verbose_name,
                    "object": obj,
                    "entry": display,
                    "history_url": reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_history", args=[quote(obj.pk)]
                    ),
                }
            )
    rows.sort(key=lambda row: row["entry"].timestamp, reverse=True)
    return render(request, "shop/recent_changes.html", {"rows": rows, "since": since})
