"""UUIDModel: a random UUID primary key."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["UUIDModel"]


class UUIDModel(models.Model):
    """``id`` is a UUID (version 4), set when the instance is created, not by the database.

    Primary keys do not reveal row counts or creation order, and rows can be
    created offline or on several databases without clashes. History entries
    and foreign keys record the UUID as a string.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True
