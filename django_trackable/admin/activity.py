"""Activity charts above change lists, and the "Activity" page with all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from django_trackable.admin.base import _Mixin, admin_url, crumbs, layout_context
from django_trackable.admin.charts import (
    PERIODS,
    Chart,
    changes_chart,
    logins_chart,
    period_from,
    visits_chart,
)
from django_trackable.models import AuditLog, LoginAttempt, UserVisit

__all__ = ["PERIOD_VAR", "ActivityChartMixin", "activity_view"]

#: The query parameter choosing the charts' period (``?_days=90``).
PERIOD_VAR = "_days"

#: The Activity page's charts: the model whose view permission each needs, and its builder.
ACTIVITY_CHARTS: tuple[tuple[Any, Callable[[int], Chart]], ...] = (
    (AuditLog, changes_chart),
    (UserVisit, visits_chart),
    (LoginAttempt, logins_chart),
)


def period_links(request: HttpRequest, days: int) -> list[dict[str, Any]]:
    """A link per period: ``{"days": 30, "url": "?…&_days=30", "selected": True}``.

    The other query parameters (filters, search) are kept.
    """
    links = []
    for period in PERIODS:
        query = QueryDict(mutable=True)
        query.update(request.GET)
        query[PERIOD_VAR] = str(period)
        links.append({"days": period, "url": "?" + query.urlencode(), "selected": period == days})
    return links


class ActivityChartMixin(_Mixin):
    """A chart of the rows per day above the change list (one query), 30 or 90 days.

    The chart counts the rows the change list shows: its filters and search apply.
    Override :meth:`get_activity_chart` to return a
    :class:`~django_trackable.admin.charts.Chart`, or ``None`` for no chart.
    """

    change_list_template = "admin/django_trackable/change_list_chart.html"

    def get_activity_chart(
        self, request: HttpRequest, days: int, queryset: models.QuerySet[Any]
    ) -> Chart | None:
        """The chart of ``queryset`` (the change list's rows) above it; ``None`` shows none."""
        return None

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        days = period_from(request.GET.get(PERIOD_VAR))
        periods = period_links(request, days)
        if PERIOD_VAR in request.GET:
            # Not a lookup: the change list would refuse it as an unknown filter.
            query = request.GET.copy()
            del query[PERIOD_VAR]
            request.GET = query  # type: ignore[assignment]
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        changelist = context.get("cl") if request.method == "GET" and context else None
        if changelist is not None:
            assert context is not None
            chart = self.get_activity_chart(request, days, changelist.queryset)
            if chart is not None:
                context.update(layout_context())
                context["trackable_chart"] = chart
                context["trackable_periods"] = periods
                context["trackable_activity_url"] = activity_url(self.admin_site)
        return response


def activity_url(site: admin.AdminSite) -> str | None:
    """The Activity page's URL on ``site``, when the audit log's admin is registered there."""
    model_admin = site._registry.get(AuditLog)
    if model_admin is None or not hasattr(model_admin, "activity_view"):
        return None
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(f"{site.name}:django_trackable_activity", current_app=site.name)
    except NoReverseMatch:  # pragma: no cover - registered admins always have the URL
        return None


def activity_view(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    """Changes, visits and logins per day, each chart for those who may view its model.

    One query per chart shown; 403 for a user who may view none of the three.
    """
    days = period_from(request.GET.get(PERIOD_VAR))
    charts = []
    for model, build in ACTIVITY_CHARTS:
        model_admin = site._registry.get(model)
        if model_admin is not None:
            allowed = model_admin.has_view_permission(request)
        else:
            user: Any = request.user
            allowed = user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        if allowed:
            url = admin_url(site, model, "changelist")
            charts.append({"chart": build(days), "url": url, "model": model._meta})
    if not charts:
        raise PermissionDenied
    context = {
        **site.each_context(request),
        **layout_context(),
        "trackable_crumbs": crumbs(site, AuditLog._meta, None, (_("Activity"), None)),
        "title": _("Activity"),
        "subtitle": None,
        "charts": charts,
        "days": days,
        "trackable_periods": period_links(request, days),
    }
    request.current_app = site.name
    return TemplateResponse(request, "admin/django_trackable/activity.html", context)
