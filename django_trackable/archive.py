"""Bounded in-row history: a window of recent entries in the row, the rest in ``AuditLog``.

Appending to a JSON value rewrites it, so a save costs more the longer a
row's history grows. With ``TRACKABLE["HISTORY_WINDOW"] = N`` a row keeps its
newest entries only: every tracked UPDATE returns the new length of the rows'
``history`` (``RETURNING``, no extra statement), and when a row reaches ``2 *
N`` entries its oldest ``N`` move to ``AuditLog`` -- in one short transaction
that locks the row, writes the entries the log does not hold yet and trims the
row (on PostgreSQL one statement does all three). A save therefore costs the
same at 10 entries and at 10,000, and the move costs one to three statements
once per ``N`` saves of a row.

Nothing is lost: the entries leave the row only in the transaction that
writes them to the log. :func:`full_history` reads both stores;
``history_since()`` and ``as_of()`` reach into the log when the row's window
does not go back far enough.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models.expressions import RawSQL

from django_trackable import tracking
from django_trackable.expressions import (
    _INTEGER_TYPES,
    SUPPORTED_VENDORS,
    newest_path,
    newest_sql,
)
from django_trackable.history import Entry, entry_time
from django_trackable.tracking import REPR_LENGTH

if TYPE_CHECKING:
    from django_trackable.models.audit import AuditLog

__all__ = ["Moved", "full_history", "move_out", "move_past_window", "window_of"]

_KEYS = frozenset({"action", "timestamp", "user", "user_repr", "changes"})


def window_of(model: type[models.Model]) -> int | None:
    """The number of entries ``model``'s rows keep in ``history``, or ``None`` for all."""
    return tracking.options_for(model).window


def applies(compiler: Any) -> int | None:
    """The window of the history an UPDATE appends to, when it should report lengths."""
    query = compiler.query
    options = tracking.options_for(query.model)
    if options.window is None or getattr(compiler, "returning_fields", None):
        return None
    history = options.history
    from django_trackable.audit import _appends_in

    for column, _model, value in query.values:
        if column is history:
            return options.window if any(True for _ in _appends_in(value)) else None
    return None


def length_sql(compiler: Any, qualified: bool = True) -> str:
    """SQL for the length of the written rows' ``history`` (``RETURNING``)."""
    connection = compiler.connection
    qn = connection.ops.quote_name
    history = tracking.options_for(compiler.query.model).history
    assert history is not None
    column = qn(history.column)
    if qualified:
        column = f"{qn(compiler.query.model._meta.db_table)}.{column}"
    return _length_of(column, connection.vendor)


def _length_of(column: str, vendor: str) -> str:
    """SQL for the number of entries in ``column``, reading the value once."""
    if vendor == "postgresql":
        # One reference to the value: each one decompresses a large history again.
        # Not an array (a value written by hand): its size is 1, under every window.
        return f"CAST(jsonb_path_query_first({column}, '$.size()') AS integer)"
    return f"json_array_length({column})"


def run_reporting_lengths(compiler: Any, result_type: Any, window: int) -> Any:
    """Execute the UPDATE with ``RETURNING pk, length``; move out what overflowed.

    Stands in for Django's ``execute_sql()``: the same row count, and the
    UPDATEs of multi-table parents after it.
    """
    from django.db.models.sql.compiler import SQLUpdateCompiler
    from django.db.models.sql.constants import CURSOR, NO_RESULTS

    compiler._trackable_lengths = True
    try:
        cursor = super(SQLUpdateCompiler, compiler).execute_sql(CURSOR)
    finally:
        compiler._trackable_lengths = False
    if cursor is None:  # nothing to update
        rows: list[Any] = []
    else:
        try:
            rows = list(cursor.fetchall())
        finally:
            cursor.close()
    for query in compiler.query.get_related_updates():
        query.get_compiler(compiler.using).execute_sql(result_type)
    full = [
        pk for pk, length in rows if length is not None and tracking.past_window(length, window)
    ]
    if full:
        move_out(compiler.query.model, full, window, using=compiler.using)
    return None if result_type == NO_RESULTS else len(rows)


def move_out(model: type[models.Model], pks: Iterable[Any], window: int, *, using: str) -> int:
    """Move all but the newest ``window`` entries of these rows into ``AuditLog``.

    One transaction (on PostgreSQL usually one statement, which is its own) and
    a number of statements that does not grow with the
    rows or their entries: the rows are found (and locked), the log gets the
    entries it does not hold yet (with the audit log on it holds them
    already), and one UPDATE cuts the rows to their newest ``window`` entries.
    On SQLite and PostgreSQL the entries go from row to log in SQL, ``INSERT
    ... SELECT`` over the row's JSON (on PostgreSQL, when saves do not write the
    log themselves, the lock, the copy and the cut are one statement); entries
    SQL does not read the way Python
    does (an unusual timestamp), other databases and a log on another database
    take the way through Python. Returns the number of entries that left the
    rows.
    """
    from django_trackable.audit import log_database

    history = tracking.options_for(model).history
    assert history is not None
    table = history.model
    pks = list(pks)
    connection = connections[using]
    if log_database() == using and _movable_in_sql(table, connection):
        return _move_in_sql(model, table, pks, window, connection)
    with transaction.atomic(using=using, savepoint=False):
        return _move_in_python(model, table, pks, window, using)


@dataclass(frozen=True)
class Moved:
    """What :func:`move_past_window` moved (or, in a dry run, would move) for one table."""

    #: The label of the model whose table holds the ``history`` column.
    target: str
    rows: int
    entries: int


def move_past_window(
    model: type[models.Model],
    *,
    batch_size: int = 100,
    dry_run: bool = False,
    progress: Callable[[Moved], None] | None = None,
) -> Moved:
    """Move the older entries of every row of ``model`` that holds twice its window or more.

    A save moves its own row's entries when the row reaches twice its window;
    rows written before the window was turned on (or lowered) may hold many
    more and keep them until their next save, which then moves them all. This
    moves them now, for every such row: each keeps its newest ``window``
    entries, and the others go to ``AuditLog`` as a save would move them.

    Rows are read in primary-key order, ``batch_size`` past their window at a
    time: one SELECT of their keys (the histories' lengths read in SQL, no
    entry in Python) and one :func:`move_out` per batch, each its own
    transaction, so an
    interrupted run keeps what it moved and a second run carries on. With
    ``dry_run`` only the SELECTs run. Under multi-table inheritance the rows
    are those of the table holding ``history``, with its window. Models
    without a window move nothing.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    history = tracking.options_for(model).history
    if history is None:
        return Moved(model._meta.label, 0, 0)
    # The table holding the column, with its window: what a save of any of its rows uses.
    table = history.model
    window = window_of(table)
    if window is None:
        return Moved(table._meta.label, 0, 0)
    alias = router.db_for_write(table)
    connection = connections[alias]
    qn = connection.ops.quote_name
    column = f"{qn(table._meta.db_table)}.{qn(history.column)}"  # type: ignore[arg-type]
    length = _length_of(column, connection.vendor)
    past = models.QuerySet(model=table, using=alias).filter(
        RawSQL(f"{length} >= %s", [2 * window], output_field=models.BooleanField())
    )
    beyond = RawSQL(f"{length} - %s", [window], output_field=models.IntegerField())
    rows = entries = 0
    last: Any = None
    while True:
        page = past if last is None else past.filter(pk__gt=last)
        batch = list(
            page.order_by("pk").annotate(_beyond=beyond).values_list("pk", "_beyond")[:batch_size]
        )
        if not batch:
            break
        pks = [pk for pk, _ in batch]
        if dry_run:
            entries += sum(count for _, count in batch)
        else:
            entries += move_out(table, pks, window, using=alias)
        rows += len(batch)
        if progress is not None:
            progress(Moved(table._meta.label, rows, entries))
        if len(batch) < batch_size:
            break
        last = pks[-1]
    return Moved(table._meta.label, rows, entries)


def _move_in_python(
    model: type[models.Model], table: type[models.Model], pks: list[Any], window: int, using: str
) -> int:
    """The move through the ORM: read (and lock) the rows, write what the log lacks, trim."""
    from django_trackable.audit import log_database
    from django_trackable.models.audit import content_type_for

    history = tracking.options_for(model).history
    assert history is not None
    rows = table._base_manager.using(using).filter(pk__in=pks)
    if rows.db != "sqlite":  # SQLite locks the whole database for the write already
        rows = rows.select_for_update()
    older = {
        pk: entries[:-window]
        for pk, entries in rows.values_list("pk", history.attname)
        if isinstance(entries, list) and len(entries) > window
    }
    if not older:
        return 0
    logs = _missing_logs(content_type_for(model), older, log_database())
    _write_logs(logs, using)
    _trim(table, list(older), window, using)
    return sum(len(entries) for entries in older.values())


def _trim(table: type[models.Model], pks: list[Any], window: int, using: str) -> None:
    from django_trackable.expressions import NewestEntries

    history = tracking.options_for(table).history
    assert history is not None
    # Django's own update(): the trim is not a change to record.
    models.QuerySet.update(
        table._base_manager.using(using).filter(pk__in=pks),
        **{history.name: NewestEntries(str(history.column), window)},
    )


# --- the move in SQL -----------------------------------------------------------------------

#: Primary keys whose text in SQL is ``str(pk)``, as the log's ``object_id`` holds it.
_TEXT_KEYS = _INTEGER_TYPES | {"CharField", "TextField", "SlugField", "UUIDField"}


def _movable_in_sql(table: type[models.Model], connection: Any) -> bool:
    """Whether SQL can write this table's entries as the ORM would (else: Python)."""
    from django_trackable.models.audit import AuditLog

    if connection.vendor not in SUPPORTED_VENDORS:
        return False
    if connection.vendor == "sqlite" and not settings.USE_TZ:
        return False  # naive local times: SQLite does not know the time zone's offsets
    actor: Any = AuditLog._meta.get_field("actor")
    return (
        table._meta.pk.get_internal_type() in _TEXT_KEYS
        and actor.target_field.get_internal_type() in _INTEGER_TYPES
    )


def _move_in_sql(
    model: type[models.Model],
    table: type[models.Model],
    pks: list[Any],
    window: int,
    connection: Any,
) -> int:
    """The move as ``INSERT ... SELECT`` over the rows' JSON, what SQL cannot read in Python."""
    from django_trackable.models.audit import content_type_for

    if not pks:
        return 0
    statements = _move_sql(table, connection.alias)
    content_type = content_type_for(model).pk
    keys = _keys(table, pks, connection)
    if statements.one_statement is not None and not tracking.options_for(model).audit_possible:
        # Copy and cut in one statement; rows with entries for Python keep theirs. Not
        # when saves write the log themselves: the statement's snapshot predates the
        # lock, and would not see the log rows of a save it waited for. One statement
        # is a transaction of its own: in autocommit, no BEGIN and COMMIT round trips.
        path = newest_path(window)
        params = [keys, window, window, content_type, content_type, path, window]
        with connection.cursor() as cursor:
            cursor.execute(statements.one_statement, params)
            rows = cursor.fetchall()
        odd = {row_pk for row_pk, _beyond, is_odd in rows if is_odd}
        if odd:  # the log may hold some of their entries now: Python's move skips those
            with transaction.atomic(using=connection.alias, savepoint=False):
                _move_in_python(model, table, list(odd), window, connection.alias)
        return sum(int(beyond) for _pk, beyond, _odd in rows)
    with transaction.atomic(using=connection.alias, savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(statements.rows, [window, window, keys, window])
            rows = cursor.fetchall()
        if not rows:
            return 0
        keys = _keys(table, [r[0] for r in rows], connection)
        with connection.cursor() as cursor:
            cursor.execute(statements.insert, [keys, window, content_type, content_type])
        odd = {row_pk for row_pk, _beyond, is_odd in rows if is_odd}
        if odd:  # what SQL left: read in Python, the log's own rows (SQL's too) not repeated
            _move_in_python(model, table, list(odd), window, connection.alias)
        _trim(
            table,
            [row_pk for row_pk, _beyond, _odd in rows if row_pk not in odd],
            window,
            connection.alias,
        )
    return sum(int(beyond) for _pk, beyond, _odd in rows)


def _keys(table: type[models.Model], pks: list[Any], connection: Any) -> Any:
    """The primary keys' database values, as the dialect's ``rows_in`` takes them.

    PostgreSQL: a list, bound as an array literal whose size the planner sees, so
    a few keys are looked up by index (a JSON array's size it guesses, and on a
    small table it would rather scan every row, reading each history's length).
    SQLite: a JSON array, for ``json_each()``.
    """
    pk = table._meta.pk
    values = [pk.get_db_prep_value(pk.to_python(v), connection) for v in pks]
    keys = [v if isinstance(v, int | str) else str(v) for v in values]
    return keys if connection.vendor == "postgresql" else json.dumps(keys)


#: An entry's ``timestamp`` as ``entry_timestamp()`` writes it (microseconds, an offset
#: both databases read): the entries SQL moves. Python moves the others.
_SHAPE = "0000-00-00T00:00:00.000000{sign}00:00"
_SQLITE_SHAPE = (
    "[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]."
    "[0-9][0-9][0-9][0-9][0-9][0-9][+-]{hours}:[0-5][0-9]"
)
#: The last day of the month of ``ts`` (a shaped timestamp's text), as text.
_PG_LAST_DAY = (
    "CASE substr(ts, 6, 2) WHEN '02' THEN CASE "
    "WHEN CAST(substr(ts, 1, 4) AS integer) %% 4 = 0 AND (CAST(substr(ts, 1, 4) AS integer) "
    "%% 100 <> 0 OR CAST(substr(ts, 1, 4) AS integer) %% 400 = 0) THEN '29' ELSE '28' END "
    "WHEN '04' THEN '30' WHEN '06' THEN '30' WHEN '09' THEN '30' WHEN '11' THEN '30' "
    "ELSE '31' END"
)
#: Whether a shaped ``ts`` is a real moment: fields in range, no 30 February (text
#: comparisons of two digits; the year is cast only once its text is known digits).
_PG_REAL = (
    "substr(ts, 1, 4) <> '0000' AND substr(ts, 6, 2) BETWEEN '01' AND '12' "
    "AND substr(ts, 9, 2) >= '01' AND substr(ts, 12, 2) <= '23' AND substr(ts, 15, 2) <= '59' "
    "AND substr(ts, 18, 2) <= '59' AND substr(ts, 31, 2) <= '59' "
    f"AND substr(ts, 9, 2) <= {_PG_LAST_DAY}"
)


@dataclass(frozen=True)
class _Dialect:
    """How one database reads an entry of ``value`` (its JSON) into the log's columns."""

    rows_in: str  # the rows whose keys are in the parameter (see _keys)
    length: str  # the length of ``history``
    entries: str  # the table function listing ``history``'s entries as ``e``
    entries_length: str  # the length of ``history``, where ``entries`` is in scope
    position: str  # the entry's position, from 0
    stamp: str  # its ``timestamp`` as text, NULL when it has none
    shaped: str  # whether ``{ts}`` (a timestamp's text) has the shape SQL moves
    valid: str  # whether the shaped ``ts`` is a real moment (no 30 February)
    stored: str  # ``ts`` as the log's ``timestamp`` column holds it
    actor: str
    actor_repr: str
    action: str
    object_id: str  # the row's key ``pk`` as text
    changes: str
    extra: str
    same_json: str  # whether the log's ``{log}`` is the JSON ``{entry}`` the move read
    lock: str = ""
    materialized: str = "MATERIALIZED "


@functools.lru_cache(maxsize=64)
def _move_sql(table: type[models.Model], alias: str) -> _MoveSQL:
    """The move's statements for one table (cached: they depend on names only).

    The first finds the rows past their window -- ``(pk, entries beyond the window,
    whether some of those are Python's to move)`` -- locking them on PostgreSQL;
    the second copies the entries beyond the window that the log does not hold
    into it, oldest first. Each entry's fields are read once (the CTEs are
    materialized), then written. On PostgreSQL a third does both and the cut in
    one statement, answering as the first does.
    """
    from django_trackable.audit import _insert_into
    from django_trackable.models.audit import AuditLog

    connection = connections[alias]
    qn = connection.ops.quote_name
    history = tracking.options_for(table).history
    assert history is not None
    meta = table._meta
    log = AuditLog._meta

    def log_column(name: str) -> str:
        return f"l.{qn(log.get_field(name).column)}"  # type: ignore[union-attr,arg-type]

    column = f"t.{qn(history.column)}"  # type: ignore[arg-type]
    pk_column = f"t.{qn(meta.pk.column)}"
    sql = (
        _postgresql(connection, column, meta.pk)
        if connection.vendor == "postgresql"
        else _sqlite(connection, column, meta.pk)
    )
    beyond = f"{sql.position} < {sql.entries_length} - %s"
    rows_sql = (
        f"SELECT {pk_column}, {sql.length} - %s, EXISTS (SELECT 1 FROM {sql.entries} "
        f"WHERE {beyond} AND NOT COALESCE({sql.shaped.format(ts=sql.stamp)}, false)) "
        f"FROM {qn(meta.db_table)} AS t WHERE {sql.rows_in.format(pk=pk_column)} "
        f"AND {sql.length} > %s{sql.lock}"
    )
    # "_trackable_beyond" -> (pk, n, value, ts) read into the log's columns, and the
    # INSERT of those the log does not hold (params: the content type, twice).
    read = (
        f'"_trackable_read" AS {sql.materialized}('
        f"SELECT pk, n, value, {sql.stored} AS at, {sql.action} AS action, "
        f"{sql.object_id} AS object_id, {sql.changes} AS changes, {sql.extra} AS extra "
        f'FROM "_trackable_beyond" WHERE {sql.shaped.format(ts="ts")} AND {sql.valid})'
    )
    # An entry the log holds already (written by its save, with the audit log on) has
    # the same moment, action, changes and other keys: entries of one moment differ
    # in their changes, and each of them moves.
    held = (
        f"{log_column('content_type')} = %s AND {log_column('object_id')} = r.object_id "
        f"AND {log_column('timestamp')} = r.at AND {log_column('action')} = r.action "
        f"AND {sql.same_json.format(log=log_column('changes'), entry='r.changes')} "
        f"AND {sql.same_json.format(log=log_column('extra'), entry='r.extra')}"
    )
    insert = (
        f"{_insert_into(connection)} SELECT at, {sql.actor}, {sql.actor_repr}, action, "
        f"CAST(%s AS integer), object_id, '', changes, extra "
        f'FROM "_trackable_read" AS r WHERE NOT EXISTS (SELECT 1 FROM {qn(log.db_table)} AS l '
        # LIMIT 1 OFFSET 0: an index lookup per entry. Without it PostgreSQL may plan an
        # anti-join that reads every log row of the model when its statistics are stale.
        f"WHERE {held} LIMIT 1 OFFSET 0) ORDER BY pk, n"
    )
    insert_sql = (
        f'WITH "_trackable_beyond" AS {sql.materialized}('
        f"SELECT {pk_column} AS pk, {sql.position} AS n, e.value AS value, {sql.stamp} AS ts "
        f"FROM {qn(meta.db_table)} AS t CROSS JOIN {sql.entries} "
        f"WHERE {sql.rows_in.format(pk=pk_column)} AND {beyond}), {read} {insert}"
    )
    if connection.vendor != "postgresql":
        return _MoveSQL(rows_sql, insert_sql, None)
    # PostgreSQL: all of it in one statement, data-modifying CTEs on one snapshot. The
    # rows are locked first, and what is copied and what is cut both come from the
    # locked version, so a concurrent writer cannot slip an entry between them.
    newest, _path = newest_sql("postgresql", "r.history", [], 1)  # the path: a parameter
    one_statement = (
        f'WITH "_trackable_rows" AS MATERIALIZED (SELECT {pk_column} AS pk, {column} AS history, '
        f"{sql.length} AS length FROM {qn(meta.db_table)} AS t "
        f"WHERE {sql.rows_in.format(pk=pk_column)} AND {sql.length} > %s{sql.lock}), "
        f'"_trackable_beyond" AS MATERIALIZED (SELECT r.pk AS pk, e.n - 1 AS n, '
        f'e.value AS value, {sql.stamp} AS ts FROM "_trackable_rows" AS r CROSS JOIN LATERAL '
        "jsonb_array_elements(r.history) WITH ORDINALITY AS e(value, n) "
        "WHERE e.n - 1 < r.length - %s), "
        f'"_trackable_odd" AS MATERIALIZED (SELECT DISTINCT pk FROM "_trackable_beyond" '
        f"WHERE NOT COALESCE({sql.shaped.format(ts='ts')}, false)), "
        f'{read}, "_trackable_logged" AS ({insert}), '
        f'"_trackable_cut" AS (UPDATE {qn(meta.db_table)} AS t '
        f"SET {qn(history.column)} = {newest} "  # type: ignore[arg-type]
        f'FROM "_trackable_rows" AS r WHERE {pk_column} = r.pk '
        'AND r.pk NOT IN (SELECT pk FROM "_trackable_odd")) '
        'SELECT r.pk, r.length - %s, r.pk IN (SELECT pk FROM "_trackable_odd") '
        'FROM "_trackable_rows" AS r'
    )
    return _MoveSQL(rows_sql, insert_sql, one_statement)


class _MoveSQL(NamedTuple):
    rows: str  # params: window, window, keys, window
    insert: str  # params: keys, window, content type, content type
    one_statement: str | None  # PostgreSQL: keys, window, window, ct, ct, path, window


def _postgresql(connection: Any, column: str, pk: Any) -> _Dialect:
    from django_trackable.models.audit import AuditLog

    # Digits where digits go (translate() is cheap, a regex is not), an offset both
    # databases read (up to 14 hours: SQLite's limit).
    shaped = (
        "translate({ts}, '0123456789', '0000000000') IN "
        f"('{_SHAPE.format(sign='+')}', '{_SHAPE.format(sign='-')}') "
        "AND substr({ts}, 28, 2) <= '14'"
    )
    # A CASE: ANDs may run in any order, and only a shaped text may be cast.
    valid = f"CASE WHEN {shaped.format(ts='ts')} THEN {_PG_REAL} ELSE false END"
    # Only arrays: jsonb's array functions raise on anything else.
    array = f"CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} END"
    actor_type = AuditLog._meta.get_field("actor").db_type(connection)
    return _Dialect(
        rows_in=f"{{pk}} = ANY(CAST(%s AS {pk.cast_db_type(connection)}[]))",
        length=f"jsonb_array_length({array})",
        # The length once per row (OFFSET 0: not folded into the entries' filter), not
        # once per entry: each reference to a large ``history`` decompresses it again.
        entries=(
            f"LATERAL (SELECT jsonb_array_length({array}) AS length OFFSET 0) AS a "
            f"CROSS JOIN LATERAL jsonb_array_elements({array}) WITH ORDINALITY AS e(value, n)"
        ),
        entries_length="a.length",
        position="e.n - 1",
        stamp="CASE WHEN jsonb_typeof(e.value) = 'object' THEN e.value ->> 'timestamp' END",
        shaped=shaped,
        valid=valid,
        stored=f"CASE WHEN {valid} THEN CAST(ts AS timestamp with time zone) END",
        actor=(
            "CASE WHEN (value ->> 'user') ~ '^-?[0-9]{1,18}$' "
            f"THEN CAST(value ->> 'user' AS {actor_type}) END"
        ),
        actor_repr=f"LEFT(COALESCE(value ->> 'user_repr', ''), {REPR_LENGTH})",
        # The columns' own types: compared to varchar, the log's index serves the lookup.
        action="CAST(LEFT(COALESCE(value ->> 'action', ''), 32) AS varchar(32))",
        object_id=f"CAST(LEFT(CAST(pk AS text), {REPR_LENGTH}) AS varchar({REPR_LENGTH}))",
        changes=(
            "CASE WHEN jsonb_typeof(value -> 'changes') = 'object' "
            "THEN value -> 'changes' ELSE '{}'::jsonb END"
        ),
        extra="value - 'action' - 'timestamp' - 'user' - 'user_repr' - 'changes'",
        same_json="{log} = {entry}",
        lock=" FOR UPDATE OF t",
    )


def _sqlite(connection: Any, column: str, pk: Any) -> _Dialect:
    from django_trackable.expressions import _sqlite_json

    seconds = "strftime('%%Y-%%m-%%d %%H:%%M:%%S', ts)"
    shapes = [_SQLITE_SHAPE.format(hours=hours) for hours in ("0[0-9]", "1[0-4]")]
    user = "json_extract(value, '$.user')"
    pk_text = _sqlite_json(pk).replace("{v}", "pk")
    return _Dialect(
        rows_in="{pk} IN (SELECT value FROM json_each(%s))",
        length=f"json_array_length({column})",
        entries=f"json_each({column}) AS e",
        entries_length=f"json_array_length({column})",
        position="e.key",
        stamp=(
            "CASE WHEN e.type = 'object' AND json_type(e.value, '$.timestamp') = 'text' "
            "THEN json_extract(e.value, '$.timestamp') END"
        ),
        shaped="(" + " OR ".join(f"{{ts}} GLOB '{shape}'" for shape in shapes) + ")",
        # A real date (a modifier makes SQLite roll 02-30 over to March) and time.
        valid=(
            "date(substr(ts, 1, 10), '+0 days') IS substr(ts, 1, 10) "
            "AND time(substr(ts, 12, 8)) IS substr(ts, 12, 8)"
        ),
        # Django's text for a UTC datetime: no fraction when the microseconds are 0.
        stored=(
            f"CASE WHEN substr(ts, 21, 6) = '000000' THEN {seconds} "
            f"ELSE {seconds} || '.' || substr(ts, 21, 6) END"
        ),
        actor=(
            f"CASE json_type(value, '$.user') WHEN 'integer' THEN {user} "
            f"WHEN 'text' THEN CASE WHEN {user} GLOB '[0-9]*' AND {user} NOT GLOB '*[^0-9]*' "
            f"AND length({user}) < 19 THEN CAST({user} AS INTEGER) END END"
        ),
        actor_repr=(
            "substr(COALESCE(CAST(json_extract(value, '$.user_repr') AS TEXT), ''), "
            f"1, {REPR_LENGTH})"
        ),
        action="substr(COALESCE(CAST(json_extract(value, '$.action') AS TEXT), ''), 1, 32)",
        object_id=f"substr(CAST(({pk_text}) AS TEXT), 1, {REPR_LENGTH})",
        changes=(
            "CASE WHEN json_type(value, '$.changes') = 'object' "
            "THEN json_extract(value, '$.changes') ELSE '{}' END"
        ),
        extra=(
            "json_remove(value, '$.action', '$.timestamp', '$.user', '$.user_repr', '$.changes')"
        ),
        # Text of the same JSON: Django writes it with spaces, SQLite's functions without.
        same_json="json({log}) = {entry}",
        materialized="MATERIALIZED " if connection.Database.sqlite_version_info >= (3, 35) else "",
    )


def _missing_logs(content_type: Any, older: dict[Any, list[Entry]], log_db: str) -> list[AuditLog]:
    """``AuditLog`` rows for the entries the log does not hold yet (one query)."""
    from django_trackable.audit import _stored_time
    from django_trackable.models.audit import AuditLog

    times = [
        _stored_time(e["timestamp"])
        for entries in older.values()
        for e in entries
        if isinstance(e, dict) and entry_time(e) is not None
    ]
    held: set[tuple[Any, ...]] = set()
    if times:
        held = {
            _held_key(*row)
            for row in AuditLog.objects.using(log_db)
            .filter(
                content_type=content_type,
                object_id__in=[str(pk) for pk in older],
                timestamp__gte=min(times),
                timestamp__lte=max(times),
            )
            .values_list("object_id", "timestamp", "action", "changes", "extra")
        }
    logs = []
    for pk, entries in older.items():
        for entry in entries:
            if not isinstance(entry, dict) or entry_time(entry) is None:
                continue  # not an entry: nothing a reader could use
            log = _log_of(content_type, pk, entry, _stored_time(entry["timestamp"]))
            # As in SQL: held when a log row has its moment, action, changes and keys.
            if not held or (
                _held_key(log.object_id, log.timestamp, log.action, log.changes, log.extra)
                not in held
            ):
                logs.append(log)
    return logs


def _held_key(object_id: str, when: Any, action: str, changes: Any, extra: Any) -> tuple[Any, ...]:
    """What tells a log row from another, for the entries the move finds in the log."""
    return (object_id, when, action, _json_key(changes), _json_key(extra))


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _log_of(content_type: Any, pk: Any, entry: Entry, when: datetime.datetime) -> AuditLog:
    from django_trackable.audit import _actor_pk
    from django_trackable.models.audit import REPR_LENGTH, AuditLog

    changes = entry.get("changes")
    return AuditLog(
        timestamp=when,
        actor_id=_actor_pk(entry.get("user")),
        actor_repr=str(entry.get("user_repr") or "")[:REPR_LENGTH],
        action=str(entry.get("action") or "")[:32],
        content_type=content_type,
        object_id=str(pk)[:REPR_LENGTH],
        target_repr="",
        changes=changes if isinstance(changes, dict) else {},
        extra={k: v for k, v in entry.items() if k not in _KEYS},
    )


def _write_logs(logs: list[AuditLog], using: str) -> None:
    from django_trackable.audit import log_database
    from django_trackable.models.audit import AuditLog

    if not logs:
        return
    log_db = log_database()
    if log_db == using:
        AuditLog.objects.using(log_db).bulk_create(logs)
    else:  # the log lives elsewhere: written once the trim commits (check W040)
        transaction.on_commit(lambda: AuditLog.objects.using(log_db).bulk_create(logs), using=using)


def full_history(instance: models.Model) -> list[Entry]:
    """Every entry of ``instance``'s row, oldest first: the log's older ones, then the row's.

    One query for the row's own ``history`` when it is not loaded, one for the
    log. Entries the log and the row both hold are listed once.
    """
    options = tracking.options_for(type(instance))
    history = options.history
    if history is None:
        return []
    window = list(getattr(instance, history.attname) or [])
    if holds_everything(window):
        return window
    return [*older_in_log(instance, window), *window]


def holds_everything(window: list[Entry]) -> bool:
    """Whether a row's ``history`` is its whole history: it still starts with ``create``."""
    return bool(window) and isinstance(window[0], dict) and window[0].get("action") == "create"


def older_in_log(instance: models.Model, window: list[Entry]) -> list[Entry]:
    """The entries of ``instance``'s row the log holds and its ``window`` (the row's
    ``history``) does not, oldest first: one query."""
    from django_trackable.audit import log_database
    from django_trackable.models.audit import AuditLog

    in_row = Counter(_key(e) for e in window if isinstance(e, dict))
    rows = AuditLog.objects.using(log_database()).for_object(instance).chronological()
    older: list[Entry] = []
    # With the audit log on, the log holds the row's entries too: of each entry the
    # row holds, its newest copies (as many as the row holds) are not older ones.
    for entry in reversed([row.as_entry() for row in rows.iterator()]):
        key = _key(entry)
        if in_row[key]:
            in_row[key] -= 1
        else:
            older.append(entry)
    older.reverse()
    return older


def _key(entry: Entry) -> tuple[Any, ...]:
    """What tells an entry from another: entries of one moment differ in their changes."""
    return (
        entry_time(entry),
        entry.get("action"),
        entry.get("user"),
        _json_key(entry.get("changes")),
    )


def reaching_back(instance: models.Model, moment: datetime.datetime) -> list[Entry]:
    """The row's entries, from the log too when its window begins after ``moment``."""
    options = tracking.options_for(type(instance))
    history = options.history
    assert history is not None
    entries = list(getattr(instance, history.attname) or [])
    if entries and not holds_everything(entries):
        first = entry_time(entries[0])
        if first is None or first > moment:
            return full_history(instance)
    return entries
