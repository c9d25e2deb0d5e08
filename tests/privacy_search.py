"""Search every column of every table of a project for traces of a person.

:func:`traces` finds strings (text and JSON cast to text, tables and columns
from ``connection.introspection``), :func:`actor_traces` a primary key recorded
as an actor, :func:`snapshot` every row for "nothing changed" assertions. No
test models are imported, so the example project's tests use it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connections

from django_trackable.models.records import RecordModel
from django_trackable.tracking import options_for


@dataclass(frozen=True, order=True)
class Hit:
    table: str
    column: str
    pk: str
    needle: str


def _tables(using: str) -> list[tuple[str, str | None, list[str]]]:
    connection = connections[using]
    with connection.cursor() as cursor:
        found = []
        for table in sorted(connection.introspection.table_names(cursor)):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            pk = connection.introspection.get_primary_key_column(cursor, table)
            found.append((table, pk, columns))
    return found


def traces(needles: tuple[str, ...], *, using: str = "default") -> set[Hit]:
    """Every (table, column, row) whose value, as text, contains a needle (any case)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    find = "strpos" if connection.vendor == "postgresql" else "instr"
    hits = set()
    with connection.cursor() as cursor:
        for table, pk, columns in _tables(using):
            key = quote(pk) if pk else "NULL"
            for column in columns:
                text = f"LOWER(CAST({quote(column)} AS TEXT))"
                for needle in needles:
                    cursor.execute(
                        f"SELECT {key} FROM {quote(table)} WHERE {find}({text}, %s) > 0",
                        [needle.lower()],
                    )
                    hits |= {Hit(table, column, str(row[0]), needle) for row in cursor.fetchall()}
    return hits


def actor_traces(pk: Any, *, using: str = "default") -> set[Hit]:
    """Where ``pk`` is recorded as the one who acted or was seen.

    In JSON and text (``"user": <pk>`` in an entry) and in the foreign keys
    that record an actor: every stamp role, every user link of
    django_trackable's own models, and every recorded user key of a record
    table (a record keeps it after the user is gone).
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    pattern = re.compile(rf'"user"\s*:\s*"?{re.escape(str(pk))}"?\s*[,}}]')
    hits = set()
    with connection.cursor() as cursor:
        for table, key, columns in _tables(using):
            for column in columns:
                text = f"CAST({quote(column)} AS TEXT)"
                like = "strpos" if connection.vendor == "postgresql" else "instr"
                cursor.execute(
                    f"SELECT {quote(key) if key else 'NULL'}, {text} FROM {quote(table)} "
                    f"WHERE {like}({text}, %s) > 0",
                    ['"user"'],
                )
                for row_pk, value in cursor.fetchall():
                    if pattern.search(value):
                        hits.add(Hit(table, column, str(row_pk), f"user={pk}"))
        user_model = get_user_model()
        tables = {t for t, _, _ in _tables(using)}
        for model in apps.get_models():
            if model._meta.db_table not in tables:
                continue
            roles = options_for(model).roles.values()
            recorded = model.user_fields() if issubclass(model, RecordModel) else []
            for field in model._meta.local_concrete_fields:
                actor = (
                    field in roles
                    or field.name in recorded
                    or model._meta.app_label == "django_trackable"
                )
                if not (actor and field.is_relation and field.related_model is user_model):
                    continue
                cursor.execute(
                    f"SELECT {quote(model._meta.pk.column)} FROM {quote(model._meta.db_table)} "
                    f"WHERE {quote(field.column)} = %s",
                    [pk],
                )
                hits |= {
                    Hit(model._meta.db_table, field.column, str(row[0]), f"fk={pk}")
                    for row in cursor.fetchall()
                }
    return hits


def snapshot(*, using: str = "default") -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for "nothing changed" assertions."""
    connection = connections[using]
    quote = connection.ops.quote_name
    rows = {}
    with connection.cursor() as cursor:
        for table, pk, columns in _tables(using):
            order = f" ORDER BY {quote(pk)}" if pk else ""
            cursor.execute(
                f"SELECT {', '.join(f'CAST({quote(c)} AS TEXT)' for c in columns)} "
                f"FROM {quote(table)}{order}"
            )
            rows[table] = cursor.fetchall()
    return rows
