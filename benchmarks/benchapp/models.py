"""The same business fields, tracked and plain."""

from __future__ import annotations

from django.db import models

from django_trackable.models import TrackableModel


class Fields(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.IntegerField(default=0)
    description = models.TextField(blank=True)

    class Meta:
        abstract = True


class Plain(Fields):
    pass


class Tracked(Fields, TrackableModel):
    pass


class PlainStamped(Fields):
    """Plain Django with the same five extra columns as Tracked, filled by hand-written code.

    The fair yardstick for what the stamps and history cost over the columns themselves.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = models.JSONField(default=list)
