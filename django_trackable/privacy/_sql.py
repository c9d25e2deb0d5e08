"""SQL that rewrites history JSON where it is stored, and the batch loop that runs it.

Erasure and retention change entries *inside* JSON columns: the actor of some
entries, the values of others, old entries at the front of a list. Doing that
in Python would load every row's whole history; here each change is one
``UPDATE`` per batch whose new value is computed by the database from the
column itself (SQLite's JSON1 functions, PostgreSQL's jsonb functions), so
only primary keys ever reach Python and memory stays bounded however large
the tables are.

Every fragment is *total*: a history that is not a list, an entry that is not
an object, a timestamp that is not a date are left as they are, never an
error. (SQLite evaluates ``AND`` operands in any order, so guards are written
as ``CASE``, which it evaluates lazily.)
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import NotSupportedError, models, transaction
from django.db.models.expressions import RawSQL

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    SQL = tuple[str, list[Any]]

#: Called after each batch with the number of rows done so far.
BatchProgress = Callable[[int], None]

#: The keys an entry keeps when its actor is erased: what was done, when, and
#: what changed. Everything else describes the person's act (IP, request id,
#: reason given to ``acting_as()``) and goes.
KEPT_KEYS = ("action", "timestamp", "changes")

_MASKED = '"***"'


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def column(model: type[models.Model], field: models.Field[Any, Any], connection: Any) -> str:
    """``"table"."column"``: how the fragments below name a column of the row at hand."""
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(field.column)}"


class Dialect(abc.ABC):
    """The JSON SQL of one backend. Methods return ``(sql, params)``."""

    vendor = ""

    # -- entries by a user: the actor -----------------------------------------
    @abc.abstractmethod
    def has_entry_by(self, col: str, user: Any) -> SQL:
        """True for rows with an entry whose ``user`` is ``user`` (a JSON value)."""

    @abc.abstractmethod
    def count_entries_by(self, col: str, user: Any) -> SQL:
        """How many entries of the row :meth:`has_entry_by` finds."""

    @abc.abstractmethod
    def without_actor(self, col: str, user: Any, label: str) -> SQL:
        """The history with ``user``'s entries reduced to :data:`KEPT_KEYS` and a null actor."""

    @abc.abstractmethod
    def entries_by(self, table: str, pk: str, col: str, user: Any) -> SQL:
        """``SELECT pk, entry`` for each of ``user``'s entries of the rows in a pk range.

        The range's bounds are the last two placeholders (``pk >= %s AND pk <= %s``).
        """

    # -- values of changes --------------------------------------------------------
    @abc.abstractmethod
    def has_values(self, col: str) -> SQL:
        """True for rows with an entry whose ``changes`` hold a value other than null or MASK."""

    @abc.abstractmethod
    def count_values(self, col: str) -> SQL:
        """How many entries of the row :meth:`has_values` finds."""

    @abc.abstractmethod
    def scrub_values(self, col: str) -> SQL:
        """The history with every value in every entry's ``changes`` replaced by MASK."""

    @abc.abstractmethod
    def changes_have_values(self, col: str) -> SQL:
        """The same test as :meth:`has_values` for a column holding one ``changes`` object."""

    @abc.abstractmethod
    def scrub_changes(self, col: str) -> SQL:
        """The same scrub as :meth:`scrub_values` for a column holding one ``changes`` object."""

    # -- old entries ----------------------------------------------------------------
    @abc.abstractmethod
    def has_older(self, col: str, cutoff: str) -> SQL:
        """True for rows with an entry older than ``cutoff`` (ISO 8601) that is not the newest."""

    @abc.abstractmethod
    def count_older(self, col: str, cutoff: str) -> SQL:
        """How many entries of the row :meth:`without_older` removes."""

    @abc.abstractmethod
    def without_older(self, col: str, cutoff: str) -> SQL:
        """The history without the entries :meth:`has_older` finds; the newest always stays."""


class SQLiteDialect(Dialect):
    """JSON1: ``json_each`` to read, ``json_group_array``/``json_group_object`` to rebuild."""

    vendor = "sqlite"

    @staticmethod
    def _list(col: str) -> str:
        return f"CASE WHEN json_type({col}) = 'array' THEN {col} ELSE '[]' END"

    @staticmethod
    def _item(alias: str) -> str:
        """A ``json_each`` row's value as JSON again, for the ``json_group_*`` functions."""
        return (
            f"CASE {alias}.type WHEN 'object' THEN json({alias}.value) "
            f"WHEN 'array' THEN json({alias}.value) WHEN 'true' THEN json('true') "
            f"WHEN 'false' THEN json('false') ELSE {alias}.value END"
        )

    @staticmethod
    def _by(alias: str) -> str:
        return (
            f"(CASE WHEN {alias}.type = 'object' "
            f"THEN json_extract({alias}.value, '$.user') END) = %s"
        )

    def has_entry_by(self, col: str, user: Any) -> SQL:
        return (
            f"EXISTS (SELECT 1 FROM json_each({self._list(col)}) AS e WHERE {self._by('e')})",
            [user],
        )

    def count_entries_by(self, col: str, user: Any) -> SQL:
        return (
            f"(SELECT COUNT(*) FROM json_each({self._list(col)}) AS e WHERE {self._by('e')})",
            [user],
        )

    def without_actor(self, col: str, user: Any, label: str) -> SQL:
        kept = ", ".join(f"'{key}'" for key in KEPT_KEYS)
        entry = (
            f"json_set(json((SELECT json_group_object(k.key, {self._item('k')}) "
            f"FROM json_each(e.value) AS k WHERE k.key IN ({kept}))), "
            "'$.user', NULL, '$.user_repr', %s)"
        )
        return (
            f"(SELECT json_group_array(CASE WHEN {self._by('e')} THEN json({entry}) "
            f"ELSE {self._item('e')} END) FROM json_each({self._list(col)}) AS e)",
            [user, label],
        )

    def entries_by(self, table: str, pk: str, col: str, user: Any) -> SQL:
        return (
            f"SELECT {table}.{pk}, e.value FROM {table}, json_each({self._list(col)}) AS e "
            f"WHERE {self._by('e')} AND {table}.{pk} >= %s AND {table}.{pk} <= %s "
            f"ORDER BY {table}.{pk}, e.key",
            [user],
        )

    @staticmethod
    def _changes_have_values(changes: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM json_each({changes}) AS c WHERE CASE WHEN c.type = 'array' "
            "THEN EXISTS (SELECT 1 FROM json_each(c.value) AS v WHERE v.type <> 'null' "
            "AND NOT (v.type = 'text' AND v.value = '***')) "
            "ELSE NOT (c.type = 'text' AND c.value = '***') END)"
        )

    @staticmethod
    def _scrub_changes(changes: str) -> str:
        return (
            "json((SELECT json_group_object(c.key, CASE WHEN c.type = 'array' THEN "
            "json((SELECT json_group_array(CASE WHEN v.type = 'null' THEN NULL ELSE '***' END) "
            "FROM json_each(c.value) AS v)) ELSE '***' END) "
            f"FROM json_each({changes}) AS c))"
        )

    _ENTRY_CHANGES = "json_extract(e.value, '$.changes')"

    def _entry_has_values(self) -> str:
        return (
            "CASE WHEN e.type = 'object' THEN CASE WHEN json_type(e.value, '$.changes') = "
            f"'object' THEN {self._changes_have_values(self._ENTRY_CHANGES)} END END"
        )

    def has_values(self, col: str) -> SQL:
        return (
            f"EXISTS (SELECT 1 FROM json_each({self._list(col)}) AS e "
            f"WHERE {self._entry_has_values()})",
            [],
        )

    def count_values(self, col: str) -> SQL:
        return (
            f"(SELECT COUNT(*) FROM json_each({self._list(col)}) AS e "
            f"WHERE {self._entry_has_values()})",
            [],
        )

    def scrub_values(self, col: str) -> SQL:
        scrubbed = self._scrub_changes(self._ENTRY_CHANGES)
        return (
            f"(SELECT json_group_array(CASE WHEN e.type <> 'object' THEN {self._item('e')} "
            "WHEN json_type(e.value, '$.changes') = 'object' "
            f"THEN json(json_set(e.value, '$.changes', {scrubbed})) ELSE json(e.value) END) "
            f"FROM json_each({self._list(col)}) AS e)",
            [],
        )

    def changes_have_values(self, col: str) -> SQL:
        return (
            f"CASE WHEN json_type({col}) = 'object' THEN {self._changes_have_values(col)} END",
            [],
        )

    def scrub_changes(self, col: str) -> SQL:
        return (
            f"CASE WHEN json_type({col}) = 'object' THEN {self._scrub_changes(col)} ELSE {col} END",
            [],
        )

    @staticmethod
    def _older(alias: str, length: str) -> str:
        # julianday() reads ISO 8601 with any offset (converted to UTC) and any
        # number of fractional digits; NULL for anything else, which is kept.
        # It rounds to the millisecond, monotonically: an entry newer than the
        # cutoff is never removed; one less than 1 ms older may be kept.
        return (
            f"CASE WHEN {alias}.type = 'object' AND {alias}.key < {length} - 1 THEN "
            f"CASE WHEN json_type({alias}.value, '$.timestamp') = 'text' THEN "
            f"julianday(json_extract({alias}.value, '$.timestamp')) < julianday(%s) END END"
        )

    def has_older(self, col: str, cutoff: str) -> SQL:
        items = self._list(col)
        return (
            f"EXISTS (SELECT 1 FROM json_each({items}) AS e "
            f"WHERE {self._older('e', f'json_array_length({items})')})",
            [cutoff],
        )

    def count_older(self, col: str, cutoff: str) -> SQL:
        items = self._list(col)
        return (
            f"(SELECT COUNT(*) FROM json_each({items}) AS e "
            f"WHERE {self._older('e', f'json_array_length({items})')})",
            [cutoff],
        )

    def without_older(self, col: str, cutoff: str) -> SQL:
        items = self._list(col)
        return (
            f"(SELECT json_group_array({self._item('e')}) FROM json_each({items}) AS e "
            f"WHERE NOT COALESCE({self._older('e', f'json_array_length({items})')}, 0))",
            [cutoff],
        )


class PostgreSQLDialect(Dialect):
    """jsonb: ``jsonb_array_elements`` to read, ``jsonb_agg``/``jsonb_object_agg`` to rebuild.

    The row tests use containment (``@>``), which a GIN index on ``history``
    serves.
    """

    vendor = "postgresql"

    @staticmethod
    def _list(col: str) -> str:
        return f"CASE WHEN jsonb_typeof({col}) = 'array' THEN {col} ELSE '[]'::jsonb END"

    def has_entry_by(self, col: str, user: Any) -> SQL:
        return f"({col} @> %s::jsonb)", [_dumps([{"user": user}])]

    def count_entries_by(self, col: str, user: Any) -> SQL:
        return (
            f"(SELECT COUNT(*) FROM jsonb_array_elements({self._list(col)}) AS e(value) "
            "WHERE e.value @> %s::jsonb)",
            [_dumps({"user": user})],
        )

    def without_actor(self, col: str, user: Any, label: str) -> SQL:
        kept = ", ".join(f"'{key}'" for key in KEPT_KEYS)
        entry = (
            "COALESCE((SELECT jsonb_object_agg(k.key, k.value) FROM jsonb_each(e.value) AS k "
            f"WHERE k.key IN ({kept})), '{{}}'::jsonb) "
            "|| jsonb_build_object('user', NULL, 'user_repr', %s::text)"
        )
        return (
            f"(SELECT COALESCE(jsonb_agg(CASE WHEN e.value @> %s::jsonb THEN {entry} "
            "ELSE e.value END ORDER BY e.ord), '[]'::jsonb) "
            f"FROM jsonb_array_elements({self._list(col)}) WITH ORDINALITY AS e(value, ord))",
            [_dumps({"user": user}), label],
        )

    def entries_by(self, table: str, pk: str, col: str, user: Any) -> SQL:
        return (
            f"SELECT {table}.{pk}, e.value::text FROM {table} CROSS JOIN LATERAL "
            f"jsonb_array_elements({self._list(col)}) WITH ORDINALITY AS e(value, ord) "
            f"WHERE e.value @> %s::jsonb AND {table}.{pk} >= %s AND {table}.{pk} <= %s "
            f"ORDER BY {table}.{pk}, e.ord",
            [_dumps({"user": user})],
        )

    @staticmethod
    def _changes_have_values(changes: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM jsonb_each({changes}) AS c WHERE CASE WHEN "
            "jsonb_typeof(c.value) = 'array' THEN EXISTS (SELECT 1 FROM "
            "jsonb_array_elements(c.value) AS v(value) WHERE v.value <> 'null'::jsonb "
            f"AND v.value <> '{_MASKED}'::jsonb) ELSE c.value <> '{_MASKED}'::jsonb END)"
        )

    @staticmethod
    def _scrub_changes(changes: str) -> str:
        return (
            "(SELECT COALESCE(jsonb_object_agg(c.key, CASE WHEN jsonb_typeof(c.value) = 'array' "
            "THEN (SELECT COALESCE(jsonb_agg(CASE WHEN v.value = 'null'::jsonb THEN v.value "
            f"ELSE '{_MASKED}'::jsonb END ORDER BY v.ord), '[]'::jsonb) FROM "
            "jsonb_array_elements(c.value) WITH ORDINALITY AS v(value, ord)) "
            f"ELSE '{_MASKED}'::jsonb END), '{{}}'::jsonb) FROM jsonb_each({changes}) AS c)"
        )

    _ENTRY_CHANGES = "(e.value -> 'changes')"

    def _entry_has_values(self) -> str:
        return (
            f"CASE WHEN jsonb_typeof({self._ENTRY_CHANGES}) = 'object' "
            f"THEN {self._changes_have_values(self._ENTRY_CHANGES)} END"
        )

    def has_values(self, col: str) -> SQL:
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements({self._list(col)}) AS e(value) "
            f"WHERE {self._entry_has_values()})",
            [],
        )

    def count_values(self, col: str) -> SQL:
        return (
            f"(SELECT COUNT(*) FROM jsonb_array_elements({self._list(col)}) AS e(value) "
            f"WHERE {self._entry_has_values()})",
            [],
        )

    def scrub_values(self, col: str) -> SQL:
        scrubbed = self._scrub_changes(self._ENTRY_CHANGES)
        return (
            f"(SELECT COALESCE(jsonb_agg(CASE WHEN jsonb_typeof({self._ENTRY_CHANGES}) = "
            f"'object' THEN jsonb_set(e.value, '{{changes}}', {scrubbed}) ELSE e.value END "
            f"ORDER BY e.ord), '[]'::jsonb) FROM jsonb_array_elements({self._list(col)}) "
            "WITH ORDINALITY AS e(value, ord))",
            [],
        )

    def changes_have_values(self, col: str) -> SQL:
        return (
            f"CASE WHEN jsonb_typeof({col}) = 'object' THEN {self._changes_have_values(col)} END",
            [],
        )

    def scrub_changes(self, col: str) -> SQL:
        return (
            f"CASE WHEN jsonb_typeof({col}) = 'object' THEN {self._scrub_changes(col)} "
            f"ELSE {col} END",
            [],
        )

    # jsonpath compares the entry's timestamp with the cutoff as timestamptz
    # (a cast would abort the statement on the first timestamp that is not a
    # date); the _tz variant reads a timestamp without offset in the session's
    # zone (UTC under USE_TZ), silent=true makes a non-date "not older", and a
    # trailing "Z", which jsonpath does not read, is spelled as an offset.
    _OLDER = (
        "COALESCE(jsonb_path_exists_tz(to_jsonb(regexp_replace(e.value ->> 'timestamp', "
        "'[Zz]$', '+00:00')), '$ ? (@.datetime() < $cutoff.datetime())', %s::jsonb, true), "
        "false)"
    )

    def has_older(self, col: str, cutoff: str) -> SQL:
        items = self._list(col)
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements({items}) WITH ORDINALITY AS "
            f"e(value, ord) WHERE e.ord < jsonb_array_length({items}) AND {self._OLDER})",
            [_dumps({"cutoff": cutoff})],
        )

    def count_older(self, col: str, cutoff: str) -> SQL:
        items = self._list(col)
        return (
            f"(SELECT COUNT(*) FROM jsonb_array_elements({items}) WITH ORDINALITY AS "
            f"e(value, ord) WHERE e.ord < jsonb_array_length({items}) AND {self._OLDER})",
            [_dumps({"cutoff": cutoff})],
        )

    def without_older(self, col: str, cutoff: str) -> SQL:
        items = self._list(col)
        return (
            "(SELECT COALESCE(jsonb_agg(e.value ORDER BY e.ord), '[]'::jsonb) FROM "
            f"jsonb_array_elements({items}) WITH ORDINALITY AS e(value, ord) "
            f"WHERE e.ord = jsonb_array_length({items}) OR NOT {self._OLDER})",
            [_dumps({"cutoff": cutoff})],
        )


_DIALECTS: dict[str, Dialect] = {"sqlite": SQLiteDialect(), "postgresql": PostgreSQLDialect()}


def dialect_for(connection: BaseDatabaseWrapper) -> Dialect:
    """The dialect of ``connection``; other backends cannot rewrite history (see ``E005``)."""
    try:
        return _DIALECTS[connection.vendor]
    except KeyError:
        raise NotSupportedError(
            f"django_trackable cannot rewrite history on {connection.vendor}; "
            "see the django_trackable.E005 check."
        ) from None


def condition(fragment: SQL) -> RawSQL:
    """A fragment as something ``QuerySet.filter()`` takes."""
    sql, params = fragment
    return RawSQL(sql, params, output_field=models.BooleanField())


def value(fragment: SQL, output_field: models.Field[Any, Any]) -> RawSQL:
    """A fragment as a value for ``QuerySet.update()`` or ``annotate()``."""
    sql, params = fragment
    return RawSQL(sql, params, output_field=output_field)


def run_batches(
    queryset: models.QuerySet[Any],
    apply: Callable[[models.QuerySet[Any]], int],
    *,
    batch_size: int,
    dry_run: bool,
    weight: Any = None,
    progress: BatchProgress | None = None,
) -> tuple[int, int]:
    """Apply ``apply`` to the rows of ``queryset``, ``batch_size`` rows at a time.

    Each batch is one SELECT of the next ``batch_size`` primary keys (with
    ``weight``, an expression counted per row, such as a row's matching
    entries) and one call of ``apply`` on the rows of ``queryset`` in that
    primary-key range — a range, not a list, so statements stay short; the
    condition is applied again, so rows that changed meanwhile are judged as
    they are. Each batch is its own transaction: an interrupted run keeps what
    it did, and a second run carries on. With ``dry_run`` the SELECTs run and
    ``apply`` does not, so the counts are the same. Only primary keys (and
    weights) reach Python.

    Returns ``(rows, weight)``: rows changed (or that would be) and the sum
    of their weights.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    alias = queryset.db
    rows = total = 0
    last: Any = None
    while True:
        page = (queryset if last is None else queryset.filter(pk__gt=last)).order_by("pk")
        with contextlib.nullcontext() if dry_run else transaction.atomic(using=alias):
            if weight is None:
                batch = [(pk, 0) for pk in page.values_list("pk", flat=True)[:batch_size]]
            else:
                batch = list(
                    page.annotate(_trackable_weight=weight).values_list("pk", "_trackable_weight")[
                        :batch_size
                    ]
                )
            if not batch:
                break
            high = batch[-1][0]
            count = len(batch)
            if not dry_run:
                span = queryset.filter(pk__lte=high)
                if last is not None:
                    span = span.filter(pk__gt=last)
                count = apply(span)
        rows += count
        total += sum(int(w or 0) for _, w in batch)
        if progress is not None:
            progress(rows)
        if len(batch) < batch_size:
            break
        last = high
    return rows, total


def setting(**values: Any) -> Callable[[models.QuerySet[Any]], int]:
    """An ``apply`` for :func:`run_batches`: ``UPDATE … SET`` ``values`` on the batch's rows."""

    def apply(span: models.QuerySet[Any]) -> int:
        return span.update(**values)

    return apply


def deleting(span: models.QuerySet[Any]) -> int:
    """An ``apply`` for :func:`run_batches`: ``DELETE`` the batch's rows."""
    deleted: int = span.delete()[0]
    return deleted


def plain(model: type[models.Model], alias: str) -> models.QuerySet[Any]:
    """Every row of ``model`` on ``alias``, through Django's own QuerySet.

    Never a tracked or lifecycle queryset: erasure and retention must not
    record history about themselves, stamp rows, or skip deleted ones.
    """
    return models.QuerySet(model=model, using=alias)
