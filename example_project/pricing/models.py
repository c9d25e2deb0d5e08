"""Suppliers' offers, with their price with tax recorded as a time series.

``Offer`` mixes in ``RecordedModelMixin``: ``OfferRecord`` is created for it
(see migration 0001), with a typed column for each recorded value. A record is
written when an offer is created, when a save changes a recorded value, and
when its supplier is renamed (``auditing_relatives``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from django_trackable.models import RecordedModelMixin, TrackableModel


class Offer(RecordedModelMixin, TrackableModel):
    product = models.ForeignKey("shop.Product", on_delete=models.CASCADE, related_name="offers")
    supplier = models.ForeignKey("shop.Supplier", on_delete=models.CASCADE, related_name="offers")
    net_price = models.DecimalField(max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0.20"))

    recording_fields = [
        "net_price",
        ("price_with_tax", models.DecimalField(max_digits=12, decimal_places=2)),
        ("supplier_name", models.CharField(max_length=100)),
    ]
    auditing_relatives = ["supplier"]

    def __str__(self) -> str:
        return f"{self.product} from {self.supplier}"

    @property
    def price_with_tax(self) -> Decimal:
        return (self.net_price * (1 + self.tax_rate)).quantize(Decimal("0.01"))

    @property
    def supplier_name(self) -> str:
        return str(self.supplier.name)
