"""A month of price changes for one offer, so its chart has something to show (idempotent)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from shop.models import Product, Supplier

from pricing.models import Offer, OfferRecord

# Net prices on each of 30 days (a small, repeatable walk).
PRICES = [Decimal("399.00") + Decimal((day * 7) % 23 - 11) for day in range(30)]


class Command(BaseCommand):
    help = "Create an offer whose price changed every day for a month; safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        if Offer.objects.exists():
            self.stdout.write("Offers already seeded.")
            return
        with transaction.atomic():
            supplier, _ = Supplier.objects.get_or_create(name="Globex")
            product, _ = Product.all_objects.get_or_create(
                sku="DESK-1", defaults={"name": "Standing desk", "price": PRICES[-1]}
            )
            offer = Offer.objects.create(product=product, supplier=supplier, net_price=PRICES[0])
            start = timezone.now() - datetime.timedelta(days=len(PRICES))
            for price in PRICES[1:]:
                offer.net_price = price
                offer.save()  # one record per changed price
            # Records are stamped "now"; spread them over the month for the chart.
            for day, record in enumerate(offer.records.order_by("created", "pk")):
                created = start + datetime.timedelta(days=day)
                OfferRecord.objects.filter(pk=record.pk).update(created=created)
            supplier.name = "Globex Corporation"
            supplier.save()  # the relative's change: a record for each of its offers
        self.stdout.write(f"Offer {offer} seeded with {offer.records.count()} records.")
