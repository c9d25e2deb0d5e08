"""What an export shows of a stored entry: masked names masked, whatever was stored.

Values are masked when they are written; an export masks again with the rule
as it is *now*, so a name added to ``MASKED_FIELDS`` (or a model's
``track_mask``) after an entry was written is hidden from exports too. The
rule is :func:`django_trackable.history.masked_name_matcher`, the one every
store uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django_trackable.conf import trackable_settings
from django_trackable.context import RESERVED_ENTRY_KEYS
from django_trackable.history import MASK, mask_by_name, masked_name_matcher

if TYPE_CHECKING:
    from django_trackable.tracking import ModelOptions


def matcher() -> re.Pattern[str] | None:
    """The ``MASKED_FIELDS`` rule as it is configured now."""
    return masked_name_matcher(trackable_settings.MASKED_FIELDS)


def _masked_change(change: Any) -> Any:
    if isinstance(change, list):
        return [None if item is None else MASK for item in change]
    return MASK


def mask_changes(
    changes: Mapping[str, Any], options: ModelOptions | None, rule: re.Pattern[str] | None
) -> dict[str, Any]:
    """``changes`` with the values of masked fields (by the model's options or the rule) masked."""
    result = {}
    for name, change in changes.items():
        tracked = options.by_name.get(name) if options is not None else None
        masked = (tracked is not None and tracked.masked) or (
            rule is not None and rule.search(name) is not None
        )
        result[name] = _masked_change(change) if masked else change
    return result


def mask_all(changes: Any) -> Any:
    """``changes`` with every value masked (the changes of someone else's row)."""
    if not isinstance(changes, Mapping):
        return changes
    return {name: _masked_change(change) for name, change in changes.items()}


def mask_entry(
    entry: Mapping[str, Any], options: ModelOptions | None, rule: re.Pattern[str] | None
) -> dict[str, Any]:
    """A history entry as an export shows it."""
    result: dict[str, Any] = {}
    extra = {}
    for key, value in entry.items():
        if key == "changes":
            result[key] = (
                mask_changes(value, options, rule) if isinstance(value, Mapping) else value
            )
        elif key in RESERVED_ENTRY_KEYS:
            result[key] = value
        else:
            extra[key] = value
    result.update(mask_by_name(extra, rule))
    return result
