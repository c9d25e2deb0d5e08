"""django_trackable: who changed what and when, for every row of your Django models."""

from __future__ import annotations

from django_trackable.context import (
    acting_as,
    get_current_request,
    get_current_tenant,
    get_current_user,
    tracking_disabled,
)
from django_trackable.feed import changes_since

__version__ = "0.1.0"


__all__ = [
    "__version__",
    "acting_as",
    "changes_since",
    "get_current_request",
    "get_current_tenant",
    "get_current_user",
    "tracking_disabled",
]
