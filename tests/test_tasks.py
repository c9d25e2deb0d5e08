"""TASK_BACKEND with a real queue: django-tasks' database backend drained by db_worker processes.

The workers are real ``manage.py db_worker`` processes on the test database
(tests/worker_settings.py), started and stopped by the test. The number of
visits and logins sent is ``TRACKABLE_QUEUE_TEST_COUNT`` (default 10,000 on
PostgreSQL, 1,000 on SQLite). Measured on the 2-core development machine:
about 30 s for 1,000 on SQLite; for 10,000 on PostgreSQL, 2 minutes (5½ with
the machine busy with other work).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test import Client

from django_trackable.models import LoginAttempt, UserDevice, UserVisit
from tests.task_backends import BACKENDS, QueueDown
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)  # the workers see only committed rows

ROOT = Path(__file__).resolve().parent.parent
# SQLite serialises writers (the requests' enqueues and the workers' claims take
# turns on one file, each commit synced): a tenth of the records there.
COUNT = int(
    os.environ.get(
        "TRACKABLE_QUEUE_TEST_COUNT",
        "10000" if os.environ.get("TRACKABLE_TEST_DB") == "postgresql" else "1000",
    )
)
CLIENTS = 8
WORKERS = 2
# Each round of a client: a login (one login attempt, one visit) and three pages.
PAGES_PER_ROUND = 3
RECORDS_PER_ROUND = 2 + PAGES_PER_ROUND
# Bounds, so a stuck worker or request fails the test instead of hanging CI.
REQUESTS_TIMEOUT = 600.0
DRAIN_TIMEOUT = 600.0
STOP_TIMEOUT = 30.0
VISIT_TABLES = tuple(model._meta.db_table for model in (UserVisit, LoginAttempt, UserDevice))
VISIT_MIDDLEWARE = "django_trackable.middleware.VisitMiddleware"


@pytest.fixture
def queues(settings):
    """TASKS with the database queue and the one that is down."""
    framework = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
    importlib.import_module(f"{framework}.signals")  # resets the backends when TASKS changes
    settings.TASKS = {**settings.TASKS, **BACKENDS}


@pytest.fixture
def database_queue(queues, settings):
    """Visits and logins go to the database queue; VisitMiddleware first, as documented."""
    settings.TRACKABLE = {"TASK_BACKEND": "database"}
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]


@contextlib.contextmanager
def db_workers(count: int, log_dir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` db_worker processes on the test database, stopped (SIGTERM, then kill) on exit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "TRACKABLE_WORKER_DATABASE": str(connection.settings_dict["NAME"]),
        "PYTHONPATH": str(ROOT),
    }
    workers = []
    try:
        for index in range(count):
            log = (log_dir / f"worker-{index}.log").open("wb")
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "django",
                        "db_worker",
                        "--backend=database",
                        "--interval=0.05",
                        "--no-startup-delay",
                        "--no-reload",
                        f"--worker-id=test-worker-{index}",
                        "--verbosity=0",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()  # the child holds its own copy
        yield workers
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(STOP_TIMEOUT)


def worker_logs(log_dir: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(log_dir.glob("*.log")))


def wait_until_drained(workers: list[subprocess.Popen[bytes]], log_dir: Path) -> None:
    """Until no task is ready or running; fails if a worker dies or the bound passes."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + DRAIN_TIMEOUT
    while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
        dead = [worker.args for worker in workers if worker.poll() is not None]
        assert not dead, f"a worker exited: {dead}\n{worker_logs(log_dir)}"
        assert time.monotonic() < deadline, f"the queue was not drained in {DRAIN_TIMEOUT}s"
        time.sleep(0.2)


def test_visits_and_logins_enqueued_by_concurrent_requests_are_all_stored_once_by_db_workers(
    database_queue, django_user_model, tmp_path
):
    from django_tasks_db.models import DBTaskResult

    users = [
        django_user_model.objects.create_user(f"client{index}", password=f"pw-{index}")
        for index in range(CLIENTS)
    ]
    rounds = [COUNT // RECORDS_PER_ROUND // CLIENTS] * CLIENTS
    for index in range(COUNT // RECORDS_PER_ROUND % CLIENTS):
        rounds[index] += 1
    expected = sum(rounds) * RECORDS_PER_ROUND
    request_writes: list[str] = []
    enqueued: list[int] = []

    def spy(execute, sql, params, many, context):
        statement = sql.lstrip().upper()
        if statement.startswith(("INSERT", "UPDATE", "DELETE")):
            if any(table.upper() in statement for table in VISIT_TABLES):
                request_writes.append(sql)
            elif DBTaskResult._meta.db_table.upper() in statement and statement.startswith("INS"):
                enqueued.append(1)
        return execute(sql, params, many, context)

    def browse(index):
        client = Client()
        with connection.execute_wrapper(spy):
            for round_ in range(rounds[index]):
                response = client.post(
                    f"/sign-in/?n={index}-{round_}",
                    {"username": f"client{index}", "password": f"pw-{index}"},
                )
                assert response.content == b"yes"
                for page in range(PAGES_PER_ROUND):
                    response = client.get(f"/hello/?n={index}-{round_}-{page}")
                    assert response.status_code == 200

    with db_workers(WORKERS, tmp_path) as workers:
        errors = run_in_threads(browse, [(i,) for i in range(CLIENTS)], timeout=REQUESTS_TIMEOUT)
        assert errors == []
        assert request_writes == []  # the request path wrote nothing into the visit tables
        assert len(enqueued) == expected
        wait_until_drained(workers, tmp_path)

    failed = list(DBTaskResult.objects.exclude(status="SUCCESSFUL")[:3].values("traceback"))
    assert failed == [], worker_logs(tmp_path)
    assert DBTaskResult.objects.count() == expected
    logins = sum(rounds)
    assert UserVisit.objects.count() == expected - logins
    assert not UserVisit.objects.values("url").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert LoginAttempt.objects.filter(successful=True).count() == logins
    assert (
        LoginAttempt.objects.values("username", "timestamp").distinct().count() == logins
    )  # a user's logins are sequential: each has its own time
    devices = UserDevice.objects.values("user_id").annotate(logins=Sum("login_count"))
    assert {row["user_id"]: row["logins"] for row in devices} == {
        user.pk: rounds[index] for index, user in enumerate(users)
    }


def test_a_request_succeeds_when_the_queue_is_down_and_the_lost_visit_and_login_are_logged(
    queues, settings, alice, client, caplog
):
    settings.TRACKABLE = {"TASK_BACKEND": "down"}
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]

    with caplog.at_level(logging.ERROR, logger="django_trackable"):
        response = client.post("/sign-in/", {"username": "alice", "password": "pw-alice"})

    assert response.content == b"yes"
    assert [record.getMessage() for record in caplog.records] == [
        "django_trackable could not record a login",
        "django_trackable could not record a visit to '/sign-in/'",
    ]
    assert all(isinstance(record.exc_info[1], QueueDown) for record in caplog.records)
    assert not UserVisit.objects.exists()
    assert not LoginAttempt.objects.exists()


def test_a_queue_failing_in_the_database_leaves_the_requests_transaction_usable(
    queues, settings, alice, client, caplog, monkeypatch
):
    """PostgreSQL aborts a transaction at its first error: without the savepoint around the
    enqueue the session's INSERT would fail and the login with it."""
    settings.TRACKABLE = {"TASK_BACKEND": "unmigrated"}
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)

    with caplog.at_level(logging.ERROR, logger="django_trackable"):
        response = client.post("/sign-in/", {"username": "alice", "password": "pw-alice"})

    # The login (its session row, written after the failed enqueue) committed.
    assert response.content == b"yes"
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert [record.getMessage() for record in caplog.records] == [
        "django_trackable could not record a login",
        "django_trackable could not record a visit to '/sign-in/'",
    ]
