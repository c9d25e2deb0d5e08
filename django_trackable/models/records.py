"""Recorded properties: a typed time series of chosen values of a model (django-record).

A *record model* has one column per recorded value, a foreign key ``recording``
to the recorded instance (reverse name ``records``) and a ``created``
timestamp. It is declared as a :class:`RecordModel` subclass, or created for a
model that mixes in :class:`RecordedModelMixin`; either way it is an ordinary
model of the user's app, so ``makemigrations`` writes its table.

When records are written (the full rules are in docs/records.md):

- on create, one record;
- on a save, when a recorded value differs from the latest record. The values
  an instance last recorded are remembered on it, so a save that changes no
  recorded value costs no query; otherwise one ``INSERT ... SELECT ... WHERE
  NOT EXISTS`` compares with the latest record *in the database* and writes
  only if something changed;
- when a relative named in ``auditing_relatives`` is saved, deleted, or
  linked (many-to-many): the dependants are loaded in one query and their
  records written by one statement, whatever their number.

Records are written with SQL, not with ``save()``: a record model's own
signals are not sent.
"""

from __future__ import annotations

import copy
import datetime
import importlib
import inspect
import logging
import sqlite3
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, cast

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import connections, models, router
from django.db.models.base import ModelBase
from django.db.models.fields.related import ForeignObjectRel
from django.db.models.functions import RowNumber, Trunc
from django.db.models.signals import (
    class_prepared,
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_trackable import tracking
from django_trackable.context import is_tracking_enabled
from django_trackable.managers import LifecycleQuerySet

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "RecordModel",
    "RecordQuerySet",
    "RecordedModelMixin",
    "RecordedQuerySet",
    "record_model_for",
    "record_models",
]

logger = logging.getLogger("django_trackable.records")

_M = TypeVar("_M", bound=models.Model)

#: The version that removes django-record's deprecated names.
REMOVED_IN = "1.0"

#: What a recorded instance keeps in ``__dict__``: record model → the values it
#: last recorded (or found already recorded).
REMEMBERED = "_trackable_recorded"
#: What a relative keeps in ``__dict__``: foreign key attname → value as loaded.
_LOADED_LINKS = "_trackable_record_links"
#: Dependants' primary keys, taken before a relative is deleted.
_DEPENDANTS = "_trackable_record_dependants"

#: Names a record model uses itself; a recorded value cannot have them.
_RESERVED = frozenset({"id", "pk", "recording", "recording_id", "created", "objects"})

_MISSING: Any = object()


# --- resample rules and windows ---------------------------------------------

#: Resample rules (django-record passed them to pandas) → truncation kind.
RESAMPLE_RULES: dict[str, str] = {
    "T": "minute",
    "min": "minute",
    "H": "hour",
    "h": "hour",
    "D": "day",
    "W": "week",
    "M": "month",
    "ME": "month",
    "Y": "year",
    "YE": "year",
}


def _months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """``moment`` ``months`` calendar months earlier, in the current time zone.

    The day is clamped to the target month's last day (31 March - 1 month is
    28 or 29 February).
    """
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    index = local.year * 12 + (local.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number >= 0, not {value!r}")
    return value


def _amount(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{what} must be a number >= 0, not {value!r}")
    return float(value)


class RecordQuerySet(models.QuerySet[_M]):
    """The queryset (and, as ``objects`` and ``records``, the manager) of record models.

    Windows count back from now (``django.utils.timezone.now``) and include
    their start; months and years are calendar months and years.
    """

    def created_in(self, delta: datetime.timedelta) -> Self:
        """Records created in the last ``delta`` (a :class:`datetime.timedelta`)."""
        if not isinstance(delta, datetime.timedelta):
            raise TypeError(f"created_in() takes a datetime.timedelta, not {delta!r}")
        return cast("Self", self.filter(created__gte=timezone.now() - delta))

    def created_in_seconds(self, seconds: float = 1) -> Self:
        """Records created in the last ``seconds`` seconds."""
        return self.created_in(datetime.timedelta(seconds=_amount(seconds, "seconds")))

    def created_in_minutes(self, minutes: float = 1) -> Self:
        """Records created in the last ``minutes`` minutes."""
        return self.created_in(datetime.timedelta(minutes=_amount(minutes, "minutes")))

    def created_in_hours(self, hours: float = 1) -> Self:
        """Records created in the last ``hours`` hours."""
        return self.created_in(datetime.timedelta(hours=_amount(hours, "hours")))

    def created_in_days(self, days: float = 1) -> Self:
        """Records created in the last ``days`` days (24 hours each)."""
        return self.created_in(datetime.timedelta(days=_amount(days, "days")))

    def created_in_weeks(self, weeks: float = 1) -> Self:
        """Records created in the last ``weeks`` weeks."""
        return self.created_in(datetime.timedelta(weeks=_amount(weeks, "weeks")))

    def created_in_months(self, months: int = 1) -> Self:
        """Records created since the same moment ``months`` calendar months ago."""
        start = _months_before(timezone.now(), _count(months, "months"))
        return cast("Self", self.filter(created__gte=start))

    def created_in_years(self, years: int = 1) -> Self:
        """Records created since the same moment ``years`` calendar years ago."""
        start = _months_before(timezone.now(), 12 * _count(years, "years"))
        return cast("Self", self.filter(created__gte=start))

    def resample(self, rule: str) -> Self:
        """The last record of each minute, hour, day, week, month or year, per recorded instance.

        ``rule`` is one of django-record's pandas rules: ``"T"`` (or ``"min"``)
        minutes, ``"H"`` (or ``"h"``) hours, ``"D"`` days, ``"W"`` weeks
        (starting on Monday), ``"M"`` (or ``"ME"``) months and ``"Y"`` (or
        ``"YE"``) years. Buckets are truncated in the current time zone. The
        work is done by the database (a truncation and a ``ROW_NUMBER()``
        window, one query); the result is a queryset of records, ordered as
        the model orders them, that can be filtered and aggregated further.
        """
        try:
            kind = RESAMPLE_RULES[rule]
        except (KeyError, TypeError):
            known = ", ".join(repr(r) for r in RESAMPLE_RULES)
            raise ValueError(
                f"unknown resample rule {rule!r}; use one of {known} "
                "(multiples such as '15T' are not supported)"
            ) from None
        bucket = Trunc("created", kind, output_field=models.DateTimeField())
        ranked = self.annotate(
            _record_rank=models.Window(
                RowNumber(),
                partition_by=[models.F("recording"), bucket],
                order_by=[models.F("created").desc(), models.F("pk").desc()],
            )
        )
        last = ranked.filter(_record_rank=1).values("pk")
        return cast("Self", self.model._default_manager.using(self.db).filter(pk__in=last))

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame indexed by ``created`` (needs pandas).

        Columns: ``recording`` (the recorded instance's primary key) and each
        recorded value. One query. Install the ``pandas`` extra
        (``pip install "django-trackable-audit[pandas]"``) to use it.
        """
        try:
            pd: Any = importlib.import_module("pandas")
        except ImportError as exc:
            raise ImportError(
                'to_dataframe() needs pandas: pip install "django-trackable-audit[pandas]"'
            ) from exc
        names = ["created", "recording", *self.model._recorded_names()]  # type: ignore[attr-defined]
        rows = list(self.values_list(*names))
        return pd.DataFrame.from_records(rows, columns=names).set_index("created")


# --- what a record model records ---------------------------------------------


@dataclass(frozen=True)
class _Value:
    """One recorded value: where to read it on the instance, which column holds it."""

    name: str
    field: models.Field[Any, Any]
    source: str
    call: bool


def _plain_field_class(field: models.Field[Any, Any]) -> type[models.Field[Any, Any]]:
    """The class a copied field gets: stamps lose their role, keys become plain columns."""
    cls: type[models.Field[Any, Any]] = type(field)
    if isinstance(field, models.SmallAutoField):
        return models.SmallIntegerField
    if isinstance(field, models.BigAutoField):
        return models.BigIntegerField
    if isinstance(field, models.AutoField):
        return models.IntegerField
    if getattr(field, "trackable_role", ""):
        # CreatedAtField & co. would make the record model a tracked model.
        return next(c for c in cls.__mro__ if c.__module__.startswith("django.db.models"))
    return cls


def _copy_field(field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    """A column for a recorded concrete field: same type, no uniqueness, keys kept as values.

    Copied foreign keys keep the value even when the target row goes
    (``db_constraint=False``, ``DO_NOTHING``) and add no reverse accessor.
    """
    if field.is_relation:
        # Built by hand: deconstruct() of a key to a swappable model needs the
        # app registry, which is still loading when record models are made.
        remote: Any = field.remote_field
        target_name = getattr(remote, "field_name", None)
        options: dict[str, Any] = {
            "null": field.null,
            "blank": field.blank,
            "db_index": getattr(field, "db_index", True),
            "verbose_name": field.verbose_name,
            "help_text": field.help_text,
        }
        to_model: Any = remote.model
        target_pk = getattr(getattr(to_model, "_meta", None), "pk", None)
        target_pk = getattr(target_pk, "name", None)
        if target_pk is not None and target_name not in (None, target_pk):
            options["to_field"] = target_name
        return models.ForeignKey(
            to_model,
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            related_name="+",
            **options,
        )
    _name, _path, args, kwargs = field.deconstruct()
    for option in (
        "primary_key",
        "unique",
        "db_column",
        "db_tablespace",
        "auto_now",
        "auto_now_add",
        "unique_for_date",
        "unique_for_month",
        "unique_for_year",
        "parent_link",
        "serialize",
        "editable",
        "auto_created",
    ):
        kwargs.pop(option, None)
    return _plain_field_class(field)(*args, **kwargs)


def _reads_by_calling(model: type[models.Model], name: str) -> bool:
    attribute = inspect.getattr_static(model, name, None)
    return inspect.isfunction(attribute) or isinstance(attribute, staticmethod | classmethod)


def _record_columns(
    recording_model: type[models.Model], spec: Any, record_name: str
) -> list[tuple[str, models.Field[Any, Any], _Value]]:
    """The record model's value columns, from ``recording_fields``."""
    if isinstance(spec, str) or not isinstance(spec, Iterable):
        raise ImproperlyConfigured(
            f"{record_name}.recording_fields must be a list of names and (name, field) "
            f"pairs, not {spec!r}."
        )
    columns: list[tuple[str, models.Field[Any, Any], _Value]] = []
    seen: set[str] = set()
    for entry in spec:
        if isinstance(entry, str):
            name = entry
            try:
                original = recording_model._meta.get_field(name)
            except FieldDoesNotExist:
                original = None
            if (
                original is None
                or original.many_to_many
                or not getattr(original, "concrete", False)
            ):
                raise ImproperlyConfigured(
                    f"{record_name}.recording_fields names {name!r}, which is not a concrete "
                    f"field of {recording_model._meta.label}: record a property or method "
                    f"as a pair, e.g. ({name!r}, models.IntegerField(null=True))."
                )
            field = _copy_field(cast("models.Field[Any, Any]", original))
            source = cast("models.Field[Any, Any]", original).attname
            call = False
        elif (
            isinstance(entry, tuple | list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], models.Field)
        ):
            name, given = entry
            if given.many_to_many:
                raise ImproperlyConfigured(
                    f"{record_name}.recording_fields: {name!r} is a many-to-many field; "
                    "a record holds one value per column."
                )
            # A copy: the same pair may serve several record models (an abstract
            # recorded model). Not clone(): deconstructing a key to a swappable
            # model needs the app registry, which is still loading here.
            field = copy.deepcopy(given)
            source = name
            call = _reads_by_calling(recording_model, name)
        else:
            raise ImproperlyConfigured(
                f"{record_name}.recording_fields: {entry!r} is neither a name nor a "
                "(name, Django field) pair."
            )
        if name in _RESERVED:
            raise ImproperlyConfigured(
                f"{record_name}.recording_fields: {name!r} is a name the record model uses "
                f"itself ({', '.join(sorted(_RESERVED))})."
            )
        if name in seen:
            raise ImproperlyConfigured(f"{record_name}.recording_fields names {name!r} twice.")
        seen.add(name)
        columns.append((name, field, _Value(name, field, source, call)))
    return columns


# --- the models ---------------------------------------------------------------

_registry: list[type[RecordModel]] = []


def _inherited(bases: tuple[type, ...], name: str) -> Any:
    """What a class with these bases would inherit as ``name`` (C3 order, as Python does)."""
    sequences = [list(base.__mro__) for base in bases] + [list(bases)]
    while True:
        sequences = [sequence for sequence in sequences if sequence]
        if not sequences:
            return None
        head = next(
            (
                candidate
                for candidate in (sequence[0] for sequence in sequences)
                if not any(candidate in sequence[1:] for sequence in sequences)
            ),
            None,
        )
        if head is None:
            return None  # no consistent order: creating the class raises Python's TypeError
        if name in head.__dict__:
            return head.__dict__[name]
        for sequence in sequences:
            if sequence[0] is head:
                del sequence[0]


class RecordModelBase(ModelBase):
    """Adds the value columns and ``recording`` to each concrete :class:`RecordModel`."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any
    ) -> RecordModelBase:
        meta = attrs.get("Meta")
        recording_model = attrs.get("recording_model", _MISSING)
        if recording_model is _MISSING:
            recording_model = _inherited(bases, "recording_model")
        if getattr(meta, "abstract", False) or recording_model is None:
            return cast(RecordModelBase, super().__new__(mcs, name, bases, attrs, **kwargs))
        if not (isinstance(recording_model, type) and issubclass(recording_model, models.Model)):
            raise ImproperlyConfigured(
                f"{name}.recording_model must be a model class, not {recording_model!r}."
            )
        spec = attrs.get("recording_fields", _MISSING)
        if spec is _MISSING:
            spec = _inherited(bases, "recording_fields")
        columns = _record_columns(recording_model, spec, name)
        attrs = dict(attrs)
        for column, field, _value in columns:
            attrs.setdefault(column, field)
        attrs.setdefault(
            "recording",
            models.ForeignKey(
                recording_model,
                on_delete=models.CASCADE,
                related_name="records",
                verbose_name=_("recorded instance"),
            ),
        )
        cls = cast("type[RecordModel]", super().__new__(mcs, name, bases, attrs, **kwargs))
        cls._recording = tuple(
            _Value(
                value.name,
                cast("models.Field[Any, Any]", cls._meta.get_field(column)),
                value.source,
                value.call,
            )
            for column, _field, value in columns
        )
        _add_shortcuts(recording_model)
        _register(cls)
        return cast(RecordModelBase, cls)


class RecordModel(models.Model, metaclass=RecordModelBase):
    """The abstract base of a record table (django-record's ``RecordModel``).

    Subclasses set ``recording_model`` (the model recorded), ``recording_fields``
    (concrete field names, and ``(name, field)`` pairs for properties and
    methods without arguments, whose values are stored in ``field``) and
    ``auditing_relatives`` (names of relations of the recorded model whose
    changes can change a recorded value). Each recorded value becomes a typed
    column; ``recording`` is the foreign key to the recorded instance (reverse
    name ``records``, ``CASCADE``) and ``created`` the moment of the record.
    Declare ``recording`` yourself to choose another ``on_delete``.
    """

    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = RecordQuerySet.as_manager()

    recording_model: ClassVar[type[models.Model] | None] = None
    recording_fields: ClassVar[Sequence[str | tuple[str, models.Field[Any, Any]]]] = ()
    auditing_relatives: ClassVar[Sequence[str]] = ()

    _recording: ClassVar[tuple[_Value, ...]] = ()

    class Meta:
        abstract = True
        ordering = ("created", "pk")
        get_latest_by = ("created", "pk")
        indexes = [models.Index(fields=["recording", "created"])]

    def __str__(self) -> str:
        return (
            f"{self._meta.verbose_name} of {self.recording_id} at {self.created:%Y-%m-%d %H:%M:%S}"  # type: ignore[attr-defined]
        )

    @classmethod
    def _recorded_names(cls) -> list[str]:
        return [value.name for value in cls._recording]

    @classmethod
    def record(
        cls, instances: models.Model | Iterable[models.Model], *, force: bool = False
    ) -> int:
        """Record ``instances`` of the recorded model now; returns the number of records written.

        Writes a record for each instance whose values differ from its latest
        record (or for every instance with ``force=True``, as django-record's
        ``record()`` did). For writes this package cannot see, such as a
        relative changed by ``QuerySet.update()``. One query per database.
        """
        if isinstance(instances, models.Model):
            instances = [instances]
        return _record(cls, list(instances), "force" if force else "changed")

    @classmethod
    def user_fields(cls) -> list[str]:
        """Names of the columns that hold a user: foreign keys to ``AUTH_USER_MODEL``.

        For privacy tools (erasing or exporting a person's data): records keep
        these values after the user's row is gone.
        """
        user_label = settings.AUTH_USER_MODEL.lower()
        names = []
        for value in cls._recording:
            related: Any = value.field.related_model if value.field.is_relation else None
            if related is not None and related._meta.label_lower == user_label:
                names.append(value.name)
        return names


def record_models() -> list[type[RecordModel]]:
    """Every installed record model, by label (for privacy tools, checks and admins)."""
    from django.apps import apps

    return sorted(
        (m for m in _registry if m._meta.apps is apps and not m._meta.swapped),
        key=lambda m: m._meta.label,
    )


def record_model_for(model: type[models.Model]) -> type[RecordModel] | None:
    """The record model of ``model`` (or of the parent it inherits records from), if any."""
    recorders = _recorders_for(model)
    return recorders[0] if recorders else None


_bulk_updating: ContextVar[bool] = ContextVar("trackable_records_bulk_updating", default=False)


class RecordedQuerySet(LifecycleQuerySet[_M]):
    """``update()``, ``bulk_create()`` and ``bulk_update()`` that write records too.

    :class:`RecordedModelMixin` adds it to the ``objects`` of models that use a
    lifecycle mixin (``TrackableModel``, ``SoftDeleteModel``, ...). A plain model
    uses ``objects = RecordedQuerySet.as_manager()``.
    """

    _lifecycle_priority: ClassVar[int] = 60

    def update(self, **kwargs: Any) -> int:
        """Update in one statement, then record the updated rows.

        Costs three more queries: the primary keys before, the rows after
        (their properties are computed in Python), and one INSERT.
        """
        recorders = _recorders_for(self.model) if is_tracking_enabled() else ()
        if not recorders or _bulk_updating.get():
            return super().update(**kwargs)
        pks = list(self.values_list("pk", flat=True))
        rows = super().update(**kwargs)
        if pks:
            instances = _load(self.model, self.db, pk__in=pks)
            for record_model in recorders:
                _record(record_model, instances, "changed", using=self.db)
        return rows

    update.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """Insert like Django, then one INSERT of the new rows' records.

        Rows whose primary key is not known afterwards (``ignore_conflicts=True``,
        or a database that does not return keys) get no record.
        """
        created = super().bulk_create(objs, *args, **kwargs)
        if is_tracking_enabled():
            saved = [obj for obj in created if obj.pk is not None]
            mode: Literal["created", "changed"] = (
                "changed" if kwargs.get("update_conflicts") else "created"
            )
            for record_model in _recorders_for(self.model):
                _record(record_model, saved, mode, using=self.db)
        return created

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def bulk_update(
        self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        """Update like Django, then one INSERT of the records whose values changed."""
        objs = list(objs)
        token = _bulk_updating.set(True)  # Django's bulk_update() calls update()
        try:
            rows = super().bulk_update(objs, fields, batch_size=batch_size)
        finally:
            _bulk_updating.reset(token)
        if is_tracking_enabled():
            for record_model in _recorders_for(self.model):
                _record(record_model, objs, "changed", using=self.db)
        return rows

    bulk_update.alters_data = True  # type: ignore[attr-defined]


def _deprecated_window(name: str, replacement: str) -> None:
    warnings.warn(
        f"{name} (from django-record 0.2) is deprecated and will be removed in "
        f"django_trackable {REMOVED_IN}; use {replacement}.",
        DeprecationWarning,
        stacklevel=3,
    )


def _calendar_start(kind: str) -> datetime.datetime:
    now = timezone.localtime() if settings.USE_TZ else timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    if kind in ("day", "month", "year"):
        start = start.replace(hour=0)
    if kind in ("month", "year"):
        start = start.replace(day=1)
    if kind == "year":
        start = start.replace(month=1)
    return start


def _shortcut(kind: str, rule: str | None) -> property:
    """One of django-record 0.2's ``records_in_*`` / ``resampled_records_in_*`` properties."""
    name = f"{'resampled_' if rule else ''}records_in_{kind}"
    if kind == "week":
        window = "records.created_in_weeks()"
    else:
        window = f"records.filter(created__gte=<start of this {kind}>)"
    replacement = f"{window}.resample({rule!r})" if rule else window

    def get(self: models.Model) -> Any:
        _deprecated_window(name, replacement)
        records: Any = self.records  # type: ignore[attr-defined]
        if kind == "week":
            now = timezone.now()
            queryset = records.filter(created__gte=now - datetime.timedelta(weeks=1))
            queryset = queryset.filter(created__lte=now)
        else:
            queryset = records.filter(created__gte=_calendar_start(kind))
        return queryset.resample(rule) if rule else queryset

    get.__name__ = name
    get.__doc__ = f"Deprecated (django-record 0.2), removed in {REMOVED_IN}: {replacement}."
    return property(get)


#: The windows of django-record 0.2's shortcuts (see RecordedModelMixin).
_SHORTCUT_WINDOWS = ("hour", "day", "week", "month", "year")


class RecordedModelMixin(models.Model):
    """Records chosen values of this model; the record model is created for it.

    Set ``recording_fields`` and ``auditing_relatives`` as on a
    :class:`RecordModel`: a record model named ``<Model>Record`` is created in
    the model's app (its migration comes from ``makemigrations``), exactly as if
    it had been declared. Records are reached through ``instance.records``.

    With a lifecycle mixin (``TrackableModel``, ``SoftDeleteModel``, ...) the
    model's ``objects`` also records ``update()``, ``bulk_create()`` and
    ``bulk_update()``; on a plain model declare
    ``objects = RecordedQuerySet.as_manager()`` for that.
    """

    recording_fields: ClassVar[Sequence[str | tuple[str, models.Field[Any, Any]]]] = ()
    auditing_relatives: ClassVar[Sequence[str]] = ()

    _lifecycle_queryset: ClassVar[type[Any]] = RecordedQuerySet

    class Meta:
        abstract = True

    records_in_hour = _shortcut("hour", None)
    records_in_day = _shortcut("day", None)
    records_in_week = _shortcut("week", None)
    records_in_month = _shortcut("month", None)
    records_in_year = _shortcut("year", None)
    resampled_records_in_hour = _shortcut("hour", "T")
    resampled_records_in_day = _shortcut("day", "H")
    resampled_records_in_week = _shortcut("week", "D")
    resampled_records_in_month = _shortcut("month", "D")
    resampled_records_in_year = _shortcut("year", "M")


_SHORTCUT_NAMES = tuple(
    f"{prefix}records_in_{kind}" for prefix in ("", "resampled_") for kind in _SHORTCUT_WINDOWS
)


def _add_shortcuts(recording_model: type[models.Model]) -> None:
    """Give a model recorded by a declared RecordModel django-record 0.2's shortcuts too."""
    for name in _SHORTCUT_NAMES:
        if not hasattr(recording_model, name):
            setattr(recording_model, name, RecordedModelMixin.__dict__[name])


def _create_record_model(sender: type[models.Model], **kwargs: Any) -> None:
    """``class_prepared``: make ``<Model>Record`` for a model that mixes in RecordedModelMixin."""
    if not issubclass(sender, RecordedModelMixin):
        return
    meta = sender._meta
    if meta.abstract or meta.proxy or meta.swapped or not sender.recording_fields:
        return
    if any(_recorders_for(parent) for parent in meta.get_parent_list()):
        return  # a multi-table child: records go to the parent's record model
    record_meta = type(
        "Meta",
        (RecordModel.Meta,),
        {
            "app_label": meta.app_label,
            "verbose_name": f"{meta.verbose_name} record",
            "verbose_name_plural": f"{meta.verbose_name} records",
        },
    )
    name = f"{sender.__name__}Record"
    attrs: dict[str, Any] = {
        "__module__": sender.__module__,
        "__qualname__": name,
        "Meta": record_meta,
        "recording_model": sender,
        "recording_fields": sender.recording_fields,
        "auditing_relatives": sender.auditing_relatives,
    }
    if hasattr(sender, "RecordMeta"):
        attrs["RecordMeta"] = sender.RecordMeta
    record_model = RecordModelBase(name, (RecordModel,), attrs)
    # Importable from the models module, like a declared model (imports, pickling).
    module = sys.modules.get(sender.__module__)
    if module is not None and not hasattr(module, name):
        setattr(module, name, record_model)


class_prepared.connect(_create_record_model, dispatch_uid="django_trackable.records.create")


# --- which record models a class feeds, and which relatives it is -------------


@dataclass(frozen=True)
class _Audit:
    """One relation named in ``auditing_relatives``, seen from the relative's side."""

    record_model: type[RecordModel]
    name: str
    kind: Literal["forward", "reverse", "m2m"]
    relative_model: type[models.Model]
    #: forward: the recorded model's key; reverse: the relative's key to it.
    field: Any = None
    through: type[models.Model] | None = None


_recorders_cache: dict[type[models.Model], tuple[type[RecordModel], ...]] = {}
_audits_cache: dict[type[models.Model], tuple[_Audit, ...]] = {}
_plans_cache: dict[type[RecordModel], tuple[_Audit, ...]] = {}


def _register(record_model: type[RecordModel]) -> None:
    _registry.append(record_model)
    _recorders_cache.clear()
    _audits_cache.clear()
    _plans_cache.pop(record_model, None)
    recorded = record_model.recording_model
    if recorded is not None and record_model._meta.apps.ready:  # declared late (tests)
        connect_signals([recorded, *_relative_models(record_model)])


def _recorders_for(model: type[models.Model]) -> tuple[type[RecordModel], ...]:
    """Record models whose recorded model is ``model`` or one of its parents/proxied models."""
    try:
        return _recorders_cache[model]
    except KeyError:
        pass
    found = tuple(
        rm
        for rm in _registry
        if rm._meta.apps is model._meta.apps
        and rm.recording_model is not None
        and issubclass(model, rm.recording_model)
    )
    _recorders_cache[model] = found
    return found


def _relation(model: type[models.Model], name: str) -> Any:
    """The relation ``name`` of ``model``: a field, or a reverse one by query or accessor name."""
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        pass
    for rel in model._meta.related_objects:
        if rel.get_accessor_name() == name:
            return rel
    return None


def _audited_names(record_model: type[RecordModel]) -> list[str]:
    record_meta = getattr(record_model, "RecordMeta", None)
    model = record_model.recording_model
    assert model is not None
    if getattr(record_meta, "audit_all_relatives", False):  # deprecated, see W070
        return [
            f.name
            for f in model._meta.get_fields()
            if f.is_relation
            and not getattr(f, "parent_link", False)
            and not (isinstance(f, ForeignObjectRel) and issubclass(f.related_model, RecordModel))
            and not (
                isinstance(f, ForeignObjectRel) and getattr(f.remote_field, "parent_link", False)
            )
        ]
    names = record_model.auditing_relatives
    return [names] if isinstance(names, str) else list(names or ())


def audit_plans(record_model: type[RecordModel]) -> tuple[_Audit, ...]:
    """How each of ``auditing_relatives`` is watched (unknown names are left to E070)."""
    try:
        return _plans_cache[record_model]
    except KeyError:
        pass
    model = record_model.recording_model
    assert model is not None
    plans: list[_Audit] = []
    for name in _audited_names(record_model):
        rel = _relation(model, name)
        related = getattr(rel, "related_model", None)
        if rel is None or not isinstance(related, type):
            continue
        if rel.many_to_many:
            is_reverse = isinstance(rel, models.ManyToManyRel)
            through = rel.through if is_reverse else rel.remote_field.through
            plans.append(_Audit(record_model, name, "m2m", related, rel, through))
        elif isinstance(rel, ForeignObjectRel):
            if isinstance(rel.field, models.ForeignKey):
                plans.append(_Audit(record_model, name, "reverse", related, rel.field))
        elif isinstance(rel, models.ForeignKey):
            plans.append(_Audit(record_model, name, "forward", related, rel))
    _plans_cache[record_model] = result = tuple(plans)
    return result


def _relative_models(record_model: type[RecordModel]) -> list[type[models.Model]]:
    models_: list[type[models.Model]] = []
    for plan in audit_plans(record_model):
        models_.append(plan.relative_model)
        if isinstance(plan.through, type):
            models_.append(plan.through)
    return models_


def _audits_for(model: type[models.Model]) -> tuple[_Audit, ...]:
    """The audited relations whose relative side ``model`` is (or inherits from)."""
    try:
        return _audits_cache[model]
    except KeyError:
        pass
    found = tuple(
        plan
        for rm in _registry
        if rm._meta.apps is model._meta.apps
        for plan in audit_plans(rm)
        if issubclass(model, plan.relative_model)
    )
    _audits_cache[model] = found
    return found


def _m2m_audits_for(through: type[models.Model]) -> tuple[_Audit, ...]:
    return tuple(
        plan
        for rm in _registry
        if rm._meta.apps is through._meta.apps
        for plan in audit_plans(rm)
        if plan.through is through
    )


# --- computing and writing records ---------------------------------------------


def _not_recorded(record_model: type[RecordModel], instance: models.Model, value: _Value) -> None:
    logger.exception(
        "Not recording %s %s: its value %r could not be recorded in %s.",
        instance._meta.label,
        instance.pk,
        value.name,
        record_model._meta.label,
    )


def _values(record_model: type[RecordModel], instance: models.Model) -> tuple[Any, ...] | None:
    """The instance's recorded values as their columns' Python values; ``None`` if one fails.

    A property that raises, or a value its column cannot take, is logged and
    the instance gets no record: a save never fails because of a record.
    """
    values = []
    for value in record_model._recording:
        try:
            raw = getattr(instance, value.source)
            if value.call:
                raw = raw()
            if value.field.is_relation and isinstance(raw, models.Model):
                raw = raw.pk
            values.append(value.field.to_python(raw))
        except Exception:  # noqa: BLE001 - user code: log it, never break the save
            _not_recorded(record_model, instance, value)
            return None
    return tuple(values)


def _valid(
    record_model: type[RecordModel], instance: models.Model, values: tuple[Any, ...]
) -> bool:
    """Whether each column can hold its value (length, digits, range, null); logged if not.

    Checked only for records about to be written, so an unchanged save skips it.
    """
    for value, clean in zip(record_model._recording, values, strict=True):
        try:
            if clean is None:
                if not value.field.null:
                    raise ValidationError("None, and the column is not null=True")
            else:
                value.field.run_validators(clean)
        except ValidationError:
            _not_recorded(record_model, instance, value)
            return False
    return True


def _load_deferred(instances: list[models.Model]) -> None:
    """Load each instance's deferred fields in one query: properties may read any of them.

    Not ``history``, which tracked models' managers defer: a property that
    reads it loads it on access (with the instance's peers).
    """
    for instance in instances:
        if instance.pk is not None:
            history = tracking.options_for(type(instance)).history
            deferred = instance.get_deferred_fields() - {history.attname if history else ""}
            if deferred:
                instance.refresh_from_db(fields=list(deferred))


def _record(
    record_model: type[RecordModel],
    instances: Sequence[models.Model],
    mode: Literal["created", "changed", "force"],
    using: str | None = None,
) -> int:
    """Write the records of ``instances``; returns how many were written.

    ``created``: new rows, written without comparing. ``changed``: compared with
    the values remembered on each instance first (no query when equal), then
    with the latest record by the INSERT itself. ``force``: always written.
    """
    if not instances:
        return 0
    _load_deferred(list(instances))
    by_db: dict[str, dict[Any, tuple[models.Model, tuple[Any, ...]]]] = {}
    for instance in instances:
        if instance.pk is None:
            continue
        values = _values(record_model, instance)
        if values is None:
            continue
        remembered = instance.__dict__.setdefault(REMEMBERED, {})
        previous = remembered.get(record_model, _MISSING)
        if mode == "changed" and previous == values:
            continue
        if not _valid(record_model, instance, values):
            continue
        db = using or router.db_for_write(record_model, instance=instance)
        # One row per instance: the last values win when it is listed twice.
        by_db.setdefault(db, {})[instance.pk] = (instance, values)
    written = 0
    for db, rows in by_db.items():
        written += _insert(
            record_model,
            [(pk, values) for pk, (_instance, values) in rows.items()],
            db,
            conditional=mode == "changed",
        )
        for instance, values in rows.values():
            instance.__dict__[REMEMBERED][record_model] = values
    return written


def _max_params(vendor: str, connection: Any) -> int:
    if vendor == "postgresql":
        return 65_535
    raw = getattr(connection, "connection", None)
    if raw is not None and hasattr(raw, "getlimit"):  # Python 3.11+
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # type: ignore[attr-defined]
    return 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999


def _insert(
    record_model: type[RecordModel],
    rows: list[tuple[Any, tuple[Any, ...]]],
    using: str,
    *,
    conditional: bool,
) -> int:
    """One ``INSERT ... SELECT ... FROM (VALUES ...)`` per batch of rows.

    With ``conditional``, a row is inserted only when the recording's latest
    record holds other values (null-safe comparison, in SQL). A batch is as
    large as the database accepts parameters (about 30,000 on SQLite, 65,535 on
    PostgreSQL), so a thousand rows are one statement.
    """
    connection = connections[using]
    connection.ensure_connection()
    vendor = connection.vendor
    meta = record_model._meta
    qn = connection.ops.quote_name
    recording = cast("models.Field[Any, Any]", meta.get_field("recording"))
    created = cast("models.Field[Any, Any]", meta.get_field("created"))
    value_fields = [value.field for value in record_model._recording]
    fields = [recording, created, *value_fields]
    if vendor == "postgresql":
        placeholders = [f"CAST(%s AS {f.db_type(connection)})" for f in fields]
        same = "IS NOT DISTINCT FROM"
    else:  # SQLite: a CAST would apply the type's affinity (datetimes would become numbers)
        placeholders = ["%s"] * len(fields)
        same = "IS"
    # PostgreSQL types a VALUES column from its rows together: casts in the
    # first row type the untyped literals (and NULLs) of the others.
    first_row = "(" + ", ".join(placeholders) + ")"
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = qn(meta.db_table)
    pk = qn(_column(meta.pk))
    columns = ", ".join(qn(_column(f)) for f in fields)
    selected = ", ".join(f"v.column{i}" for i in range(1, len(fields) + 1))
    where = ""
    if conditional:
        matches = "".join(
            f" AND r.{qn(_column(f))} {same} v.column{i}"
            for i, f in enumerate(value_fields, start=3)
        )
        latest = (
            f"SELECT r2.{pk} FROM {table} r2 WHERE r2.{qn(_column(recording))} = v.column1 "
            f"ORDER BY r2.{qn(_column(created))} DESC, r2.{pk} DESC LIMIT 1"
        )
        where = f" WHERE NOT EXISTS (SELECT 1 FROM {table} r WHERE r.{pk} = ({latest}){matches})"
    moment = connection.ops.adapt_datetimefield_value(tracking.now())
    per_batch = max(1, _max_params(vendor, connection) // len(fields))
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_batch):
            batch = rows[start : start + per_batch]
            params: list[Any] = []
            for recording_pk, values in batch:
                params.append(recording.get_db_prep_save(recording_pk, connection))
                params.append(moment)
                params.extend(
                    f.get_db_prep_save(v, connection)
                    for f, v in zip(value_fields, values, strict=True)
                )
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT {selected} FROM "
                f"(VALUES {', '.join([first_row] + [row_sql] * (len(batch) - 1))}) v{where}"
            )
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0)
    return written


def _column(field: Any) -> str:
    return cast(str, field.column)


def _load(model: type[_M], using: str | None, **lookups: Any) -> list[_M]:
    """Rows of ``model`` by ``lookups``, every row (deleted, other tenants') included."""
    queryset = model._base_manager.all()
    if using is not None:
        queryset = queryset.using(using)
    return list(queryset.filter(**lookups))


# --- signal receivers ------------------------------------------------------------

#: The deletion in progress (``id()`` of its origin) and the recorded rows it
#: deletes, as (model label, pk): a relative deleted by the same cascade must not
#: record them (the new record would point to a row about to go). Keyed by
#: origin, so what a failed deletion leaves behind concerns no other one.
_deleting: ContextVar[tuple[int, frozenset[tuple[str, Any]]]] = ContextVar(
    "trackable_records_deleting", default=(0, frozenset())
)


def _row_key(instance: models.Model) -> tuple[str, Any]:
    concrete: Any = instance._meta.concrete_model
    return (concrete._meta.label, instance.pk)


def _alive(instances: list[_M], origin: Any) -> list[_M]:
    deletion, doomed = _deleting.get()
    if origin is None or deletion != id(origin) or not doomed:
        return instances
    return [i for i in instances if _row_key(i) not in doomed]


def _recorded_saved(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool, **kwargs: Any
) -> None:
    if raw or not is_tracking_enabled():
        return
    for record_model in _recorders_for(sender):
        _record(record_model, [instance], "created" if created else "changed")


def _recorded_deleting(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    deletion, doomed = _deleting.get()
    origin = id(kwargs.get("origin"))
    if deletion != origin:
        doomed = frozenset()
    _deleting.set((origin, doomed | {_row_key(instance)}))


def _recorded_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    deletion, doomed = _deleting.get()
    if deletion == id(kwargs.get("origin")):
        _deleting.set((deletion, doomed - {_row_key(instance)}))


def _linked_values(plan: _Audit, relative: models.Model) -> set[Any]:
    """The recorded rows a reverse relative points to now, and as it was loaded."""
    fk = plan.field
    current = relative.__dict__.get(fk.attname)
    values = {current}
    loaded = relative.__dict__.get(_LOADED_LINKS, {})
    values.add(loaded.get(fk.attname, current))
    values.discard(None)
    return values


def _dependants(plan: _Audit, relative: models.Model, using: str | None) -> list[models.Model]:
    """The recorded instances whose values may depend on ``relative``, loaded in one query."""
    model = plan.record_model.recording_model
    assert model is not None
    if plan.kind == "forward":
        dependants = _load(model, using, **{plan.field.name: relative})
        for dependant in dependants:  # their properties read the saved relative, no query
            plan.field.set_cached_value(dependant, relative)
        return dependants
    if plan.kind == "reverse":
        linked = _linked_values(plan, relative)
        if not linked:
            return []
        target = plan.field.target_field.attname
        return _load(model, using, **{f"{target}__in": linked})
    queryset = model._base_manager.filter(**{plan.name: relative}).prefetch_related(plan.name)
    return list(queryset if using is None else queryset.using(using))


def _record_dependants(plan: _Audit, dependants: list[models.Model], origin: Any = None) -> None:
    dependants = _alive(dependants, origin)
    if dependants:
        _record(plan.record_model, dependants, "changed")


def _relative_saved(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool, **kwargs: Any
) -> None:
    if raw or not is_tracking_enabled():
        return
    using = kwargs.get("using")
    for plan in _audits_for(sender):
        if created and plan.kind != "reverse":
            continue  # nothing points to (or links with) a row that did not exist
        _record_dependants(plan, _dependants(plan, instance, using))
    _remember_links(sender, instance)


def _relative_deleting(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """Before a forward relative goes: which rows will its SET_NULL / SET_DEFAULT change."""
    if not is_tracking_enabled():
        return
    for plan in _audits_for(sender):
        if plan.kind == "forward" and _changes_dependants_on_delete(plan):
            model = plan.record_model.recording_model
            assert model is not None
            pks = list(
                model._base_manager.using(kwargs.get("using"))
                .filter(**{plan.field.name: instance})
                .values_list("pk", flat=True)
            )
            instance.__dict__.setdefault(_DEPENDANTS, {})[plan] = pks


def _relative_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not is_tracking_enabled():
        return
    using = kwargs.get("using")
    for plan in _audits_for(sender):
        model = plan.record_model.recording_model
        assert model is not None
        origin = kwargs.get("origin")
        if plan.kind == "reverse":
            _record_dependants(plan, _dependants(plan, instance, using), origin)
        elif plan.kind == "forward":
            pks = instance.__dict__.get(_DEPENDANTS, {}).pop(plan, None)
            if pks:
                _record_dependants(plan, _load(model, using, pk__in=pks), origin)


def _changes_dependants_on_delete(plan: _Audit) -> bool:
    on_delete = plan.field.remote_field.on_delete
    return on_delete not in (models.CASCADE, models.PROTECT, models.RESTRICT, models.DO_NOTHING)


def _remember_links(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """``post_init`` (and after a save): a reverse relative's keys, to see it move later."""
    plans = [plan for plan in _audits_for(sender) if plan.kind == "reverse"]
    if plans:
        instance.__dict__[_LOADED_LINKS] = {
            plan.field.attname: instance.__dict__.get(plan.field.attname) for plan in plans
        }


def _m2m_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    model: type[models.Model],
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    if not is_tracking_enabled() or action not in (
        "pre_clear",
        "post_add",
        "post_remove",
        "post_clear",
    ):
        return
    using = kwargs.get("using")
    for plan in _m2m_audits_for(sender):
        recorded = plan.record_model.recording_model
        assert recorded is not None
        if isinstance(instance, recorded):
            if action != "pre_clear":
                _record_dependants(plan, [instance])
            continue
        if action == "pre_clear":  # the other side is cleared: which rows will lose it
            accessor = _accessor_towards(plan, type(instance))
            if accessor is not None:
                pks = list(getattr(instance, accessor).values_list("pk", flat=True))
                instance.__dict__.setdefault(_DEPENDANTS, {})[plan] = pks
            continue
        if action == "post_clear":
            pk_set = set(instance.__dict__.get(_DEPENDANTS, {}).pop(plan, None) or ())
        if pk_set:
            _record_dependants(plan, _load(recorded, using, pk__in=pk_set))


def _accessor_towards(plan: _Audit, relative_model: type[models.Model]) -> str | None:
    """The name of the many-to-many manager on the relative that leads to the recorded model."""
    rel = plan.field
    if isinstance(rel, ForeignObjectRel):  # the recorded model is the reverse side
        return cast(str, rel.field.name)
    return cast("str | None", rel.remote_field.get_accessor_name())


def _subclasses(model: type[models.Model]) -> Iterator[type[models.Model]]:
    yield model
    for child in model.__subclasses__():
        yield from _subclasses(child)


def connect_signals(models_: Iterable[type[models.Model]] | None = None) -> None:
    """Connect the receivers for ``models_`` (default: every installed model) and their subclasses.

    Called from the app's ``ready()``; idempotent (``dispatch_uid`` per model).
    Receivers are connected per sender, never for all models: a ``pre_delete``
    or ``post_delete`` receiver without a sender would make Django load every
    row it deletes, project-wide.
    """
    from django.apps import apps

    if models_ is None:
        models_ = apps.get_models(include_auto_created=True)
    for base in list(models_):
        for model in _subclasses(base):
            _connect(model)


def _connect(model: type[models.Model]) -> None:
    uid = f"django_trackable.records:{id(model)}"
    if _recorders_for(model):
        post_save.connect(_recorded_saved, sender=model, dispatch_uid=f"{uid}:saved")
        pre_delete.connect(_recorded_deleting, sender=model, dispatch_uid=f"{uid}:deleting")
        post_delete.connect(_recorded_deleted, sender=model, dispatch_uid=f"{uid}:deleted")
    audits = _audits_for(model)
    if audits:
        post_save.connect(_relative_saved, sender=model, dispatch_uid=f"{uid}:relative-saved")
        post_delete.connect(_relative_deleted, sender=model, dispatch_uid=f"{uid}:relative-deleted")
        if any(p.kind == "forward" and _changes_dependants_on_delete(p) for p in audits):
            pre_delete.connect(
                _relative_deleting, sender=model, dispatch_uid=f"{uid}:relative-deleting"
            )
        if any(p.kind == "reverse" for p in audits):
            post_init.connect(_remember_links, sender=model, dispatch_uid=f"{uid}:links")
    if _m2m_audits_for(model):
        m2m_changed.connect(_m2m_changed, sender=model, dispatch_uid=f"{uid}:m2m")


def _connect_late_model(sender: type[models.Model], **kwargs: Any) -> None:
    """``class_prepared`` after start-up: a proxy or child of a recorded model, or a relative.

    Connected once the model is registered: only then do the models it relates
    to list its reverse relations.
    """
    meta = sender._meta
    if meta.apps.ready:
        meta.apps.lazy_model_operation(_connect_registered, (meta.app_label, meta.model_name))


def _connect_registered(model: type[models.Model]) -> None:
    # The new model may add a relation (a reverse one) to what a record model audits.
    _plans_cache.clear()
    _audits_cache.clear()
    if _recorders_for(model) or _audits_for(model):
        _connect(model)


class_prepared.connect(_connect_late_model, dispatch_uid="django_trackable.records.late")


def deprecated_names(model: type[models.Model]) -> list[str]:
    """django-record names a model still uses that are deprecated (for the W070 check)."""
    names = []
    record_meta = getattr(model, "RecordMeta", None)
    if record_meta is not None and getattr(record_meta, "audit_all_relatives", False):
        names.append("RecordMeta.audit_all_relatives")
    return names
