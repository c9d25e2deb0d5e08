"""VISIT_BUFFER_SIZE: visits kept in memory by the request, written in bulk by a writer thread."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_trackable.buffering import flush_visits
from django_trackable.models import UserVisit

# The writer thread writes on its own connection: it sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
VISIT_MIDDLEWARE = "django_trackable.middleware.VisitMiddleware"
# A bound on waiting for the writer thread, so a stuck one fails the test.
WRITER_TIMEOUT = 30.0


@pytest.fixture
def buffered(settings):
    """VisitMiddleware first, visits buffered; whatever a test leaves is written after it."""
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]
    settings.TRACKABLE = {"VISIT_BUFFER_SIZE": 100, "VISIT_BUFFER_SECONDS": 3600}
    yield settings
    flush_visits()


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice)
    return client


def worker_env():
    """The environment of a process of its own that uses this test's database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "TRACKABLE_WORKER_DATABASE": str(connection.settings_dict["NAME"]),
        "PYTHONPATH": str(ROOT),
    }


def wait_for_visits(count):
    deadline = time.monotonic() + WRITER_TIMEOUT
    while UserVisit.objects.count() < count:
        assert time.monotonic() < deadline, f"the writer did not write {count} visits"
        time.sleep(0.02)


def test_a_buffered_visit_costs_its_request_no_query(buffered, alice, alice_client):
    with CaptureQueriesContext(connection) as captured:
        alice_client.get("/hello/")
    assert not [q for q in captured if UserVisit._meta.db_table in q["sql"]]
    assert not UserVisit.objects.exists()

    assert flush_visits() == 1

    visit = UserVisit.objects.get()
    assert (visit.user, visit.url, visit.status_code) == (alice, "/hello/", 200)


def test_flushing_writes_the_buffered_visits_with_one_insert(buffered, alice_client):
    for page in range(5):
        alice_client.get(f"/hello/?page={page}")

    with CaptureQueriesContext(connection) as captured:
        assert flush_visits() == 5

    statements = [q["sql"].split()[0] for q in captured]
    # SQLite logs bulk_create's BEGIN and COMMIT too.
    assert [word for word in statements if word not in ("BEGIN", "COMMIT")] == ["INSERT"]

    assert sorted(UserVisit.objects.values_list("url", flat=True)) == [
        f"/hello/?page={page}" for page in range(5)
    ]


def test_a_full_buffer_is_written_by_the_writer_thread(buffered, alice_client):
    buffered.TRACKABLE = {"VISIT_BUFFER_SIZE": 3, "VISIT_BUFFER_SECONDS": 3600}

    for _ in range(3):
        alice_client.get("/hello/")

    wait_for_visits(3)


def test_a_buffer_is_written_by_the_writer_thread_when_its_oldest_visit_is_due(
    buffered, alice_client
):
    buffered.TRACKABLE = {"VISIT_BUFFER_SIZE": 100, "VISIT_BUFFER_SECONDS": 0.05}

    alice_client.get("/hello/")

    wait_for_visits(1)


def test_flushing_an_empty_buffer_writes_nothing(buffered, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert flush_visits() == 0


def test_the_buffered_visits_are_written_when_the_process_exits():
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from django.test.utils import override_settings\n"
        "from django_trackable.models import UserVisit\n"
        "override_settings(TRACKABLE={'VISIT_BUFFER_SIZE': 100,"
        " 'VISIT_BUFFER_SECONDS': 3600}).enable()\n"
        "UserVisit.objects.record(RequestFactory().get('/at-exit/'))\n"
        "assert not UserVisit.objects.exists()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=worker_env(), check=True, timeout=120
    )

    assert UserVisit.objects.get().url == "/at-exit/"


WRITER_CONNECTIONS_SCRIPT = """
import threading, time
import django
django.setup()
from django.db import connections
from django.db.backends.signals import connection_created
connections.settings["default"]["CONN_MAX_AGE"] = {max_age}
opened = []
connection_created.connect(
    lambda sender, connection, **kwargs: opened.append(threading.current_thread().name),
    weak=False,
)
from django.test import RequestFactory
from django.test.utils import override_settings
from django_trackable.models import UserVisit
override_settings(TRACKABLE={{"VISIT_BUFFER_SIZE": 2, "VISIT_BUFFER_SECONDS": 3600}}).enable()
for batch in range(3):
    for _ in range(2):
        UserVisit.objects.record(RequestFactory().get(f"/batch-{{batch}}/"))
    deadline = time.monotonic() + 30
    while UserVisit.objects.filter(url=f"/batch-{{batch}}/").count() < 2:
        assert time.monotonic() < deadline, "the writer did not write the batch"
        time.sleep(0.02)
print(opened.count("django_trackable visit writer"))
"""


@pytest.mark.parametrize(("max_age", "connections"), [(0, 3), (None, 1)])
def test_the_writer_keeps_its_connection_as_conn_max_age_says(max_age, connections):
    # Three batches: a connection each by default, one for all when persistent.
    script = WRITER_CONNECTIONS_SCRIPT.format(max_age=max_age)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=worker_env(),
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )

    assert done.stdout.split() == [str(connections)]
    assert UserVisit.objects.filter(url__startswith="/batch-").count() == 6


def test_a_batch_the_database_refuses_is_dropped_and_logged(buffered, caplog):
    from django.utils import timezone

    from django_trackable.buffering import buffer_visit

    # A status code its CHECK constraint refuses (record() never buffers one).
    refused = {"timestamp": timezone.now(), "method": "GET", "url": "/x/", "status_code": -1}
    buffer_visit(refused)

    assert flush_visits() == 0

    assert "django_trackable lost 1 buffered visits" in caplog.text
    assert not UserVisit.objects.exists()
    assert flush_visits() == 0  # dropped, not kept for another try


def test_visits_beyond_ten_batches_are_dropped_and_counted_while_the_writer_is_behind(caplog):
    from django.utils import timezone

    from django_trackable import buffering

    behind = buffering._VisitBuffer()
    behind._start_writer = lambda: None  # a writer that has not caught up yet
    visit = {"timestamp": timezone.now(), "method": "GET", "url": "/busy/", "status_code": 200}
    for _ in range(2 * buffering._MAX_BATCHES + 5):
        behind.add(dict(visit), size=2)

    assert behind.flush() == 2 * buffering._MAX_BATCHES

    assert "django_trackable dropped 5 visits: the visit buffer was full" in caplog.text
    assert UserVisit.objects.filter(url="/busy/").count() == 2 * buffering._MAX_BATCHES
    assert behind.flush() == 0  # the count starts again
