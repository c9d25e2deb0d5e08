"""Models tracked by us and by django-reversion, django-simple-history or django-auditlog."""

from __future__ import annotations

import reversion
from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from django_trackable.integrations.simple_history import get_user
from django_trackable.models import SoftDeleteModel, TrackableModel, VersionedModel


@reversion.register()
class Article(VersionedModel):
    """handleref's ``version`` with django-reversion revisions."""

    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.title


@reversion.register()
class Note(SoftDeleteModel, VersionedModel):
    """Versioned and soft-deletable."""

    text = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.text


class Page(SoftDeleteModel, TrackableModel):
    """django-simple-history beside our history (ours is not copied into theirs)."""

    title = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    records = HistoricalRecords(get_user=get_user, excluded_fields=["history"])

    def __str__(self) -> str:
        return self.title


class Section(SoftDeleteModel, TrackableModel):
    """Soft-deleted with its page (CASCADE), with historical records of its own."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="sections")
    heading = models.CharField(max_length=100)

    records = HistoricalRecords(get_user=get_user, excluded_fields=["history"])

    def __str__(self) -> str:
        return self.heading


class PlainPage(models.Model):
    """simple-history alone, with its own get_user (no django_trackable)."""

    title = models.CharField(max_length=100)

    records = HistoricalRecords()

    def __str__(self) -> str:
        return self.title


@reversion.register()
class Ledger(TrackableModel):
    """History kept by all three libraries before (and while) we track it: the import's source."""

    name = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    quantity = models.IntegerField(default=0)
    api_key = models.CharField(max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    past = HistoricalRecords(excluded_fields=["history"])

    def __str__(self) -> str:
        return self.name


auditlog.register(Ledger)
