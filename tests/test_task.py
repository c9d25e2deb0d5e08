"""Task: claiming, processing, completing and failing, with any number of workers."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine

from django_trackable.models import TaskStatus, TransitionNotAllowed
from tests.testapp.models import Chore, Job
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


def test_a_new_task_is_pending_and_due_now():
    with time_machine.travel(T0, tick=False):
        job = Job.objects.create(name="import")

    assert job.status == TaskStatus.PENDING
    assert job.datetime == T0
    assert str(job) == "import"


def test_complete_processing_marks_processed_then_soft_deletes():
    job = Job.objects.create(name="import")
    job.start_processing()
    job.complete_processing()

    stored = Job.all_objects.get(pk=job.pk)
    assert stored.status == "processed"
    assert stored.is_deleted
    assert [e["action"] for e in stored.history] == ["create", "transition", "transition", "delete"]
    assert not Job.objects.exists()


def test_complete_processing_hard_deletes_a_task_that_is_not_soft_deletable():
    chore = Chore.objects.create(name="sweep")
    chore.start_processing()
    chore.complete_processing()

    assert not Chore.objects.exists()


def test_a_pending_task_cannot_be_completed():
    with pytest.raises(TransitionNotAllowed, match="from 'pending' to 'processed'"):
        Job.objects.create(name="import").complete_processing()
    assert Job.objects.exists()


def test_fail_processing_keeps_the_reason_in_one_update(django_assert_num_queries):
    job = Job.objects.create(name="import")
    job.start_processing()
    with django_assert_num_queries(1):
        job.fail_processing("timeout")

    stored = Job.objects.get(pk=job.pk)
    assert stored.status == "failed"
    assert stored.failure_reason == "timeout"
    assert stored.history[-1]["reason"] == "timeout"
    assert job.failure_reason == "timeout"
    # A failed task may go back to pending and be claimed again.
    job.transition_to("pending")
    assert Job.objects.claim() == [job]


def test_claim_takes_due_pending_tasks_oldest_first():
    with time_machine.travel(T0, tick=False):
        later = Job.objects.create(name="later", datetime=T0 - datetime.timedelta(minutes=1))
        first = Job.objects.create(name="first", datetime=T0 - datetime.timedelta(minutes=5))
        Job.objects.create(name="future", datetime=T0 + datetime.timedelta(minutes=5))
        busy = Job.objects.create(name="busy", datetime=T0 - datetime.timedelta(minutes=9))
        busy.start_processing()

        claimed = Job.objects.claim(limit=5)

    assert claimed == [first, later]
    assert all(job.status == "processing" for job in claimed)
    assert set(Job.objects.by_status("processing")) == {first, later, busy}


def test_claim_takes_only_the_ingestors_tasks():
    mine = Job.objects.create(name="a", task_ingestor="csv")
    Job.objects.create(name="b", task_ingestor="xml")

    assert Job.objects.claim(limit=5, ingestor="csv") == [mine]


def test_claim_with_nothing_pending_returns_an_empty_list():
    assert Job.objects.claim() == []
    assert Job.objects.claim(limit=0) == []


def test_a_claimed_task_is_not_claimed_again():
    Job.objects.create(name="once")

    assert len(Job.objects.claim()) == 1
    assert Job.objects.claim() == []


def test_claiming_records_a_transition_entry():
    Job.objects.create(name="a")
    (job,) = Job.objects.claim()

    assert Job.objects.get(pk=job.pk).history[-1]["changes"] == {
        "status": ["pending", "processing"]
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", [Job, Chore])
def test_four_workers_claiming_200_tasks_process_each_exactly_once(model):
    model.objects.bulk_create([model(name=f"t{i}") for i in range(200)])
    barrier = threading.Barrier(4)
    processed = [[] for _ in range(4)]

    def worker(index):
        barrier.wait()
        while True:
            tasks = model.objects.claim(limit=3)
            if not tasks:
                break
            for task in tasks:
                processed[index].append(task.pk)
                task.complete_processing()

    errors = run_in_threads(worker, [(i,) for i in range(4)])

    assert errors == []
    every = [pk for mine in processed for pk in mine]
    assert len(every) == 200
    assert len(set(every)) == 200
    assert not model.objects.exists()
