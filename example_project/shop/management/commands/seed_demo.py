"""Create the demo's users, catalogue and a little history (idempotent)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F

from django_trackable import acting_as
from shop.demo_activity import seed_activity
from shop.models import Order, Product, Supplier

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "trackable-demo"


class Command(BaseCommand):
    help = "Create demo users and products with some history; safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        with transaction.atomic():
            admin = User.objects.filter(email=ADMIN_EMAIL).first()
            if admin is None:
                admin = User.objects.create_superuser(ADMIN_EMAIL, ADMIN_PASSWORD)
            if not Product.all_objects.exists():
                self._seed(admin, User)
        if seed_activity():
            self.stdout.write("Sample visits, logins and devices recorded, with locations.")
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready.\n"
                "  Recent changes: http://127.0.0.1:8000/\n"
                "  Admin:          http://127.0.0.1:8000/admin/\n"
                "  Visits, logins: http://127.0.0.1:8000/admin/django_trackable/\n"
                f"  Log in as {ADMIN_EMAIL} / {ADMIN_PASSWORD}"
            )
        )

    def _seed(self, admin: Any, User: Any) -> None:
        with acting_as(admin, reason="demo seed"):
            alice = User.objects.create_user("alice@example.com", "alice-demo", full_name="Alice")
            bob = User.objects.create_user("bob@example.com", "bob-demo", full_name="Bob")
            acme = Supplier.objects.create(name="ACME", api_key="sk-live-demo-123")
            Product.objects.bulk_create(
                [
                    Product(name="Desk lamp", sku="LAMP-1", price=Decimal("24.90"), stock=12),
                    Product(name="Office chair", sku="CHAIR-1", price=Decimal("149.00"), stock=3),
                    Product(name="Notebook", sku="NOTE-1", price=Decimal("3.50"), stock=200),
                ]
            )
        lamp = Product.objects.get(sku="LAMP-1")
        with acting_as(alice):
            lamp.price = Decimal("19.90")
            lamp.supplier = acme
            lamp.save()
            Order.objects.create(product=lamp, quantity=2)
        with acting_as(bob):
            acme.api_key = "sk-live-demo-456"  # recorded as "***" → "***"
            acme.save()
            Order.objects.get().transition_to(Order.Status.PAID)  # checked, one UPDATE
        with acting_as(admin, reason="restock"):
            # One UPDATE: stamps and one entry per row, old values read in SQL.
            Product.objects.filter(stock__lt=20).update(stock=F("stock") + 50)
            # Soft delete: hidden from Product.objects, restorable from the admin.
            Product.objects.filter(sku="NOTE-1").delete()
