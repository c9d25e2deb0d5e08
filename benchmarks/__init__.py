"""Benchmarks of django_trackable against plain Django; see docs/performance.md."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

_T = TypeVar("_T")


def rotated(items: Sequence[_T], round_: int) -> list[_T]:
    """``items`` starting at ``round_`` (modulo their number): the order of one round,
    so that no variant always runs first (warm caches, garbage collection)."""
    shift = round_ % len(items)
    return [*items[shift:], *items[:shift]]
