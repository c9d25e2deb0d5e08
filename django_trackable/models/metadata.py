"""MetadataModel: a JSON object of free-form keys, set by dotted path, in the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import NotSupportedError, models, router
from django.db.models.expressions import Expression
from django.utils.translation import gettext_lazy as _

from django_trackable import tracking
from django_trackable.models.lifecycle import _LifecycleModel
from django_trackable.querysets import TrackableQuerySet

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    _SQL = tuple[str, list[Any]]

__all__ = ["MetadataModel", "SetJSONPath"]

_MISSING: Any = object()


def _path(path: str | Sequence[str]) -> list[str]:
    keys = path.split(".") if isinstance(path, str) else [str(key) for key in path]
    if not keys or any(key == "" for key in keys):
        raise ValueError(f"not a metadata path: {path!r}")
    return keys


class SetJSONPath(Expression):
    """A JSON object column with ``value`` set at ``path``, computed by the database.

    Missing or non-object levels on the way become objects; a column that is
    not an object becomes one. Only the row's current value is read, so two
    writers setting different keys both keep theirs.
    """

    def __init__(
        self, field_name: str, path: Sequence[str], value: Any, encoder: Any = None
    ) -> None:
        super().__init__(output_field=models.JSONField())
        self.column: Any = models.F(field_name)
        self.path = list(path)
        self.value_json = json.dumps(value, cls=encoder)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:  # type: ignore[override]
        raise NotSupportedError(f"set_meta(save=True) is not supported on {connection.vendor}")

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:
        col, col_params = compiler.compile(self.column)
        sql = f"(CASE WHEN jsonb_typeof({col}) = 'object' THEN {col} ELSE '{{}}'::jsonb END)"
        params: list[Any] = [*col_params, *col_params]
        for depth in range(1, len(self.path)):
            prefix = self.path[:depth]
            sql = (
                f"jsonb_set({sql}, %s::text[], CASE WHEN jsonb_typeof({col} #> %s::text[]) = "
                f"'object' THEN {col} #> %s::text[] ELSE '{{}}'::jsonb END, true)"
            )
            params += [prefix, *col_params, prefix, *col_params, prefix]
        return f"jsonb_set({sql}, %s::text[], %s::jsonb, true)", [
            *params,
            self.path,
            self.value_json,
        ]

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _SQL:
        # No key goes into a JSON path: SQLite's paths cannot quote every key
        # (no escape for '"'; a label starting with '"' is read as quoted, so
        # the key '"role"' would address role). The keys travel as one JSON
        # array instead; "down" finds the object at each level by json_each(),
        # whose ``key`` is the exact label, and "up" rebuilds each level,
        # innermost first, as the object without the key (json_patch with
        # {key: null}) plus the key (json_quote) and its new value.
        col, col_params = compiler.compile(self.column)
        sql = f"""(WITH RECURSIVE
  trackable_keys(i, k) AS (SELECT key, value FROM json_each(%s)),
  trackable_down(i, obj) AS (
    SELECT 0, CASE WHEN json_type({col}) = 'object' THEN {col} ELSE '{{}}' END
    UNION ALL
    SELECT d.i + 1, COALESCE((SELECT e.value FROM json_each(d.obj) AS e
      WHERE e.key = k.k AND e.type = 'object' LIMIT 1), '{{}}')
    FROM trackable_down AS d JOIN trackable_keys AS k ON k.i = d.i WHERE d.i + 1 < %s
  ),
  trackable_up(i, obj) AS (
    SELECT %s, json(%s)
    UNION ALL
    SELECT u.i - 1, (SELECT substr(r, 1, length(r) - 1) || CASE WHEN r = '{{}}' THEN '' ELSE ','
      END || json_quote(k.k) || ':' || u.obj || '}}'
      FROM (SELECT json_patch(d.obj, json_object(k.k, NULL)) AS r))
    FROM trackable_up AS u JOIN trackable_down AS d ON d.i = u.i - 1
    JOIN trackable_keys AS k ON k.i = u.i - 1 WHERE u.i > 0
  )
SELECT json(obj) FROM trackable_up WHERE i = 0)"""
        depth = len(self.path)
        return sql, [
            json.dumps(self.path),
            *col_params,
            *col_params,
            depth,
            depth,
            self.value_json,
        ]


class MetadataModel(_LifecycleModel):
    """``metadata``: a JSON object for free-form keys, read and set by dotted path.

    ``get_meta("billing.plan", default=None)`` reads nested keys;
    ``set_meta("billing.plan", "pro")`` sets one in memory (creating the
    levels in between), and ``set_meta(..., save=True)`` also sets it in the
    database in one UPDATE computed from the row's current value (PostgreSQL
    ``jsonb_set``, SQLite ``json_set``), so concurrent writers of different
    keys never undo each other; the instance's ``metadata`` is then reloaded.
    A plain ``save()`` writes the whole object as the instance holds it.
    """

    metadata = models.JSONField(_("metadata"), default=dict, blank=True)

    class Meta:
        abstract = True

    def get_meta(self, path: str | Sequence[str], default: Any = None) -> Any:
        """The value at ``path`` (``"a.b"`` or ``["a", "b"]``), or ``default``."""
        value: Any = self.metadata
        for key in _path(path):
            if not isinstance(value, dict) or key not in value:
                return default
            value = value[key]
        return value

    def set_meta(self, path: str | Sequence[str], value: Any, *, save: bool = False) -> None:
        """Set ``value`` at ``path``; with ``save=True`` also in the database, atomically.

        ``save=True`` on a row not saved yet saves it. On a saved row it is one
        UPDATE of ``metadata`` (recorded in ``history`` like a ``QuerySet.update()``)
        plus one query to reload ``metadata``.
        """
        keys = _path(path)
        if not isinstance(self.metadata, dict):
            self.metadata = {}
        node = self.metadata
        for key in keys[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[keys[-1]] = value
        if not save:
            return
        if self._state.adding:
            self.save()
            return
        self._lifecycle_check_write()
        model = type(self)
        field: Any = model._meta.get_field("metadata")
        using = router.db_for_write(model, instance=self)
        rows = TrackableQuerySet(model=model, using=using).filter(**self._lifecycle_row_filter())
        rows.update(metadata=SetJSONPath(field.name, keys, value, field.encoder))
        options = tracking.options_for(model)
        reload = ["metadata"]
        for role in ("updated_at", "updated_by"):
            if role in options.roles:
                reload.append(options.roles[role].name)
        if options.history is not None:
            self.__dict__.pop(options.history.attname, None)  # only the database knows the entry
        self.refresh_from_db(using=using, fields=reload)

    set_meta.alters_data = True  # type: ignore[attr-defined]
