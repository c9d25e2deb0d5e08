"""A save with our reversion / simple-history integration on, against the same library alone.

    make bench-integrations                                   # SQLite (a file in the temp dir)
    bash .ci/with-postgres.sh make bench-integrations         # PostgreSQL

Each library is measured on the core benchmark's business fields: alone (a
plain model, the user handed to the library its own way) and on a tracked
model whose user comes from ``acting_as()`` through our integration. The
harness is ``benchmarks.core.sample()``: interleaved rounds, every sample
rolled back, medians. django-reversion and django-simple-history are in the
``[dev]`` extra, so this runs in ``.venv``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import django

# Set, not defaulted: the models need the peer apps, which only these settings install.
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.integrations_settings"
django.setup()

import reversion  # noqa: E402
from django.apps import apps  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, models  # noqa: E402

from benchmarks import core  # noqa: E402
from benchmarks.database import ensure_database  # noqa: E402
from benchmarks.integrationapp.models import (  # noqa: E402
    ReversionAlone,
    ReversionTracked,
    ReversionVersioned,
    SimpleHistoryAlone,
    SimpleHistoryTracked,
    acting_user,
)
from django_trackable import __version__ as trackable_version  # noqa: E402
from django_trackable import acting_as  # noqa: E402


@contextmanager
def _simple_history_user(user: Any) -> Any:
    token = acting_user.set(user)
    try:
        yield
    finally:
        acting_user.reset(token)


@dataclass(frozen=True)
class Setup:
    label: str
    model: type[models.Model]
    #: Given the user, a context in which the library attributes the saves to them.
    attribute: Callable[[Any], AbstractContextManager[Any]]
    #: Each save in its own revision, the user given to reversion itself (or not).
    revision: bool = False
    set_user: bool = False


GROUPS: list[tuple[str, list[Setup]]] = [
    (
        "django-reversion",
        [
            Setup("reversion alone", ReversionAlone, lambda user: acting_as(None), True, True),
            Setup("+ TrackableModel", ReversionTracked, acting_as, True),
            Setup("+ VersionedModel", ReversionVersioned, acting_as, True),
        ],
    ),
    (
        "django-simple-history",
        [
            Setup("simple-history alone", SimpleHistoryAlone, _simple_history_user),
            Setup("+ TrackableModel", SimpleHistoryTracked, acting_as),
        ],
    ),
]


def save_operation(setups: list[Setup], user: Any, rows: int, saves: int) -> core.Operation:
    """``saves`` single-field saves on each of ``rows`` rows, attributed to ``user``."""
    by_model = {setup.model: setup for setup in setups}

    def setup_rows(model: Any) -> Any:
        with connection.cursor() as cursor:
            history = getattr(model, "records", None)
            tables = [history.model] if history is not None else []
            for table in (*tables, model):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table._meta.db_table)}")
        model.objects.bulk_create([core.make(model, i) for i in range(rows)])
        return list(model.objects.all())

    def run(model: Any, objs: Any) -> None:
        setup = by_model[model]
        with setup.attribute(user):
            for obj in objs:
                for _ in range(saves):
                    obj.quantity += 1
                    if not setup.revision:
                        obj.save()
                        continue
                    with reversion.create_revision():
                        if setup.set_user:
                            reversion.set_user(user)
                        obj.save()

    return ("save()", setup_rows, run, rows * saves)


def create_tables() -> None:
    """The core benchmark's tables plus this app's (dropped if left over)."""
    ensure_database()
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in apps.get_app_config("integrationapp").get_models():
            if model._meta.db_table in existing:
                editor.delete_model(model)
    core.create_tables()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="fewer saves, for a smoke run")
    args = parser.parse_args(argv)
    rows, saves = (10, 2) if args.quick else (40, 5)
    create_tables()
    user_model = django.apps.apps.get_model("auth", "User")
    user, _ = user_model.objects.get_or_create(username="bench")
    for _group, setups in GROUPS:
        for setup in setups:
            ContentType.objects.get_for_model(setup.model)  # cached in a running site

    versions = [
        f"django_trackable {trackable_version}",
        *(f"{p} {version(p)}" for p in ("django-reversion", "django-simple-history")),
    ]
    print(
        f"a save with our integration against the library alone: {core.describe_database()}, "
        f"Django {django.get_version()}, Python {sys.version.split()[0]}, "
        f"{args.rounds} rounds (median per save)"
    )
    print(f"versions: {', '.join(versions)}")
    print()
    widths = (22, 22, 9, 9, 7)
    print(_row(("library", "setup", "per save", "vs alone", "queries"), widths))
    print(
        "|" + "|".join("-" * (w + 1) + (":" if i >= 2 else "-") for i, w in enumerate(widths)) + "|"
    )
    for group, setups in GROUPS:
        operation = save_operation(setups, user, rows, saves)
        medians, queries = core.sample(operation, args.rounds, tuple(s.model for s in setups))
        alone = medians[setups[0].model]
        for i, setup in enumerate(setups):
            seconds = medians[setup.model]
            cells = (
                group if i == 0 else "",
                setup.label,
                f"{seconds * 1e6:.0f}µs",
                f"{seconds / alone:.2f}×",
                f"{queries[setup.model]:.3g}",
            )
            print(_row(cells, widths), flush=True)
    print()
    print(
        "reversion: each save in its own create_revision(); alone, the user is given with "
        "reversion.set_user(), with us by acting_as() through the integration. "
        "simple-history: alone, get_user reads a context variable; with us, "
        "django_trackable.integrations.simple_history.get_user."
    )
    return 0


def _row(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    padded = [
        f"{cell:>{width}}" if i >= 2 else f"{cell:<{width}}"
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return "| " + " | ".join(padded) + " |"


if __name__ == "__main__":
    sys.exit(main())
