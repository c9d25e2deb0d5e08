"""``manage.py trackable_erase_user``: remove a person from every django_trackable store."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_trackable.management.commands._users import find_user
from django_trackable.privacy import erase_user


class Command(BaseCommand):
    help = (
        "Erase a person from history entries, stamps, the audit log, visits, login attempts "
        "and devices (see the Privacy page of the docs). Runs in batches; safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="The person's username or primary key.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; change nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows per statement (default 1000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        user = find_user(options["user"])
        dry_run = options["dry_run"]

        def progress(store: str, target: str, rows: int) -> None:
            self.stdout.write(f"{store}: {target}: {rows} rows so far")

        report = erase_user(
            user,
            dry_run=dry_run,
            progress=None if dry_run or options["verbosity"] < 1 else progress,
            batch_size=options["batch_size"],
        )
        for line in report.lines():
            self.stdout.write(line)
        verb = "would change" if dry_run else "changed"
        summary = f"User {user.pk}: {verb} {report.rows()} rows, {report.entries()} entries."
        self.stdout.write(summary if dry_run else self.style.SUCCESS(summary))
