"""Integrations with other Django history libraries, connected when they are installed.

- :mod:`django_trackable.integrations.reversion`: django-reversion revisions get
  the acting user and ``reason`` of :mod:`django_trackable.context`.
- :mod:`django_trackable.integrations.simple_history`: django-simple-history's
  ``get_user`` from the same context, change reasons, and historical records for
  soft deletes and restores.

Each module imports its library: import it only where the library is installed.
"""

from __future__ import annotations

from typing import Any

from django_trackable.context import get_current_extra

__all__ = ["current_reason"]


def current_reason(max_length: int | None = None) -> str | None:
    """The ``reason`` given to the innermost ``acting_as()``, as text (cut to ``max_length``).

    ``None`` when there is none, or when it cannot be turned into text.
    """
    reason: Any = get_current_extra().get("reason")
    if reason is None:
        return None
    try:
        text = str(reason)
    except Exception:  # noqa: BLE001 - a broken __str__ must not fail a write
        return None
    if not text:
        return None
    return text if max_length is None else text[:max_length]
