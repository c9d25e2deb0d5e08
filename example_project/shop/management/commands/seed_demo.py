"""Seed the demo with four weeks of history, or bring an older demo's dates up to now.

The sample story is written through the package's real paths (saves, ``update()``,
soft delete and restore, ``transition_to()``, login and visit recording), each
step at its own moment of the last four weeks (``time_machine`` moves the clock
while seeding). Run again, the command keeps the data and, when the newest
activity is more than an hour old, moves every date forward by the time since
(``shop.demo_dates``), so the demo shows the same story on any day.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from django_trackable import acting_as
from shop import demo_activity as activity
from shop.demo_dates import latest_activity, redate
from shop.models import Order, Product, Supplier

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "trackable-demo"

#: Data whose newest date is older than this is moved forward to now.
STALE_AFTER = datetime.timedelta(hours=1)


class Command(BaseCommand):
    help = (
        "Seed the demo (four weeks of sample history) or, when it is seeded already, "
        "move its dates up to now; --reset starts over."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete all the demo's data and seed it anew."
        )
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Where the demo is served, for the links."
        )

    def handle(self, *args: Any, reset: bool = False, addr: str = "", **options: Any) -> None:
        if reset:
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("The demo's data was deleted.")
        if Product.all_objects.exists():
            self._bring_up_to_date()
        else:
            with transaction.atomic():
                located = Story(timezone.now()).tell()
            where = "with locations" if located else "(no locations: mmdb-writer is missing)"
            self.stdout.write(f"Four weeks of sample history recorded {where}.")
        self._print_links(addr or "127.0.0.1:8000")

    def _bring_up_to_date(self) -> None:
        newest = latest_activity()
        if newest is None:
            return
        behind = timezone.now() - newest
        if behind < STALE_AFTER:
            self.stdout.write("The demo's data is up to date.")
            return
        redate(behind)
        self.stdout.write(
            f"The demo's data was {_age(behind)} old: every date moved forward by as much, "
            "so it reads as if it just happened (seed_demo --reset starts over)."
        )

    def _print_links(self, addr: str) -> None:
        site = f"http://{addr}"
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready.\n"
                f"  Recent changes:      {site}/\n"
                f"  Admin:               {site}/admin/\n"
                f"  Orders (try the status actions): {site}/admin/shop/order/\n"
                f"  Products (a deleted one, a restored one): "
                f"{site}/admin/shop/product/?deleted=include\n"
                f"  Visits, logins, devices: {site}/admin/django_trackable/\n"
                f"  Log in as {ADMIN_EMAIL} / {ADMIN_PASSWORD}"
            )
        )


def _age(delta: datetime.timedelta) -> str:
    if delta.days >= 1:
        return f"{delta.days} day{'s' if delta.days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


class Story:
    """Four weeks of a small shop, told in order, each step at its moment before ``now``."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    @contextlib.contextmanager
    def ago(self, **delta: float) -> Iterator[None]:
        """The clock (stamps, entries, visits, logins) set to ``now - timedelta(**delta)``."""
        with time_machine.travel(self.now - datetime.timedelta(**delta), tick=True):
            yield

    def tell(self) -> bool:
        """Write the story; True when visits and logins were located."""
        with activity.located() as found:
            self._tell()
        return found

    def _tell(self) -> None:
        User = get_user_model()
        A = activity
        with self.ago(days=28):
            admin = User.objects.filter(email=ADMIN_EMAIL).first()  # kept, with its password
            if admin is None:
                admin = User.objects.create_superuser(
                    ADMIN_EMAIL, ADMIN_PASSWORD, full_name="Ada Admin"
                )
            office = A.Client(admin, "london", 10, A.FIREFOX_WINDOWS)
            office.login()
            office.visit(
                "/admin/", "/admin/accounts/user/add/", "POST /admin/accounts/user/add/ 302"
            )
            with acting_as(admin, reason="onboarding"):
                alice = User.objects.create_user(
                    "alice@example.com", "alice-demo", full_name="Alice"
                )
                bob = User.objects.create_user("bob@example.com", "bob-demo", full_name="Bob")
                carol = User.objects.create_user(
                    "carol@example.com", "carol-demo", full_name="Carol"
                )
                acme = Supplier.objects.create(name="ACME", api_key="sk-live-demo-123")
                globex = Supplier.objects.create(name="Globex")
                Product.objects.bulk_create(
                    [
                        Product(name="Desk lamp", sku="LAMP-1", price=Decimal("24.90"), stock=12),
                        Product(
                            name="Office chair", sku="CHAIR-1", price=Decimal("149.00"), stock=3
                        ),
                        Product(name="Notebook", sku="NOTE-1", price=Decimal("3.50"), stock=200),
                        Product(name="Coffee mug", sku="MUG-1", price=Decimal("8.00"), stock=40),
                        Product(
                            name="Standing desk", sku="DESK-1", price=Decimal("399.00"), stock=2
                        ),
                    ]
                )
        products = {p.sku: p for p in Product.objects.all()}
        lamp, chair, mug, desk = (products[s] for s in ("LAMP-1", "CHAIR-1", "MUG-1", "DESK-1"))
        alice_phone = A.Client(alice, "paris", 20, A.SAFARI_IPHONE)
        alice_mac = A.Client(alice, "paris", 21, A.CHROME_MAC)
        bob_pc = A.Client(bob, "sao_paulo", 30, A.FIREFOX_WINDOWS)
        bob_ipad = A.Client(bob, "sao_paulo", 31, A.SAFARI_IPAD)
        carol_phone = A.Client(carol, "berlin", 40, A.CHROME_ANDROID)

        with self.ago(days=27, hours=3):
            alice_phone.login()
            alice_phone.visit("/", "/admin/shop/product/", f"/admin/shop/product/{lamp.pk}/change/")
        with self.ago(days=26):
            with acting_as(alice):
                lamp.price = Decimal("22.50")
                lamp.supplier = acme
                lamp.description = "Adjustable arm, warm LED."
                lamp.save()
            alice_phone.visit(f"POST /admin/shop/product/{lamp.pk}/change/ 302")
        with self.ago(days=24, hours=5):
            bob_pc.login(ok=False)  # a typo
            bob_pc.login(ok=False)
            bob_pc.login()
            bob_pc.visit("/admin/", "/admin/shop/supplier/", "/admin/shop/supplier/999/change/ 404")
        with self.ago(days=23), acting_as(bob, reason="key rotation"):
            acme.api_key = "sk-live-demo-456"  # recorded as "***" → "***"
            acme.save()
        with self.ago(days=21), acting_as(alice):
            first = Order.objects.create(product=lamp, quantity=2)
        with self.ago(days=20, hours=2):
            carol_phone.login()
            carol_phone.visit("/", "/admin/shop/order/")
            with acting_as(carol):
                second = Order.objects.create(product=chair, quantity=1)
            with acting_as(bob):
                first.transition_to(Order.Status.PAID)
        with self.ago(days=17), acting_as(admin, reason="restock"):
            # One UPDATE: stamps and one entry per row, old values read in SQL.
            Product.objects.filter(stock__lt=20).update(stock=F("stock") + 50)
        # update() changed the rows, not these instances: edits from here start from the rows.
        lamp, chair, mug, desk = (Product.objects.get(pk=p.pk) for p in (lamp, chair, mug, desk))
        with self.ago(days=15), acting_as(bob):
            second.transition_to(Order.Status.PAID)
            first.transition_to(Order.Status.SHIPPED, carrier="DHL")
        with self.ago(days=14):
            office.login()
            office.visit("/admin/shop/product/", "POST /admin/shop/product/ 302")
            with acting_as(admin, reason="discontinued"):
                # Soft delete: hidden from Product.objects, restorable from the admin.
                Product.objects.filter(sku="NOTE-1").delete()
        with self.ago(days=12):
            alice_mac.login()  # a new device for alice: new_device_login is sent
            alice_mac.visit("/admin/shop/product/", f"/admin/shop/product/{chair.pk}/change/")
            with acting_as(alice):
                chair.price = Decimal("139.00")
                chair.save()
        with self.ago(days=10), acting_as(bob):
            mug.delete()  # by mistake...
        with self.ago(days=9, hours=20), acting_as(alice, reason="deleted by mistake"):
            mug.restore()  # ...restored, exactly as it was
        with self.ago(days=8, hours=6):
            travelling = A.Client(admin, "new_york", 50, A.SAFARI_IPHONE)
            travelling.login()  # the admin, abroad, on a phone: a new device
            travelling.visit("/", "/admin/shop/order/")
        with self.ago(days=7):
            with acting_as(carol):
                third = Order.objects.create(product=desk, quantity=1)
            carol_phone.visit("/admin/shop/order/", f"/admin/shop/order/{third.pk}/change/")
        with self.ago(days=5, hours=4):
            intruder = A.Client(None, "tokyo", 99, A.CURL)
            for guess in ("root", "admin", "test@example.com"):
                intruder.login(ok=False, username=guess)
        with self.ago(days=4):
            with acting_as(carol):
                third.transition_to(Order.Status.PAID)
            with acting_as(bob):
                second.transition_to(Order.Status.CANCELLED, reason="customer request")
        with self.ago(days=3):
            bob_ipad.login()  # bob's second device, a tablet
            bob_ipad.visit("/", "/admin/shop/order/")
        with self.ago(days=2), acting_as(bob):
            Order.objects.create(product=mug, quantity=4)
            globex.name = "Globex Corporation"
            globex.save()
        with self.ago(days=1, hours=2):
            office.visit("/admin/shop/product/", f"/admin/shop/product/{desk.pk}/change/")
            with acting_as(admin):
                desk.price = Decimal("379.00")
                desk.save()
        with self.ago(hours=6):
            alice_mac.visit("/", f"/admin/shop/product/{lamp.pk}/change/")
            with acting_as(alice):
                lamp.stock -= 5
                lamp.description = "Adjustable arm, warm LED, USB-C."
                lamp.save()
        with self.ago(hours=2):
            bob_pc.visit("/admin/shop/product/", f"/admin/shop/product/{chair.pk}/change/")
            with acting_as(bob):
                chair.supplier = globex
                chair.save()
        with self.ago(minutes=40):
            office.login()
            office.visit("/", "/admin/", "/admin/django_trackable/uservisit/")
        with self.ago(minutes=10):
            with acting_as(carol):
                Order.objects.create(product=lamp, quantity=1)
            carol_phone.visit("/admin/shop/order/add/", "POST /admin/shop/order/add/ 302")
