"""Template tags that show history entries readably: ``{% load trackable_history %}``.

``{% trackable_changes entry %}`` renders an entry described by
:func:`django_trackable.display.describe_entries` (the efficient way for many
entries: one query per related model for all of them), or a raw entry with
its object or model: ``{% trackable_changes entry product %}``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models

from django_trackable.display import EntryDisplay, describe_entries

register = template.Library()


@register.inclusion_tag("django_trackable/entry_changes.html")
def trackable_changes(entry: Any, model: Any = None) -> dict[str, Any]:
    """A diff table of one entry: verbose names, labels, related objects, masked as hidden."""
    if not isinstance(entry, EntryDisplay):
        if isinstance(model, models.Model):
            target: Any = type(model)
            using = model._state.db
        else:
            target, using = model, None
        (entry,) = describe_entries(target, [entry], using=using)
    return {"entry": entry}
