"""Admin for recorded models: a read-only inline of the records, and a chart of one value.

::

    from django.contrib import admin
    from django_trackable.admin.records import RecordChartMixin, record_inline

    @admin.register(Item)
    class ItemAdmin(RecordChartMixin, admin.ModelAdmin):
        inlines = [record_inline(Item)]
        record_chart_field = "price_with_tax"

The chart is an inline SVG drawn on the server (no JavaScript, no CDN). Both
read the records of the instance shown, newest first, with one query each.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from django_trackable.models.records import RESAMPLE_RULES, RecordModel, record_model_for

__all__ = ["RecordChartMixin", "RecordInline", "record_chart", "record_inline"]

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
    _TabularInline = admin.TabularInline[Any, Any]
else:  # generic for type checkers only
    _ModelAdmin = object
    _TabularInline = admin.TabularInline

_NUMERIC = (
    models.IntegerField,
    models.FloatField,
    models.DecimalField,
    models.DurationField,
)


class _NewestRecordsFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """The newest ``limit`` records only: a row may have thousands."""

    limit = 50

    def get_queryset(self) -> Any:
        if not hasattr(self, "_newest"):
            newest = super().get_queryset().order_by("-created", "-pk")[: self.limit]
            len(newest)  # evaluated once: forms index into the cached rows
            self._newest = newest
        return self._newest


class RecordInline(_TabularInline):
    """The newest records of the instance shown, read-only (``records_limit`` of them).

    Set ``model`` to the record model, or make the class with
    :func:`record_inline`. Staff who may view or change the instance see its
    records: no permission on the record model is needed.
    """

    fk_name = "recording"
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("records (newest first)")
    #: How many records are listed.
    records_limit = 50

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset: Any = super().get_formset(request, obj, formset=_NewestRecordsFormSet, **kwargs)
        formset.limit = self.records_limit
        return formset

    def _record_names(self) -> list[str]:
        return ["created", *[value.name for value in self.model._recording]]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return list(self._record_names())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self._record_names()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.parent_model._meta
        user: Any = request.user
        return bool(
            user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
            or user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
        )


def record_inline(recorded_model: type[models.Model], **options: Any) -> type[RecordInline]:
    """A :class:`RecordInline` class for ``recorded_model``'s records; ``options`` are attributes.

    ``inlines = [record_inline(Item, records_limit=20)]``.
    """
    record_model = record_model_for(recorded_model)
    if record_model is None:
        raise ImproperlyConfigured(f"{recorded_model._meta.label} is not a recorded model.")
    name = f"{record_model.__name__}Inline"
    return type(name, (RecordInline,), {"model": record_model, **options})


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | int | float):
        number = float(value)
        return number if number == number and abs(number) != float("inf") else None
    return None


def record_chart(
    instance: models.Model,
    field: str,
    *,
    limit: int = 200,
    rule: str | None = None,
    width: int = 560,
    height: int = 140,
) -> SafeString:
    """An SVG line of ``field`` over the newest ``limit`` records of ``instance``.

    With ``rule`` (``"D"``, ``"H"``, ... as for ``resample()``) one point per
    period, the period's last record, computed by the database. One query.
    """
    records: Any = instance.records  # type: ignore[attr-defined]
    if rule is not None:
        records = records.resample(rule)
    rows = list(records.order_by("-created", "-pk").values_list("created", field)[:limit])
    rows.reverse()
    points: list[tuple[datetime.datetime, float]] = []
    for created, value in rows:
        number = _number(value)
        if number is not None:
            points.append((created, number))
    label = format_html(
        "{} — {}", instance._meta.verbose_name, records.model._meta.get_field(field).verbose_name
    )
    if not points:
        return format_html('<p class="help">{}</p>', _("No records yet."))
    pad_x, pad_y = 8, 18
    start = points[0][0].timestamp()
    span = points[-1][0].timestamp() - start
    low = min(number for _created, number in points)
    high = max(number for _created, number in points)
    rise = high - low

    def x(moment: datetime.datetime) -> float:
        if span == 0:
            return width / 2
        return pad_x + (moment.timestamp() - start) / span * (width - 2 * pad_x)

    def y(number: float) -> float:
        if rise == 0:
            return height / 2
        return height - pad_y - (number - low) / rise * (height - 2 * pad_y)

    coordinates = " ".join(f"{x(moment):.1f},{y(number):.1f}" for moment, number in points)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5"><title>{}: {}</title></circle>',
        (
            (
                f"{x(moment):.1f}",
                f"{y(number):.1f}",
                formats.localize(timezone.localtime(moment)),
                formats.localize(number),
            )
            for moment, number in points
        ),
    )
    first = formats.date_format(timezone.localtime(points[0][0]), "SHORT_DATETIME_FORMAT")
    last = formats.date_format(timezone.localtime(points[-1][0]), "SHORT_DATETIME_FORMAT")
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="trackable-record-chart" role="img" '
        'width="{w}" height="{h}" viewBox="0 0 {w} {h}" style="max-width:100%;height:auto">'
        "<title>{label}</title>"
        '<rect x="0" y="0" width="{w}" height="{h}" fill="none" stroke="#ccc"/>'
        '<polyline points="{coordinates}" fill="none" stroke="#417690" stroke-width="2"/>'
        '<g fill="#417690">{dots}</g>'
        '<g font-size="10" fill="#666">'
        '<text x="{px}" y="11">{high}</text>'
        '<text x="{px}" y="{bottom}">{low}</text>'
        '<text x="{right}" y="{bottom}" text-anchor="end">{first} – {last}</text>'
        "</g></svg>",
        w=width,
        h=height,
        label=label,
        coordinates=coordinates,
        dots=dots,
        px=pad_x,
        bottom=height - 4,
        right=width - pad_x,
        high=formats.localize(high),
        low=formats.localize(low),
        first=first,
        last=last,
    )


class RecordChartMixin(_ModelAdmin):
    """Adds ``records_chart``, an SVG of one numeric recorded value, to the change form.

    Set ``record_chart_field`` (a numeric value of the record model), and
    optionally ``record_chart_limit`` (points, default 200) and
    ``record_chart_rule`` (one point per period, e.g. ``"D"``). The chart is a
    read-only field; list ``"records_chart"`` in ``fields``/``fieldsets`` if
    you declare those.
    """

    record_chart_field: str | None = None
    record_chart_limit = 200
    record_chart_rule: str | None = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if "records_chart" in fields else (*fields, "records_chart")

    @admin.display(description=_("Records"))
    def records_chart(self, obj: Any) -> SafeString | str:
        if obj is None or obj.pk is None or self.record_chart_field is None:
            return ""
        return record_chart(
            obj, self.record_chart_field, limit=self.record_chart_limit, rule=self.record_chart_rule
        )

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_record_chart()]

    def _check_record_chart(self) -> list[checks.CheckMessage]:
        """E074: the chart's settings name a numeric value of the model's record model."""
        record_model: type[RecordModel] | None = record_model_for(self.model)
        problem = None
        if record_model is None:
            problem = f"{self.model._meta.label} is not a recorded model"
        elif self.record_chart_field is None:
            problem = "record_chart_field is not set"
        else:
            try:
                field = record_model._meta.get_field(self.record_chart_field)
            except FieldDoesNotExist:
                field = None
            if not isinstance(field, _NUMERIC) or field.is_relation:
                problem = (
                    f"record_chart_field {self.record_chart_field!r} is not a numeric "
                    f"column of {record_model._meta.label}"
                )
        if problem is None and self.record_chart_rule not in (None, *RESAMPLE_RULES):
            problem = f"record_chart_rule {self.record_chart_rule!r} is not a resample rule"
        if problem is None:
            return []
        return [
            checks.Error(
                f"{type(self).__name__}: {problem}.",
                hint="Name a recorded IntegerField, FloatField, DecimalField or DurationField; "
                f"rules: {', '.join(RESAMPLE_RULES)}.",
                obj=type(self),
                id="django_trackable.E074",
            )
        ]
