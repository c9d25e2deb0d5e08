"""Models for the admin's tests: one field of each kind a History page must show well."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from django_trackable.models import TrackableModel
from tests.testapp.models import Category


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    HIGH = 2, "High"
    URGENT = 3, "Urgent"


class State(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed for good"


class Issue(TrackableModel):
    """Choices, two foreign keys to two models, long text, JSON, a date, a masked field."""

    title = models.CharField("headline", max_length=200)
    body = models.TextField("description", blank=True)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.LOW)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="assigned to",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict, blank=True)
    due = models.DateTimeField(null=True, blank=True)
    urgent = models.BooleanField(default=False)
    access_token = models.CharField(max_length=64, blank=True)  # masked by MASKED_FIELDS

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title
