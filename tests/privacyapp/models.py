"""Models for the privacy tests: a tracked profile holding a person's own data."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from django_trackable.models import TrackableModel


class Member(TrackableModel):
    """A person's profile: its rows are about the person (``track_person``)."""

    track_person = "user"

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
