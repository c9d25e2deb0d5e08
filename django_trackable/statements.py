"""Tracked statements: Django's own UPDATE and INSERT, with room for what tracking adds.

A tracked write that appends history entries may also have to write
``AuditLog`` rows in the same transaction (see :mod:`django_trackable.audit`).
Django builds those statements from query classes; the tracked querysets use
:class:`TrackedQuery`, whose UPDATE and INSERT descendants compile with a small
mixin that asks the audit log what to add: on PostgreSQL a data-modifying
``WITH`` around the statement (one statement, no extra round trip), elsewhere
one follow-up statement in the same transaction.

Everything else is Django's: the SQL of the statement itself, multi-table
inheritance, ``RETURNING``, conflicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery, Query, UpdateQuery

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "InsertsThrough",
    "JSONTextInsertQuery",
    "TrackedInsertQuery",
    "TrackedQuery",
    "TrackedUpdateQuery",
    "insert",
    "tracked",
]

_Q = TypeVar("_Q", bound=models.QuerySet[Any])
_M = TypeVar("_M", bound=models.Model)


class TrackedQuery(Query):
    """A query whose UPDATEs are :class:`TrackedUpdateQuery` (Django makes them by ``chain()``)."""

    def chain(self, klass: type[Query] | None = None) -> Any:
        if klass is UpdateQuery:
            klass = TrackedUpdateQuery
        return super().chain(klass)


class TrackedUpdateQuery(UpdateQuery):
    """An UPDATE compiled by :class:`_TrackedUpdateCompiler`; so are its parents' UPDATEs."""

    def get_compiler(
        self, using: str | None = None, connection: Any = None, elide_empty: bool = True
    ) -> Any:
        compiler = super().get_compiler(using, connection, elide_empty)
        compiler.__class__ = _with_mixin(type(compiler), _TrackedUpdateCompiler)
        return compiler

    def get_related_updates(self) -> list[UpdateQuery]:
        # Multi-table inheritance: the parents' columns (history among them)
        # are written by UPDATEs Django builds here.
        updates: list[UpdateQuery] = super().get_related_updates()
        for query in updates:
            query.__class__ = TrackedUpdateQuery
        return updates


_mixed: dict[tuple[type[Any], type[Any]], type[Any]] = {}


def _with_mixin(base: type[Any], mixin: type[Any]) -> type[Any]:
    """``base`` (a backend's compiler class) with ``mixin`` in front (cached), named for
    both (``_JSONTextInsertCompiler+SQLInsertCompiler``) so a traceback says which."""
    try:
        return _mixed[base, mixin]
    except KeyError:
        name = f"{mixin.__name__}+{base.__name__}"
        cls = _mixed[base, mixin] = type(name, (mixin, base), {"__qualname__": name})
        return cls


class _TrackedUpdateCompiler:
    """Runs the statement through the audit write that applies to it, if any."""

    #: The audit write fused into this statement's SQL (PostgreSQL), while it compiles.
    _trackable_fused: Any = None
    _trackable_running = False
    #: Whether the statement returns ``pk, len(history)`` of each row (archive.py).
    _trackable_lengths = False

    def execute_sql(self, result_type: Any) -> Any:
        from django_trackable import archive, audit

        run = super().execute_sql  # type: ignore[misc]
        if self._trackable_running:
            return run(result_type)
        window = archive.applies(self)
        if window is not None:
            # The same statement, returning each row's new history length.
            def run(result_type: Any) -> Any:
                return archive.run_reporting_lengths(self, result_type, window)

        self._trackable_running = True
        try:
            return audit.run_update(self, lambda: run(result_type))
        finally:
            self._trackable_running = False

    def execute_returning_sql(self, returning_fields: Any) -> Any:  # Django 6
        from django_trackable import audit

        run = super().execute_returning_sql  # type: ignore[misc]
        if self._trackable_running:  # it may call execute_sql(): one audit write
            return run(returning_fields)
        if not returning_fields:
            # What Django does then, through our execute_sql(): the window's lengths too.
            from django.db.models.sql.constants import ROW_COUNT

            return [()] * (self.execute_sql(ROW_COUNT) or 0)
        self._trackable_running = True
        try:
            return audit.run_update(self, lambda: run(returning_fields))
        finally:
            self._trackable_running = False

    def as_sql(self) -> Any:
        fused = self._trackable_fused
        if fused is None:
            sql, params = super().as_sql()  # type: ignore[misc]
            if sql and self._trackable_lengths:
                from django_trackable import archive

                compiler: Any = self
                qn, meta = compiler.connection.ops.quote_name, compiler.query.model._meta
                pk = f"{qn(meta.db_table)}.{qn(meta.pk.column)}"
                sql = f"{sql} RETURNING {pk}, {archive.length_sql(self)}"
            return sql, params
        theirs = getattr(self, "returning_fields", None)  # Django 6 returns from UPDATEs
        self.returning_fields = None
        try:
            sql, params = super().as_sql()  # type: ignore[misc]
        finally:
            self.returning_fields = theirs
        if not sql:
            return sql, params
        return fused.around(self, sql, params, theirs)


class _JSONTextInsertCompiler:
    """Bulk INSERTs on PostgreSQL take each JSON column as one text."""

    def assemble_as_sql(self, fields: Any, value_rows: Any) -> Any:
        placeholders, params = super().assemble_as_sql(fields, value_rows)  # type: ignore[misc]
        return _json_columns_as_one_text(self, fields, placeholders, params)


class _TrackedInsertCompiler(_JSONTextInsertCompiler):
    """Runs the statement through the audit write that applies to it, if any."""

    _trackable_fused: Any = None

    def execute_sql(self, returning_fields: Any = None) -> Any:
        from django_trackable import audit

        run = super().execute_sql  # type: ignore[misc]
        return audit.run_insert(self, returning_fields, lambda: run(returning_fields))

    def as_sql(self) -> Any:
        fused = self._trackable_fused
        theirs = getattr(self, "returning_fields", None)
        if fused is not None:
            self.returning_fields = None
        try:
            statements = super().as_sql()  # type: ignore[misc]
        finally:
            self.returning_fields = theirs
        if self.query.on_conflict == OnConflict.UPDATE:  # type: ignore[attr-defined]
            statements = [_record_conflict_updates(self, sql, params) for sql, params in statements]
        if fused is None:
            return statements
        return [fused.around(self, sql, params, theirs) for sql, params in statements]


#: A JSON array's elements as ``jsonb[]``, in their order (the UNNEST of a bulk INSERT).
_JSONB_ARRAY = (
    "ARRAY(SELECT e.value FROM jsonb_array_elements(CAST(%s AS jsonb)) "
    "WITH ORDINALITY AS e(value, n) ORDER BY e.n)"
)


def _json_columns_as_one_text(compiler: Any, fields: Any, placeholders: Any, params: Any) -> Any:
    """PostgreSQL's bulk INSERT (``UNNEST`` of one array per column): JSON columns as one text.

    psycopg writes a ``jsonb[]`` parameter element by element, escaping each
    double quote with a regular expression in Python; a history entry is dense
    with them, and that escaping was about half of what a tracked
    ``bulk_create()`` added to the same model untracked. One JSON array text
    per column, unpacked by the database, costs a ``json.dumps`` of each value
    (as before) and one string. Anything but values Django adapted with their
    own ``dumps`` is left as Django built it.
    """
    if compiler.connection.vendor != "postgresql":
        return placeholders, params
    from django.db.backends.postgresql.compiler import InsertUnnest
    from django.db.backends.postgresql.psycopg_any import Jsonb, is_psycopg3

    # Only Django's UNNEST form, and only psycopg 3's array quoting is the slow one.
    if not is_psycopg3 or not isinstance(placeholders, InsertUnnest):
        return placeholders, params
    if len(params) != 1 or len(params[0]) != len(fields) or len(placeholders) != len(fields):
        return placeholders, params
    columns = list(params[0])
    changed = list(placeholders)
    for index, field in enumerate(fields):
        values = columns[index]
        if field.get_internal_type() != "JSONField" or not all(
            type(value) is Jsonb and value.dumps is not None for value in values
        ):
            continue
        texts = [value.dumps(value.obj) for value in values]
        if all(type(text) is str for text in texts):
            columns[index] = "[" + ",".join(texts) + "]"
            changed[index] = _JSONB_ARRAY
    return InsertUnnest(changed), [columns]


class JSONTextInsertQuery(InsertQuery):
    """An INSERT whose bulk form on PostgreSQL takes each JSON column as one text.

    See :func:`_json_columns_as_one_text`; ``AuditLog`` inserts use it (the
    move, importing, a log on another database).
    """

    compiler_mixin: type[Any] = _JSONTextInsertCompiler

    def get_compiler(
        self, using: str | None = None, connection: Any = None, elide_empty: bool = True
    ) -> Any:
        compiler = super().get_compiler(using, connection, elide_empty)
        compiler.__class__ = _with_mixin(type(compiler), self.compiler_mixin)
        return compiler


class TrackedInsertQuery(JSONTextInsertQuery):
    """An INSERT compiled by :class:`_TrackedInsertCompiler`."""

    compiler_mixin = _TrackedInsertCompiler


def _record_conflict_updates(compiler: Any, sql: str, params: Any) -> tuple[str, Any]:
    """``bulk_create(update_conflicts=True)``: the rows its ``ON CONFLICT DO UPDATE``
    changes get an ``update`` entry and stamps, like any other write.

    The entry's old values are the row's, the new ones those the INSERT
    proposed (``EXCLUDED``); rows the conflict leaves as they were get nothing.
    """
    from django_trackable import tracking
    from django_trackable.expressions import HistoryAppend, SQLChange, _Changes

    query = compiler.query
    connection = compiler.connection
    options = tracking.options_for(query.model)
    history = options.history
    plan = query.objs[0].__dict__.get(tracking.PLAN) if query.objs else None
    if history is None or plan is None or plan.entry is None:
        return sql, params
    qn = connection.ops.quote_name
    fields = query.fields or [query.model._meta.pk]
    suffix = connection.ops.on_conflict_suffix_sql(
        fields,
        query.on_conflict,
        (f.column for f in query.update_fields),
        (f.column for f in query.unique_fields),
    )
    at = sql.rfind(suffix) if suffix else -1
    if at < 0:
        return sql, params
    table = qn(query.model._meta.db_table)

    def row(field: Any) -> Any:
        return RawSQL(f"{table}.{qn(field.column)}", (), output_field=field)

    def proposed(field: Any) -> Any:
        return RawSQL(f"EXCLUDED.{qn(field.column)}", (), output_field=field)

    changes = []
    for field in query.update_fields:
        tf = options.by_name.get(field.name)
        if tf is not None and tf.in_history_table:
            changes.append(SQLChange(field, proposed(field), masked=tf.masked, old=row(field)))
    given = {f.name for f in query.update_fields}
    if not changes or history.name in given:
        return sql, params
    entry = {k: v for k, v in plan.entry.items() if k != "changes"} | {"action": "update"}
    append = HistoryAppend(history.name, entry, changes, options.limit)
    append.set_source_expressions(
        [row(history), *[c.old for c in changes], *[c.new for c in changes]]
    )
    history_sql, history_params = compiler.compile(append)
    olds, news = [c.old for c in changes], [c.new for c in changes]
    condition, condition_params = _Changes(compiler, connection, changes, olds, news).condition()
    assignments = [f"{qn(history.column)} = {history_sql}"]
    extra_params = list(history_params)
    for role in ("updated_at", "updated_by"):
        field = options.roles.get(role)
        if field is None or field.name in given:
            continue
        column = f"{table}.{qn(field.column)}"
        new = f"EXCLUDED.{qn(field.column)}"
        if role == "updated_at":  # never back in time (see expressions.LatestTime)
            new = f"CASE WHEN {column} > {new} THEN {column} ELSE {new} END"
        assignments.append(
            f"{qn(field.column)} = CASE WHEN {condition} THEN {new} ELSE {column} END"
        )
        extra_params += condition_params
    end = at + len(suffix)
    # Nothing after the suffix takes parameters (RETURNING names columns only).
    return f"{sql[:end]}, {', '.join(assignments)}{sql[end:]}", (*params, *extra_params)


def tracked(queryset: _Q) -> _Q:
    """A copy of ``queryset`` whose writes are tracked statements."""
    clone: _Q = queryset._chain()  # type: ignore[attr-defined]
    if not isinstance(clone.query, TrackedQuery):
        clone.query = clone.query.chain(TrackedQuery)
    return clone


class InsertsThrough(models.QuerySet[_M]):
    """A queryset whose INSERTs (``create()``, ``save()``, ``bulk_create()``) are
    ``insert_query`` statements."""

    insert_query: type[InsertQuery] = JSONTextInsertQuery

    def _insert(
        self,
        objs: Any,
        fields: Any,
        returning_fields: Any = None,
        raw: bool = False,
        using: str | None = None,
        on_conflict: Any = None,
        update_fields: Any = None,
        unique_fields: Any = None,
    ) -> Any:
        self._for_write = True
        return insert(
            self.model,
            objs,
            fields,
            using=using or self.db,
            returning_fields=returning_fields,
            raw=raw,
            query_class=self.insert_query,
            on_conflict=on_conflict,
            update_fields=update_fields,
            unique_fields=unique_fields,
        )

    _insert.alters_data = True  # type: ignore[attr-defined]
    _insert.queryset_only = False  # type: ignore[attr-defined]


def insert(
    model: type[models.Model],
    objs: Sequence[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    *,
    using: str,
    returning_fields: Sequence[models.Field[Any, Any]] | None = None,
    raw: bool = False,
    query_class: type[InsertQuery] = TrackedInsertQuery,
    on_conflict: Any = None,
    update_fields: Any = None,
    unique_fields: Any = None,
) -> Any:
    """``QuerySet._insert()`` as a ``query_class`` statement (by default a tracked one:
    ``Model.save()``; querysets pass their own, see :class:`InsertsThrough`)."""
    query = query_class(
        model, on_conflict=on_conflict, update_fields=update_fields, unique_fields=unique_fields
    )
    query.insert_values(fields, list(objs), raw=raw)
    return query.get_compiler(using=using).execute_sql(returning_fields)


def returning_sql(connection: BaseDatabaseWrapper, fields: Sequence[Any]) -> tuple[str, Any]:
    """``RETURNING`` for ``fields`` as the backend writes it (named differently before Django 6)."""
    ops: Any = connection.ops
    method: Callable[[Any], tuple[str, Any]] = (
        getattr(ops, "returning_columns", None) or ops.return_insert_columns
    )
    return method(list(fields))
