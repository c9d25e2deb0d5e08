"""Running test code in real threads against the real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db import close_old_connections, connections


class ThreadHung(Exception):
    """A thread was still running when :func:`run_in_threads` stopped waiting."""


def run_in_threads(
    target: Callable[..., Any], calls: Iterable[tuple[Any, ...]], *, timeout: float | None = None
) -> list[Exception]:
    """Run ``target(*args)`` in one thread per ``args`` of ``calls`` and wait for all.

    Each thread closes its database connections when done, so PostgreSQL can
    drop the test database. Returns what the threads raised, for the test to
    assert on. With ``timeout`` (seconds, for all threads together) a thread
    still running then is reported as a :class:`ThreadHung` instead of
    hanging the suite: a bound for deadlock tests, not a measurement.
    """
    errors: list[Exception] = []

    def run(*args: Any) -> None:
        try:
            target(*args)
        except Exception as exc:  # returned to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=args, daemon=True) for args in calls]
    for thread in threads:
        thread.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    for thread in threads:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            errors.append(ThreadHung(f"{thread.name} still running after {timeout}s"))
    close_old_connections()
    return errors
