"""Running test code in real threads against the real database."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import close_old_connections, connections


def run_in_threads(target: Callable[..., Any], calls: Iterable[tuple[Any, ...]]) -> list[Exception]:
    """Run ``target(*args)`` in one thread per ``args`` of ``calls`` and wait for all.

    Each thread closes its database connections when done, so PostgreSQL can
    drop the test database. Returns what the threads raised, for the test to
    assert on.
    """
    errors: list[Exception] = []

    def run(*args: Any) -> None:
        try:
            target(*args)
        except Exception as exc:  # returned to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=args) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return errors
