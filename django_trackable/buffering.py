"""Visits kept in memory and written in bulk (``VISIT_BUFFER_SIZE``), off the request path.

With ``VISIT_BUFFER_SIZE`` set, :meth:`~django_trackable.models.UserVisitQuerySet.record`
appends the visit's values to a buffer of the process instead of inserting
them. A writer thread (one per process, started by the first visit, again
after a fork) writes the buffer with one ``bulk_create`` when it holds
``VISIT_BUFFER_SIZE`` visits or its oldest visit is ``VISIT_BUFFER_SECONDS``
old, and :func:`flush_visits` runs at interpreter exit. So a request that
records a visit makes no query for it, and under ASGI no thread hop when its
user is already loaded.

What a crash can lose: the visits still in memory when the process dies
without running ``atexit`` (SIGKILL, an out-of-memory kill, a segfault): at
most the last ``VISIT_BUFFER_SECONDS`` of visits, and never more than
``VISIT_BUFFER_SIZE`` per batch being written. A batch that cannot be written
(the database is down) is dropped and logged; while the writer is behind, the
buffer holds at most ten batches and a visit beyond that is dropped and
counted in the next log line.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from django.db import connections

from django_trackable.conf import trackable_settings

__all__ = ["flush_visits"]

logger = logging.getLogger(__name__)

#: The buffer holds at most this many batches while the writer is behind.
_MAX_BATCHES = 10


class _VisitBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._rows: list[dict[str, Any]] = []
        self._oldest: float | None = None
        self._dropped = 0
        self._writer: threading.Thread | None = None
        self._writer_pid: int | None = None
        self._exit_hook = False

    def add(self, values: dict[str, Any], size: int) -> None:
        with self._lock:
            if len(self._rows) >= size * _MAX_BATCHES:
                self._dropped += 1
                return
            self._rows.append(values)
            first = self._oldest is None
            if first:
                self._oldest = time.monotonic()
            self._start_writer()
            if first or len(self._rows) >= size:  # a deadline to wait for, or a full batch
                self._wake.notify()

    def _start_writer(self) -> None:
        # A forked worker (gunicorn) inherits the buffer but not the thread.
        pid = os.getpid()
        if self._writer is not None and self._writer_pid == pid and self._writer.is_alive():
            return
        self._writer = threading.Thread(
            target=self._run, name="django_trackable visit writer", daemon=True
        )
        self._writer_pid = pid
        self._writer.start()
        if not self._exit_hook:
            atexit.register(self.flush)
            self._exit_hook = True

    def _take(self) -> tuple[list[dict[str, Any]], int]:
        rows, dropped = self._rows, self._dropped
        self._rows, self._oldest, self._dropped = [], None, 0
        return rows, dropped

    def _due(self) -> bool:
        size = trackable_settings.VISIT_BUFFER_SIZE or 1
        if len(self._rows) >= size:
            return True
        if self._oldest is None:
            return False
        return time.monotonic() - self._oldest >= trackable_settings.VISIT_BUFFER_SECONDS

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._due():
                    timeout = None
                    if self._oldest is not None:
                        timeout = max(
                            0.0,
                            self._oldest
                            + trackable_settings.VISIT_BUFFER_SECONDS
                            - time.monotonic(),
                        )
                    self._wake.wait(timeout)
                rows, dropped = self._take()
            _write(rows, dropped, close=True)

    def flush(self) -> int:
        with self._lock:
            rows, dropped = self._take()
        return _write(rows, dropped, close=False)


def _write(rows: list[dict[str, Any]], dropped: int, *, close: bool) -> int:
    if dropped:
        logger.error("django_trackable dropped %d visits: the visit buffer was full", dropped)
    if not rows:
        return 0
    from django_trackable.models import UserVisit

    try:
        written: int = UserVisit.objects.all()._store_many(rows)
        return written
    except Exception:
        logger.exception("django_trackable lost %d buffered visits", len(rows))
        return 0
    finally:
        if close:
            # The writer thread's connections follow CONN_MAX_AGE, as a request's do:
            # closed after each batch by default (none left idle, or holding a test
            # database), kept for the next batch when persistent.
            for alias_connection in connections.all(initialized_only=True):
                alias_connection.close_if_unusable_or_obsolete()


_buffer = _VisitBuffer()


def buffer_visit(values: dict[str, Any]) -> None:
    """Append ``record()``'s values to the buffer; no query."""
    _buffer.add(values, trackable_settings.VISIT_BUFFER_SIZE or 1)


def flush_visits() -> int:
    """Write the buffered visits now, in the calling thread; returns how many were written.

    Runs at interpreter exit by itself. Call it where a process ends without
    ``atexit`` (``os._exit``), or in tests. One ``bulk_create`` on the write
    database; a failure is logged and the batch dropped, never raised.
    """
    return _buffer.flush()
