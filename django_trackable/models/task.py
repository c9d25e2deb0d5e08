"""Task: a unit of work that workers claim, process, and complete or fail."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_trackable import tracking
from django_trackable.managers import LifecycleManager
from django_trackable.models.status import StatusModel, StatusQuerySet, TransitionConflict

__all__ = ["Task", "TaskQuerySet", "TaskStatus"]

_M = TypeVar("_M", bound=models.Model)


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    PROCESSING = "processing", _("processing")
    PROCESSED = "processed", _("processed")
    FAILED = "failed", _("failed")


class TaskQuerySet(StatusQuerySet[_M]):
    """``claim()``: hand pending tasks to exactly one worker each."""

    _lifecycle_priority = 40

    def claim(self, limit: int = 1, ingestor: str | None = None) -> list[_M]:
        """Move up to ``limit`` due pending tasks to ``processing`` and return them.

        Due means ``datetime`` is not in the future; the oldest go first.
        ``ingestor`` limits the claim to tasks whose ``task_ingestor`` it is.
        Each task is claimed by exactly one caller, however many claim at once:
        on PostgreSQL the candidates are locked with ``SELECT ... FOR UPDATE
        SKIP LOCKED`` (concurrent workers take different tasks without
        waiting); elsewhere each candidate is taken by a conditional UPDATE and
        a task another worker took first is skipped. Each claim is a
        ``transition`` entry when the model has history.
        """
        if limit < 1:
            return []
        queryset = self.filter(status=TaskStatus.PENDING, datetime__lte=tracking.now())
        if ingestor is not None:
            queryset = queryset.filter(task_ingestor=ingestor)
        queryset = queryset.order_by("datetime", "pk")
        features = connections[queryset.db].features
        if features.has_select_for_update_skip_locked:
            of = ("self",) if features.has_select_for_update_of else ()
            return self._claim_locked(queryset.select_for_update(skip_locked=True, of=of), limit)
        return self._claim_each(queryset, limit)

    claim.alters_data = True  # type: ignore[attr-defined]

    def _claim_locked(self, queryset: TaskQuerySet[_M], limit: int) -> list[_M]:
        with transaction.atomic(using=queryset.db):
            tasks = list(queryset[:limit])
            for task in tasks:  # locked by us: no conflict possible
                task.start_processing()
        return tasks

    def _claim_each(self, queryset: TaskQuerySet[_M], limit: int) -> list[_M]:
        claimed: list[_M] = []
        skipped: set[Any] = set()
        while len(claimed) < limit:
            wanted = limit - len(claimed)
            candidates = list(queryset.exclude(pk__in=skipped)[: wanted * 2])
            if not candidates:
                break
            for task in candidates:
                if len(claimed) == limit:
                    break
                try:
                    task.start_processing()
                except TransitionConflict:
                    skipped.add(task.pk)
                else:
                    claimed.append(task)
                    skipped.add(task.pk)
        return claimed


class Task(StatusModel):
    """A unit of work: ``name``, ``task_ingestor``, ``datetime`` and a status.

    Statuses: ``pending`` → ``processing`` → ``processed`` or ``failed``
    (a failed task may go back to ``pending``). Workers call
    ``Model.objects.claim()`` and then :meth:`complete_processing` or
    :meth:`fail_processing`. Every change is a checked, atomic
    :meth:`~StatusModel.transition_to`.
    """

    name = models.CharField(_("name"), max_length=255)
    task_ingestor = models.CharField(_("task ingestor"), max_length=255, blank=True, db_index=True)
    datetime = models.DateTimeField(_("due at"), default=timezone.now, db_index=True)
    failure_reason = models.TextField(_("failure reason"), blank=True, default="")

    objects: ClassVar[LifecycleManager] = LifecycleManager()

    STATUS_CHOICES = TaskStatus
    INITIAL_STATUS = TaskStatus.PENDING
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "pending": ("processing", "failed"),
        "processing": ("processed", "failed"),
        "failed": ("pending",),
        "processed": (),
    }
    ACTIVE_STATUSES: ClassVar[tuple[str, ...]] = ("pending", "processing")

    _lifecycle_queryset: ClassVar[type[Any]] = TaskQuerySet

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def start_processing(self) -> None:
        """pending → processing (``claim()`` does this for you)."""
        self.transition_to(TaskStatus.PROCESSING)

    def complete_processing(self) -> tuple[int, dict[str, int]]:
        """processing → processed, then delete the task (soft if the model is soft-deletable)."""
        with transaction.atomic(using=router.db_for_write(type(self), instance=self)):
            self.transition_to(TaskStatus.PROCESSED)
            return self.delete()

    def fail_processing(self, reason: str = "") -> None:
        """→ failed, with ``reason`` in ``failure_reason`` (and as ``reason`` in the entry)."""
        self._transition_to(TaskStatus.FAILED, {"failure_reason": reason}, {"reason": reason})
