"""The benchmark's business fields, tracked by django-simple-history and by django-auditlog."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from auditlog.registry import auditlog
from simple_history.models import HistoricalRecords

from benchmarks.benchapp.models import Fields

# simple-history finds the user on the request its middleware stores; the
# benchmark has no request, so it hands the user over through get_user.
_acting_user: ContextVar[Any] = ContextVar("bench_simple_history_user", default=None)


@contextmanager
def simple_history_user(user: Any) -> Iterator[None]:
    """Attribute the simple-history records written inside the block to ``user``."""
    token = _acting_user.set(user)
    try:
        yield
    finally:
        _acting_user.reset(token)


def _get_user(**kwargs: Any) -> Any:
    return _acting_user.get()


class WithSimpleHistory(Fields):
    history = HistoricalRecords(get_user=_get_user)


class WithAuditlog(Fields):
    pass


auditlog.register(WithAuditlog)
