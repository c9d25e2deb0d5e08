"""Task backends of tests/test_tasks.py: the database queue, and a queue that is down."""

from __future__ import annotations

import importlib.util
from typing import Any

if importlib.util.find_spec("django.tasks"):
    from django.tasks.backends.base import BaseTaskBackend
else:  # Django < 6: the backport
    from django_tasks.backends.base import BaseTaskBackend


#: Added to TASKS by the tests that use them, and by tests/worker_settings.py.
BACKENDS = {
    # A real queue: rows in the test database, drained by db_worker processes.
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    # A queue that refuses every task, as one that is down does.
    "down": {"BACKEND": "tests.task_backends.UnavailableBackend"},
    # A queue in the database whose table is missing (its migrations not applied).
    "unmigrated": {"BACKEND": "tests.task_backends.UnmigratedBackend"},
}


class QueueDown(ConnectionError):
    """What a broker that cannot be reached raises."""


class UnavailableBackend(BaseTaskBackend):
    """Refuses every task, as a queue whose broker is unreachable does."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise QueueDown("the queue is down")


class UnmigratedBackend(BaseTaskBackend):
    """Fails in the database, as a database queue whose table was never created does."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO trackable_no_such_queue_table VALUES (1)")
