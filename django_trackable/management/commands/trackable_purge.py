"""``manage.py trackable_purge``: delete what is older than its retention period.

Visits and login attempts (rows), the audit log (rows), in-row history
(entries; each row keeps its newest) and record tables (records; each recorded
instance keeps its newest).
"""

from __future__ import annotations

import argparse
import datetime
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_trackable.conf import trackable_settings
from django_trackable.models.visits import MAX_BATCH_SIZE, purge_cutoff

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks", "y": "days"}
_PER_UNIT = {"y": 365}
_AGE = re.compile(r"^\s*(\d+)\s*([smhdwy])\s*$", re.IGNORECASE)


def parse_age(value: str) -> datetime.timedelta | None:
    """``"90d"`` → 90 days; units s, m, h, d, w, y (365 days). ``"never"`` → ``None`` (keep all).

    An age reaching back before the year 1 is refused, as is anything else
    that is not an age: each is a clear error, never an ``OverflowError``.
    """
    if value.strip().lower() in ("never", "none", "off"):
        return None
    match = _AGE.match(value)
    if match is None or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an age like 90d, 12h, 30m, 2w, 2y (or 'never')"
        )
    unit = match[2].lower()
    try:
        age = datetime.timedelta(**{_UNITS[unit]: int(match[1]) * _PER_UNIT.get(unit, 1)})
        purge_cutoff(age)
    except (OverflowError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{value!r} is too long an age: it reaches back before the year 1 "
            "(give a shorter age, or 'never')"
        ) from None
    return age


class Command(BaseCommand):
    help = (
        "Delete visits, login attempts and audit log rows older than their retention "
        "(TRACKABLE VISIT_RETENTION / LOGIN_RETENTION / AUDIT_RETENTION), and history "
        "entries older than HISTORY_RETENTION (each row keeps its newest) and records older "
        "than RECORD_RETENTION (each recorded instance keeps its newest), in batches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--visits",
            type=parse_age,
            default=argparse.SUPPRESS,
            help="Delete visits older than this (90d, 12h, 2w; 'never' keeps them). "
            "Default: VISIT_RETENTION.",
        )
        parser.add_argument(
            "--logins",
            type=parse_age,
            default=argparse.SUPPRESS,
            help="Delete login attempts older than this. Default: LOGIN_RETENTION.",
        )
        parser.add_argument(
            "--audit",
            type=parse_age,
            default=argparse.SUPPRESS,
            help="Delete audit log rows older than this (365d, 2y). Default: AUDIT_RETENTION.",
        )
        parser.add_argument(
            "--history",
            type=parse_age,
            default=argparse.SUPPRESS,
            help="Remove history entries older than this from every row, keeping each "
            "row's newest entry. Default: HISTORY_RETENTION.",
        )
        parser.add_argument(
            "--records",
            type=parse_age,
            default=argparse.SUPPRESS,
            help="Delete records (recorded properties) older than this, keeping each "
            "recorded instance's newest record. Default: RECORD_RETENTION.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Rows deleted or rewritten per statement (default 1000).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django_trackable.models import LoginAttempt, UserVisit

        if not 1 <= options["batch_size"] <= MAX_BATCH_SIZE:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}")
        work = (
            ("visits", UserVisit, options.get("visits", trackable_settings.VISIT_RETENTION)),
            (
                "login attempts",
                LoginAttempt,
                options.get("logins", trackable_settings.LOGIN_RETENTION),
            ),
        )
        # Checked before anything is deleted, so a bad default stops the whole run.
        audit_age = _checked(options.get("audit", trackable_settings.AUDIT_RETENTION), "AUDIT")
        history_age = _checked(
            options.get("history", trackable_settings.HISTORY_RETENTION), "HISTORY"
        )
        records_age = _checked(
            options.get("records", trackable_settings.RECORD_RETENTION), "RECORD"
        )
        for label, model, age in work:
            if age is None:
                self.stdout.write(f"{label}: kept (no retention set)")
                continue
            try:
                purge_cutoff(age)  # a retention setting is checked here, not by argparse
            except ValueError as exc:
                raise CommandError(f"{label}: {exc}") from None
            if options["dry_run"]:
                count = model.objects.purge(age, dry_run=True)
                self.stdout.write(f"{label}: {count} older than {_age(age)} would be deleted")
                continue

            def progress(done: int, total: int, label: str = label) -> None:
                self.stdout.write(f"{label}: {done}/{total} deleted")

            count = model.objects.purge(age, batch_size=options["batch_size"], progress=progress)
            self.stdout.write(
                self.style.SUCCESS(f"{label}: {count} older than {_age(age)} deleted")
            )
        self._purge_audit_log(audit_age, options)
        self._purge_history(history_age, options)
        self._purge_records(records_age, options)

    def _purge_audit_log(self, age: datetime.timedelta | None, options: dict[str, Any]) -> None:
        from django_trackable.privacy import purge_audit_log

        if age is None:
            self.stdout.write("audit log: kept (no retention set)")
            return
        dry_run = options["dry_run"]
        count = purge_audit_log(
            age,
            batch_size=options["batch_size"],
            dry_run=dry_run,
            progress=None
            if dry_run
            else lambda done: self.stdout.write(f"audit log: {done} deleted"),
        )
        if dry_run:
            self.stdout.write(f"audit log: {count} older than {_age(age)} would be deleted")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"audit log: {count} older than {_age(age)} deleted")
            )

    def _purge_history(self, age: datetime.timedelta | None, options: dict[str, Any]) -> None:
        from django_trackable.privacy import purge_history

        if age is None:
            self.stdout.write("history: kept (no retention set)")
            return
        dry_run = options["dry_run"]

        def progress(target: str, rows: int) -> None:
            self.stdout.write(f"history of {target}: {rows} rows rewritten")

        counts = purge_history(
            age,
            batch_size=options["batch_size"],
            dry_run=dry_run,
            progress=None if dry_run else progress,
        )
        verb = "would be removed" if dry_run else "removed"
        for count in counts:
            line = (
                f"history of {count.target}: {count.entries} entries older than {_age(age)} "
                f"{verb} from {count.rows} rows"
            )
            self.stdout.write(line if dry_run else self.style.SUCCESS(line))

    def _purge_records(self, age: datetime.timedelta | None, options: dict[str, Any]) -> None:
        from django_trackable.privacy import purge_records

        if age is None:
            self.stdout.write("records: kept (no retention set)")
            return
        dry_run = options["dry_run"]

        def progress(target: str, rows: int) -> None:
            self.stdout.write(f"records of {target}: {rows} deleted")

        counts = purge_records(
            age,
            batch_size=options["batch_size"],
            dry_run=dry_run,
            progress=None if dry_run else progress,
        )
        verb = "would be deleted" if dry_run else "deleted"
        for count in counts:
            line = f"records of {count.target}: {count.rows} older than {_age(age)} {verb}"
            self.stdout.write(line if dry_run else self.style.SUCCESS(line))


def _checked(age: datetime.timedelta | None, name: str) -> datetime.timedelta | None:
    """A retention from a setting or an option, refused if its cut-off is before the year 1."""
    if age is None:
        return None
    try:
        timezone.now() - age
    except OverflowError:
        raise CommandError(
            f"The {name.lower()} retention ({age.days} days) reaches back before the year 1; "
            f"set TRACKABLE['{name}_RETENTION'] to a shorter timedelta or None."
        ) from None
    return age


def _age(age: datetime.timedelta) -> str:
    if age % datetime.timedelta(days=1):
        return str(age)
    return f"{age.days} days"
