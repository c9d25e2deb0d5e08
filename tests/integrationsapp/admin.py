from __future__ import annotations

from django.contrib import admin
from reversion.admin import VersionAdmin

from django_trackable.admin_mixins import SoftDeleteAdminMixin
from django_trackable.integrations.reversion import TrackedRevertsAdminMixin
from tests.integrationsapp.models import Note


@admin.register(Note)
class NoteAdmin(TrackedRevertsAdminMixin, SoftDeleteAdminMixin, VersionAdmin):  # type: ignore[type-arg]
    """Our mixins first, reversion's VersionAdmin as the ModelAdmin."""

    fields = ("text",)
