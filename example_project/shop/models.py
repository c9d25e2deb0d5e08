"""A small catalogue whose every change is tracked.

Products soft-delete (and can be restored from the admin); orders move
through checked status transitions, each recorded in their history.
"""

from __future__ import annotations

from django.db import models

from django_trackable.models import SoftDeleteModel, StatusModel, TrackableModel


class Supplier(TrackableModel):
    name = models.CharField(max_length=100)
    api_key = models.CharField(max_length=64, blank=True, help_text="Masked in history.")

    def __str__(self) -> str:
        return self.name


class Product(SoftDeleteModel, TrackableModel):
    name = models.CharField(max_length=100)
    sku = models.CharField("SKU", max_length=20, unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Order(StatusModel, TrackableModel):
    class Status(models.TextChoices):
        NEW = "new", "New"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        CANCELLED = "cancelled", "Cancelled"

    STATUS_CHOICES = Status
    TRANSITIONS = {
        Status.NEW: [Status.PAID, Status.CANCELLED],
        Status.PAID: [Status.SHIPPED, Status.CANCELLED],
    }

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"Order {self.pk}: {self.quantity} × {self.product}"
