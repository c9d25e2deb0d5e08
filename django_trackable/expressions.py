"""SQL that appends history entries inside the row's own UPDATE.

The append is an expression over the ``history`` column itself, so the
database serialises concurrent writers and none loses another's entry, and
``HISTORY_LIMIT`` trims in the same statement. Where Python does not know a
field's previous value (``QuerySet.update()``, an instance built by hand with
an existing primary key), the entry's old value is read from the row in SQL and
converted to the same JSON that :func:`django_trackable.history.to_json`
produces, and rows whose values do not actually change get no entry.

Supported backends: SQLite (JSON1, 3.31+) and PostgreSQL (jsonb). The
``django_trackable.E005`` check reports any other database alias.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import NotSupportedError, models
from django.db.models.expressions import Expression

from django_trackable.history import MASK, Entry, to_json

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    _SQL = tuple[str, list[Any]]

SUPPORTED_VENDORS = frozenset({"sqlite", "postgresql"})

_INTEGER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dumps(value: Any) -> str:
    return _encoder.encode(value)


def _append_sql(
    vendor: str,
    history_sql: str,
    history_params: list[Any],
    new_sql: str,
    new_params: list[Any],
    limit: int | None,
    *,
    built_in_sql: bool = False,
) -> _SQL:
    """SQL for ``history`` with the entry ``new_sql`` added at the end, keeping ``limit``.

    On PostgreSQL ``new_sql`` is a one-element jsonb array, on SQLite the entry's
    JSON text, or (``built_in_sql``) a value SQLite's JSON functions built, which
    it inserts as JSON without parsing it again.
    """
    if vendor == "postgresql":
        sql = f"COALESCE({history_sql}, '[]'::jsonb) || {new_sql}"
        params = [*history_params, *new_params]
        if limit is None:
            return sql, params
        return newest_sql(vendor, sql, params, limit)
    entry = new_sql if built_in_sql else f"json({new_sql})"
    sql = f"json_insert(COALESCE({history_sql}, '[]'), '$[#]', {entry})"
    params = [*history_params, *new_params]
    if limit is None:
        return sql, params
    return newest_sql(vendor, sql, params, limit)


def newest_sql(vendor: str, sql: str, params: list[Any], limit: int) -> _SQL:
    """SQL for the last ``limit`` elements of the JSON array ``sql``, in order."""
    if vendor == "postgresql":
        return f"jsonb_path_query_array({sql}, %s::jsonpath)", [*params, newest_path(limit)]
    return (
        "(SELECT json_group_array(CASE WHEN j.type IN ('object', 'array') "
        "THEN json(j.value) ELSE j.value END) "
        f"FROM json_each({sql}) AS j WHERE j.key >= json_array_length(j.json) - %s)",
        [*params, int(limit)],
    )


def newest_path(limit: int) -> str:
    """The jsonpath of an array's last ``limit`` elements (PostgreSQL)."""
    return f"$[last - {int(limit) - 1} to last]"


class AppendEntry:
    """``history`` plus one entry Python already knows: what ``Model.save()`` writes.

    Compiled straight to SQL on the row's own column: no expression to
    resolve, and (see :class:`Unreturned`) nothing for Django 6 to read back.
    """

    __slots__ = ("column", "entry", "limit", "target")

    def __init__(self, column: str, entry: Entry, limit: int | None, target: Any = None) -> None:
        self.column = column
        self.entry = entry
        self.limit = limit
        #: What the row is (an :class:`~django_trackable.audit.AuditTarget`), for the audit log.
        self.target = target

    def as_expression(self, field_name: str) -> Any:
        """The same append as a resolvable expression (``bulk_update()`` needs one)."""
        return HistoryAppend(field_name, self.entry, (), self.limit, target=self.target)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:
        column = connection.ops.quote_name(self.column)
        if connection.vendor == "postgresql":
            return _append_sql(
                "postgresql", column, [], "%s::jsonb", [_dumps([self.entry])], self.limit
            )
        return _append_sql(connection.vendor, column, [], "%s", [_dumps(self.entry)], self.limit)


class SQLChange:
    """One field of an entry whose old value is read from the row in SQL.

    ``old`` is the SQL that reads it, when the column is not in the table the
    UPDATE writes (multi-table inheritance: see :func:`column_of_row`); by
    default the column itself.
    """

    def __init__(
        self, field: models.Field[Any, Any], new: Any, *, masked: bool, old: Any = None
    ) -> None:
        self.field = field
        self.masked = masked
        if hasattr(new, "prepare_database_save"):  # a model instance for a foreign key
            new = new.prepare_database_save(field)
        self.is_expression = hasattr(new, "resolve_expression")
        self.new_json = None if self.is_expression else to_json(new)
        self.new = new if self.is_expression else models.Value(new, output_field=field)
        self.old: Any = old if old is not None else models.F(field.name)


def column_of_row(
    model: type[models.Model], field: models.Field[Any, Any], value: Any = None
) -> Any:
    """``field``'s value in this row's record of ``model``'s table, as a correlated subquery.

    Under multi-table inheritance a row's columns live in several tables that
    share its primary key; the UPDATE that appends to ``history`` reads the
    others' columns this way. With ``value`` (an expression), the subquery
    computes it on ``model`` instead of reading the column.
    """
    rows = model._base_manager.filter(pk=models.OuterRef("pk"))
    if value is None:
        return models.Subquery(rows.values(field.attname)[:1], output_field=field)
    rows = rows.annotate(_trackable_value=value)
    return models.Subquery(rows.values("_trackable_value")[:1], output_field=field)


def _value_field(field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    """The field that describes the stored value (the target of a foreign key)."""
    while field.is_relation and (field.many_to_one or field.one_to_one):
        field = field.target_field  # type: ignore[attr-defined]
    return field


# JSON conversions of a value ``{v}`` of a given field type, per backend. They
# mirror history.to_json() so entries written in SQL read like those from Python.
def _pg_json(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    kind = _value_field(field).get_internal_type()
    if kind == "JSONField":
        return "{v}"
    if kind in _INTEGER_TYPES or kind in {"BooleanField", "FloatField", "ArrayField"}:
        return f"to_jsonb(CAST({{v}} AS {field.db_type(connection)}))"
    if kind == "DateTimeField":
        if settings.USE_TZ:
            return (
                "to_jsonb(to_char({v} AT TIME ZONE 'UTC', "
                '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\'))'
            )
        return "to_jsonb(to_char({v}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'))"
    if kind == "DateField":
        return "to_jsonb(to_char({v}, 'YYYY-MM-DD'))"
    if kind == "TimeField":
        return "to_jsonb(to_char({v}, 'HH24:MI:SS.US'))"
    if kind == "DurationField":
        return (
            "to_jsonb("
            + _duration_text("(EXTRACT(EPOCH FROM {v}) * 1000000)::bigint", "lpad")
            + ")"
        )
    if kind == "BinaryField":
        return "to_jsonb(translate(encode({v}, 'base64'), E'\\n', ''))"
    if kind == "GenericIPAddressField":
        return "to_jsonb(host({v}))"
    return "to_jsonb(CAST({v} AS text))"


def _sqlite_json(field: models.Field[Any, Any]) -> str:
    value_field = _value_field(field)
    kind = value_field.get_internal_type()
    if kind == "BooleanField":
        return "CASE WHEN {v} IS NULL THEN NULL WHEN {v} THEN json('true') ELSE json('false') END"
    if kind == "JSONField":
        return "json({v})"
    if kind == "FloatField":  # JSON has no infinities; SQLite cannot store NaN at all
        return (
            "CASE WHEN {v} = 9e999 THEN 'Infinity' WHEN {v} = -9e999 THEN '-Infinity' ELSE {v} END"
        )
    if kind == "DecimalField":
        places = int(getattr(value_field, "decimal_places", 0) or 0)
        return f"CASE WHEN {{v}} IS NULL THEN NULL ELSE printf('%%.{places}f', {{v}}) END"
    if kind == "DateTimeField":
        offset = " || '+00:00'" if settings.USE_TZ else ""
        return (
            "CASE WHEN {v} IS NULL THEN NULL ELSE replace({v}, ' ', 'T') || "
            f"CASE WHEN instr({{v}}, '.') THEN '' ELSE '.000000' END{offset} END"
        )
    if kind == "UUIDField":
        return (
            "CASE WHEN {v} IS NULL THEN NULL ELSE substr({v}, 1, 8) || '-' || "
            "substr({v}, 9, 4) || '-' || substr({v}, 13, 4) || '-' || "
            "substr({v}, 17, 4) || '-' || substr({v}, 21) END"
        )
    if kind == "TimeField":  # stored without a fraction when it is zero
        return (
            "CASE WHEN {v} IS NULL THEN NULL WHEN instr({v}, '.') THEN {v} "
            "ELSE {v} || '.000000' END"
        )
    if kind == "DurationField":  # stored as microseconds
        return _duration_text("{v}", "printf")
    if kind == "BinaryField":  # SQLite has no base64(): see register_sqlite_functions()
        return f"{SQLITE_BASE64}({{v}})"
    return "{v}"


#: The SQLite function that encodes a BLOB as Python's base64 does.
SQLITE_BASE64 = "django_trackable_base64"


def _base64(value: Any) -> str | None:
    if value is None:
        return None
    return base64.b64encode(bytes(value)).decode("ascii")


def register_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created``: the SQL functions old values read on SQLite need."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_BASE64, 1, _base64, deterministic=True)


def _duration_text(micros: str, pad: str) -> str:
    """SQL for Python's ``duration_iso_string()`` of ``micros`` microseconds (``{v}`` inside).

    ``pad`` is how the backend zero-pads: ``lpad`` (PostgreSQL) or ``printf`` (SQLite).
    """
    a = "abs(d.us)"
    # "%%": the SQL goes through the driver's parameter formatting.
    parts = {
        "days": f"{a} / 86400000000",
        "hours": f"{a} %% 86400000000 / 3600000000",
        "minutes": f"{a} %% 3600000000 / 60000000",
        "seconds": f"{a} %% 60000000 / 1000000",
        "micros": f"{a} %% 1000000",
    }
    if pad == "lpad":

        def two(name: str) -> str:
            return f"lpad(({parts[name]})::text, 2, '0')"

        fraction = f"lpad(({parts['micros']})::text, 6, '0')"
        days = f"({parts['days']})::text"
    else:

        def two(name: str) -> str:
            return f"printf('%%02d', {parts[name]})"

        fraction = f"printf('%%06d', {parts['micros']})"
        days = f"CAST({parts['days']} AS TEXT)"
    text = (
        f"CASE WHEN d.us < 0 THEN '-' ELSE '' END || 'P' || {days} || 'DT' || "
        f"{two('hours')} || 'H' || {two('minutes')} || 'M' || {two('seconds')} || "
        f"CASE WHEN {parts['micros']} > 0 THEN '.' || {fraction} ELSE '' END || 'S'"
    )
    return (
        f"(SELECT CASE WHEN d.us IS NULL THEN NULL ELSE {text} END "
        f"FROM (SELECT {micros} AS us) AS d)"
    )


def _apply(template: str, sql: str, params: list[Any]) -> _SQL:
    """Put compiled ``sql`` into each ``{v}`` of ``template``, repeating its params."""
    return template.replace("{v}", f"({sql})"), params * template.count("{v}")


class _Changes:
    """Compiled old/new SQL of each :class:`SQLChange`, and SQL built from them."""

    def __init__(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        changes: Sequence[SQLChange],
        olds: Sequence[Any],
        news: Sequence[Any],
    ) -> None:
        self.vendor = connection.vendor
        self.connection = connection
        self.items: list[tuple[SQLChange, tuple[str, list[Any]], tuple[str, list[Any]]]] = []
        for change, old, new in zip(changes, olds, news, strict=True):
            old_sql, old_params = compiler.compile(old)
            new_sql, new_params = compiler.compile(new)
            self.items.append((change, (old_sql, list(old_params)), (new_sql, list(new_params))))

    def condition(self) -> _SQL:
        """True when any field's new value differs from the row's."""
        op = "IS DISTINCT FROM" if self.vendor == "postgresql" else "IS NOT"
        parts, params = [], []
        for change, (old_sql, old_params), (new_sql, new_params) in self.items:
            if self.vendor == "sqlite" and change.field.get_internal_type() == "JSONField":
                parts.append(f"json({old_sql}) IS NOT json({new_sql})")
            else:
                parts.append(f"({old_sql}) {op} ({new_sql})")
            params += [*old_params, *new_params]
        return "(" + " OR ".join(parts) + ")", params

    def _json(self, change: SQLChange, sql: str, params: list[Any], *, new: bool) -> _SQL:
        pg = self.vendor == "postgresql"
        if change.masked:
            return ("'\"%s\"'::jsonb" if pg else "json('\"%s\"')") % MASK, []
        if new and not change.is_expression:
            return ("%s::jsonb" if pg else "json(%s)"), [_dumps(change.new_json)]
        template = _pg_json(change.field, self.connection) if pg else _sqlite_json(change.field)
        return _apply(template, sql, params)

    def changes_object(self, known: dict[str, Any]) -> _SQL:
        """A JSON object of ``known`` changes plus each SQL field that changed."""
        pg = self.vendor == "postgresql"
        if not known and len(self.items) == 1:
            # One field, in an entry appended only where it changed (the caller's CASE):
            # its change alone is the object.
            change, (old_sql, old_params), (new_sql, new_params) = self.items[0]
            old_json, old_json_params = self._json(change, old_sql, old_params, new=False)
            new_json, new_json_params = self._json(change, new_sql, new_params, new=True)
            build = (
                "jsonb_build_object(%s, jsonb_build_array" if pg else "json_object(%s, json_array"
            )
            return f"{build}({old_json}, {new_json}))", [
                change.field.name,
                *old_json_params,
                *new_json_params,
            ]
        params: list[Any] = [_dumps(known)]
        if pg:
            parts = ["%s::jsonb"]
            for change, (old_sql, old_params), (new_sql, new_params) in self.items:
                old_json, old_json_params = self._json(change, old_sql, old_params, new=False)
                new_json, new_json_params = self._json(change, new_sql, new_params, new=True)
                parts.append(
                    f"CASE WHEN ({old_sql}) IS DISTINCT FROM ({new_sql}) THEN "
                    f"jsonb_build_object(%s, jsonb_build_array({old_json}, {new_json})) "
                    "ELSE '{}'::jsonb END"
                )
                params += [*old_params, *new_params, change.field.name]
                params += [*old_json_params, *new_json_params]
            return "(" + " || ".join(parts) + ")", params
        # SQLite: json_patch() drops keys whose patch value is null (RFC 7396).
        members = []
        for change, (old_sql, old_params), (new_sql, new_params) in self.items:
            old_json, old_json_params = self._json(change, old_sql, old_params, new=False)
            new_json, new_json_params = self._json(change, new_sql, new_params, new=True)
            differs = (
                f"json({old_sql}) IS NOT json({new_sql})"
                if change.field.get_internal_type() == "JSONField"
                else f"({old_sql}) IS NOT ({new_sql})"
            )
            members.append(f"%s, CASE WHEN {differs} THEN json_array({old_json}, {new_json}) END")
            params += [change.field.name, *old_params, *new_params]
            params += [*old_json_params, *new_json_params]
        return f"json_patch(%s, json_object({', '.join(members)}))", params


class HistoryAppend(Expression):
    """``history`` with one more entry at the end, trimmed to ``limit`` entries.

    ``entry`` is the entry as Python knows it. ``sql_changes`` are fields whose
    old value must be read from the row; with them, the entry is only appended
    to rows where one of those values (or a key already in ``entry["changes"]``)
    actually changes.
    """

    output_field = models.JSONField()

    def __init__(
        self,
        field_name: str,
        entry: Entry,
        sql_changes: Sequence[SQLChange] = (),
        limit: int | None = None,
        *,
        target: Any = None,
    ) -> None:
        super().__init__()
        self.field_name = field_name
        self.entry = entry
        self.sql_changes = list(sql_changes)
        self.limit = limit
        #: What the rows are (an :class:`~django_trackable.audit.AuditTarget`), for the audit log.
        self.target = target
        self.history: Any = models.F(field_name)
        self.olds: list[Any] = [c.old for c in self.sql_changes]
        self.news: list[Any] = [c.new for c in self.sql_changes]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.field_name!r}, {self.entry.get('action')!r})"

    def get_source_expressions(self) -> list[Any]:
        return [self.history, *self.olds, *self.news]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        count = len(self.sql_changes)
        self.history = exprs[0]
        self.olds = list(exprs[1 : 1 + count])
        self.news = list(exprs[1 + count :])

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:  # type: ignore[override]
        if connection.vendor not in SUPPORTED_VENDORS:
            raise NotSupportedError(
                f"django_trackable cannot append history on {connection.vendor}; "
                "see the django_trackable.E005 check."
            )
        history_sql, compiled_params = compiler.compile(self.history)
        history_params = list(compiled_params)
        vendor = connection.vendor
        if not self.sql_changes:
            if vendor == "postgresql":
                new_sql, new_params = "%s::jsonb", [_dumps([self.entry])]
            else:
                new_sql, new_params = "%s", [_dumps(self.entry)]
            return _append_sql(vendor, history_sql, history_params, new_sql, new_params, self.limit)

        changes = _Changes(compiler, connection, self.sql_changes, self.olds, self.news)
        static = {key: value for key, value in self.entry.items() if key != "changes"}
        known = self.entry.get("changes") or {}
        changes_sql, changes_params = changes.changes_object(known)
        if vendor == "postgresql":
            new_sql = (
                f"jsonb_build_array(%s::jsonb || jsonb_build_object('changes', {changes_sql}))"
            )
        else:
            new_sql = f"json_set(%s, '$.changes', {changes_sql})"
        sql, params = _append_sql(
            vendor,
            history_sql,
            history_params,
            new_sql,
            [_dumps(static), *changes_params],
            self.limit,
            built_in_sql=True,
        )
        if known:  # Python already knows something changed: always append.
            return sql, params
        condition, condition_params = changes.condition()
        return (
            f"CASE WHEN {condition} THEN {sql} ELSE {history_sql} END",
            [*condition_params, *params, *history_params],
        )


class IfChanged(Expression):
    """``value`` where any of ``sql_changes`` changes the row, else the column as is.

    Keeps ``updated_at``/``updated_by`` in step with the history: a row that
    ``QuerySet.update()`` leaves as it was keeps its stamps too.
    """

    def __init__(
        self, field: models.Field[Any, Any], value: Any, sql_changes: Sequence[SQLChange]
    ) -> None:
        super().__init__(output_field=field)
        self.sql_changes = list(sql_changes)
        self.column: Any = models.F(field.name)
        self.value: Any = (
            value
            if hasattr(value, "resolve_expression")
            else models.Value(value, output_field=field)
        )
        self.olds: list[Any] = [c.old for c in self.sql_changes]
        self.news: list[Any] = [c.new for c in self.sql_changes]

    def get_source_expressions(self) -> list[Any]:
        return [self.column, self.value, *self.olds, *self.news]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        count = len(self.sql_changes)
        self.column, self.value = exprs[0], exprs[1]
        self.olds = list(exprs[2 : 2 + count])
        self.news = list(exprs[2 + count :])

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:  # type: ignore[override]
        changes = _Changes(compiler, connection, self.sql_changes, self.olds, self.news)
        condition, condition_params = changes.condition()
        value_sql, value_params = compiler.compile(self.value)
        column_sql, column_params = compiler.compile(self.column)
        return (
            f"CASE WHEN {condition} THEN {value_sql} ELSE {column_sql} END",
            [*condition_params, *value_params, *column_params],
        )


class LatestTime(Expression):
    """``time``, unless the column already holds a later one: ``updated_at`` never moves back.

    A write takes its time before it waits for the row's lock, so a writer
    that waited can commit after one that started later. Its entry then comes
    after the later one in ``history``, but ``updated_at`` keeps the later
    time, so ``since(t)`` finds every row with an entry after ``t``.
    """

    def __init__(self, field: models.Field[Any, Any], time: Any) -> None:
        super().__init__(output_field=field)
        self.time = time
        self.column: Any = models.F(field.name)
        self.value: Any = models.Value(time, output_field=field)

    def get_source_expressions(self) -> list[Any]:
        return [self.column, self.value]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.column, self.value = exprs

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:  # type: ignore[override]
        column_sql, column_params = compiler.compile(self.column)
        value_sql, value_params = compiler.compile(self.value)
        return _later(column_sql, list(column_params), value_sql, list(value_params))


def _later(
    column_sql: str, column_params: list[Any], value_sql: str, value_params: list[Any]
) -> _SQL:
    return (
        f"CASE WHEN {column_sql} > {value_sql} THEN {column_sql} ELSE {value_sql} END",
        [*column_params, *value_params, *column_params, *value_params],
    )


class LaterStamp:
    """:class:`LatestTime` as ``Model.save()`` writes it (see :class:`Unreturned`)."""

    __slots__ = ("field", "time")

    def __init__(self, field: models.Field[Any, Any], time: Any) -> None:
        self.field = field
        self.time = time

    def as_expression(self, field_name: str) -> Any:
        """The same value as a resolvable expression (``bulk_update()`` needs one)."""
        return LatestTime(self.field, self.time)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:
        column = connection.ops.quote_name(self.field.column or self.field.attname)
        value = self.field.get_db_prep_save(self.time, connection)
        return _later(column, [], "%s", [value])


class Unreturned:
    """Wrap an expression so ``Model.save()`` compiles it without ``RETURNING`` it.

    Django 6 reads back every field saved with an expression. For ``history``
    that would ship the whole list back on every save; the instance keeps its
    own copy instead (see :meth:`TrackableModel.save`). The UPDATE compiler
    compiles any value that has ``as_sql``; only values with
    ``resolve_expression`` are read back.
    """

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def as_expression(self, field_name: str) -> Any:
        """The wrapped expression, for callers that resolve it themselves."""
        return self.expression

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:
        resolved = self.expression.resolve_expression(
            compiler.query, allow_joins=False, for_save=True
        )
        sql, params = compiler.compile(resolved)
        return sql, list(params)


class KeepColumn:
    """``SET column = column``: leave a stamp as the row has it (see :class:`Unreturned`)."""

    def __init__(self, column: str) -> None:
        self.column = column

    def as_expression(self, field_name: str) -> Any:
        """``F(field_name)``: the same "leave it as it is" as a resolvable expression."""
        return models.F(field_name)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:
        return connection.ops.quote_name(self.column), []


class Increment:
    """``SET column = column + 1``: the ``version`` of a write that records an entry.

    Counted by the row's own UPDATE, so concurrent writers never lose an
    increment (see :class:`Unreturned` for why it is not an expression).
    """

    def __init__(self, column: str) -> None:
        self.column = column

    def as_expression(self, field_name: str) -> Any:
        """``F(field_name) + 1``, for callers that resolve expressions themselves."""
        return models.F(field_name) + 1

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:
        return f"{connection.ops.quote_name(self.column)} + 1", []


class NewestEntryAt(Expression):
    """True for rows whose newest history entry has the ``timestamp`` given (exact text)."""

    conditional = True

    def __init__(self, field_name: str, timestamp: str) -> None:
        super().__init__(output_field=models.BooleanField())
        self.history: Any = models.F(field_name)
        self.timestamp = timestamp

    def get_source_expressions(self) -> list[Any]:
        return [self.history]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.history,) = exprs

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:  # type: ignore[override]
        history_sql, params = compiler.compile(self.history)
        if connection.vendor == "postgresql":
            is_list = f"jsonb_typeof({history_sql}) = 'array'"
            newest = f"{history_sql} -> -1 ->> 'timestamp'"
        else:
            is_list = f"json_valid({history_sql})"
            newest = f"json_extract({history_sql}, '$[#-1].timestamp')"
        sql = f"(CASE WHEN {is_list} THEN {newest} END) = %s"
        return sql, [*params, *params, self.timestamp]


class HistoryHasUser(Expression):
    """True for rows with a history entry by the user whose primary key is ``user_pk``."""

    conditional = True

    def __init__(self, field_name: str, user_pk: Any) -> None:
        super().__init__(output_field=models.BooleanField())
        self.history: Any = models.F(field_name)
        self.user_json = to_json(user_pk)

    def get_source_expressions(self) -> list[Any]:
        return [self.history]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.history,) = exprs

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:  # type: ignore[override]
        history_sql, params = compiler.compile(self.history)
        if connection.vendor == "postgresql":  # jsonb containment, served by a GIN index if any
            return f"({history_sql} @> %s::jsonb)", [*params, _dumps([{"user": self.user_json}])]
        return (
            f"EXISTS (SELECT 1 FROM json_each({history_sql}) AS e "
            "WHERE json_extract(e.value, '$.user') = %s)",
            [*params, self.user_json],
        )


class NewestEntries(Expression):
    """The row's ``history`` cut to its newest ``count`` entries (archive.py's trim)."""

    def __init__(self, column: str, count: int) -> None:
        super().__init__(output_field=models.JSONField())
        self.column = column
        self.count = count

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:  # type: ignore[override]
        column = connection.ops.quote_name(self.column)
        return newest_sql(connection.vendor, column, [], self.count)
