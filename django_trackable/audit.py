"""The audit log's write path: an ``AuditLog`` row for every entry a tracked statement appends.

Every tracked write (``save()``, ``QuerySet.update()``, ``bulk_create()``,
``bulk_update()``, soft delete and restore, transitions, ...) is one UPDATE or
INSERT that appends an entry to each row's ``history`` (see
:mod:`django_trackable.statements`). When the audit log is on for the model,
the same entries are written to ``AuditLog``:

- on PostgreSQL, by the same statement: ``WITH rows AS (UPDATE ... RETURNING
  pk, history -> -1), log AS (INSERT INTO auditlog SELECT ... FROM rows)
  SELECT ... FROM rows`` -- no extra round trip, atomic even in autocommit;
- elsewhere, by one ``INSERT ... SELECT`` that reads the entries back from the
  rows just written, in the same transaction;
- when ``TRACKABLE["DATABASE"]`` or a router puts the log on another database,
  the entries are read back and written there when the transaction commits
  (atomicity cannot hold across databases; check ``W040`` says so).

The entries are read from the rows themselves, so what the log holds is
exactly what ``history`` got, masked values included. Hard deletes, which take
``history`` with them, are logged from Django's ``post_delete`` with the row's
last values.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models.expressions import BaseExpression
from django.db.models.signals import post_delete
from django.utils import timezone

from django_trackable import tracking
from django_trackable.conf import trackable_settings
from django_trackable.context import get_current_extra, get_current_user, is_tracking_enabled
from django_trackable.expressions import (
    AppendEntry,
    HistoryAppend,
    IfChanged,
    LaterStamp,
    LatestTime,
    NewestEntryAt,
    Unreturned,
    _sqlite_json,
)
from django_trackable.history import MASK, Entry, build_entry, to_datetime, to_json
from django_trackable.signals import history_recorded, send_signal
from django_trackable.tracking import REPR_LENGTH as _REPR_LENGTH
from django_trackable.tracking import instance_repr as _instance_repr

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from django_trackable.models.audit import AuditLog

__all__ = [
    "audit_enabled",
    "collecting_deletes",
    "connect_receivers",
    "log_database",
]

#: AuditLog's columns in the order the writes below fill them.
_COLUMNS = (
    "timestamp",
    "actor",
    "actor_repr",
    "action",
    "content_type",
    "object_id",
    "target_repr",
    "changes",
    "extra",
)
_ENTRY_KEYS = frozenset({"action", "timestamp", "user", "user_repr", "changes"})
_ROWS = '"_trackable_rows"'


def _audit_model() -> type[AuditLog]:
    from django_trackable.models.audit import AuditLog

    return AuditLog


def audit_enabled(model: type[models.Model]) -> bool:
    """Whether ``model``'s entries go to the audit log (``track_audit_log``, else ``AUDIT_LOG``)."""
    return tracking.options_for(model).audit


def log_database() -> str:
    """The alias ``AuditLog`` rows are written to: ``DATABASE``, else the router's choice."""
    return trackable_settings.DATABASE or router.db_for_write(_audit_model())


@dataclass
class _Appended:
    """What one tracked statement appended: the shared part of its entries, and the rows'."""

    table: type[models.Model]  # the model whose table holds ``history``
    target: type[models.Model]  # the model the rows are filed under
    entry: Entry
    pks: list[Any] | None = None  # the rows' primary keys, when the statement knows them
    reprs: dict[str, str] = field(default_factory=dict)  # by str(pk)
    ordered_reprs: list[str] | None = None  # an INSERT's, in row order
    pending_pk: str = ""  # in the texts: stands for the key the INSERT returns
    stamped: bool = False  # the statement sets updated_at to the entry's time
    instances: list[Any] = field(default_factory=list)  # the instances written, when known

    @property
    def moment(self) -> datetime.datetime:
        """The entries' time, as the statement stored it in ``updated_at``."""
        return _stored_time(self.entry["timestamp"])


def _stored_time(timestamp: str) -> datetime.datetime:
    when = to_datetime(timestamp)
    return when if settings.USE_TZ else timezone.make_naive(when)


# --- finding what a statement appends ------------------------------------------------


def _appends_in(value: Any) -> Iterator[Any]:
    """The :class:`AppendEntry` / :class:`HistoryAppend` objects in a SET value."""
    if isinstance(value, AppendEntry | HistoryAppend):
        yield value
    elif isinstance(value, Unreturned):
        yield from _appends_in(value.expression)
    elif isinstance(value, BaseExpression):
        for source in value.get_source_expressions():
            yield from _appends_in(source)


def _update_appended(query: Any) -> _Appended | None:
    options = tracking.options_for(query.model)
    history = options.history
    if history is None:
        return None
    appends = []
    stamped = False
    updated_at = options.roles.get("updated_at")
    for column, _model, value in query.values:
        if column is history:
            appends = list(_appends_in(value))
        elif column is updated_at:
            stamped = _sets(value)
    if not appends:
        return None
    first = appends[0]
    target = first.target.model if first.target is not None else query.model
    appended = _Appended(query.model, target, first.entry)
    if stamped:
        appended.stamped = _sets(_stamp_value(query, updated_at), first.entry)
    targets = [a.target for a in appends if a.target is not None and a.target.pk is not None]
    appended.instances = [t.instance for t in targets if t.instance is not None]
    if targets and len(targets) == len(appends):
        appended.pks = [t.pk for t in targets]
        appended.reprs = {str(t.pk): t.repr for t in targets if t.repr}
    return appended


def _stamp_value(query: Any, stamp: Any) -> Any:
    for column, _model, value in query.values:
        if column is stamp:
            return value
    return None


def _sets(value: Any, entry: Entry | None = None) -> bool:
    """Whether an ``updated_at`` SET value stamps the entry's own time: then every row the
    statement wrote has ``updated_at >= that time`` (an index finds them)."""
    if entry is None:
        return value is not None
    when = _stored_time(entry["timestamp"])
    return any(time == when for time in _times_in(value))


def _times_in(value: Any) -> Iterator[Any]:
    if isinstance(value, datetime.datetime):
        yield value
    elif isinstance(value, LaterStamp | LatestTime):
        yield value.time
    elif isinstance(value, Unreturned):
        yield from _times_in(value.expression)
    elif isinstance(value, IfChanged):
        yield from _times_in(value.value)
    elif isinstance(value, models.Value):
        yield value.value
    elif isinstance(value, BaseExpression):
        for source in value.get_source_expressions():
            yield from _times_in(source)


def _insert_appended(
    query: Any, returned: Any = None, returning: Any = None, *, before: bool = False
) -> _Appended | None:
    options = tracking.options_for(query.model)
    history = options.history
    if history is None or history not in query.fields or not query.objs:
        return None
    entry = None
    for obj in query.objs:
        plan = obj.__dict__.get(tracking.PLAN)
        if plan is not None and plan.entry is not None:
            entry = plan.entry
            break
    if entry is None:
        return None
    objs = query.objs
    appended = _Appended(query.model, type(objs[0]), entry, stamped="updated_at" in options.roles)
    pks = [obj.pk for obj in objs]
    if returned and returning:
        pk = query.model._meta.pk
        index = next(
            (i for i, f in enumerate(returning) if f is pk or f.attname == pk.attname), None
        )
        if index is not None and len(returned) == len(objs):
            pks = [row[index] for row in returned]
    if before and isinstance(query.model._meta.pk, models.IntegerField):
        # Before the statement (PostgreSQL's fused log): the database has not chosen the
        # keys yet. A stand-in the SQL replaces with each row's key (_pg_log_insert).
        pks = [_PENDING_PK if pk is None else pk for pk in pks]
        appended.pending_pk = str(_PENDING_PK)
    reprs = [_repr_with_pk(obj, pk) for obj, pk in zip(objs, pks, strict=True)]
    if appended.pending_pk:
        pks = [obj.pk for obj in objs]
    if all(pk is not None for pk in pks) and not query.on_conflict:
        appended.pks = pks
        appended.reprs = {str(pk): r for pk, r in zip(pks, reprs, strict=True) if r}
    elif not query.on_conflict or query.on_conflict.name == "UPDATE":
        appended.ordered_reprs = reprs
    return appended


#: Stands for a key the INSERT has yet to return, in a row's text (``"Order 7"``).
_PENDING_PK = 7_319_046_285_503_917


def _repr_with_pk(obj: models.Model, pk: Any) -> str:
    """``str(obj)`` as it will read once Django sets the primary key the INSERT returned.

    Django sets it after the statement; a ``__str__`` that shows the id (``"Order 7"``)
    would otherwise be logged as ``"Order None"``.
    """
    if pk is None or obj.pk is not None:
        return _instance_repr(obj)
    obj.pk = pk
    try:
        return _instance_repr(obj)
    finally:
        obj.pk = None


# --- running a statement with its audit write ---------------------------------------------


def run_update(compiler: Any, execute: Callable[[], Any]) -> Any:
    """Execute an UPDATE (``execute``) with the audit write and signal its appends need."""
    query = compiler.query
    if tracking.options_for(query.model).history is None or not _hooked(query.model):
        return execute()
    appended = _update_appended(query)
    if appended is None:
        return execute()
    if audit_enabled(appended.target):
        result = _run(compiler, lambda: appended, execute, lambda _result: appended)
    else:
        result = execute()
    _announce(appended, compiler.using)
    return result


def run_insert(compiler: Any, returning: Any, execute: Callable[[], Any]) -> Any:
    """Execute an INSERT (``execute``) with the audit write and signal its entries need."""
    query = compiler.query
    if (
        tracking.options_for(query.model).history is None
        or not query.objs
        or not is_tracking_enabled()
        or not _hooked(query.model)
    ):
        return execute()
    written: list[_Appended | None] = []

    def after(result: Any) -> _Appended | None:
        appended = _insert_appended(query, result, returning)
        written.append(appended)
        return appended

    if audit_enabled(type(query.objs[0])):
        result = _run(compiler, lambda: _insert_appended(query, before=True), execute, after)
        if not written:  # PostgreSQL: the statement logged its rows itself
            after(result)
    else:
        result = execute()
        after(result)
    if written[0] is not None:
        _announce(written[0], compiler.using, query.objs)
    return result


def _hooked(model: type[models.Model]) -> bool:
    return tracking.options_for(model).audit_possible or bool(history_recorded.receivers)


def _announce(
    appended: _Appended, using: str, instances: Sequence[models.Model] | None = None
) -> None:
    """Send ``history_recorded`` for the rows one statement appended to."""
    if not history_recorded.has_listeners(appended.target):
        return
    if instances is None:
        instances = [i for i in appended.instances if i is not None]
    entry = appended.entry
    if appended.pks is None or len(appended.pks) != 1:
        entry = {k: v for k, v in entry.items() if k != "changes"}
    send_signal(
        history_recorded,
        appended.target,
        using,
        queryset=_written_rows(appended, using),
        instances=list(instances),
        entry=entry,
    )


def _written_rows(appended: _Appended, using: str) -> models.QuerySet[Any]:
    """A lazy queryset of exactly the rows one statement appended an entry to."""
    options = tracking.options_for(appended.table)
    rows: models.QuerySet[Any] = appended.target._base_manager.using(using).all()
    if appended.pks is not None:
        by_pk: models.QuerySet[Any] = rows.filter(pk__in=appended.pks)
        return by_pk
    if appended.stamped:
        rows = rows.filter(**{f"{options.roles['updated_at'].name}__gte": appended.moment})
    history = options.history
    assert history is not None
    written: models.QuerySet[Any] = rows.filter(
        NewestEntryAt(history.name, appended.entry["timestamp"])
    )
    return written


def _run(
    compiler: Any,
    before: Callable[[], _Appended | None],
    execute: Callable[[], Any],
    after: Callable[[Any], _Appended | None],
) -> Any:
    using = compiler.using
    log_db = log_database()
    connection = compiler.connection
    if log_db != using:
        result = execute()
        appended = after(result)
        if appended is not None:
            _log_on_commit(appended, connection, log_db)
        return result
    if connection.vendor == "postgresql":
        compiler._trackable_fused = _Fused(before)
        try:
            return execute()
        finally:
            compiler._trackable_fused = None
    with transaction.atomic(using=using, savepoint=False):
        result = execute()
        appended = after(result)
        if appended is not None:
            deferred = _deferred_var.get()
            if deferred is not None and deferred.using == using:
                deferred.add(appended)
            else:
                _follow_up(appended, connection)
    return result


# --- PostgreSQL: the log written by the statement itself -------------------------------------


class _Fused:
    """Turns a compiled UPDATE/INSERT into ``WITH rows AS (...), log AS (INSERT ...) SELECT``."""

    def __init__(self, appended: Callable[[], _Appended | None]) -> None:
        self._appended = appended

    def around(
        self, compiler: Any, sql: str, params: Any, theirs: Any
    ) -> tuple[str, tuple[Any, ...]]:
        from django_trackable.statements import returning_sql

        connection = compiler.connection
        their_sql, their_params = returning_sql(connection, theirs) if theirs else ("", ())
        compiler.returning_params = their_params
        appended = self._appended()
        if appended is None:
            sql = f"{sql} {their_sql}" if their_sql else sql
            return sql, (*params, *their_params)
        qn = connection.ops.quote_name
        meta = appended.table._meta
        table = qn(meta.db_table)
        history = tracking.options_for(appended.table).history
        assert history is not None
        mine = (
            f'{table}.{qn(meta.pk.column)} AS "_trackable_pk", '
            f'{table}.{qn(history.column)} -> -1 AS "_trackable_entry"'
        )
        selected = ", ".join(qn(f.column) for f in theirs) if theirs else "1"
        if getattr(compiler, "_trackable_lengths", False):  # see archive.py
            from django_trackable import archive

            mine += f', {archive.length_sql(compiler)} AS "_trackable_length"'
            selected = '"_trackable_pk", "_trackable_length"'
        returning = f"{their_sql}, {mine}" if their_sql else f"RETURNING {mine}"
        log_sql, log_params = _pg_log_insert(appended, connection)
        return (
            f"WITH {_ROWS} AS ({sql} {returning}), "
            f'"_trackable_log" AS ({log_sql}) SELECT {selected} FROM {_ROWS}',
            (*params, *their_params, *log_params),
        )


def _constants(appended: _Appended, connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """The column values every row of one statement shares, ready as query parameters."""
    timestamp: Any = _audit_model()._meta.get_field("timestamp")
    entry = appended.entry
    extra = {k: v for k, v in entry.items() if k not in _ENTRY_KEYS}
    return {
        "timestamp": timestamp.get_db_prep_value(appended.moment, connection),
        "actor": _actor_value(entry.get("user"), connection),
        "actor_repr": (entry.get("user_repr") or "")[:_REPR_LENGTH],
        "extra": json.dumps(extra, separators=(",", ":"), ensure_ascii=False),
    }


def _actor_value(user_pk: Any, connection: BaseDatabaseWrapper) -> Any:
    if user_pk is None:
        return None
    actor: Any = _audit_model()._meta.get_field("actor")
    try:
        return actor.target_field.get_db_prep_value(
            actor.target_field.to_python(user_pk), connection
        )
    except Exception:  # noqa: BLE001 - not a key of the user model (a non-user actor)
        return None


def _content_type_sql(
    model: type[models.Model], connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]]:
    from django.contrib.contenttypes.models import ContentType

    qn = connection.ops.quote_name
    meta = (model._meta.concrete_model or model)._meta
    return (
        f"(SELECT {qn('id')} FROM {qn(ContentType._meta.db_table)} "
        f"WHERE {qn('app_label')} = %s AND {qn('model')} = %s)",
        [meta.app_label, meta.model_name],
    )


def _insert_into(connection: BaseDatabaseWrapper) -> str:
    AuditLog = _audit_model()
    qn = connection.ops.quote_name
    meta = AuditLog._meta
    fields: list[Any] = [meta.get_field(name) for name in _COLUMNS]
    columns = ", ".join(qn(f.column) for f in fields)
    return f"INSERT INTO {qn(meta.db_table)} ({columns})"


def _pg_log_insert(appended: _Appended, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
    AuditLog = _audit_model()
    values = _constants(appended, connection)
    actor_type = AuditLog._meta.get_field("actor").db_type(connection)
    ct_sql, ct_params = _content_type_sql(appended.target, connection)
    single = _single_repr(appended)
    repr_sql = "COALESCE(t.v, '')"
    source_params: list[Any]
    if single is not None:  # one row (a save): no join to find its text
        source, source_params, repr_sql = f"{_ROWS} AS r", [], "%s"
    elif appended.ordered_reprs is not None:
        source = (
            f'(SELECT *, row_number() OVER () AS "_trackable_n" FROM {_ROWS}) AS r '
            "LEFT JOIN unnest(CAST(%s AS text[])) WITH ORDINALITY AS t(v, n) "
            'ON t.n = r."_trackable_n"'
        )
        source_params = [appended.ordered_reprs]
    else:
        source = (
            f"{_ROWS} AS r LEFT JOIN jsonb_each_text(CAST(%s AS jsonb)) AS t(k, v) "
            'ON t.k = CAST(r."_trackable_pk" AS text)'
        )
        source_params = [json.dumps(appended.reprs)]
    repr_params: list[Any] = []
    if appended.pending_pk:
        repr_sql = f'REPLACE({repr_sql}, %s, CAST(r."_trackable_pk" AS text))'
        repr_params = [appended.pending_pk]
    sql = (
        f"{_insert_into(connection)} SELECT CAST(%s AS timestamp with time zone), "
        f"CAST(%s AS {actor_type}), %s, "
        "COALESCE(r.\"_trackable_entry\" ->> 'action', ''), "
        f'{ct_sql}, CAST(r."_trackable_pk" AS text), {repr_sql}, '
        "COALESCE(r.\"_trackable_entry\" -> 'changes', '{}'::jsonb), CAST(%s AS jsonb) "
        f"FROM {source} WHERE r.\"_trackable_entry\" ->> 'timestamp' = %s"
    )
    params = [
        values["timestamp"],
        values["actor"],
        values["actor_repr"],
        *ct_params,
        *([single] if single is not None else []),
        *repr_params,
        values["extra"],
        *source_params,
        appended.entry["timestamp"],
    ]
    return sql, params


def _single_repr(appended: _Appended) -> str | None:
    """The text of the one row a statement writes, when it writes one known row."""
    if appended.ordered_reprs is not None and len(appended.ordered_reprs) == 1:
        return appended.ordered_reprs[0]
    if appended.pks is not None and len(appended.pks) == 1:
        return appended.reprs.get(str(appended.pks[0]), "")
    return None


# --- elsewhere: one INSERT ... SELECT after the statement ------------------------------------


class _Deferred:
    """Follow-ups of several statements of one write (``bulk_create()`` batches), merged."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.pending: list[_Appended] = []

    def add(self, appended: _Appended) -> None:
        for other in self.pending:
            if (
                other.table is appended.table
                and other.target is appended.target
                and other.entry["timestamp"] == appended.entry["timestamp"]
                and other.pks is not None
                and appended.pks is not None
            ):
                other.pks.extend(appended.pks)
                other.reprs.update(appended.reprs)
                return
        self.pending.append(appended)


_deferred_var: ContextVar[_Deferred | None] = ContextVar("trackable_audit_deferred", default=None)


@contextlib.contextmanager
def deferred(using: str) -> Iterator[None]:
    """Merge the follow-up statements of the writes inside into as few as possible."""
    if _deferred_var.get() is not None:
        yield
        return
    state = _Deferred(using)
    token = _deferred_var.set(state)
    try:
        yield
    finally:
        _deferred_var.reset(token)
    if state.pending:
        connection = connections[using]
        with transaction.atomic(using=using, savepoint=False):
            for appended in state.pending:
                _follow_up(appended, connection)


def _follow_up(appended: _Appended, connection: BaseDatabaseWrapper) -> None:
    """``INSERT INTO auditlog SELECT ... FROM <table>`` for the rows the statement wrote."""
    options = tracking.options_for(appended.table)
    pk = appended.table._meta.pk
    values = _constants(appended, connection)
    single = _single_repr(appended)
    if appended.pks is not None:
        rows = "pk"
        rows_params: list[Any] = [
            json.dumps([pk.get_db_prep_value(v, connection) for v in appended.pks])
        ]
    elif appended.stamped:
        stamp = options.roles["updated_at"]
        rows = "stamp"
        rows_params = [stamp.get_db_prep_value(appended.moment, connection)]
    else:
        rows, rows_params = "scan", []
    if single is not None:
        reprs: Any = single
    elif appended.ordered_reprs is not None and appended.pks is None:
        reprs = "{}"  # rows an upsert wrote: their order is not known here
    else:
        reprs = json.dumps(appended.reprs)
    sql = _follow_up_sql(
        appended.table, appended.target, connection.alias, rows, single is not None
    )
    meta = (appended.target._meta.concrete_model or appended.target)._meta
    params = [
        values["timestamp"],
        values["actor"],
        values["actor_repr"],
        meta.app_label,
        meta.model_name,
        *([reprs] if single is not None else []),
        values["extra"],
        *([] if single is not None else [reprs]),
        appended.entry["timestamp"],
        *rows_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@functools.lru_cache(maxsize=256)
def _follow_up_sql(
    table: type[models.Model], target: type[models.Model], alias: str, rows: str, single: bool
) -> str:
    """The follow-up's SQL for one table and way of finding its rows (cached: it only
    depends on names)."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    options = tracking.options_for(table)
    history = options.history
    assert history is not None
    meta = table._meta
    pk = meta.pk
    column = f"t.{qn(history.column or history.attname)}"
    pk_column = f"t.{qn(pk.column or pk.attname)}"
    object_id = f"CAST(({_sqlite_json(pk).replace('{v}', pk_column)}) AS TEXT)"
    ct_sql, _ct_params = _content_type_sql(target, connection)
    where = [f"json_extract({column}, '$[#-1].timestamp') = %s"]
    if rows == "pk":
        where.append(f"{pk_column} IN (SELECT value FROM json_each(%s))")
    elif rows == "stamp":
        stamp = options.roles["updated_at"]
        where.append(f"t.{qn(stamp.column or stamp.attname)} >= %s")
    if single:
        target_repr, source = "%s", f"{qn(meta.db_table)} AS t"
    else:
        target_repr = "COALESCE(r.value, '')"
        source = f"{qn(meta.db_table)} AS t LEFT JOIN json_each(%s) AS r ON r.key = {object_id}"
    return (
        f"{_insert_into(connection)} SELECT %s, %s, %s, "
        f"COALESCE(json_extract({column}, '$[#-1].action'), ''), {ct_sql}, {object_id}, "
        f"{target_repr}, "
        f"COALESCE(json_extract({column}, '$[#-1].changes'), '{{}}'), %s "
        f"FROM {source} WHERE {' AND '.join(where)}"
    )


# --- the log on another database: written on commit -----------------------------------------


def _log_on_commit(appended: _Appended, connection: BaseDatabaseWrapper, log_db: str) -> None:
    """Read the entries back from the rows and write them to ``log_db`` once this commits."""
    rows = list(_read_back(appended, connection))
    if not rows:
        return
    AuditLog = _audit_model()
    from django_trackable.models.audit import content_type_for

    content_type = content_type_for(appended.target)
    entry = appended.entry
    logs = [
        AuditLog(
            timestamp=appended.moment,
            actor_id=_actor_pk(entry.get("user")),
            actor_repr=(entry.get("user_repr") or "")[:_REPR_LENGTH],
            action=str(last.get("action") or ""),
            content_type_id=content_type.pk,
            object_id=str(pk)[:_REPR_LENGTH],
            target_repr=appended.reprs.get(str(pk), ""),
            changes=last.get("changes") or {},
            extra={k: v for k, v in entry.items() if k not in _ENTRY_KEYS},
        )
        for pk, last in rows
    ]
    transaction.on_commit(_bulk_create_later(logs, log_db), using=connection.alias)


def _actor_field() -> Any:
    return _audit_model()._meta.get_field("actor")


def _actor_pk(user_pk: Any) -> Any:
    if user_pk is None:
        return None
    actor: Any = _audit_model()._meta.get_field("actor")
    try:
        return actor.target_field.to_python(user_pk)
    except Exception:  # noqa: BLE001 - a non-user actor
        return None


def _read_back(appended: _Appended, connection: BaseDatabaseWrapper) -> Iterator[tuple[Any, Entry]]:
    """(pk, newest entry) of the rows the statement appended to."""
    options = tracking.options_for(appended.table)
    history = options.history
    assert history is not None
    rows = appended.table._base_manager.using(connection.alias).all()
    if appended.pks is not None:
        rows = rows.filter(pk__in=appended.pks)
    elif appended.stamped:
        rows = rows.filter(**{f"{options.roles['updated_at'].name}__gte": appended.moment})
    for pk, entries in rows.values_list("pk", history.name).iterator():
        if isinstance(entries, list) and entries:
            last = entries[-1]
            if isinstance(last, dict) and last.get("timestamp") == appended.entry["timestamp"]:
                yield pk, last


# --- hard deletes --------------------------------------------------------------------------

_delete_buffer_var: ContextVar[list[tuple[str, AuditLog]] | None] = ContextVar(
    "trackable_audit_deletes", default=None
)


@contextlib.contextmanager
def collecting_deletes(using: str) -> Iterator[None]:
    """Log the hard deletes inside with one INSERT, in the deleting transaction."""
    if _delete_buffer_var.get() is not None:
        yield
        return
    buffer: list[tuple[str, AuditLog]] = []
    with transaction.atomic(using=using, savepoint=False):
        token = _delete_buffer_var.set(buffer)
        try:
            yield
        finally:
            _delete_buffer_var.reset(token)
        _write_logs(buffer)


def _write_logs(logs: Iterable[tuple[str, AuditLog]]) -> None:
    by_database: dict[str, list[AuditLog]] = {}
    for using, log in logs:
        by_database.setdefault(using, []).append(log)
    AuditLog = _audit_model()
    log_db = log_database()
    for using, rows in by_database.items():
        if log_db == using:
            AuditLog.objects.using(log_db).bulk_create(rows)
        else:
            transaction.on_commit(_bulk_create_later(rows, log_db), using=using)


def _bulk_create_later(rows: list[AuditLog], using: str) -> Callable[[], None]:
    def write() -> None:
        _audit_model().objects.using(using).bulk_create(rows)

    return write


def log_hard_delete(
    sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any
) -> None:
    """``post_delete``: a ``delete`` row with the deleted row's last values."""
    options = tracking.options_for(sender)
    history = options.history
    # Under multi-table inheritance the row's history dies with the table
    # that holds it: log once, for that table's instance.
    if history is None or history.model is not sender or not is_tracking_enabled():
        return
    if not audit_enabled(type(instance)):
        return
    log = _deleted_log(instance, options)
    buffer = _delete_buffer_var.get()
    if buffer is not None:
        buffer.append((using, log))
    else:
        _write_logs([(using, log)])


def _deleted_log(instance: models.Model, options: tracking.ModelOptions) -> AuditLog:
    from django_trackable.models.audit import content_type_for

    AuditLog = _audit_model()
    user = get_current_user()
    changes: dict[str, Any] = {}
    current = instance.__dict__
    for tf in options.tracked:
        if tf.attname not in current:
            continue
        value = current[tf.attname]
        if tf.masked:
            changes[tf.name] = [MASK if value not in (None, "") else None, None]
        else:
            changes[tf.name] = [to_json(value), None]
    entry = build_entry("delete", tracking.now(), user, changes, get_current_extra())
    return AuditLog(
        timestamp=_stored_time(entry["timestamp"]),
        actor_id=tracking.user_pk_for(_actor_field(), user),
        actor_repr=(entry.get("user_repr") or "")[:_REPR_LENGTH],
        action="delete",
        content_type_id=content_type_for(type(instance)).pk,
        object_id=str(instance.pk)[:_REPR_LENGTH],
        target_repr=_instance_repr(instance),
        changes=changes,
        extra={**{k: v for k, v in entry.items() if k not in _ENTRY_KEYS}, "hard": True},
    )


def connect_receivers() -> None:
    """Connect ``post_delete`` for the models whose entries are audited (and only those:
    a receiver makes Django load rows before deleting them)."""
    from django.apps import apps

    for model in apps.get_models():
        uid = f"django_trackable.audit.{model._meta.label_lower}"
        options = tracking.options_for(model)
        if (
            options.history is not None
            and options.history.model is model
            and options.audit_possible
        ):
            post_delete.connect(log_hard_delete, sender=model, dispatch_uid=uid, weak=False)
        else:
            post_delete.disconnect(sender=model, dispatch_uid=uid)
