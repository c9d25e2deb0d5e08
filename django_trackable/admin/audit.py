"""The audit log's admin: read-only, searchable, with a chart and the Activity page."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from django_trackable.admin.activity import ActivityChartMixin, activity_view
from django_trackable.admin.base import ReadOnlyAdmin, admin_url
from django_trackable.admin.charts import Chart, changes_chart
from django_trackable.display import action_label, describe_entries

__all__ = ["AuditLogAdmin"]


class AuditLogAdmin(ActivityChartMixin, ReadOnlyAdmin):
    """Every logged change: filter by action, model and actor; search by object or actor.

    Needs ``view_auditlog``; nobody adds or changes rows, superusers may delete
    them. Each row links to its object's History page. The Activity page
    (``admin:django_trackable_activity``) hangs off this admin's URLs.
    """

    date_hierarchy = "timestamp"
    list_display = (
        "timestamp",
        "action_text",
        "model_name",
        "target_text",
        "actor_text",
        "history",
    )
    list_filter = (
        "action",
        ("content_type", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ()  # the names are kept as text: no join needed
    user_field = "actor"
    search_extra = ("=object_id", "target_repr", "actor_repr")
    fields = (
        "timestamp",
        "action_text",
        "actor",
        "actor_repr",
        "content_type",
        "object_id",
        "target_text",
        "history",
        "changes_table",
        "extra_text",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields)

    def get_activity_chart(
        self, request: HttpRequest, days: int, queryset: models.QuerySet[Any]
    ) -> Chart | None:
        return changes_chart(days, queryset)

    def get_urls(self) -> list[URLPattern]:
        activity = path(
            "activity/",
            self.admin_site.admin_view(self.activity_view),
            name="django_trackable_activity",
        )
        # Before the ModelAdmin's own: its "<path:object_id>/" would take this URL.
        return [activity, *super().get_urls()]

    def activity_view(self, request: HttpRequest) -> HttpResponse:
        """The Activity page: changes, visits and login attempts per day."""
        return activity_view(request, self.admin_site)

    # -- columns -------------------------------------------------------------------------

    @admin.display(description=_("action"), ordering="action")
    def action_text(self, obj: Any) -> str:
        return action_label(obj.action)

    @admin.display(description=_("model"))
    def model_name(self, obj: Any) -> str:
        model = _model_of(obj)
        return str(model._meta.verbose_name) if model is not None else ""

    @admin.display(description=_("object"), ordering="target_repr")
    def target_text(self, obj: Any) -> str:
        return str(obj.target_repr or obj.object_id)

    @admin.display(description=_("actor"), ordering="actor_repr")
    def actor_text(self, obj: Any) -> str:
        return str(obj.actor_repr or _("nobody"))

    @admin.display(description=_("history"))
    def history(self, obj: Any) -> str:
        model = _model_of(obj)
        url = admin_url(self.admin_site, model, "history", quote(obj.object_id)) if model else None
        if url is None:
            return ""
        return format_html('<a href="{}">{}</a>', url, _("History"))

    @admin.display(description=_("changes"))
    def changes_table(self, obj: Any) -> SafeString:
        (display,) = describe_entries(_model_of(obj), [obj.as_entry()])
        html: SafeString = render_to_string(
            "django_trackable/entry_changes.html", {"entry": display}
        )
        return html

    @admin.display(description=_("extra"))
    def extra_text(self, obj: Any) -> str:
        if not obj.extra:
            return ""
        text = json.dumps(obj.extra, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html("<pre>{}</pre>", text)


def _model_of(obj: Any) -> Any:
    """The model an audit log row is about (content types are cached: no query)."""
    if obj.content_type_id is None:
        return None
    return ContentType.objects.get_for_id(obj.content_type_id).model_class()
