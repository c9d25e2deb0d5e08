"""``manage.py trackable_move_history``: bring every row within its history window now.

A save moves its own row's older entries to ``AuditLog`` once the row holds
twice its window (``HISTORY_WINDOW``). Rows written before the window was
turned on, or lowered, keep all theirs until their next save; this moves them
for every row at once, in batches (see :func:`~django_trackable.archive.move_past_window`).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_trackable.archive import Moved, move_past_window
from django_trackable.privacy.stores import history_tables
from django_trackable.tracking import options_for


class Command(BaseCommand):
    help = (
        "Move the older history entries of every row holding twice its window "
        "(HISTORY_WINDOW) or more to the audit log, as a save would; each row keeps its "
        "newest entries. In batches, each its own transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "models",
            nargs="*",
            metavar="app_label.Model",
            help="Only these models (default: every model with a history window).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=100,
            help="Rows moved per transaction (default 100; lower it for very long histories).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would move; move nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        dry_run = options["dry_run"]
        tables = self._tables(options["models"])
        verb = "would move" if dry_run else "moved"

        def progress(moved: Moved) -> None:
            self.stdout.write(f"{moved.target}: {moved.rows} rows so far")

        for model in tables:
            window = options_for(model).window
            if window is None:
                self.stdout.write(f"{model._meta.label}: no window, every entry stays in the row")
                continue
            moved = move_past_window(
                model,
                batch_size=options["batch_size"],
                dry_run=dry_run,
                progress=None if dry_run else progress,
            )
            line = (
                f"{moved.target}: {moved.rows} rows past their window of {window}, "
                f"{verb} {moved.entries} entries to the audit log"
            )
            self.stdout.write(line if dry_run else self.style.SUCCESS(line))

    def _tables(self, labels: list[str]) -> list[Any]:
        """The models whose tables hold a ``history`` column: those named, or all with a window."""
        owners = {field: owner for owner, field in history_tables()}
        if not labels:
            return [owner for owner in owners.values() if options_for(owner).window is not None]
        tables = []
        for label in labels:
            try:
                model = apps.get_model(label)
            except (LookupError, ValueError):
                raise CommandError(f"{label!r} is not a model (give app_label.ModelName)") from None
            history = options_for(model).history
            if history is None:
                raise CommandError(f"{label} has no history to move (it is not tracked)")
            owner = owners[history]
            if owner not in tables:
                tables.append(owner)
        return tables
