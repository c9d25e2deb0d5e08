"""``manage.py trackable_changes --since 2h``: what changed, across every tracked model."""

from __future__ import annotations

import argparse
import csv
import datetime
import json
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_trackable.feed import Change, changes_since
from django_trackable.history import to_datetime
from django_trackable.management.commands._users import find_user
from django_trackable.management.commands.trackable_purge import parse_age

FORMATS = ("table", "json", "jsonl", "csv")


def parse_moment(value: str) -> datetime.datetime:
    """An age back from now (``2h``, ``7d``), an ISO 8601 date or time, or a UNIX time."""
    try:
        age = parse_age(value)
    except argparse.ArgumentTypeError:
        age = None
    if age is not None:
        return timezone.now() - age
    try:
        return to_datetime(float(value))
    except (ValueError, OverflowError, OSError):
        pass
    try:
        return to_datetime(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a moment: give an age (2h, 7d), an ISO 8601 time "
            "(2026-11-23T14:50) or a UNIX time"
        ) from None


class Command(BaseCommand):
    help = (
        "List the changes after a moment across every tracked model (or those given), "
        "oldest first, as a table, JSON, JSON lines or CSV."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", type=parse_moment, required=True, help="2h, 7d, an ISO time or a UNIX time."
        )
        parser.add_argument("--until", type=parse_moment, help="The same; default: now.")
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="APP.MODEL",
            help="Only this model (repeatable).",
        )
        parser.add_argument("--user", help="Only changes by this user (username or primary key).")
        parser.add_argument(
            "--action", action="append", dest="actions", help="Only this action (repeatable)."
        )
        parser.add_argument("--format", choices=FORMATS, default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        models = [self._model(label) for label in options["models"] or ()] or None
        user = find_user(options["user"]) if options["user"] else None
        try:
            changes = changes_since(
                options["since"],
                until=options["until"],
                models=models,
                user=user,
                actions=options["actions"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        getattr(self, f"_write_{options['format']}")(changes)

    def _model(self, label: str) -> Any:
        try:
            return apps.get_model(label)
        except (LookupError, ValueError):
            raise CommandError(f"{label!r} is not a model (give app_label.ModelName)") from None

    def _write_table(self, changes: Any) -> None:
        count = 0
        for change in changes:
            count += 1
            when = timezone.localtime(change.timestamp).strftime("%Y-%m-%d %H:%M:%S")
            who = change.user_repr or "-"
            fields = ", ".join(change.changes) or "-"
            self.stdout.write(
                f"{when}  {change.action:<10}  {change.label} {change.pk} "
                f"({change.describe()})  by {who}: {fields}"
            )
        self.stdout.write(f"{count} change{'s' if count != 1 else ''}.")

    def _write_json(self, changes: Any) -> None:
        self.stdout.write("[", ending="")
        for index, change in enumerate(changes):
            self.stdout.write(("," if index else "") + "\n" + _dumps(change), ending="")
        self.stdout.write("\n]")

    def _write_jsonl(self, changes: Any) -> None:
        for change in changes:
            self.stdout.write(_dumps(change))

    def _write_csv(self, changes: Any) -> None:
        columns = ["timestamp", "action", "model", "pk", "object", "user", "user_repr", "changes"]
        writer = csv.DictWriter(self.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for change in changes:
            row = change.as_dict()
            row["changes"] = json.dumps(row["changes"], ensure_ascii=False)
            writer.writerow(row)


def _dumps(change: Change) -> str:
    return json.dumps(change.as_dict(), ensure_ascii=False, sort_keys=True)
