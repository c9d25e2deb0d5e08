"""History entries as a person reads them: labels and values instead of names and JSON.

:func:`describe_entries` turns a model's entries into :class:`EntryDisplay`
objects: verbose field names, choice labels on both sides, foreign keys as the
related object's ``str()``, dates in the current time zone, JSON
pretty-printed, long text as a word diff, and masked fields as "changed
(hidden)" without their values. The admin's History page and the template tag
``{% trackable_changes %}`` use it; any page can::

    from django_trackable.display import describe_entries

    rows = describe_entries(Product, reversed(product.history))

Related objects are looked up once per related model for all the entries
given (one query each), never once per entry.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext_lazy

from django_trackable import tracking
from django_trackable.conf import trackable_settings
from django_trackable.history import MASK, Entry, entry_time, masked_name_matcher, to_json

__all__ = [
    "ACTION_LABELS",
    "EntryDisplay",
    "FieldChange",
    "Segment",
    "action_label",
    "describe_entries",
    "describe_fields",
]

#: How each action reads; unknown actions are shown as they are stored.
ACTION_LABELS: dict[str, Any] = {
    "create": pgettext_lazy("history action", "Created"),
    "update": pgettext_lazy("history action", "Changed"),
    "delete": pgettext_lazy("history action", "Deleted"),
    "restore": pgettext_lazy("history action", "Restored"),
    "transition": pgettext_lazy("history action", "Status changed"),
    "revert": pgettext_lazy("history action", "Reverted"),
}

#: Text longer than this (or with a line break) is shown as a word diff.
LONG_TEXT = 80

_TEXT_TYPES = frozenset({"CharField", "TextField", "SlugField", "EmailField", "URLField"})
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    """A run of a word diff: text both sides share, or that was removed or added."""

    kind: Literal["same", "removed", "added"]
    text: str


@dataclass(frozen=True)
class FieldChange:
    """One field of an entry, ready to show.

    ``old`` and ``new`` are display text (empty for no value). ``hidden`` means
    a masked field: its values are not kept and ``old``/``new`` are empty.
    ``preformatted`` values are multi-line (pretty-printed JSON). ``segments``
    is a word diff, set for long text that changed.
    """

    name: str
    label: str
    old: str
    new: str
    hidden: bool = False
    preformatted: bool = False
    segments: tuple[Segment, ...] = ()
    old_missing: bool = False
    new_missing: bool = False


@dataclass(frozen=True)
class EntryDisplay:
    """One history entry, ready to show (the raw entry is ``entry``)."""

    entry: Entry
    action: str
    action_label: str
    timestamp: datetime.datetime | None
    user_id: Any
    user_repr: str
    changes: tuple[FieldChange, ...]
    reverted_to: datetime.datetime | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_create(self) -> bool:
        """A create entry holds the first values only: shown as one column."""
        return self.action == "create"


def action_label(action: str) -> str:
    """``"update"`` → ``"Changed"``; an unknown action as it is."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def describe_entries(
    model: type[models.Model] | None, entries: Iterable[Entry], *, using: str | None = None
) -> list[EntryDisplay]:
    """The entries of ``model``'s rows as :class:`EntryDisplay`, in the order given.

    ``model`` may be ``None`` (an audit log row of a model that is gone): field
    names are then shown as stored and masked by ``MASKED_FIELDS`` alone.
    Runs one query per related model whose rows appear in the entries' foreign
    key changes (on ``using``, or the related model's read database), and none
    otherwise. Never raises because of an entry's content: values a field no
    longer accepts are shown as stored.
    """
    entries = [entry for entry in entries if isinstance(entry, Mapping)]
    options = tracking.options_for(model) if model is not None else None
    related = _related_objects(options, entries, using)
    return [_describe(model, options, entry, related) for entry in entries]


def describe_fields(
    model: type[models.Model],
    pairs: Mapping[str, tuple[Any, Any]],
    *,
    using: str | None = None,
) -> list[FieldChange]:
    """Field name → ``(old, new)`` Python values, shown like an entry's changes.

    For pages that compare two versions of a row (the admin's "as of" and
    revert pages): the same labels, related objects (one query per related
    model) and masking as :func:`describe_entries`.
    """
    changes = {name: [to_json(old), to_json(new)] for name, (old, new) in pairs.items()}
    (display,) = describe_entries(model, [{"action": "update", "changes": changes}], using=using)
    return list(display.changes)


# -- one entry -------------------------------------------------------------------------


def _describe(
    model: type[models.Model] | None,
    options: tracking.ModelOptions | None,
    entry: Entry,
    related: _Related,
) -> EntryDisplay:
    action = str(entry.get("action") or "")
    changes = entry.get("changes")
    rows = []
    if isinstance(changes, Mapping):
        for name, pair in changes.items():
            change = _field_change(model, options, str(name), pair, related)
            if action == "create" and not change.hidden and change.new == "":
                continue  # a create entry lists the fields that were given a value
            rows.append(change)
    reverted_to = entry.get("reverted_to")
    extra = {
        key: value
        for key, value in entry.items()
        if key not in {"action", "timestamp", "user", "user_repr", "changes", "reverted_to"}
    }
    return EntryDisplay(
        entry=dict(entry),
        action=action,
        action_label=action_label(action),
        timestamp=entry_time(entry),
        user_id=entry.get("user"),
        user_repr=str(entry.get("user_repr") or ""),
        changes=tuple(rows),
        reverted_to=entry_time({"timestamp": reverted_to}),
        reason=str(entry.get("reason") or ""),
        extra=extra,
    )


def _field_change(
    model: type[models.Model] | None,
    options: tracking.ModelOptions | None,
    name: str,
    pair: Any,
    related: _Related,
) -> FieldChange:
    tracked = options.by_name.get(name) if options is not None else None
    model_field = tracked.field if tracked is not None else _model_field(model, name)
    label = _label(model_field, name)
    old, new = _pair(pair)
    masked = _is_masked(model, tracked, name) or MASK in (old, new)
    if masked:
        # Nothing of a masked value is shown, not even whether it was empty.
        return FieldChange(name=name, label=label, old="", new="", hidden=True)
    old_text, old_missing = _value(model_field, old, related)
    new_text, new_missing = _value(model_field, new, related)
    preformatted = "\n" in old_text or "\n" in new_text
    segments: tuple[Segment, ...] = ()
    if _is_long_text(model_field, old, new):
        segments = word_diff(old, new)
    return FieldChange(
        name=name,
        label=label,
        old=old_text,
        new=new_text,
        preformatted=preformatted and not segments,
        segments=segments,
        old_missing=old_missing,
        new_missing=new_missing,
    )


def _is_masked(
    model: type[models.Model] | None, tracked: tracking.TrackedField | None, name: str
) -> bool:
    if tracked is not None:
        return tracked.masked
    # A field tracked no longer (or gone): masked by name, as it would be if tracked.
    if name in (getattr(model, "track_mask", ()) or ()):
        return True
    matcher = masked_name_matcher(trackable_settings.MASKED_FIELDS)
    return matcher is not None and matcher.search(name) is not None


def _pair(pair: Any) -> tuple[Any, Any]:
    if isinstance(pair, list | tuple) and len(pair) == 2:
        return pair[0], pair[1]
    return None, pair  # not the documented format: show what is there as the new value


def _model_field(model: type[models.Model] | None, name: str) -> models.Field[Any, Any] | None:
    """A field no longer tracked (or renamed away) still gets its verbose name if it exists."""
    if model is None:
        return None
    for candidate in model._meta.concrete_fields:
        if name in (candidate.name, candidate.attname):
            return candidate
    return None


def _label(model_field: models.Field[Any, Any] | None, name: str) -> str:
    if model_field is None:
        return name
    verbose = str(model_field.verbose_name)
    return verbose[:1].upper() + verbose[1:]


def _is_long_text(model_field: models.Field[Any, Any] | None, old: Any, new: Any) -> bool:
    if not (isinstance(old, str) and isinstance(new, str) and old and new and old != new):
        return False
    if model_field is not None and (
        model_field.get_internal_type() not in _TEXT_TYPES or model_field.choices
    ):
        return False
    return max(len(old), len(new)) > LONG_TEXT or "\n" in old or "\n" in new


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """``old`` → ``new`` word by word (whitespace kept), as runs kept, removed and added."""
    before = _WORDS.findall(old)
    after = _WORDS.findall(new)
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(Segment("same", "".join(before[a1:a2])))
            continue
        if a2 > a1:
            segments.append(Segment("removed", "".join(before[a1:a2])))
        if b2 > b1:
            segments.append(Segment("added", "".join(after[b1:b2])))
    return tuple(segments)


# -- values ------------------------------------------------------------------------------


def _value(
    model_field: models.Field[Any, Any] | None, value: Any, related: _Related
) -> tuple[str, bool]:
    """The display text of one stored value, and whether it names a row that is gone."""
    if value is None:
        return "", False
    try:
        if model_field is None:
            return _plain(value), False
        if model_field.is_relation and (model_field.many_to_one or model_field.one_to_one):
            return related.text(model_field, value)
        if model_field.flatchoices:
            labels = {to_json(key): label for key, label in model_field.flatchoices}
            if value in labels:
                return str(labels[value]), False
        return _typed(model_field, value), False
    except Exception:  # noqa: BLE001 - an odd stored value is shown as stored, never an error
        return _plain(value), False


def _typed(model_field: models.Field[Any, Any], value: Any) -> str:
    kind = model_field.get_internal_type()
    if kind == "BooleanField":
        return gettext("Yes") if value else gettext("No")
    if kind == "JSONField":
        return _plain(value)
    if kind == "BinaryField":
        return gettext("(binary data)")
    if isinstance(value, str):
        if kind == "DateTimeField":
            moment = datetime.datetime.fromisoformat(value)
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "DATETIME_FORMAT")
        if kind == "DateField":
            return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return str(value)


class _Related:
    """Related objects' ``str()`` by (related model, key field, key), fetched in bulk."""

    def __init__(self) -> None:
        self.found: dict[tuple[Any, str, str], str] = {}

    def text(self, model_field: models.Field[Any, Any], value: Any) -> tuple[str, bool]:
        target_field: Any = model_field.target_field  # type: ignore[attr-defined]
        key = _normalised(target_field, value)
        if key is not None:
            shown = self.found.get((model_field.related_model, target_field.name, key))
            if shown is not None:
                return shown, False
        return gettext("%(key)s (no longer exists)") % {"key": _plain(value)}, True


def _normalised(target_field: models.Field[Any, Any], value: Any) -> str | None:
    """A stored key as the related field's value, as comparable text; ``None`` if invalid."""
    try:
        return json.dumps(to_json(target_field.to_python(value)))
    except Exception:  # noqa: BLE001 - a key the field no longer accepts
        return None


def _related_objects(
    options: tracking.ModelOptions | None,
    entries: Sequence[Entry],
    using: str | None,
) -> _Related:
    """One query per related model for every key the entries' foreign key changes name."""
    fields_by_name: dict[str, models.Field[Any, Any]] = {}
    for tracked in options.tracked if options is not None else ():
        f = tracked.field
        if f.is_relation and (f.many_to_one or f.one_to_one) and not tracked.masked:
            fields_by_name[tracked.name] = f
            fields_by_name[tracked.attname] = f
    related = _Related()
    if not fields_by_name:
        return related
    # (related model, key field name) -> the keys wanted; two foreign keys to
    # the same model share one query.
    wanted: dict[tuple[Any, str], dict[str, Any]] = defaultdict(dict)
    for entry in entries:
        changes = entry.get("changes")
        if not isinstance(changes, Mapping):
            continue
        for name, pair in changes.items():
            fk = fields_by_name.get(name)
            if fk is None:
                continue
            target_field: Any = fk.target_field  # type: ignore[attr-defined]
            for value in _pair(pair):
                if value is None or value == MASK:
                    continue
                key = _normalised(target_field, value)
                if key is not None:
                    wanted[(fk.related_model, target_field.name)][key] = target_field.to_python(
                        value
                    )
    for (target, key_name), keys in wanted.items():
        manager = target._base_manager  # soft-deleted rows are named too
        if using is not None:
            manager = manager.db_manager(using)
        for obj in manager.filter(**{f"{key_name}__in": list(keys.values())}):
            key = json.dumps(to_json(getattr(obj, key_name)))
            related.found[(target, key_name, key)] = str(obj)
    return related
