"""Reading rows without paying for their history, and reading it for many rows at once.

A row's ``history`` can be the biggest value in it, and most reads (change
lists, API list views, reports) never look at it. Tracked models' managers
therefore defer it (``TRACKABLE["DEFER_HISTORY"]``, on by default);
``with_history()`` loads it with the rows when a read needs it.

A deferred field is loaded on first access, one query per instance: the N+1
trap. Here the instances one query returned (or one chunk of ``iterator()``)
know each other, and the first ``obj.history`` loads the history of all of
them in one query.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from django_trackable import tracking
from django_trackable.conf import trackable_settings

__all__ = ["HistoryAttribute", "defers_history", "history_deferred", "with_history"]

_Q = TypeVar("_Q", bound=models.QuerySet[Any])

#: Where an instance keeps (weak references to) the instances loaded with it.
PEERS = "_trackable_peers"
#: Primary keys per query when loading peers' histories.
_BATCH = 500


def history_deferred(queryset: _Q) -> _Q:
    """A manager's new ``queryset`` with its model's ``history`` deferred, if the settings
    say so. In place: nothing else holds it yet, and every ``objects.create()``,
    ``get()`` and ``filter()`` would pay for a copy (``defer()`` clones the query)."""
    history = tracking.options_for(queryset.model).history
    if history is None or not trackable_settings.DEFER_HISTORY:
        return queryset
    queryset.query.add_deferred_loading(frozenset({history.name}))
    return queryset


def with_history(queryset: _Q) -> _Q:
    """``queryset`` loading ``history`` with the rows (whatever else it defers)."""
    history = tracking.options_for(queryset.model).history
    if history is None:
        return queryset
    clone: _Q = queryset._chain()  # type: ignore[attr-defined]
    names, defer = clone.query.deferred_loading
    if defer:
        clone.query.deferred_loading = (frozenset(names) - {history.name}, True)
    elif names:
        clone.query.deferred_loading = (frozenset(names) | {history.name}, False)
    return clone


def defers_history(queryset: models.QuerySet[Any]) -> bool:
    """Whether the rows of ``queryset`` come without their ``history``."""
    history = tracking.options_for(queryset.model).history
    if history is None:
        return False
    names, defer = queryset.query.deferred_loading
    return history.name in names if defer else bool(names) and history.name not in names


def introduce(objs: Sequence[Any]) -> None:
    """Let instances loaded together load their deferred histories together."""
    if len(objs) < 2:
        return
    peers = [weakref.ref(obj) for obj in objs if isinstance(obj, models.Model)]
    for obj in objs:
        if isinstance(obj, models.Model):
            obj.__dict__[PEERS] = peers


def in_groups(objs: Iterable[Any], size: int) -> Iterator[Any]:
    """``objs`` as they come, introduced to each other ``size`` at a time."""
    group: list[Any] = []
    for obj in objs:
        group.append(obj)
        if len(group) >= size:
            introduce(group)
            yield from group
            group = []
    introduce(group)
    yield from group


class HistoryAttribute(DeferredAttribute):
    """``history`` on an instance: when deferred, loaded for the instance and its peers."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is not None and self.field.attname not in instance.__dict__:
            _load_with_peers(self.field, instance)
        return super().__get__(instance, cls)


def _load_with_peers(field: Any, instance: models.Model) -> None:
    refs = instance.__dict__.pop(PEERS, None)
    if not refs:
        return
    attname = field.attname
    waiting: dict[Any, list[models.Model]] = {}
    for ref in refs:
        peer = ref()
        if peer is None:
            continue
        peer.__dict__.pop(PEERS, None)
        if peer.pk is not None and attname not in peer.__dict__ and type(peer) is type(instance):
            waiting.setdefault(peer.pk, []).append(peer)
    if instance.pk not in waiting:
        return
    rows = type(instance)._base_manager.db_manager(instance._state.db)
    pks = list(waiting)
    for start in range(0, len(pks), _BATCH):
        chunk = pks[start : start + _BATCH]
        for pk, value in rows.filter(pk__in=chunk).values_list("pk", attname):
            for peer in waiting[pk]:
                peer.__dict__[attname] = value
