"""The same business fields: tracked, recorded and plain."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from django_trackable.models import RecordedModelMixin, RecordedQuerySet, TrackableModel


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


class Audited(Fields, TrackableModel):
    """Tracked, with every entry also written to AuditLog (benchmarks.audit)."""

    track_audit_log = True


class StampColumns(Fields):
    """Tracked's four stamp columns as plain Django fields, filled by Django itself."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class PlainStamped(StampColumns):
    """Plain Django with the same five extra columns as Tracked, filled by hand-written code.

    The fair yardstick for what the stamps and history cost over the columns themselves.
    """

    history = models.JSONField(default=list)


class PlainStamps(StampColumns):
    """The stamps and no history: the yardstick of a list read that does not read
    ``history`` (DEFER_HISTORY)."""


# --- recorded properties (benchmarks.records) ---------------------------------------


class Recorded(RecordedModelMixin, Fields):
    """Plain's fields, with three values recorded: a field, a property and a method."""

    objects = RecordedQuerySet.as_manager()

    recording_fields = [
        "quantity",
        ("price_with_tax", models.DecimalField(max_digits=12, decimal_places=2)),
        ("label", models.CharField(max_length=130)),
    ]

    @property
    def price_with_tax(self) -> Decimal:
        return (self.price * Decimal("1.20")).quantize(Decimal("0.01"))

    def label(self) -> str:
        return f"{self.name} ({self.sku})"


class PlainSupplier(models.Model):
    name = models.CharField(max_length=100)


class RecordedSupplier(models.Model):
    name = models.CharField(max_length=100)


class PlainDependant(Fields):
    supplier = models.ForeignKey(PlainSupplier, on_delete=models.CASCADE)


class RecordedDependant(RecordedModelMixin, Fields):
    """Records its supplier's name: a relative's change fans out to every dependant."""

    supplier = models.ForeignKey(RecordedSupplier, on_delete=models.CASCADE)

    objects = RecordedQuerySet.as_manager()

    recording_fields = ["quantity", ("supplier_name", models.CharField(max_length=100))]
    auditing_relatives = ["supplier"]

    @property
    def supplier_name(self) -> str:
        return str(self.supplier.name)
