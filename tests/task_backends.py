"""A task backend for the tests of a queue that is down."""

from __future__ import annotations

from typing import Any

try:
    from django.tasks.backends.base import BaseTaskBackend
except ImportError:  # Django < 6: the backport
    from django_tasks.backends.base import BaseTaskBackend


class QueueDown(ConnectionError):
    """What a broker that cannot be reached raises."""


class UnavailableBackend(BaseTaskBackend):
    """Refuses every task, as a queue whose broker is unreachable does."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise QueueDown("the queue is down")
