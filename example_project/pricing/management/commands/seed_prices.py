"""A month of price changes for one offer, so its chart has something to show (idempotent)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import time_machine
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from shop.models import Product, Supplier

from pricing.models import Offer

GLOBEX, RENAMED = "Globex", "Globex Corporation"
# Net prices on each of 30 days (a small, repeatable walk).
PRICES = [Decimal("399.00") + Decimal((day * 7) % 23 - 11) for day in range(30)]


class Command(BaseCommand):
    help = "Create an offer whose price changed every day for a month; safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        if Offer.objects.exists():
            self.stdout.write("Offers already seeded.")
            return
        with transaction.atomic():
            # seed_demo (run first by `make demo`) has a Globex already, renamed.
            supplier = Supplier.objects.filter(name__in=(GLOBEX, RENAMED)).order_by("pk").first()
            if supplier is None:
                supplier = Supplier.objects.create(name=GLOBEX)
            product, _ = Product.all_objects.get_or_create(
                sku="DESK-1", defaults={"name": "Standing desk", "price": PRICES[-1]}
            )
            # Each price on its own day of the month (the clock moved as in seed_demo):
            # the records, the offer's history and the audit log all tell the same month.
            start = timezone.now() - datetime.timedelta(days=len(PRICES))
            with time_machine.travel(start, tick=False):
                offer = Offer.objects.create(
                    product=product, supplier=supplier, net_price=PRICES[0]
                )
            for day, price in enumerate(PRICES[1:], start=1):
                with time_machine.travel(start + datetime.timedelta(days=day), tick=False):
                    offer.net_price = price
                    offer.save()  # one record per changed price
            if supplier.name != RENAMED:
                supplier.name = RENAMED
                supplier.save()  # the relative's change: a record for each of its offers
        self.stdout.write(f"Offer {offer} seeded with {offer.records.count()} records.")
