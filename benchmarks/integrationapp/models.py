"""The benchmark's business fields under django-reversion and django-simple-history."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import reversion
from simple_history.models import HistoricalRecords

from benchmarks.benchapp.models import Fields
from django_trackable.integrations.simple_history import get_user
from django_trackable.models import TrackableModel, VersionedModel

# simple-history alone finds the user through get_user; the benchmark has no
# request, so it reads this variable (as benchmarks.peerapp does).
acting_user: ContextVar[Any] = ContextVar("bench_integration_user", default=None)


def _context_user(**kwargs: Any) -> Any:
    return acting_user.get()


@reversion.register()
class ReversionAlone(Fields):
    pass


@reversion.register()
class ReversionTracked(Fields, TrackableModel):
    pass


@reversion.register()
class ReversionVersioned(Fields, VersionedModel):
    pass


class SimpleHistoryAlone(Fields):
    records = HistoricalRecords(get_user=_context_user)


class SimpleHistoryTracked(Fields, TrackableModel):
    records = HistoricalRecords(get_user=get_user, excluded_fields=["history"])
