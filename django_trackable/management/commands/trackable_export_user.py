"""``manage.py trackable_export_user``: what django_trackable holds about a person, as JSON."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from django_trackable.management.commands._users import find_user
from django_trackable.privacy import write_export


class Command(BaseCommand):
    help = (
        "Write everything django_trackable holds about a person (visits, login attempts, "
        "devices, the changes they made) as JSON, streamed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="The person's username or primary key.")
        parser.add_argument("--output", "-o", help="Write to this file (default: standard output).")
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows read at a time (default 1000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        user = find_user(options["user"])
        output = options["output"]
        if not output:
            write_export(user, _Unwrapped(self.stdout), batch_size=options["batch_size"])
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a directory.")
        # Written next to the target and renamed at the end: a failed export
        # never leaves a truncated file that looks complete.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                items = write_export(user, stream, batch_size=options["batch_size"])
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(f"{items} items written to {target}")


class _Unwrapped:
    """The command's output without the newline ``OutputWrapper`` adds to each write."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
