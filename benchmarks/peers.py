"""django_trackable against other audit libraries, with the core benchmark's harness.

    make bench-peers                                 # SQLite (a file in the temp dir)
    bash .ci/with-postgres.sh make bench-peers       # PostgreSQL

The peers (django-simple-history, django-auditlog, django-pghistory) are not
dependencies of the project: ``make bench-peers`` installs them in
``.venv-peers`` from ``benchmarks/requirements-peers.txt``. The operations, the
interleaved rounds, the rollback of every sample and the medians are those of
``benchmarks.core``, imported from it; every library's model has the same
business fields as the core benchmark's plain and tracked models.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import django

# Set, not defaulted: the peers' models need their apps, which only these settings install.
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.peers_settings"
django.setup()

from auditlog.context import set_actor  # noqa: E402
from auditlog.models import LogEntry  # noqa: E402
from django.apps import apps  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, models  # noqa: E402

from benchmarks import core  # noqa: E402
from benchmarks.benchapp.models import Plain, Tracked  # noqa: E402
from benchmarks.database import ensure_database  # noqa: E402
from benchmarks.peerapp.models import (  # noqa: E402
    WithAuditlog,
    WithSimpleHistory,
    simple_history_user,
)
from django_trackable import __version__ as trackable_version  # noqa: E402
from django_trackable import acting_as  # noqa: E402

# Operations a library records nothing for: simple-history and auditlog hook
# model signals, which bulk_create() and QuerySet.update() do not send.
SIGNALS_ONLY = frozenset({"bulk_create", "update"})


@dataclass(frozen=True)
class Library:
    label: str
    model: type[models.Model]
    #: Given the user, a context in which the library attributes writes to them.
    attribute: Callable[[Any], AbstractContextManager[Any]]
    #: How that context attributes them, for the report's header.
    attributed_by: str = ""
    #: The tables its history goes to, emptied before each operation's set-up.
    history: tuple[type[models.Model], ...] = ()
    #: The kinds of operation (see ``operations()``) it records nothing for.
    untracked: frozenset[str] = frozenset()


def libraries() -> list[Library]:
    found = [
        Library("plain Django", Plain, lambda user: nullcontext()),
        Library("django_trackable", Tracked, acting_as, "acting_as(user)"),
        Library(
            "django-simple-history",
            WithSimpleHistory,
            simple_history_user,
            "HistoricalRecords(get_user=...) reading a context variable",
            history=(WithSimpleHistory.history.model,),
            untracked=SIGNALS_ONLY,
        ),
        Library(
            "django-auditlog",
            WithAuditlog,
            set_actor,
            "auditlog.context.set_actor(user)",
            history=(LogEntry,),
            untracked=SIGNALS_ONLY,
        ),
    ]
    if apps.is_installed("pghistory"):
        import pghistory
        from pghistory.models import Context

        from benchmarks.peerapp_pg.models import WithPghistory

        found.append(
            Library(
                "django-pghistory",
                WithPghistory,
                lambda user: pghistory.context(user=user.pk),
                "pghistory.context(user=user.pk)",
                history=(apps.get_model("peerapp_pg", "WithPghistoryEvent"), Context),
            )
        )
    return found


def operations(big: int) -> list[tuple[str, core.Operation]]:
    """The core benchmark's operations that every library can run, keyed by kind."""
    return [
        ("create", core.op_create(200)),
        ("save", core.op_save(40, 5, 0, "save(), one field changed")),
        ("bulk_create", core.op_bulk_create(1_000)),
        ("update", core.op_update(big)),
        ("load", core.op_load(big)),
    ]


def for_libraries(operation: core.Operation, found: list[Library], user: Any) -> core.Operation:
    """The operation with empty tables before its set-up and each run attributed to ``user``.

    The tables are emptied in SQL, so the peers do not log the set-up's deletes
    one row at a time. Attribution is entered once per timed run, as a request
    or a task would, and for one library only: pghistory's context rewrites
    every SQL statement of the connection while it is entered.
    """
    name, setup, run, per_run = operation
    by_model = {library.model: library for library in found}

    def setup_empty(model: Any) -> Any:
        with connection.cursor() as cursor:
            for table in (*by_model[model].history, model):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table._meta.db_table)}")
        return setup(model)

    def run_attributed(model: Any, state: Any) -> None:
        with by_model[model].attribute(user):
            run(model, state)

    return (name, setup_empty, run_attributed, per_run)


def create_tables() -> None:
    """The core benchmark's tables, the peers' (dropped if left over), pghistory's triggers."""
    ensure_database()
    existing = set(connection.introspection.table_names())
    peer_models = [
        model
        for label in ("peerapp", "peerapp_pg")
        if apps.is_installed(f"benchmarks.{label}")
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.schema_editor() as editor:
        for model in peer_models:
            if model._meta.db_table in existing:
                editor.delete_model(model)
    core.create_tables()
    if apps.is_installed("pgtrigger"):
        import pgtrigger

        # The benchmark apps have no migrations, which is where pgtrigger installs triggers.
        pgtrigger.install()


def history_column(library: Library, kind: str) -> str:
    if library.model is Plain or kind == "load":
        return "—"
    return "no" if kind in library.untracked else "yes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 20: a multiple of 4 and of 5 libraries, so each runs first equally often.
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="fewer rows, for a smoke run")
    args = parser.parse_args(argv)
    big = 1_000 if args.quick else 10_000
    create_tables()
    user_model = django.apps.apps.get_model("auth", "User")
    user, _ = user_model.objects.get_or_create(username="bench")
    found = libraries()
    for library in found:
        # Cached in any running site; the counted first run must not pay for it.
        ContentType.objects.get_for_model(library.model)

    peers = ["django-simple-history", "django-auditlog"]
    if apps.is_installed("pghistory"):
        peers += ["django-pghistory", "django-pgtrigger"]
    versions = [f"django_trackable {trackable_version}", *(f"{p} {version(p)}" for p in peers)]
    print(
        f"django_trackable against other libraries: {core.describe_database()}, "
        f"Django {django.get_version()}, Python {sys.version.split()[0]}, "
        f"{args.rounds} rounds (median per operation)"
    )
    print(f"versions: {', '.join(versions)}")
    users = "; ".join(f"{lib.label} {lib.attributed_by}" for lib in found if lib.attributed_by)
    print(f"user attributed by: {users}; each entered once per timed run")
    print()
    widths = (32, 21, 9, 8, 7, 7)
    header = ("operation", "library", "per op", "vs plain", "queries", "history")
    print(_row(header, widths))
    print(
        "|"
        + "|".join(
            "-" * (width + 1) + (":" if i in (2, 3, 4) else "-") for i, width in enumerate(widths)
        )
        + "|"
    )
    for kind, operation in operations(big):
        medians, queries = core.sample(
            for_libraries(operation, found, user),
            args.rounds,
            tuple(library.model for library in found),
        )
        for i, library in enumerate(found):
            seconds = medians[library.model]
            cells = (
                operation[0] if i == 0 else "",
                library.label,
                f"{seconds * 1e6:.0f}µs",
                f"{seconds / medians[Plain]:.2f}×",
                f"{queries[library.model]:.3g}",
                history_column(library, kind),
            )
            print(_row(cells, widths), flush=True)
    print()
    print(
        "history no: the library records nothing for this operation (simple-history and "
        "auditlog hook model signals, which bulk_create() and QuerySet.update() do not send); "
        "the time is what its users pay anyway."
    )
    if not apps.is_installed("pghistory"):
        print("django-pghistory: not measured, it records by PostgreSQL triggers only.")
    return 0


def _row(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    padded = [
        f"{cell:>{width}}" if i in (2, 3, 4) else f"{cell:<{width}}"
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return "| " + " | ".join(padded) + " |"


if __name__ == "__main__":
    sys.exit(main())
