"""Models using every mixin, plus plain twins to measure against."""

from __future__ import annotations

import uuid

from django.db import models

from django_trackable.models import AuditableModel, TrackableModel


class Category(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Product(TrackableModel):
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    quantity = models.IntegerField(default=0)
    api_key = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return self.name


class PlainProduct(models.Model):
    """Product's fields without tracking: the baseline for query counts."""

    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    quantity = models.IntegerField(default=0)
    api_key = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return self.name


class Color(models.TextChoices):
    RED = "red", "Red"
    BLUE = "blue", "Blue"


class Level(models.IntegerChoices):
    LOW = 1, "Low"
    HIGH = 2, "High"


class AllTypes(TrackableModel):
    """One field of each kind whose values history must serialise."""

    text = models.CharField(max_length=200, blank=True)
    big = models.BigIntegerField(null=True)
    flag = models.BooleanField(null=True)
    ratio = models.FloatField(null=True)
    amount = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    span = models.DurationField(null=True)
    uid = models.UUIDField(null=True)
    blob = models.BinaryField(null=True)
    data = models.JSONField(null=True)
    attachment = models.FileField(upload_to="uploads/", blank=True)
    ip = models.GenericIPAddressField(null=True)
    color = models.CharField(max_length=10, choices=Color.choices, blank=True)
    level = models.IntegerField(choices=Level.choices, null=True)

    def __str__(self) -> str:
        return f"AllTypes {self.pk}"


class NarrowProduct(TrackableModel):
    track_fields = ("name",)

    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    def __str__(self) -> str:
        return self.name


class Article(TrackableModel):
    track_exclude = ("view_count",)
    track_mask = ("body",)

    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)
    view_count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.title


class Note(AuditableModel):
    text = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.text


class Gadget(TrackableModel):
    """A UUID primary key and a foreign key to it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return self.name
