"""Settings of the ``db_worker`` processes tests/test_tasks.py starts.

The test suite's settings, pointed at the test database the test runs in
(its name is not known until pytest-django has created it, and on SQLite it
embeds the pid of the test process), with the database queue as
``TASK_BACKEND``.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, TASKS
from tests.task_backends import BACKENDS

DATABASES["default"]["NAME"] = os.environ["TRACKABLE_WORKER_DATABASE"]
TASKS = {**TASKS, **BACKENDS}
TRACKABLE = {"TASK_BACKEND": "database"}
# The worker closes "old" connections around every task: without a maximum
# age that is a new connection per task.
DATABASES["default"]["CONN_MAX_AGE"] = None
