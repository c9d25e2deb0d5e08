"""``manage.py trackable_purge``: delete visits and login attempts past their retention."""

from __future__ import annotations

import argparse
import datetime
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_trackable.conf import trackable_settings
from django_trackable.models.visits import MAX_BATCH_SIZE, purge_cutoff

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_age(value: str) -> datetime.timedelta | None:
    """``"90d"`` → 90 days; units s, m, h, d, w. ``"never"`` → ``None`` (keep all)."""
    if value.strip().lower() in ("never", "none", "off"):
        return None
    match = _AGE.match(value)
    if match is None or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an age like 90d, 12h, 30m, 2w (or 'never')"
        )
    try:
        age = datetime.timedelta(**{_UNITS[match[2].lower()]: int(match[1])})
        purge_cutoff(age)
    except (OverflowError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{value!r} is too long an age: it reaches back before year 1"
        ) from None
    return age


class Command(BaseCommand):
    help = (
        "Delete visits and login attempts older than their retention "
        "(TRACKABLE VISIT_RETENTION / LOGIN_RETENTION), in batches."
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
            "--batch-size",
            type=int,
            default=1000,
            help="Rows deleted per statement (default 1000).",
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


def _age(age: datetime.timedelta) -> str:
    if age % datetime.timedelta(days=1):
        return str(age)
    return f"{age.days} days"
