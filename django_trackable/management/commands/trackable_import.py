"""``manage.py trackable_import``: bring history kept by another library into ``history``."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_trackable.importing import SOURCES, ImportStats, import_history, source_models


class Command(BaseCommand):
    help = (
        "Turn django-simple-history, django-reversion or django-auditlog records into "
        "history entries (and AuditLog rows when AUDIT_LOG is on), oldest first, in front "
        "of the entries each row already has. Idempotent: a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="source",
            required=True,
            choices=sorted(SOURCES),
            help="The library whose records to import.",
        )
        parser.add_argument(
            "--model",
            action="append",
            default=[],
            metavar="app_label.Model",
            help="Import this model only (repeatable). Default: every tracked model "
            "the library has records for.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows read and rewritten per transaction (default 500).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be imported; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            available = source_models(source)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        targets = available
        if options["model"]:
            targets = []
            for label in options["model"]:
                try:
                    model = apps.get_model(label)
                except (LookupError, ValueError) as exc:
                    raise CommandError(f"unknown model {label!r}") from exc
                if model not in available:
                    raise CommandError(
                        f"{model._meta.label} is not a tracked model with {source} records"
                    )
                targets.append(model)
        verb = "would import" if options["dry_run"] else "imported"
        for model in targets:
            label = model._meta.label

            def report(stats: ImportStats, label: str = label) -> None:
                self.stdout.write(
                    f"{label}: {stats.rows} rows read, {stats.entries} entries {verb} "
                    f"into {stats.rows_written} rows"
                )

            stats = import_history(
                source,
                model,
                batch_size=options["batch_size"],
                dry_run=options["dry_run"],
                progress=report,
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"{label}: done: {stats.records} {source} records, {stats.entries} entries "
                    f"{verb} into {stats.rows_written} of {stats.rows} rows"
                    + (f", {stats.audit_rows} audit log rows" if stats.audit_rows else "")
                    + (f", {stats.missing_rows} rows no longer exist" if stats.missing_rows else "")
                )
            )
