"""What a tracked write stores: per-model options, load-time snapshots, save plans.

A tracked instance remembers the values it was loaded with (a reference to the
row tuple Django already built, plus copies of mutable JSON values), so a save
can tell what changed without a query. When the instance is saved, the first
stamp field to run ``pre_save()`` asks :func:`field_pre_save` for a *plan*: the
stamps to write and the history value — a new list for an INSERT, or an
append expression (:class:`~django_trackable.expressions.HistoryAppend`) for an
UPDATE. Bulk operations in :mod:`django_trackable.querysets` use the same plan.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from django_trackable.conf import trackable_settings
from django_trackable.context import get_current_extra, get_current_user, is_tracking_enabled
from django_trackable.expressions import (
    AppendEntry,
    HistoryAppend,
    IfChanged,
    Increment,
    KeepColumn,
    LaterStamp,
    LatestTime,
    SQLChange,
    Unreturned,
    column_of_row,
)
from django_trackable.history import (
    MASK,
    Entry,
    entry_with,
    masked_name_matcher,
    to_json,
    user_repr,
    who_and_when,
)

if TYPE_CHECKING:
    from django_trackable.fields import _StampMixin

# Attributes kept in instance.__dict__ (so they pickle and copy with the instance).
SNAPSHOT = "_trackable_snapshot"
PLAN = "_trackable_plan"
SEED = "_trackable_seed"

ROLES = ("created_at", "updated_at", "created_by", "updated_by", "history")
#: Roles that an UPDATE may change; added to ``save(update_fields=...)``.
#: ``version`` (:class:`~django_trackable.models.VersionedModel`) counts the
#: writes that record an entry: 1 on create, one more with each entry.
UPDATE_ROLES = ("updated_at", "updated_by", "history", "version")

_MUTABLE_TYPES = frozenset({"JSONField", "ArrayField", "HStoreField"})
#: Values a stamp's pre_save() hands to the UPDATE compiler as SQL, not as a
#: value; each has ``as_expression(field_name)`` for callers that need one.
SQL_VALUES = (KeepColumn, Unreturned, AppendEntry, LaterStamp, Increment)
_UNSET: Any = object()


def now() -> datetime.datetime:
    """The clock for stamps and entries (``django.utils.timezone.now``)."""
    return timezone.now()


@dataclass(frozen=True)
class TrackedField:
    name: str
    attname: str
    field: models.Field[Any, Any]
    masked: bool
    mutable: bool
    #: Whether the field's column is in the table that holds ``history``
    #: (under multi-table inheritance the others live in other tables).
    in_history_table: bool = True
    #: Whether the column's table is a multi-table child of the history's: a
    #: save writes it after the history's table, so the UPDATE that appends can
    #: still read its old value (see ``expressions.column_of_row``).
    saved_after_history: bool = False


class ModelOptions:
    """How one model is tracked, worked out once from its fields and class attributes."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        meta = model._meta
        self.roles: dict[str, models.Field[Any, Any]] = {}
        for f in meta.concrete_fields:
            role = getattr(f, "trackable_role", "")
            if role:
                self.roles[role] = f
        self.history = self.roles.get("history")
        self.update_names = frozenset(
            self.roles[role].name for role in UPDATE_ROLES if role in self.roles
        )
        #: Whether saves stamp or record anything. Not so for a model whose only
        #: role fields are the lifecycle mixins' bookkeeping columns
        #: ("deleted_at", "deleted_by", "position"): never diffed, and kept as
        #: the row has them by a plain UPDATE, like every role field.
        self.stamped = any(role in self.roles for role in ROLES)
        self.limit: int | None = trackable_settings.HISTORY_LIMIT
        #: Entries a row keeps in ``history``; older ones move to the log (archive.py).
        #: A model's ``track_history_window`` (an int, or ``None`` for no window)
        #: overrides the setting; ``HISTORY_LIMIT`` drops entries instead.
        self.window: int | None = None
        if self.history is not None and self.limit is None:
            window = getattr(model, "track_history_window", trackable_settings.HISTORY_WINDOW)
            # Anything but a positive int keeps every entry (and is check E006/E003):
            # a window of 0 would empty the rows.
            valid = isinstance(window, int) and not isinstance(window, bool) and window > 0
            self.window = window if valid else None
        #: Whether a save also records the columns it writes over (a lost update).
        self.overwrites = bool(getattr(model, "track_overwrites", False))
        track_audit_log = getattr(model, "track_audit_log", None)
        #: Whether this model's entries also go to the AuditLog table.
        self.audit = self.history is not None and bool(
            trackable_settings.AUDIT_LOG if track_audit_log is None else track_audit_log
        )

        include = getattr(model, "track_fields", None)
        exclude = set(getattr(model, "track_exclude", ()) or ())
        masked_names = set(getattr(model, "track_mask", ()) or ())
        matcher = masked_name_matcher(trackable_settings.MASKED_FIELDS)
        candidates = [
            f
            for f in meta.concrete_fields
            if not f.primary_key and not getattr(f, "trackable_role", "")
        ]
        if include is not None:
            wanted = set(include)
            candidates = [f for f in candidates if f.name in wanted or f.attname in wanted]
        history_table = self.history.model._meta.db_table if self.history is not None else None
        self.tracked = tuple(
            TrackedField(
                name=f.name,
                attname=f.attname,
                field=f,
                masked=f.name in masked_names
                or f.attname in masked_names
                or (matcher is not None and matcher.search(f.name) is not None),
                mutable=f.get_internal_type() in _MUTABLE_TYPES,
                in_history_table=history_table is None or f.model._meta.db_table == history_table,
                saved_after_history=self.history is not None
                and self.history.model in f.model._meta.get_parent_list(),
            )
            for f in candidates
            if f.name not in exclude and f.attname not in exclude
        )
        self.by_name = {tf.name: tf for tf in self.tracked} | {
            tf.attname: tf for tf in self.tracked
        }
        self.mutable_attnames = frozenset(tf.attname for tf in self.tracked if tf.mutable)
        #: ``SET col = col`` for every stamp: what an UPDATE writes when nothing changed.
        self.keep = {role: KeepColumn(f.column or f.attname) for role, f in self.roles.items()}
        #: What a save remembers: the tracked fields and the stamps.
        self.remembered = tuple((tf.name, tf.attname, tf.mutable) for tf in self.tracked) + tuple(
            (f.name, f.attname, False) for f in self.roles.values() if f is not self.history
        )
        #: The columns a row is loaded with when only ``history`` is deferred, and where
        #: ``history`` goes among them (see ``with_history_deferred()``).
        concrete = self.loaded_names = [f.attname for f in meta.concrete_fields]
        self.history_position: int | None = None
        self.loaded_without_history: list[str] = []
        if self.history is not None and self.history.attname in concrete:
            self.history_position = concrete.index(self.history.attname)
            self.loaded_without_history = [n for n in concrete if n != self.history.attname]

    @functools.cached_property
    def audit_possible(self) -> bool:
        """Whether writes to this model's history column may be audited: by this model,
        or by a multi-table child that shares the column."""
        if self.audit:
            return True
        if self.history is None:
            return False
        from django.apps import apps

        return any(
            options_for(m).audit
            for m in apps.get_models()
            if m is not self.model and options_for(m).history is self.history
        )


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """The object an append is about, for its AuditLog row and ``history_recorded``
    (see :mod:`django_trackable.audit`)."""

    model: type[models.Model]
    pk: Any = None
    repr: str = ""
    instance: Any = field(default=None, compare=False)


def statement_hooks(model: type[models.Model]) -> bool:
    """Whether writes of ``model`` run as tracked statements: for the audit log, or for
    receivers of :data:`~django_trackable.signals.history_recorded`."""
    from django_trackable.signals import history_recorded

    options = options_for(model)
    return options.audit_possible or options.window is not None or bool(history_recorded.receivers)


#: Longest ``target_repr`` kept.
REPR_LENGTH = 255


def audit_target(instance: models.Model) -> AuditTarget:
    """``instance`` as an :class:`AuditTarget` (its ``str()``, when its model defines one)."""
    return AuditTarget(type(instance), instance.pk, instance_repr(instance), instance)


def instance_repr(instance: models.Model) -> str:
    """``str(instance)`` for the audit log; empty for Django's default ``__str__``.

    The default shows the primary key, which an INSERT has not assigned yet;
    readers show "<model> <pk>" for an empty text anyway.
    """
    if type(instance).__str__ is models.Model.__str__:
        return ""
    return (user_repr(instance) or "")[:REPR_LENGTH]


_options: dict[type[models.Model], ModelOptions] = {}


def options_for(model: type[models.Model]) -> ModelOptions:
    """The (cached) :class:`ModelOptions` of ``model``."""
    try:
        return _options[model]
    except KeyError:
        options = _options[model] = ModelOptions(model)
        return options


def clear_model_options() -> None:
    """Forget cached options; called when the ``TRACKABLE`` setting changes."""
    _options.clear()


# --- snapshots -------------------------------------------------------------


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def with_history_deferred(
    model: type[models.Model], field_names: Any, values: Any
) -> tuple[Any, Any] | None:
    """Every column's name and value, ``DEFERRED`` for ``history``, for a row loaded
    with all columns but ``history`` (the managers' default); ``None`` for other rows.

    Django's ``from_db()`` places a deferred column by searching the loaded names
    once per field of the model; for the one shape every listing loads, the
    position is known, and Django's own fast path (all columns given) builds
    the instance.
    """
    options = options_for(model)
    position = options.history_position
    if position is None or field_names != options.loaded_without_history:
        return None
    return options.loaded_names, (*values[:position], models.DEFERRED, *values[position:])


def capture_loaded(instance: models.Model, field_names: Any, values: Any) -> None:
    """Remember the values an instance was loaded with (called from ``from_db``).

    Stores references to what Django already built; only mutable values (JSON
    objects and lists) are copied, so that in-place edits are seen as changes.
    """
    mutable = options_for(type(instance)).mutable_attnames
    copies = None
    if mutable:
        copies = {
            name: _copy_json(value)
            for name, value in zip(field_names, values, strict=True)
            if name in mutable
        }
    instance.__dict__[SNAPSHOT] = (field_names, values, copies)


def snapshot_of(instance: models.Model) -> dict[str, Any] | None:
    """The remembered values by attname, or ``None`` if the instance was never loaded."""
    raw = instance.__dict__.get(SNAPSHOT)
    if raw is None or isinstance(raw, dict):
        return raw
    names, values, copies = raw
    snapshot = dict(zip(names, values, strict=True))
    if copies:
        snapshot.update(copies)
    instance.__dict__[SNAPSHOT] = snapshot
    return snapshot


def remember(instance: models.Model, only: Iterable[str] | None = None) -> None:
    """Take the instance's current values as the new baseline (after a save or refresh)."""
    snapshot = snapshot_of(instance)
    if snapshot is None:
        snapshot = instance.__dict__[SNAPSHOT] = {}
    wanted = None if only is None else set(only)
    current = instance.__dict__
    for name, attname, mutable in options_for(type(instance)).remembered:
        if attname not in current or (
            wanted is not None and name not in wanted and attname not in wanted
        ):
            continue
        value = current[attname]
        snapshot[attname] = _copy_json(value) if mutable else value


# --- save plans --------------------------------------------------------------

#: The action (and extra keys) of update entries written inside :func:`recording_as`.
_action_var: ContextVar[tuple[str, Mapping[str, Any]] | None] = ContextVar(
    "trackable_action", default=None
)


@contextlib.contextmanager
def recording_as(action: str, **extra: Any) -> Iterator[None]:
    """Inside the block, saves record ``action`` (e.g. ``"revert"``) instead of ``"update"``.

    ``extra`` keys are added to those entries (after ``acting_as()``'s).
    """
    token = _action_var.set((action, extra))
    try:
        yield
    finally:
        _action_var.reset(token)


def _update_action() -> tuple[str, Mapping[str, Any]]:
    """The action and extra keys of the next update entry."""
    override = _action_var.get()
    extra = get_current_extra()
    if override is None:
        return "update", extra
    action, more = override
    return action, {**extra, **more}


@dataclass
class Seed:
    """What the caller of a write knows before fields run ``pre_save()``."""

    now: datetime.datetime = field(default_factory=now)
    only: frozenset[str] | None = None
    user: Any = _UNSET

    #: ``who_and_when(now, user)``: worked out once for all the rows of a write.
    stamp: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def resolve_user(self) -> Any:
        if self.user is _UNSET:
            self.user = get_current_user()
        return self.user

    def entry(self, action: str, changes: Any, extra: Mapping[str, Any] | None) -> Entry:
        """``build_entry(action, self.now, self.resolve_user(), changes, extra)``."""
        if self.stamp is None:
            self.stamp = who_and_when(self.now, self.resolve_user())
        return entry_with(action, self.stamp, changes, extra)


@dataclass(slots=True)
class Plan:
    """The values one write stores, by stamp role."""

    add: bool
    values: dict[str, Any]
    user: Any = None
    entry: Entry | None = None
    #: The entry is assembled in SQL, so Python does not know what was appended.
    sql_entry: bool = False


def begin_write(instance: models.Model, seed: Seed) -> None:
    """Prepare ``instance`` for a save or bulk write that will call ``pre_save()``."""
    instance.__dict__.pop(PLAN, None)
    instance.__dict__[SEED] = seed


def field_pre_save(field: _StampMixin, instance: models.Model, add: bool) -> Any:
    """The value a stamp or history field writes; see the module docstring."""
    plan: Plan | None = instance.__dict__.get(PLAN)
    if plan is None or plan.add is not add:
        plan = instance.__dict__[PLAN] = make_plan(instance, add)
    model_field: Any = field
    role = field.trackable_role
    try:
        value = plan.values[role]
    except KeyError:
        return getattr(instance, model_field.attname)
    if type(value) in SQL_VALUES:
        if type(value) is LaterStamp:  # the instance holds its own time
            instance.__dict__[model_field.attname] = value.time
        if role == "version" and type(value) is not KeepColumn:
            # Only the database knows the new count: read it again on access
            # (post_save receivers, such as django-reversion's, see it too).
            instance.__dict__.pop(model_field.attname, None)
        return value
    if role == "created_by" or role == "updated_by":
        instance.__dict__[model_field.attname] = value
        if value is not None:
            model_field.set_cached_value(instance, plan.user)
        else:
            instance._state.fields_cache.pop(model_field.name, None)
        return value
    instance.__dict__[model_field.attname] = value
    return value


def finish_write(instance: models.Model, *, saved: bool) -> None:
    """Update the snapshot and the instance's own ``history`` after a write."""
    plan: Plan | None = instance.__dict__.pop(PLAN, None)
    seed: Seed | None = instance.__dict__.pop(SEED, None)
    if not saved or plan is None:
        return
    options = options_for(type(instance))
    remember(instance, None if plan.add or seed is None else seed.only)
    version = options.roles.get("version")
    if version is not None and not plan.add and bumps_version(plan.values.get("version")):
        instance.__dict__.pop(version.attname, None)  # counted in SQL: load it on access
    history = options.history
    if history is None or plan.add:
        return
    if plan.sql_entry:
        # Only the database knows what was appended: load it again on access.
        instance.__dict__.pop(history.attname, None)
        return
    entries = instance.__dict__.get(history.attname)
    if plan.entry is not None and isinstance(entries, list):
        entries.append(plan.entry)
        if options.limit is not None and len(entries) > options.limit:
            del entries[: -options.limit]
        elif options.window is not None and past_window(len(entries), options.window):
            del entries[: -options.window]  # as the row: the move took the older ones


def past_window(length: int, window: int) -> bool:
    """Whether a row holding ``length`` entries moves its oldest out (archive.py): at
    twice its window, so each move takes a window's worth and saves between pay none."""
    return length >= 2 * window


def user_pk_for(field: models.Field[Any, Any] | None, user: Any) -> Any:
    """The user's pk for a ``*_by`` foreign key, or ``None`` if it is not a saved user."""
    if field is None or user is None:
        return None
    if not isinstance(user, field.related_model):  # type: ignore[arg-type]
        return None
    return user.pk


def make_plan(instance: models.Model, add: bool) -> Plan:
    options = options_for(type(instance))
    seed: Seed = instance.__dict__.get(SEED) or Seed()
    roles = options.roles
    history = options.history
    values: dict[str, Any]

    if not is_tracking_enabled():
        return Plan(add, {} if add else _untracked_update(instance, options))

    if not options.stamped:  # e.g. SoftDeleteModel alone: no user to resolve
        return Plan(add, {} if add else dict(options.keep))

    if add:
        user = seed.resolve_user()
        pk = user_pk_for(roles.get("created_by"), user)
        values = {
            "created_at": seed.now,
            "updated_at": seed.now,
            "created_by": pk,
            "updated_by": pk,
        }
        entry = None
        if history is not None:
            entry = seed.entry("create", _initial_changes(instance, options), get_current_extra())
            values["history"] = [entry]
            if "version" in roles:
                values["version"] = 1
        return Plan(True, values, user=user, entry=entry)

    keep: dict[str, Any] = dict(options.keep)
    snapshot = snapshot_of(instance)
    if snapshot is not None:
        for role in ("created_at", "created_by"):
            f = roles.get(role)
            if f is not None and instance.__dict__.get(f.attname, _UNSET) is not snapshot.get(
                f.attname, _UNSET
            ):
                del keep[role]  # changed by hand on purpose: write it

    if history is None:  # stamps only (AuditableModel): every save is a change
        user = seed.resolve_user()
        values = {
            **keep,
            "updated_at": seed.now,
            "updated_by": user_pk_for(roles.get("updated_by"), user),
        }
        return Plan(False, values, user=user)

    known, sql_changes = _diff(instance, options, snapshot, seed.only)
    if not known and not sql_changes:
        return Plan(False, keep)

    user = seed.resolve_user()
    user_pk = user_pk_for(roles.get("updated_by"), user)
    action, extra = _update_action()
    entry = seed.entry(action, known, extra)
    target = audit_target(instance) if statement_hooks(type(instance)) else None
    if sql_changes:
        append: Any = Unreturned(
            HistoryAppend(history.name, entry, sql_changes, options.limit, target=target)
        )
    else:
        append = AppendEntry(history.column or history.attname, entry, options.limit, target)
    values = {**keep, "history": append}
    updated_at = roles.get("updated_at")
    if "version" in roles:
        values["version"] = next_version(roles["version"], () if known else sql_changes)
    if known:
        if updated_at is not None:
            values["updated_at"] = LaterStamp(updated_at, seed.now)
        values["updated_by"] = user_pk
    else:  # whether anything changes is only known to the database
        stamps: tuple[tuple[str, Any], ...] = (("updated_by", user_pk),)
        if updated_at is not None:
            stamps += (("updated_at", LatestTime(updated_at, seed.now)),)
        for role, value in stamps:
            if role in roles:
                values[role] = Unreturned(IfChanged(roles[role], value, sql_changes))
    return Plan(False, values, user=user, entry=entry, sql_entry=bool(sql_changes))


def _untracked_update(instance: models.Model, options: ModelOptions) -> dict[str, Any]:
    """What an UPDATE inside ``tracking_disabled()`` writes to the role columns.

    No stamps and no entry -- never "whatever the instance holds": ``history``
    and the lifecycle columns (``date_deleted``, ``deleted_by``, ``position``)
    stay as the row has them, so a stale instance cannot undelete or reorder
    a row. A stamp the code assigned since the instance was loaded (an import
    setting ``created_at``, say) is written as given.
    """
    keep = dict(options.keep)
    snapshot = snapshot_of(instance)
    current = instance.__dict__
    for role in _STAMP_ROLES:
        f = options.roles.get(role)
        if f is None or f.attname not in current:
            continue
        if snapshot is None or current[f.attname] is not snapshot.get(f.attname, _UNSET):
            del keep[role]
    return keep


#: The stamps a save sets; the other roles are bookkeeping of the lifecycle mixins.
_STAMP_ROLES = ("created_at", "updated_at", "created_by", "updated_by")


def next_version(field: models.Field[Any, Any], sql_changes: Sequence[SQLChange] = ()) -> Any:
    """The ``version`` an UPDATE that appends an entry writes: one more, counted in SQL.

    With ``sql_changes`` the entry is only appended where a value changes, and
    so is the count raised.
    """
    if not sql_changes:
        return Increment(field.column or field.attname)
    return Unreturned(IfChanged(field, models.F(field.name) + 1, sql_changes))


def bumps_version(value: Any) -> bool:
    """Whether a planned ``version`` value is counted by the database."""
    return type(value) is Increment or type(value) is Unreturned


def _initial_changes(instance: models.Model, options: ModelOptions) -> dict[str, Any]:
    changes: dict[str, list[Any]] = {}
    current = instance.__dict__
    for tf in options.tracked:
        if tf.attname not in current:
            continue
        value = current[tf.attname]
        if tf.masked and value not in (None, ""):
            changes[tf.name] = [None, MASK]
        else:
            changes[tf.name] = [None, to_json(value)]
    return changes


def _sql_change(tf: TrackedField, new: Any) -> SQLChange | None:
    """``tf`` as a change a save's UPDATE reads the old value of, if it can."""
    if tf.in_history_table:
        return SQLChange(tf.field, new, masked=tf.masked)
    if tf.saved_after_history:
        old = column_of_row(tf.field.model, tf.field)
        return SQLChange(tf.field, new, masked=tf.masked, old=old)
    return None  # written before the history's table: its old value is gone


def _same(tf: TrackedField, old: Any, new: Any) -> bool:
    if new is old:
        return True
    try:
        if new == old:
            return True
        if old is None or new is None or type(old) is type(new):
            return False
        # "12.50" assigned to a DecimalField that held Decimal("12.50").
        return bool(tf.field.to_python(new) == old)
    except Exception:  # noqa: BLE001 - an odd value is a change, never an error
        return False


def _diff(
    instance: models.Model,
    options: ModelOptions,
    snapshot: dict[str, Any] | None,
    only: frozenset[str] | None,
) -> tuple[dict[str, list[Any]], list[SQLChange]]:
    """Changed fields with known old values, and fields whose old value only SQL knows."""
    known: dict[str, list[Any]] = {}
    sql_changes: list[SQLChange] = []
    current = instance.__dict__
    for tf in options.tracked:
        if only is not None and tf.name not in only and tf.attname not in only:
            continue
        try:
            new = current[tf.attname]
        except KeyError:  # deferred and never assigned: not saved either
            continue
        if snapshot is None or tf.attname not in snapshot:
            change = _sql_change(tf, new)
            if change is not None:
                sql_changes.append(change)
            continue
        old = snapshot[tf.attname]
        if _same(tf, old, new):
            if options.overwrites:
                # Unchanged here, but the row may hold another writer's value:
                # the UPDATE compares and records what it writes over.
                change = _sql_change(tf, new)
                if change is not None:
                    sql_changes.append(change)
            continue
        known[tf.name] = [MASK, MASK] if tf.masked else [to_json(old), to_json(new)]
    return known, sql_changes
