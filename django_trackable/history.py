"""History entries as plain JSON: serialising values, building and reading entries.

Nothing here touches the database. Every function is total: serialising a
value never raises, whatever the value, because a save must never fail because
of what its history would say.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import enum
import functools
import ipaddress
import math
import re
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from django.core.files import File
from django.utils import timezone
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise

__all__ = [
    "MASK",
    "Entry",
    "JSONValue",
    "build_entry",
    "entries_since",
    "entry_time",
    "is_masked_name",
    "mask_by_name",
    "masked_name_matcher",
    "to_datetime",
    "to_json",
]

JSONValue: TypeAlias = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]
Entry = dict[str, Any]

#: What a masked value looks like in history.
MASK = "***"

# Deeper structures are cut here: PostgreSQL limits jsonb nesting, and a
# self-referencing value must not recurse forever.
_MAX_DEPTH = 32


def to_json(value: Any) -> JSONValue:
    """Turn a model field value into JSON that SQLite and PostgreSQL both accept.

    Decimals become strings (no precision lost), date/times ISO 8601 strings
    (microseconds always shown, offset kept), UUIDs strings, bytes base64,
    files their name, enums their value, lazy strings text, NaN and infinities
    the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (jsonb has no such
    numbers), and NUL characters, which jsonb rejects, U+FFFD. Anything else
    becomes ``str(value)``.
    """
    kind = type(value)
    if kind is str:
        return _clean_str(value)
    if value is None or kind is int or kind is bool:
        return value  # type: ignore[no-any-return]
    if kind is float:
        number = float(value)
        return number if math.isfinite(number) else _float_name(number)
    convert = _EXACT.get(kind)
    if convert is not None:
        result: str = convert(value)
        return result
    return _to_json(value, 0)


def _iso(value: datetime.datetime | datetime.time) -> str:
    return value.isoformat(timespec="microseconds")


# The common exact types, looked up before the isinstance() chain of _to_json().
_EXACT: dict[type, Any] = {
    decimal.Decimal: str,
    datetime.datetime: _iso,
    datetime.date: datetime.date.isoformat,
    datetime.time: _iso,
    uuid.UUID: str,
}


def _clean_str(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates cannot be stored as UTF-8 by any database driver.
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _float_name(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _to_json(value: Any, depth: int) -> JSONValue:  # noqa: C901, PLR0911, PLR0912 - one flat dispatch
    if depth > _MAX_DEPTH:
        return "<too deep>"
    try:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, enum.Enum):
            return _to_json(value.value, depth + 1)
        if isinstance(value, str):
            return _clean_str(str(value))
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value) if math.isfinite(value) else _float_name(value)
        if isinstance(value, Promise):
            return _clean_str(str(value))
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, datetime.datetime | datetime.time):
            return value.isoformat(timespec="microseconds")
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, datetime.timedelta):
            return duration_iso_string(value)
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return base64.b64encode(bytes(value)).decode("ascii")
        if isinstance(value, File):
            return _clean_str(value.name) if value.name else None
        if isinstance(value, Mapping):
            return {_clean_str(str(key)): _to_json(item, depth + 1) for key, item in value.items()}
        if isinstance(value, set | frozenset):
            return sorted((_to_json(item, depth + 1) for item in value), key=repr)
        if isinstance(value, list | tuple):
            return [_to_json(item, depth + 1) for item in value]
        pk = getattr(getattr(value, "_meta", None), "pk", None)
        if pk is not None:  # a model instance: its primary key
            return _to_json(value.pk, depth + 1)
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return str(value)
        return _clean_str(str(value))
    except Exception:  # noqa: BLE001 - a history value must never fail a save
        return f"<unserializable {type(value).__name__}>"


# What separates the words of a name: "_" in Python, "-", "." and brackets in
# URL parameters (access-token, auth.token, user[password]), blanks.
_SEPARATOR = r"[-_.\[\]\s]"
# A word starts after a separator or at a camelCase hump (accessToken, APIToken)...
_WORD_START = rf"(?:^|(?<={_SEPARATOR})|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]))"
# ...and ends before a separator, a digit or a hump (tokenHash), or at the end.
_WORD_END = rf"(?:$|(?={_SEPARATOR}|\d)|(?<=[a-z])(?=[A-Z]))"
_INNER_SEPARATOR = rf"(?:{_SEPARATOR}+|(?<=[a-z])(?=[A-Z]))"
# Percent-decoding passes: enough for names encoded twice or three times over.
_DECODE_PASSES = 4


def masked_name_matcher(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """A regex matching names that contain one of ``patterns`` as a word.

    The one rule for field names, URL parameters and referrers
    (:func:`is_masked_name` applies it). ``"token"`` matches ``token``,
    ``refresh_token``, ``token_hash``, ``tokens``, ``token2``, ``access-token``,
    ``auth.token``, ``token[]``, ``user[token]``, ``X-Amz-Security-Token`` and
    ``accessToken``, but not ``tokenizer``: a pattern must be bounded by the
    start or end of the name, a separator (``_ - . [ ]`` or a blank), a
    camelCase hump or, after it, a digit; case is ignored. A separator inside
    a pattern stands for any separators or a hump: ``api_key`` matches
    ``api-key``, ``api.key`` and ``apiKey``. The regex sees the name as given:
    decode URL names first (:func:`is_masked_name` does).
    """
    words = []
    for pattern in patterns:
        parts = [part for part in re.split(rf"{_SEPARATOR}+", pattern or "") if part]
        if parts:
            words.append(_INNER_SEPARATOR.join(f"(?i:{re.escape(part)})" for part in parts))
    if not words:
        return None
    return re.compile(rf"{_WORD_START}(?:{'|'.join(words)})(?i:s)?{_WORD_END}")


@functools.lru_cache(maxsize=16)
def _cached_matcher(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return masked_name_matcher(patterns)


def is_masked_name(name: str, patterns: Iterable[str] | None = None) -> bool:
    """Whether values named ``name`` are masked (stored as ``"***"``).

    ``patterns`` defaults to the ``MASKED_FIELDS`` setting; the rule is
    :func:`masked_name_matcher`'s. Percent-encoding (and ``+`` for a blank)
    is decoded first, repeatedly, so ``%74oken`` and ``token%5B%5D`` are
    masked like ``token`` and ``token[]``. Every store asks this: model
    fields, URL and referrer parameters, ``acting_as()`` extras.
    """
    if patterns is None:
        from django_trackable.conf import trackable_settings

        patterns = trackable_settings.MASKED_FIELDS
    return _matches(_cached_matcher(tuple(patterns)), name)


def _matches(matcher: re.Pattern[str] | None, name: str) -> bool:
    """Whether ``matcher`` (a :func:`masked_name_matcher`) masks ``name``, percent-decoded."""
    if matcher is None:
        return False
    for _pass in range(_DECODE_PASSES):
        if matcher.search(name) is not None:
            return True
        decoded = urllib.parse.unquote_plus(name) if "%" in name or "+" in name else name
        if decoded == name:
            return False
        name = decoded
    return matcher.search(name) is not None


def build_entry(
    action: str,
    when: datetime.datetime,
    user: Any,
    changes: Mapping[str, list[JSONValue]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Entry:
    """A history entry in the documented format (see the docs' "History entries").

    ``user`` may be anything: the entry's ``user`` is the primary key of a
    user (an instance of the user model) and ``null`` for anything else,
    whose ``str()`` is still the ``user_repr``. ``extra`` keys are cleaned
    like values (no NUL, no lone surrogates), never replace the entry's own
    keys, and carry ``"***"`` when their name is masked (:func:`is_masked_name`).
    """
    return entry_with(action, who_and_when(when, user), changes, extra)


def who_and_when(when: datetime.datetime, user: Any) -> dict[str, JSONValue]:
    """An entry's ``timestamp``, ``user`` and ``user_repr``.

    The same for every row one write stamps: a bulk write works them out once
    (:class:`~django_trackable.tracking.Seed`) and hands them to :func:`entry_with`.
    """
    return {
        "timestamp": entry_timestamp(when),
        "user": user_key(user),
        "user_repr": user_repr(user),
    }


def entry_with(
    action: str,
    stamp: Mapping[str, JSONValue],
    changes: Mapping[str, list[JSONValue]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Entry:
    """:func:`build_entry` with its :func:`who_and_when` already worked out."""
    entry: Entry = {"action": action, **stamp}
    if changes is not None:
        entry["changes"] = changes
    if extra:
        for key, value in extra.items():
            name = _clean_str(str(key))
            if name not in entry:
                entry[name] = MASK if is_masked_name(name) else to_json(value)
    return entry


def entry_timestamp(when: datetime.datetime) -> str:
    """ISO 8601 with an offset, also when ``USE_TZ = False`` (local time is assumed)."""
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when.isoformat(timespec="microseconds")


def user_key(user: Any) -> JSONValue:
    """The entry's ``user``: the primary key of a user, ``None`` for anything else.

    A stand-in actor (``acting_as("cron")``, an object with a ``pk`` that is
    not a user) never looks like a user's key, so it is never attributed to,
    or erased with, the user that has that key.
    """
    if user is None:
        return None
    from django.conf import settings

    if not isinstance(user, _user_model(settings.AUTH_USER_MODEL)):
        return None
    return to_json(user.pk)


@functools.lru_cache(maxsize=8)
def _user_model(label: str) -> type[Any]:
    """``get_user_model()``, looked up once per label: every entry asks (and bulk writes,
    once per row), and the registry lookup was a third of building an entry."""
    from django.apps import apps

    return apps.get_model(label, require_ready=False)


def user_repr(user: Any) -> str | None:
    """``str(user)``, or a safe stand-in when the user's ``__str__`` fails."""
    if user is None:
        return None
    try:
        return _clean_str(str(user))
    except Exception:  # noqa: BLE001 - a broken __str__ must not fail a save
        pk = getattr(user, "pk", None)
        return type(user).__name__ if pk is None else f"{type(user).__name__} {pk}"


def to_datetime(value: datetime.datetime | datetime.date | float | str) -> datetime.datetime:
    """Accept a datetime, a date (its midnight), a UNIX time or an ISO 8601 string.

    The result is aware; naive input is read in the current time zone.
    """
    if isinstance(value, bool):
        raise TypeError("expected a datetime or a UNIX time, got a bool")
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    elif not isinstance(value, datetime.datetime):
        if not isinstance(value, datetime.date):
            raise TypeError(f"expected a datetime or a UNIX time, got {type(value).__name__}")
        value = datetime.datetime.combine(value, datetime.time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def entry_time(entry: Mapping[str, Any]) -> datetime.datetime | None:
    """The entry's timestamp as an aware datetime, or ``None`` if it has none."""
    raw = entry.get("timestamp")
    if not isinstance(raw, str):
        return None
    try:
        return to_datetime(raw)
    except ValueError:
        return None


def entries_since(
    history: Iterable[Mapping[str, Any]], when: datetime.datetime | datetime.date | float | str
) -> list[Entry]:
    """The entries strictly after ``when``, in stored (oldest first) order."""
    since = to_datetime(when)
    result = []
    for entry in history:
        stamp = entry_time(entry)
        if stamp is not None and stamp > since:
            result.append(dict(entry))
    return result


def mask_by_name(values: Mapping[str, Any], rule: re.Pattern[str] | None) -> dict[str, Any]:
    """``values`` with :data:`MASK` for every key ``rule`` (a :func:`masked_name_matcher`) matches.

    For keyed values that are not model fields: ``acting_as()`` extras, an
    entry's or an audit row's extra keys.
    """
    if rule is None:
        return dict(values)
    return {key: MASK if _matches(rule, key) else value for key, value in values.items()}
