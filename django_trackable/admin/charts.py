"""Activity per day: changes, visits and login attempts, drawn as server-side SVG.

Each chart is one query: rows counted per local day by the database
(``TruncDate`` in the current time zone, one ``COUNT`` per series), over the
last 30 or 90 days; days without rows are zeros. The picture is an inline SVG
built here (no script, no external file, works offline), and the same numbers
are in a table for screen readers.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_trackable.models import AuditLog, LoginAttempt, UserVisit

__all__ = [
    "DEFAULT_PERIOD",
    "PERIODS",
    "Chart",
    "DayCounts",
    "Series",
    "changes_chart",
    "counts_per_day",
    "logins_chart",
    "period_from",
    "visits_chart",
]

#: The periods a chart can show, in days.
PERIODS = (30, 90)
DEFAULT_PERIOD = 30

# Colours that read on the admin's light and dark themes alike.
BLUE = "#417690"
GREEN = "#3d8b4f"
RED = "#ba2121"

# The SVG's coordinate system (it scales to the width of the page).
_WIDTH, _HEIGHT = 720, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 24, 10, 22


@dataclass(frozen=True)
class Series:
    """One thing counted: ``key`` names its count, ``label`` and ``color`` show it."""

    key: str
    label: str
    color: str
    condition: models.Q | None = None


@dataclass(frozen=True)
class DayCounts:
    """The counts of one local day, one per series (in the chart's series order)."""

    day: datetime.date
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    series: str


@dataclass(frozen=True)
class DayColumn:
    day: DayCounts
    bars: tuple[Bar, ...]
    title: str
    label: str
    label_x: float
    empty: Bar | None


@dataclass(frozen=True)
class Chart:
    """A per-day chart: its series, its days (oldest first) and how to draw it."""

    key: str
    title: str
    series: tuple[Series, ...]
    days: tuple[DayCounts, ...]
    note: str = ""

    @property
    def totals(self) -> list[tuple[Series, int]]:
        """Each series with its sum over the period."""
        return [
            (series, sum(day.counts[index] for day in self.days))
            for index, series in enumerate(self.series)
        ]

    @property
    def total(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def summary(self) -> str:
        """One sentence for the SVG's accessible name."""
        counts = ", ".join(f"{total} {series.label.lower()}" for series, total in self.totals)
        return ngettext(
            "%(title)s over the last %(days)d day: %(counts)s.",
            "%(title)s over the last %(days)d days: %(counts)s.",
            len(self.days),
        ) % {"title": self.title, "days": len(self.days), "counts": counts}

    def geometry(self) -> dict[str, Any]:
        """Everything the SVG template draws, in its coordinate system."""
        plot_width = _WIDTH - _LEFT - _RIGHT
        plot_height = _HEIGHT - _TOP - _BOTTOM
        baseline = _TOP + plot_height
        top = _nice_ceiling(max((day.total for day in self.days), default=0))
        slot = plot_width / max(len(self.days), 1)
        bar_width = max(slot * 0.72, 1.0)
        label_every = 7 if len(self.days) <= 31 else 14
        columns = []
        for index, day in enumerate(self.days):
            x = _LEFT + index * slot + (slot - bar_width) / 2
            y = float(baseline)
            bars = []
            for series, count in zip(self.series, day.counts, strict=True):
                if not count:
                    continue
                height = plot_height * count / top
                y -= height
                bars.append(Bar(x, y, bar_width, height, series.color, series.key))
            is_labelled = (len(self.days) - 1 - index) % label_every == 0
            columns.append(
                DayColumn(
                    day=day,
                    bars=tuple(bars),
                    title=self._day_title(day),
                    label=formats.date_format(day.day, "M j") if is_labelled else "",
                    label_x=x + bar_width / 2,
                    empty=None if bars else Bar(x, baseline - 1, bar_width, 1, "", ""),
                )
            )
        ticks = [
            {"value": value, "y": baseline - plot_height * value / top}
            for value in sorted({0, top // 2 if top % 2 == 0 else 0, top})
        ]
        return {
            "width": _WIDTH,
            "height": _HEIGHT,
            "left": _LEFT,
            "right": _WIDTH - _RIGHT,
            "baseline": baseline,
            "label_y": _HEIGHT - 6,
            "columns": columns,
            "ticks": ticks,
        }

    def _day_title(self, day: DayCounts) -> str:
        when = formats.date_format(day.day, "DATE_FORMAT")
        if len(self.series) == 1:
            return f"{when}: {day.total} {self.series[0].label.lower()}"
        parts = ", ".join(
            f"{count} {series.label.lower()}"
            for series, count in zip(self.series, day.counts, strict=True)
        )
        return f"{when}: {parts}"

    def render(self) -> SafeString:
        """The chart as HTML: a figure with the SVG and a table for screen readers."""
        html: SafeString = render_to_string(
            "django_trackable/chart.html", {"chart": self, "geometry": self.geometry()}
        )
        return html


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5):
        if step * power >= value:
            return step * power
    return 10 * power


def period_from(value: Any) -> int:
    """A requested period (``"90"``) if it is one of :data:`PERIODS`, else the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def _first_day(days: int) -> tuple[datetime.date, datetime.datetime]:
    today = timezone.localdate() if settings.USE_TZ else datetime.date.today()
    first = today - datetime.timedelta(days=days - 1)
    start = datetime.datetime.combine(first, datetime.time.min)
    if settings.USE_TZ:
        start = timezone.make_aware(start)
    return first, start


def counts_per_day(
    queryset: models.QuerySet[Any],
    field: str,
    days: int,
    series: Sequence[Series],
) -> tuple[DayCounts, ...]:
    """Rows of ``queryset`` per local day of ``field``, one count per series: one query.

    The last ``days`` days up to today, oldest first; days without rows are
    zeros. A series' ``condition`` (a ``Q``) selects the rows it counts.
    """
    first, start = _first_day(days)
    tzinfo = timezone.get_current_timezone() if settings.USE_TZ else None
    # Prefixed: a series may be named like a field ("successful").
    counts = {f"trackable_{s.key}": models.Count("pk", filter=s.condition) for s in series}
    rows = (
        queryset.filter(**{f"{field}__gte": start})
        .annotate(trackable_day=TruncDate(field, tzinfo=tzinfo))
        .order_by()
        .values("trackable_day")
        .annotate(**counts)
    )
    by_day = {
        row["trackable_day"]: tuple(row[f"trackable_{s.key}"] for s in series) for row in rows
    }
    zeros = (0,) * len(series)
    return tuple(
        DayCounts(day, by_day.get(day, zeros))
        for day in (first + datetime.timedelta(days=n) for n in range(days))
    )


def changes_chart(
    days: int = DEFAULT_PERIOD, queryset: models.QuerySet[Any] | None = None
) -> Chart:
    """Changes per day, from the audit log (so only while ``AUDIT_LOG`` is on)."""
    from django_trackable.conf import trackable_settings

    series = (Series("changes", str(_("Changes")), BLUE),)
    rows = AuditLog.objects.all() if queryset is None else queryset
    note = ""
    if not trackable_settings.AUDIT_LOG:
        note = str(_('The audit log is off (TRACKABLE["AUDIT_LOG"]): new changes are not counted.'))
    return Chart(
        "changes", str(_("Changes")), series, counts_per_day(rows, "timestamp", days, series), note
    )


def visits_chart(days: int = DEFAULT_PERIOD, queryset: models.QuerySet[Any] | None = None) -> Chart:
    """Recorded visits per day."""
    series = (Series("visits", str(_("Visits")), BLUE),)
    rows = UserVisit.objects.all() if queryset is None else queryset
    return Chart(
        "visits", str(_("Visits")), series, counts_per_day(rows, "timestamp", days, series)
    )


def logins_chart(days: int = DEFAULT_PERIOD, queryset: models.QuerySet[Any] | None = None) -> Chart:
    """Login attempts per day, successful and failed (stacked), in one query."""
    series = (
        Series("successful", str(_("Successful")), GREEN, models.Q(successful=True)),
        Series("failed", str(_("Failed")), RED, models.Q(successful=False)),
    )
    rows = LoginAttempt.objects.all() if queryset is None else queryset
    return Chart(
        "logins", str(_("Login attempts")), series, counts_per_day(rows, "timestamp", days, series)
    )
