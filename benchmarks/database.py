"""Database set-up shared by the benchmarks."""

from __future__ import annotations

from django.db import connection


def ensure_database() -> None:
    """Create the PostgreSQL database named in settings if it does not exist yet."""
    if connection.vendor != "postgresql":
        return  # SQLite creates its file on connect
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
