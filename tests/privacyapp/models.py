"""Models for the privacy tests: a tracked profile holding a person's own data, record tables."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User, UserManager
from django.db import models

from django_trackable.models import (
    RecordedModelMixin,
    RecordedQuerySet,
    RecordModel,
    TrackableModel,
)


class Member(RecordedModelMixin, TrackableModel):
    """A person's profile: its rows are about the person (``track_person``), and recorded."""

    track_person = "user"
    recording_fields = ["email", "full_name", "phone"]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member"
    )
    email = models.EmailField()
    full_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=30, blank=True)
    preferences = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.full_name


class Address(TrackableModel):
    """Several rows per person, linked by a plain foreign key."""

    track_person = "owner"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    street = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.street


class Contact(TrackableModel):
    """A parent under multi-table inheritance: its table holds its children's history."""

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Customer(Contact):
    """Rows about a person whose history lives in the parent's table."""

    track_person = "user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customers"
    )


# --- record tables holding a person's data -----------------------------------------


class RecordedUserManager(UserManager.from_queryset(RecordedQuerySet)):  # type: ignore[misc]
    """``UserManager`` whose ``update()`` and bulk writes record too."""


class RecordedUser(User):
    """The user model, recorded through a proxy: saves of plain users write no records."""

    objects = RecordedUserManager()

    class Meta:
        proxy = True


class AccountRecord(RecordModel):
    """Records of the user row itself: the person's own data over time."""

    recording_model = RecordedUser
    recording_fields = ["email", "first_name", "last_login", "is_active"]


class Ticket(RecordedModelMixin, models.Model):
    """Someone else's row whose records name users: a nullable and a required key."""

    title = models.CharField(max_length=100)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reported_tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )

    recording_fields = ["title", "reporter", "assignee"]

    objects = RecordedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title
