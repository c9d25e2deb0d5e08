"""``erase_user()``: remove a person from every store, and the report of what it did."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django_trackable.history import JSONValue
from django_trackable.privacy.stores import (
    Person,
    Progress,
    StoreCount,
    registered_stores,
)

logger = logging.getLogger(__name__)


@dataclass
class ErasureReport:
    """What :func:`erase_user` changed (or, with ``dry_run``, would change).

    ``counts[store][target]`` is a :class:`StoreCount` for every place looked
    at, zeros included, so the report also says where nothing was found.
    """

    user_pk: Any
    dry_run: bool
    counts: dict[str, dict[str, StoreCount]] = field(default_factory=dict)

    def add(self, store: str, count: StoreCount) -> None:
        """Record ``count`` under ``store`` (``user_erased`` receivers may add their own)."""
        self.counts.setdefault(store, {})[count.target] = count

    def rows(self, store: str | None = None) -> int:
        """Rows changed in ``store`` (every store by default)."""
        return sum(c.rows for name, c in self._all() if store is None or name == store)

    def entries(self, store: str | None = None) -> int:
        """History entries changed in ``store`` (every store by default)."""
        return sum(c.entries or 0 for name, c in self._all() if store is None or name == store)

    @property
    def total(self) -> int:
        """Rows changed anywhere; ``0`` when there was nothing (left) to erase."""
        return self.rows()

    def _all(self) -> list[tuple[str, StoreCount]]:
        return [(name, c) for name, targets in self.counts.items() for c in targets.values()]

    def as_dict(self) -> dict[str, JSONValue]:
        """The report as JSON, e.g. for a log of erasure requests."""
        return {
            "user": self.user_pk,
            "dry_run": self.dry_run,
            "counts": {
                name: {
                    target: {"rows": c.rows, "entries": c.entries} for target, c in targets.items()
                }
                for name, targets in self.counts.items()
            },
        }

    def lines(self) -> list[str]:
        """One line per store and target, as ``trackable_erase_user`` prints them."""
        lines = []
        for name, targets in self.counts.items():
            for target, c in targets.items():
                entries = f", {c.entries} entries" if c.entries is not None else ""
                lines.append(f"{name}: {target}: {c.rows} rows{entries}")
        return lines


def erase_user(
    user: Any,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    batch_size: int = 1000,
) -> ErasureReport:
    """Remove ``user`` from every registered store; see the Privacy page of the docs.

    In order: the actor of their history entries (kept: action, time,
    changes), the values in the history of their own rows, ``*_by`` stamps,
    the audit log, visits, login attempts and devices (deleted or anonymised,
    ``ERASE_REQUEST_METADATA``), record tables (records of the person's rows
    deleted or anonymised, ``ERASE_RECORDS``; recorded keys to them nulled),
    then any store registered since. Every
    rewrite runs in SQL in batches of ``batch_size`` rows, each batch its own
    transaction, so it is safe on large tables and can be run again after an
    interruption: a second run changes nothing and reports zeros.
    ``progress(store, target, rows)`` is called after each batch.

    With ``dry_run`` nothing changes and the report has the same counts.
    Otherwise :data:`~django_trackable.signals.user_erased` is sent at the end,
    so a site can erase its own data in the same step. The user row itself is
    left to the caller (delete or anonymise it afterwards).
    """
    from django_trackable.signals import user_erased

    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    person = Person.of(user)
    report = ErasureReport(person.actor, dry_run)
    for store in registered_stores():
        if dry_run:
            counts = store.count(person, batch_size=batch_size)
        else:
            counts = store.erase(person, batch_size=batch_size, progress=progress)
        report.counts[store.name] = {}
        for count in counts:
            report.add(store.name, count)
    if not dry_run:
        user_erased.send(sender=person.model, user=user, report=report)
        logger.info(
            "django_trackable erased user %s: %s rows, %s entries",
            person.actor,
            report.rows(),
            report.entries(),
        )
    return report
