"""Where django_trackable keeps data about a person, and how each place forgets and exports it.

A *store* is one kind of place: in-row history entries, the ``*_by`` stamps,
the audit log, visits, login attempts, devices, record tables.
:func:`erase_user` and :func:`export_user` (in :mod:`django_trackable.privacy`)
go through the registered stores in order, so a new kind of data (a site's own
models) joins both by registering one more :class:`Store`.
"""

from __future__ import annotations

import abc
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.db.models import Q

from django_trackable.client import anonymize_ip
from django_trackable.conf import trackable_settings
from django_trackable.history import MASK, JSONValue, mask_by_name, to_json, user_repr
from django_trackable.privacy import _masking, _sql
from django_trackable.tracking import options_for

if TYPE_CHECKING:
    from django_trackable.models.visits import _ClientFields

__all__ = [
    "ERASED",
    "Person",
    "Progress",
    "Store",
    "StoreCount",
    "register_store",
    "registered_stores",
    "unregister_store",
]

#: What erased actors and targets are called: entries keep their shape, and
#: readers that show ``user_repr`` show this.
ERASED = "erased user"

#: What an export calls a row about someone else (a user the person edited).
OTHER_PERSON = "another person"

#: Called after each batch with the store's name, the target (a model label)
#: and the number of rows done so far in that target.
Progress = Callable[[str, str, int], None]

#: Export items: JSON objects, yielded one at a time.
Items = Iterator[dict[str, JSONValue]]


@dataclass(frozen=True)
class Person:
    """Who is being erased or exported: what the stores look for.

    Built once from the user (:meth:`of`), so stores never query the user
    table and work for any user model.
    """

    pk: Any
    username: str
    email: str
    #: ``str(user)``, as history entries record it in ``user_repr``.
    label: str
    model: type[models.Model]

    @classmethod
    def of(cls, user: Any) -> Person:
        """The person ``user`` is; ``ValueError`` for an unsaved user."""
        if getattr(user, "pk", None) is None:
            raise ValueError("erasing or exporting needs a saved user (one with a primary key)")
        username = user.get_username() if hasattr(user, "get_username") else ""
        email_field = (
            user.get_email_field_name() if hasattr(user, "get_email_field_name") else "email"
        )
        email = getattr(user, email_field, "") or ""
        return cls(
            pk=user.pk,
            username=str(username or ""),
            email=str(email),
            label=user_repr(user) or "",
            model=type(user)._meta.concrete_model or type(user),
        )

    @property
    def actor(self) -> JSONValue:
        """The person's primary key as entries store it in ``user``."""
        return to_json(self.pk)

    @property
    def identifiers(self) -> tuple[str, ...]:
        """What the person types to log in: username and e-mail (non-empty, no repeats)."""
        seen: dict[str, str] = {}
        for value in (self.username, self.email):
            if value.strip():
                seen.setdefault(value.casefold(), value)
        return tuple(seen.values())

    def as_json(self) -> dict[str, JSONValue]:
        return {"pk": self.actor, "username": self.username, "email": self.email}


@dataclass(frozen=True)
class StoreCount:
    """What a store changed (or, in a dry run, would change) in one target."""

    #: A model label (``"testapp.Product"``), or a label and a field name.
    target: str
    rows: int
    #: History entries changed, for stores that rewrite entries inside rows.
    entries: int | None = None


class Store(abc.ABC):
    """One place that holds data about people; subclass and :func:`register_store` it.

    ``count`` and ``erase`` must agree: a dry run reports what ``erase`` would
    do. ``erase`` must be idempotent (a second call counts zeros) and should
    work in batches, each its own transaction, when the data can be large.
    """

    #: Unique among registered stores; the report's key.
    name: ClassVar[str] = ""

    @abc.abstractmethod
    def count(self, person: Person, *, batch_size: int = 1000) -> list[StoreCount]:
        """What :meth:`erase` would change, without changing anything."""

    @abc.abstractmethod
    def erase(
        self, person: Person, *, batch_size: int = 1000, progress: Progress | None = None
    ) -> list[StoreCount]:
        """Remove ``person`` from the store; returns what changed."""

    def export(self, person: Person, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
        """``(section, items)`` pairs: what the store holds about ``person``, streamed."""
        return iter(())


_stores: dict[str, Store] = {}


def register_store(store: Store) -> Store:
    """Add ``store`` to those :func:`erase_user` and :func:`export_user` use (in order).

    Registering the same object twice is harmless; another store under a
    taken name is a ``ValueError``. Returns ``store``.
    """
    if not store.name:
        raise ValueError(f"{type(store).__name__} has no name")
    existing = _stores.get(store.name)
    if existing is not None and existing is not store:
        raise ValueError(f"a store named {store.name!r} is already registered")
    _stores[store.name] = store
    return store


def unregister_store(name: str) -> Store:
    """Remove and return the store called ``name`` (``KeyError`` if there is none)."""
    return _stores.pop(name)


def registered_stores() -> tuple[Store, ...]:
    """The registered stores, in registration order."""
    return tuple(_stores.values())


# --- where things are ------------------------------------------------------------


def _write_alias(model: type[models.Model]) -> str:
    return router.db_for_write(model)


def history_tables() -> list[tuple[type[models.Model], models.Field[Any, Any]]]:
    """Each table with a ``history`` column once, as (the model owning it, the field).

    Under multi-table inheritance the children's history is the parent's
    column; proxies share their concrete model's.
    """
    seen: set[tuple[type[models.Model], str]] = set()
    tables = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        history = options_for(model).history
        if history is None:
            continue
        owner = history.model._meta.concrete_model or history.model
        if (owner, history.name) not in seen:
            seen.add((owner, history.name))
            tables.append((owner, history))
    return tables


def person_models() -> list[tuple[type[models.Model], str]]:
    """Models whose rows are *about* a person, with the lookup that finds the person's rows.

    The user model itself (``pk``) and every model that names its link to the
    user in ``track_person`` (a profile, say: ``track_person = "user"``).
    """
    user_model = get_user_model()
    found: list[tuple[type[models.Model], str]] = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        if model is user_model:
            found.append((model, "pk"))
        elif isinstance(getattr(model, "track_person", None), str):
            found.append((model, model.track_person))  # type: ignore[attr-defined]
    return found


def user_stamp_fields() -> list[tuple[type[models.Model], models.Field[Any, Any]]]:
    """Each stamp field (``created_by``, ``updated_by``, ``deleted_by``, …) pointing at users."""
    user_model = get_user_model()
    seen: set[tuple[type[models.Model], str]] = set()
    fields = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in options_for(model).roles.values():
            if not field.is_relation or field.related_model is not user_model:
                continue
            owner = field.model._meta.concrete_model or field.model
            if (owner, field.name) not in seen:
                seen.add((owner, field.name))
                fields.append((owner, field))
    return fields


def _history_rows(
    model: type[models.Model], lookup: str, person: Person
) -> tuple[type[models.Model], models.Field[Any, Any], models.QuerySet[Any]] | None:
    """The rows holding the history of ``person``'s rows of ``model``, if it has history."""
    history = options_for(model).history
    if history is None:
        return None
    owner = history.model._meta.concrete_model or history.model
    alias = _write_alias(owner)
    rows = _sql.plain(model, alias).filter(**{lookup: person.pk})
    if owner is model:
        return owner, history, rows
    return owner, history, _sql.plain(owner, alias).filter(pk__in=rows.values("pk"))


def _notify(progress: Progress | None, store: str, target: str) -> _sql.BatchProgress | None:
    if progress is None:
        return None
    return lambda rows: progress(store, target, rows)


class _BatchedStore(Store):
    """A store whose ``count`` is its ``erase`` with the writes left out."""

    def count(self, person: Person, *, batch_size: int = 1000) -> list[StoreCount]:
        return self._run(person, dry_run=True, batch_size=batch_size, progress=None)

    def erase(
        self, person: Person, *, batch_size: int = 1000, progress: Progress | None = None
    ) -> list[StoreCount]:
        return self._run(person, dry_run=False, batch_size=batch_size, progress=progress)

    @abc.abstractmethod
    def _run(
        self, person: Person, *, dry_run: bool, batch_size: int, progress: Progress | None
    ) -> list[StoreCount]: ...


# --- in-row history ------------------------------------------------------------------


class HistoryStore(_BatchedStore):
    """Entries the person made, in every tracked model's ``history``.

    They keep their action, time and changes; ``user`` becomes ``null``,
    ``user_repr`` :data:`ERASED`, and every other key (IP, request id, reason)
    is dropped. Rewritten in the database, one UPDATE per batch of rows, and
    only rows holding such an entry are touched.
    """

    name = "history"

    def _run(
        self, person: Person, *, dry_run: bool, batch_size: int, progress: Progress | None
    ) -> list[StoreCount]:
        counts = []
        for model, field in history_tables():
            alias = _write_alias(model)
            connection = connections[alias]
            dialect = _sql.dialect_for(connection)
            col = _sql.column(model, field, connection)
            rewritten = _sql.value(
                dialect.without_actor(col, person.actor, ERASED), models.JSONField()
            )
            rows, entries = _sql.run_batches(
                _sql.plain(model, alias).filter(
                    _sql.condition(dialect.has_entry_by(col, person.actor))
                ),
                _sql.setting(**{field.name: rewritten}),
                weight=_sql.value(
                    dialect.count_entries_by(col, person.actor), models.IntegerField()
                ),
                batch_size=batch_size,
                dry_run=dry_run,
                progress=_notify(progress, self.name, model._meta.label),
            )
            counts.append(StoreCount(model._meta.label, rows, entries))
        return counts

    def export(self, person: Person, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
        yield "changes", self._changes(person, batch_size)

    def _changes(self, person: Person, batch_size: int) -> Items:
        rule = _masking.matcher()
        someone_elses = _SomeoneElses(person)
        for model, field in history_tables():
            alias = _write_alias(model)
            connection = connections[alias]
            dialect = _sql.dialect_for(connection)
            quote = connection.ops.quote_name
            pk_field = model._meta.pk
            assert pk_field is not None
            col = _sql.column(model, field, connection)
            sql, params = dialect.entries_by(
                quote(model._meta.db_table), quote(pk_field.column), col, person.actor
            )
            rows = _sql.plain(model, alias).filter(
                _sql.condition(dialect.has_entry_by(col, person.actor))
            )
            options = options_for(model)
            for first, last in _pk_ranges(rows, batch_size):
                bounds = [pk_field.get_db_prep_value(v, connection) for v in (first, last)]
                with connection.cursor() as cursor:
                    cursor.execute(sql, [*params, *bounds])
                    found = cursor.fetchall()
                for raw_pk, raw_entry in found:
                    entry = json.loads(raw_entry) if isinstance(raw_entry, str) else raw_entry
                    item = {
                        "model": model._meta.label,
                        "object_id": str(pk_field.to_python(raw_pk)),
                        **_exported_entry(entry, options, rule, by_person=True),
                    }
                    if "changes" in item and someone_elses(model, item["object_id"]):
                        item["changes"] = _masking.mask_all(item["changes"])
                    yield item


class _SomeoneElses:
    """Whether a row is about a person other than the one exported (cached per row).

    The values of such rows (another user's e-mail address the person
    corrected, say) are that other person's data: an export masks them.
    """

    def __init__(self, person: Person) -> None:
        self.person = person
        self.models = [
            (model, lookup, _history_owner(model) or model) for model, lookup in person_models()
        ]
        self.known: dict[tuple[type[models.Model], str], bool] = {}

    def __call__(self, model: type[models.Model], object_id: str) -> bool:
        key = (model, object_id)
        if key not in self.known:
            self.known[key] = self._check(model, object_id)
        return self.known[key]

    def _check(self, model: type[models.Model], object_id: str) -> bool:
        for candidate, lookup, owner in self.models:
            if model is not candidate and model is not owner:
                continue
            try:
                rows = _sql.plain(candidate, _write_alias(candidate)).filter(pk=object_id)
                exists = rows.exists()
            except (ValueError, TypeError, ValidationError):
                continue  # not a primary key of this model
            if exists:
                return not rows.filter(**{lookup: self.person.pk}).exists()
        return False


def _history_owner(model: type[models.Model]) -> type[models.Model] | None:
    history = options_for(model).history
    return None if history is None else history.model._meta.concrete_model


def _exported_entry(
    entry: dict[str, Any], options: Any, rule: re.Pattern[str] | None, *, by_person: bool
) -> dict[str, Any]:
    """An entry as the person's export shows it: masked, and nobody else's details.

    The actor is the person or someone else (``by_you``), never named; the
    extra keys (IP, request id) of someone else's act are left out.
    """
    masked = _masking.mask_entry(entry, options, rule)
    masked.pop("user", None)
    masked.pop("user_repr", None)
    if not by_person:
        masked = {key: masked[key] for key in _sql.KEPT_KEYS if key in masked}
    masked["by_you"] = by_person
    return masked


def _pk_ranges(queryset: models.QuerySet[Any], batch_size: int) -> Iterator[tuple[Any, Any]]:
    """``(first, last)`` primary keys of consecutive batches of ``queryset``'s rows."""
    last: Any = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        batch = list(page.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        yield batch[0], batch[-1]
        if len(batch) < batch_size:
            return
        last = batch[-1]


class AccountHistoryStore(_BatchedStore):
    """The history of the person's own rows: the user row (if tracked), ``track_person`` rows.

    Entries there record the person's e-mail addresses, names and the like as
    values; every value becomes ``"***"`` (``null`` stays ``null``), so what
    was changed and when stays known, not what it was.
    """

    name = "account history"

    def _run(
        self, person: Person, *, dry_run: bool, batch_size: int, progress: Progress | None
    ) -> list[StoreCount]:
        counts = []
        for model, lookup in person_models():
            found = _history_rows(model, lookup, person)
            if found is None:
                continue
            owner, field, rows = found
            connection = connections[rows.db]
            dialect = _sql.dialect_for(connection)
            col = _sql.column(owner, field, connection)
            scrubbed = _sql.value(dialect.scrub_values(col), models.JSONField())
            changed, entries = _sql.run_batches(
                rows.filter(_sql.condition(dialect.has_values(col))),
                _sql.setting(**{field.name: scrubbed}),
                weight=_sql.value(dialect.count_values(col), models.IntegerField()),
                batch_size=batch_size,
                dry_run=dry_run,
                progress=_notify(progress, self.name, model._meta.label),
            )
            counts.append(StoreCount(model._meta.label, changed, entries))
        return counts

    def export(self, person: Person, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
        yield "account_history", self._entries(person, batch_size)

    def _entries(self, person: Person, batch_size: int) -> Items:
        rule = _masking.matcher()
        for model, lookup in person_models():
            found = _history_rows(model, lookup, person)
            if found is None:
                continue
            _owner, field, rows = found
            options = options_for(model)
            for pk, history in (
                rows.order_by("pk").values_list("pk", field.attname).iterator(batch_size)
            ):
                for entry in history if isinstance(history, list) else ():
                    if isinstance(entry, dict):
                        yield {
                            "model": model._meta.label,
                            "object_id": str(pk),
                            **_exported_entry(
                                entry, options, rule, by_person=entry.get("user") == person.actor
                            ),
                        }


# --- stamps ---------------------------------------------------------------------------


class StampStore(_BatchedStore):
    """``created_by``, ``updated_by``, ``deleted_by`` (any user stamp) pointing at the person.

    Set to NULL with one UPDATE per batch; the rows' history and ``updated_at``
    are left alone (this is not a change of the row's data).
    """

    name = "stamps"

    def _run(
        self, person: Person, *, dry_run: bool, batch_size: int, progress: Progress | None
    ) -> list[StoreCount]:
        counts = []
        for model, field in user_stamp_fields():
            target = f"{model._meta.label}.{field.name}"
            rows, _ = _sql.run_batches(
                _sql.plain(model, _write_alias(model)).filter(**{field.attname: person.pk}),
                _sql.setting(**{field.attname: None}),
                batch_size=batch_size,
                dry_run=dry_run,
                progress=_notify(progress, self.name, target),
            )
            counts.append(StoreCount(target, rows))
        return counts

    def export(self, person: Person, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
        yield "stamps", self._stamps(person, batch_size)

    def _stamps(self, person: Person, batch_size: int) -> Items:
        for model, field in user_stamp_fields():
            rows = _sql.plain(model, _write_alias(model)).filter(**{field.attname: person.pk})
            for pk in rows.order_by("pk").values_list("pk", flat=True).iterator(batch_size):
                yield {"model": model._meta.label, "object_id": str(pk), "field": field.name}


# --- the audit log ------------------------------------------------------------------------


class AuditLogStore(_BatchedStore):
    """``AuditLog`` rows by the person, and rows about the person's own rows.

    Rows by the person lose ``actor`` (NULL), ``actor_repr`` (:data:`ERASED`)
    and ``extra``; rows about the person's rows have every value of
    ``changes`` masked and ``target_repr`` :data:`ERASED`.
    """

    name = "audit log"

    def _run(
        self, person: Person, *, dry_run: bool, batch_size: int, progress: Progress | None
    ) -> list[StoreCount]:
        from django_trackable.models import AuditLog
        from django_trackable.models.visits import write_database

        alias = write_database(AuditLog)
        label = AuditLog._meta.label
        by_target, about_target = f"{label} (actor)", f"{label} (about the person)"
        by, _ = _sql.run_batches(
            _sql.plain(AuditLog, alias).filter(actor_id=person.pk),
            _sql.setting(actor=None, actor_repr=ERASED, extra={}),
            batch_size=batch_size,
            dry_run=dry_run,
            progress=_notify(progress, self.name, by_target),
        )
        connection = connections[alias]
        dialect = _sql.dialect_for(connection)
        changes_field = AuditLog._meta.get_field("changes")
        assert isinstance(changes_field, models.Field)
        changes = _sql.column(AuditLog, changes_field, connection)
        scrubbed = _sql.value(dialect.scrub_changes(changes), models.JSONField())
        unscrubbed = Q(_sql.condition(dialect.changes_have_values(changes))) | ~Q(
            target_repr=ERASED
        )
        about = 0
        for about_rows in _about(person, batch_size):
            done, _ = _sql.run_batches(
                _sql.plain(AuditLog, alias).filter(about_rows).filter(unscrubbed),
                _sql.setting(target_repr=ERASED, changes=scrubbed),
                batch_size=batch_size,
                dry_run=dry_run,
                progress=_notify(progress, self.name, about_target),
            )
            about += done
        return [StoreCount(by_target, by), StoreCount(about_target, about)]

    def export(self, person: Person, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
        yield "audit_log", self._rows(person, batch_size)

    def _rows(self, person: Person, batch_size: int) -> Items:
        from django_trackable.models import AuditLog
        from django_trackable.models.visits import write_database

        alias = write_database(AuditLog)
        rule = _masking.matcher()
        yield from _audit_items(
            _sql.plain(AuditLog, alias).filter(actor_id=person.pk),
            rule,
            batch_size,
            _SomeoneElses(person),
        )
        for about_rows in _about(person, batch_size):
            yield from _audit_items(
                _sql.plain(AuditLog, alias).filter(about_rows).exclude(actor_id=person.pk),
                rule,
                batch_size,
                None,
            )


def _about(person: Person, batch_size: int) -> Iterator[Q]:
    """Conditions on ``AuditLog`` for the rows about ``person``'s rows, a batch of ids each."""
    from django_trackable.models.audit import content_type_for

    for model, lookup in person_models():
        content_type = content_type_for(model)
        if lookup == "pk":
            yield Q(content_type_id=content_type.pk, object_id=str(person.pk))
            continue
        ids = (
            _sql.plain(model, _write_alias(model))
            .filter(**{lookup: person.pk})
            .order_by("pk")
            .values_list("pk", flat=True)
            .iterator(batch_size)
        )
        for chunk in _chunks(ids, batch_size):
            yield Q(content_type_id=content_type.pk, object_id__in=[str(pk) for pk in chunk])


def _chunks(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _audit_items(
    rows: models.QuerySet[Any],
    rule: re.Pattern[str] | None,
    batch_size: int,
    someone_elses: _SomeoneElses | None,
) -> Items:
    """Audit rows as an export shows them.

    ``someone_elses`` is given for rows by the person (their acts), ``None``
    for others' acts on the person's rows, whose actor and extras stay out.
    """
    from django.contrib.contenttypes.models import ContentType

    by_person = someone_elses is not None
    for row in rows.order_by("pk").iterator(batch_size):
        model = None
        if row.content_type_id is not None:
            model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        options = options_for(model) if model is not None else None
        changes = row.changes
        if isinstance(changes, dict):
            changes = _masking.mask_changes(changes, options, rule)
        target = row.target_repr
        if someone_elses is not None and model is not None and someone_elses(model, row.object_id):
            changes, target = _masking.mask_all(changes), OTHER_PERSON
        yield {
            "timestamp": to_json(row.timestamp),
            "action": row.action,
            "model": model._meta.label if model is not None else None,
            "object_id": row.object_id,
            "target_repr": target,
            "by_you": by_person,
            "changes": changes,
            # Someone else's act: their IP or request id is not the person's data.
            "extra": mask_by_name(row.extra, rule)
            if by_person and isinstance(row.extra, dict)
            else {},
        }


# --- visits, login attempts, devices ----------------------------------------------------------

#: ``ERASE_REQUEST_METADATA`` values.
DELETE, ANONYMIZE = "delete", "anonymize"


def _network(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return anonymize_ip(ip)
    except ValueError:
        return None


class _RequestMetadataStore(_BatchedStore):
    """Rows of one request-metadata model: deleted, or anonymised (``ERASE_REQUEST_METADATA``).

    Anonymised rows keep their time, the parsed browser, OS and device
    families and the country; the user link, the user agent and versions, the
    city are cleared and IP addresses cut to their network (IPv4 /24, IPv6
    /48), as ``ANONYMIZE_IP`` stores them.
    """

    section = ""
    #: Fields an export shows.
    exported: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def model(self) -> type[models.Model]: ...

    @abc.abstractmethod
    def matching(self, person: Person) -> Q: ...

    @abc.abstractmethod
    def anonymized(self, row: Any, person: Person) -> dict[str, Any]:
        """The new values of an anonymised ``row``."""

    def _rows(self, person: Person) -> models.QuerySet[Any]:
        from django_trackable.models.visits import write_database

        model = self.model()
        rows: models.QuerySet[Any] = _sql.plain(model, write_database(model)).filter(
            self.matching(person)
        )
        return rows

    def _run(
        self, person: Person, *, dry_run: bool, batch_size: int, progress: Progress | None
    ) -> list[StoreCount]:
        rows = self._rows(person)
        if trackable_settings.ERASE_REQUEST_METADATA == ANONYMIZE:

            def apply(span: models.QuerySet[Any]) -> int:
                changed = list(span)
                if not changed:  # deleted since the batch was selected
                    return 0
                fields: set[str] = set()
                for row in changed:
                    values = self.anonymized(row, person)
                    fields.update(values)
                    for name, value in values.items():
                        setattr(row, name, value)
                return _sql.plain(span.model, span.db).bulk_update(changed, sorted(fields))

        else:
            apply = _sql.deleting

        label = self.model()._meta.label
        done, _ = _sql.run_batches(
            rows,
            apply,
            batch_size=batch_size,
            dry_run=dry_run,
            progress=_notify(progress, self.name, label),
        )
        return [StoreCount(label, done)]

    def export(self, person: Person, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
        yield self.section, self._items(person, batch_size)

    def _items(self, person: Person, batch_size: int) -> Items:
        from django_trackable.models.visits import mask_url

        for row in self._rows(person).order_by("pk").iterator(batch_size):
            item = {"id": to_json(row.pk)}
            for name in self.exported:
                value = getattr(row, name)
                if name in ("url", "referrer"):
                    value = mask_url(value)
                item[name] = to_json(value)
            yield item


_CLIENT = (
    "user_agent",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device",
    "device_type",
    "city",
    "country",
)


def _client_cleared(row: _ClientFields) -> dict[str, Any]:
    return {
        "user": None,
        "ip": _network(row.ip),
        "user_agent": "",
        "browser_version": "",
        "os_version": "",
        "city": "",
    }


def _path_without(url: str, person: Person) -> str:
    """The path of ``url``, without query or fragment and with the person's identifiers erased."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    for identifier in person.identifiers:
        for form in {identifier, urllib.parse.quote(identifier, safe="")}:
            path = re.sub(re.escape(form), "erased", path, flags=re.IGNORECASE)
    return path


def _origin(url: str) -> str:
    """``https://example.com/`` of a referrer: where the visit came from, not which page."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    return f"{parts.scheme}://{host}{port}/" if parts.scheme and host else ""


class VisitStore(_RequestMetadataStore):
    name = "visits"
    section = "visits"
    exported = ("timestamp", "method", "url", "status_code", "referrer", "ip", *_CLIENT)

    def model(self) -> type[models.Model]:
        from django_trackable.models import UserVisit

        return UserVisit

    def matching(self, person: Person) -> Q:
        return Q(user_id=person.pk)

    def anonymized(self, row: Any, person: Person) -> dict[str, Any]:
        return {
            **_client_cleared(row),
            "url": _path_without(row.url, person),
            "referrer": _origin(row.referrer),
        }


class LoginAttemptStore(_RequestMetadataStore):
    """Logins, and failed attempts under the person's username or e-mail (any case)."""

    name = "login attempts"
    section = "login_attempts"
    exported = ("timestamp", "username", "successful", "ip", *_CLIENT)

    def model(self) -> type[models.Model]:
        from django_trackable.models import LoginAttempt

        return LoginAttempt

    def matching(self, person: Person) -> Q:
        typed = Q()
        for identifier in person.identifiers:
            typed |= Q(username__iexact=identifier)
        if not typed:
            return Q(user_id=person.pk)
        return Q(user_id=person.pk) | (Q(user__isnull=True) & typed)

    def anonymized(self, row: Any, person: Person) -> dict[str, Any]:
        return {**_client_cleared(row), "username": ""}


class DeviceStore(_RequestMetadataStore):
    name = "devices"
    section = "devices"
    exported = (
        "browser",
        "os",
        "device",
        "device_type",
        "user_agent",
        "first_seen",
        "last_seen",
        "last_ip",
        "city",
        "country",
        "login_count",
    )

    def model(self) -> type[models.Model]:
        from django_trackable.models import UserDevice

        return UserDevice

    def matching(self, person: Person) -> Q:
        return Q(user_id=person.pk)

    def anonymized(self, row: Any, person: Person) -> dict[str, Any]:
        return {"user": None, "last_ip": _network(row.last_ip), "user_agent": "", "city": ""}


# --- record tables (recorded properties) --------------------------------------------------

#: The text columns an anonymised record of the person's row gets when they cannot be NULL.
_TEXT_FIELDS = (models.CharField, models.TextField)


def _cleared(field: models.Field[Any, Any]) -> tuple[Any, Q] | None:
    """What anonymising puts in a record's value column, and the test for "not cleared yet".

    NULL where the column allows it, ``""`` in other text columns; ``None``
    for columns that can hold neither (a non-null number, date or boolean),
    which are kept.
    """
    if field.null:
        return None, Q(**{f"{field.attname}__isnull": False})
    if isinstance(field, _TEXT_FIELDS) and not field.is_relation:
        return "", ~Q(**{field.attname: ""})
    return None


@dataclass(frozen=True)
class _RecordTable:
    """One record model and where it holds a person: their own rows, columns naming users."""

    model: type[models.Model]
    #: The lookup from a record to the person (``recording_id``, ``recording__user``),
    #: when the recorded model's rows are about a person (the user model, ``track_person``).
    own: str | None
    #: Recorded columns that are foreign keys to the user model, required ones first.
    user_fields: tuple[models.Field[Any, Any], ...]

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows(self) -> models.QuerySet[Any]:
        return _sql.plain(self.model, _write_alias(self.model))

    def own_rows(self, person: Person) -> models.QuerySet[Any]:
        assert self.own is not None
        rows: models.QuerySet[Any] = self.rows().filter(**{self.own: person.pk})
        return rows

    def naming(self, person: Person, field: models.Field[Any, Any]) -> models.QuerySet[Any]:
        """Records of other rows whose ``field`` is the person, each counted once.

        Excluded: the person's own records, and records an earlier required
        key (which erasure deletes them for) names the person, so that a dry
        run counts exactly what erasure then changes.
        """
        rows: models.QuerySet[Any] = self.rows().filter(**{_key_lookup(field): person.pk})
        if self.own is not None:
            rows = rows.exclude(**{self.own: person.pk})
        for other in self.user_fields:
            if other is field:
                break
            if not other.null:
                rows = rows.exclude(**{_key_lookup(other): person.pk})
        return rows


def _key_lookup(field: models.Field[Any, Any]) -> str:
    """How to find a user's primary key in a foreign key column (``to_field`` or not)."""
    target: Any = getattr(field, "target_field", None)
    return field.attname if target is None or target.primary_key else f"{field.name}__pk"


def record_tables() -> list[_RecordTable]:
    """Every record model that can hold data about a person, by label.

    Those recording the user model or a ``track_person`` model (records of the
    person's own rows), and those with a recorded foreign key to the user model
    (a record of a task's ``assignee``).
    """
    from django_trackable.models.records import record_models

    owners = dict(person_models())
    tables = []
    for model in record_models():
        recorded: Any = model.recording_model
        concrete = recorded._meta.concrete_model or recorded
        lookup = owners.get(concrete, owners.get(recorded))
        own = None
        if lookup is not None:
            own = "recording_id" if lookup == "pk" else f"recording__{lookup}"
        # Required keys first: their records are deleted, the others' keys nulled.
        fields = tuple(
            sorted(
                (
                    cast("models.Field[Any, Any]", model._meta.get_field(name))
                    for name in model.user_fields()
                ),
                key=lambda field: field.null,
            )
        )
        if own is not None or fields:
            tables.append(_RecordTable(model, own, fields))
    return tables


class RecordStore(_BatchedStore):
    """Record tables: records of the person's own rows, and recorded columns naming them.

    Records of the person's rows (the user row, ``track_person`` rows) are
    deleted, or with ``ERASE_RECORDS = "anonymize"`` keep their time and lose
    their values (NULL, ``""`` in text columns that cannot be NULL). A recorded
    foreign key to the person in a record of another row becomes NULL; where
    the column cannot be NULL, those records are deleted. Every record model
    is covered without registering anything; each is one target of the report.
    """

    name = "records"

    def _run(
        self, person: Person, *, dry_run: bool, batch_size: int, progress: Progress | None
    ) -> list[StoreCount]:
        counts = []
        anonymize = trackable_settings.ERASE_RECORDS == ANONYMIZE
        for table in record_tables():
            if table.own is not None:
                rows = table.own_rows(person)
                apply: Callable[[models.QuerySet[Any]], int] = _sql.deleting
                if anonymize:
                    rows, apply = self._anonymizing(table.model, rows)
                done, _ = _sql.run_batches(
                    rows,
                    apply,
                    batch_size=batch_size,
                    dry_run=dry_run,
                    progress=_notify(progress, self.name, table.label),
                )
                counts.append(StoreCount(table.label, done))
            for field in table.user_fields:
                target = f"{table.label}.{field.name}"
                done, _ = _sql.run_batches(
                    table.naming(person, field),
                    _sql.setting(**{field.attname: None}) if field.null else _sql.deleting,
                    batch_size=batch_size,
                    dry_run=dry_run,
                    progress=_notify(progress, self.name, target),
                )
                counts.append(StoreCount(target, done))
        return counts

    @staticmethod
    def _anonymizing(
        model: type[models.Model], rows: models.QuerySet[Any]
    ) -> tuple[models.QuerySet[Any], Callable[[models.QuerySet[Any]], int]]:
        """The records still holding a value, and the UPDATE that clears them."""
        values: dict[str, Any] = {}
        uncleared = Q()
        for recorded in model._recording:  # type: ignore[attr-defined]
            cleared = _cleared(recorded.field)
            if cleared is not None:
                values[recorded.field.attname] = cleared[0]
                uncleared |= cleared[1]
        if not values:
            return rows.none(), _sql.setting()
        return rows.filter(uncleared), _sql.setting(**values)

    def export(self, person: Person, *, batch_size: int = 1000) -> Iterator[tuple[str, Items]]:
        for table in record_tables():
            yield f"records:{table.label}", self._items(table, person, batch_size)

    def _items(self, table: _RecordTable, person: Person, batch_size: int) -> Items:
        model: Any = table.model
        if table.own is not None:
            rule = _masking.matcher()
            options = options_for(model.recording_model)
            user_columns = {
                field.attname: person.pk if _key_lookup(field) == field.attname else None
                for field in table.user_fields
            }
            columns = [(value.name, value.field.attname) for value in model._recording]
            rows = table.own_rows(person).order_by("pk")
            names = ["pk", "recording_id", "created", *(attname for _, attname in columns)]
            for row in rows.values(*names).iterator(batch_size):
                item: dict[str, JSONValue] = {
                    "id": to_json(row["pk"]),
                    "object_id": str(row["recording_id"]),
                    "created": to_json(row["created"]),
                    "your_row": True,
                }
                for name, attname in columns:
                    tracked = options.by_name.get(name)
                    value = row[attname]
                    if (tracked is not None and tracked.masked) or (
                        rule is not None and rule.search(name) is not None
                    ):
                        item[name] = MASK
                    elif attname in user_columns and value not in (None, user_columns[attname]):
                        item[name] = OTHER_PERSON  # another user: their key is not the person's
                    else:
                        item[name] = to_json(value)
                yield item
        for field in table.user_fields:
            found = table.naming(person, field).order_by("pk")
            triples = found.values_list("pk", "recording_id", "created")
            for pk, recording, created in triples.iterator(batch_size):
                # A record of someone else's row: which one, when, and that it named the
                # person; its other values are not the person's data.
                yield {
                    "id": to_json(pk),
                    "object_id": str(recording),
                    "created": to_json(created),
                    "your_row": False,
                    "field": field.name,
                }


for _store in (
    HistoryStore(),
    AccountHistoryStore(),
    StampStore(),
    AuditLogStore(),
    VisitStore(),
    LoginAttemptStore(),
    DeviceStore(),
    RecordStore(),
):
    register_store(_store)
