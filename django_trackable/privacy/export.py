"""``export_user()``: everything the stores hold about a person, as JSON, streamed."""

from __future__ import annotations

import json
from collections.abc import Container, Iterator
from typing import Any, Protocol

from django.utils import timezone

from django_trackable.history import JSONValue, to_json
from django_trackable.privacy.stores import Items, Person, registered_stores

#: The export's ``format``; a reader checks it before reading the rest.
FORMAT = "django_trackable.export/1"


class Writable(Protocol):
    """Anything with ``write(text)``: a text file, ``sys.stdout``, an HTTP response."""

    def write(self, text: str, /) -> object: ...


def _header(person: Person) -> dict[str, JSONValue]:
    return {"format": FORMAT, "exported_at": to_json(timezone.now()), "user": person.as_json()}


def iter_export(user: Any, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
    """``(section, items)`` of every registered store, items streamed in batches.

    Sections: ``changes`` (entries the person made, any model), ``account_history``
    (entries on their own rows), ``stamps``, ``audit_log``, ``visits``,
    ``login_attempts``, ``devices``, ``records:<model>`` per record model, then
    those of stores registered later.
    Masked names (fields, query parameters, extra keys) show ``"***"``.
    """
    person = Person.of(user)
    for store in registered_stores():
        yield from store.export(person, batch_size=batch_size)


def export_user(user: Any, *, batch_size: int = 1000) -> dict[str, Any]:
    """What the stores hold about ``user``, as one JSON-ready dict.

    Holds the whole export in memory; for large histories write it with
    :func:`write_export` instead.
    """
    export: dict[str, Any] = _header(Person.of(user))
    for section, items in iter_export(user, batch_size=batch_size):
        _check_new(section, export)
        export[section] = list(items)
    return export


def _check_new(section: str, seen: Container[str]) -> None:
    if section in seen:
        raise ValueError(f"two stores export a section named {section!r}")


def write_export(user: Any, stream: Writable, *, batch_size: int = 1000) -> int:
    """Write :func:`export_user`'s JSON to ``stream`` item by item; returns the items written.

    Memory stays bounded by ``batch_size`` rows whatever the size of the export.
    """
    header = _header(Person.of(user))
    stream.write("{")
    stream.write(", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in header.items()))
    written = 0
    seen: set[str] = set(header)
    for section, items in iter_export(user, batch_size=batch_size):
        _check_new(section, seen)
        seen.add(section)
        stream.write(f", {json.dumps(section)}: [")
        for index, item in enumerate(items):
            stream.write(",\n  " if index else "\n  ")
            stream.write(json.dumps(item, ensure_ascii=False))
            written += 1
        stream.write("]")
    stream.write("}\n")
    return written
