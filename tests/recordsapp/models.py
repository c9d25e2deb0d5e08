"""Recorded models for the records tests: both declaration forms, every kind of relative."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from django_trackable.models import (
    RecordedModelMixin,
    RecordedQuerySet,
    RecordModel,
    SoftDeleteModel,
    TrackableModel,
)

# --- django-record's declared form: a RecordModel for a plain model -------------


class Author(models.Model):
    name = models.CharField(max_length=100)


class Article(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = RecordedQuerySet.as_manager()

    @property
    def comment_count(self) -> int:
        return self.comments.count()

    @property
    def author_name(self) -> str | None:
        return None if self.author_id is None else self.author.name

    @property
    def lead_author(self) -> Author | None:
        return self.author


class Comment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    text = models.TextField(blank=True)


class ArticleRecord(RecordModel):
    recording_model = Article
    recording_fields = [
        "title",
        "owner",
        ("comment_count", models.IntegerField()),
        ("author_name", models.CharField(max_length=100, null=True)),
        # A property returning an instance, stored as its key.
        (
            "lead_author",
            models.ForeignKey(
                Author,
                null=True,
                on_delete=models.DO_NOTHING,
                db_constraint=False,
                related_name="+",
            ),
        ),
    ]
    auditing_relatives = ["comments", "author"]


# --- the mixin form, on a tracked, soft-deletable model ---------------------------


class Supplier(TrackableModel):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, blank=True)


class Item(RecordedModelMixin, SoftDeleteModel, TrackableModel):
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0.20"))
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    notes = models.TextField(blank=True)

    recording_fields = [
        "price",
        ("price_with_tax", models.DecimalField(max_digits=12, decimal_places=2)),
        ("supplier_name", models.CharField(max_length=100, null=True)),
        ("label", models.CharField(max_length=120)),
    ]
    auditing_relatives = ["supplier"]

    @property
    def price_with_tax(self) -> Decimal:
        return (self.price * (1 + self.tax_rate)).quantize(Decimal("0.01"))

    @property
    def supplier_name(self) -> str | None:
        return None if self.supplier_id is None else self.supplier.name

    def label(self) -> str:
        return f"{self.name} ({self.price})"


class ItemProxy(Item):
    class Meta:
        proxy = True


class SpecialItem(Item):
    """Multi-table child: its records are its parent's (ItemRecord)."""

    warranty_years = models.PositiveIntegerField(default=1)


class PlainItem(models.Model):
    """Item's fields, neither tracked nor recorded: the baseline for query counts."""

    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0.20"))
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)


# --- many-to-many relatives --------------------------------------------------------


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Label(RecordedModelMixin, models.Model):
    """Recorded through the reverse side of a many-to-many relation (Post.labels)."""

    name = models.CharField(max_length=50)

    objects = RecordedQuerySet.as_manager()

    recording_fields = [("post_count", models.IntegerField())]
    auditing_relatives = ["labelled_posts"]

    @property
    def post_count(self) -> int:
        return self.labelled_posts.count()


class Post(RecordedModelMixin, models.Model):
    title = models.CharField(max_length=100)
    tags = models.ManyToManyField(Tag, related_name="posts", blank=True)
    labels = models.ManyToManyField(Label, related_name="labelled_posts", blank=True)

    objects = RecordedQuerySet.as_manager()

    recording_fields = [("tag_names", models.CharField(max_length=200, blank=True))]
    auditing_relatives = ["tags"]

    @property
    def tag_names(self) -> str:
        return ", ".join(sorted(tag.name for tag in self.tags.all()))


# --- a simple series, in both forms (the same record table either way) -------------


class Reading(RecordedModelMixin, models.Model):
    sensor = models.CharField(max_length=20)
    value = models.FloatField()

    objects = RecordedQuerySet.as_manager()

    recording_fields = ["value", ("doubled", models.FloatField())]

    @property
    def doubled(self) -> float:
        return self.value * 2


class Meter(models.Model):
    sensor = models.CharField(max_length=20)
    value = models.FloatField()

    objects = RecordedQuerySet.as_manager()

    @property
    def doubled(self) -> float:
        return self.value * 2


class MeterRecord(RecordModel):
    recording_model = Meter
    recording_fields = ["value", ("doubled", models.FloatField())]


# --- values that cannot be recorded ------------------------------------------------


class Fragile(RecordedModelMixin, models.Model):
    name = models.CharField(max_length=20)

    objects = RecordedQuerySet.as_manager()

    recording_fields = [("risky", models.IntegerField()), ("shout", models.CharField(max_length=5))]

    @property
    def risky(self) -> int | None:
        if self.name == "boom":
            raise RuntimeError("the property failed")
        if self.name == "none":
            return None  # the column is not null=True
        return len(self.name)

    @property
    def shout(self) -> str:
        return self.name.upper()
