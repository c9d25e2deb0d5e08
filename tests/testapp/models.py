"""Models using every mixin, plus plain twins to measure against."""

from __future__ import annotations

import uuid

from django.db import models

from django_trackable.managers import LifecycleManager
from django_trackable.models import (
    AuditableModel,
    MetadataModel,
    OrderedModel,
    SluggedModel,
    SoftDeleteModel,
    SoftDeleteQuerySet,
    StatusModel,
    Task,
    TenantScopedModel,
    TimestampedModel,
    TrackableModel,
    UUIDModel,
)


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


# --- lifecycle mixins ---------------------------------------------------------


class Author(TimestampedModel):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)

    def __str__(self) -> str:
        return self.name


class Post(TimestampedModel):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.title


class Comment(TimestampedModel):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    # A hidden reverse relation: cascaded like any other (as Django's deletion does).
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.text


class Attachment(models.Model):
    """A plain model pointing at a soft-deletable one: untouched by soft deletes."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Folder(TimestampedModel):
    """A tree: soft deletes cascade through a self-referencing foreign key."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    def __str__(self) -> str:
        return self.name


class Label(SoftDeleteModel):
    """Soft delete without TrackableModel."""

    name = models.CharField(max_length=50)
    code = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(date_deleted__isnull=True) & ~models.Q(code=""),
                name="testapp_label_code_unique_alive",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    NEW = "new", "New"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class Order(StatusModel, TrackableModel):
    STATUS_CHOICES = OrderStatus
    TRANSITIONS = {
        OrderStatus.NEW: (OrderStatus.PAID, OrderStatus.CANCELLED),
        OrderStatus.PAID: (OrderStatus.SHIPPED, OrderStatus.CANCELLED),
    }

    reference = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.reference


class Ticket(StatusModel):
    """StatusModel alone: pairs, an explicit initial status, any transition."""

    STATUS_CHOICES = (("open", "Open"), ("closed", "Closed"))
    INITIAL_STATUS = "open"

    title = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.title


class Job(Task, TimestampedModel):
    """A soft-deletable, tracked task."""


class Chore(Task):
    """A plain task: completing it deletes it for real."""


class Tenant(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Invoice(TenantScopedModel, SoftDeleteModel, TrackableModel):
    number = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.number


class InvoiceLine(TenantScopedModel, TrackableModel):
    """Scoped by a foreign key to a Tenant model instead of the default column."""

    tenant_field = "tenant"
    tenant_id = None  # type: ignore[assignment]
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    amount = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount}"


class Token(UUIDModel, TrackableModel):
    label = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.label


class Page(SluggedModel, SoftDeleteModel, TrackableModel):
    title = models.CharField(max_length=100)

    slug_source_field = "title"

    def __str__(self) -> str:
        return self.title


class Profile(MetadataModel, TrackableModel):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Board(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Card(OrderedModel, SoftDeleteModel, TrackableModel):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="cards")
    title = models.CharField(max_length=100)

    order_group_fields = ("board",)

    class Meta(OrderedModel.Meta):
        pass

    def __str__(self) -> str:
        return self.title


class RecipeQuerySet(SoftDeleteQuerySet):
    def published(self):
        return self.filter(status="published")


class NamedQuerySet(models.QuerySet):
    def named(self, name):
        return self.filter(name=name)


class Recipe(StatusModel, SoftDeleteModel):
    """Custom querysets on lifecycle managers."""

    STATUS_CHOICES = [("draft", "Draft"), ("published", "Published")]

    name = models.CharField(max_length=50)

    objects = RecipeQuerySet.as_manager()
    by_name = LifecycleManager.from_queryset(NamedQuerySet)()

    def __str__(self) -> str:
        return self.name


class Step(OrderedModel):
    """OrderedModel alone, one group."""

    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Place(TrackableModel):
    """Multi-table inheritance: history lives in the parent's table."""

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)


#: Calls of :func:`unsorted_category` (``on_delete=SET(...)`` must not call it at start-up).
UNSORTED_CALLS: list[int] = []


def unsorted_category() -> Category:
    UNSORTED_CALLS.append(1)
    return Category.objects.get_or_create(name="Unsorted")[0]


class Shelf(TrackableModel):
    """A tracked key set by a callable when its target is deleted (``SET(...)``)."""

    name = models.CharField(max_length=50)
    category = models.ForeignKey(
        Category, null=True, related_name="+", on_delete=models.SET(unsorted_category)
    )

    def __str__(self) -> str:
        return self.name
