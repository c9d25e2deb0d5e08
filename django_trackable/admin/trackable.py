"""TrackableAdminMixin: the stamps, and a History page that shows what changed.

::

    from django.contrib import admin
    from django_trackable.admin import TrackableAdminMixin

    @admin.register(Product)
    class ProductAdmin(TrackableAdminMixin, admin.ModelAdmin):
        list_display = ("name", "price", "updated_at", "updated_by")
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_trackable import archive, tracking
from django_trackable.admin.base import (
    _Mixin,
    admin_url,
    crumbs,
    layout_context,
    missing_object_redirect,
)
from django_trackable.admin.filters import ChangedByFilter, ChangedSinceFilter
from django_trackable.display import EntryDisplay, FieldChange, describe_entries, describe_fields
from django_trackable.history import Entry, to_datetime, to_json
from django_trackable.models.trackable import HistoryUnavailable

__all__ = ["HistoryRow", "TrackableAdminMixin", "history_entries"]

#: The stamps shown read-only in the "Tracking" fieldset, in this order.
STAMP_ROLES = ("created_at", "created_by", "updated_at", "updated_by")

#: The query parameter naming the moment of "as of" and "revert".
MOMENT_VAR = "at"


def history_entries(obj: models.Model) -> list[Entry]:
    """Every entry of ``obj`` that its History page shows, oldest first.

    The one place the admin reads entries from: the row's own ``history`` and,
    once the row's window has moved older entries out, ``AuditLog``
    (:func:`~django_trackable.archive.full_history`).
    """
    if tracking.options_for(type(obj)).history is None:
        return []
    return [entry for entry in archive.full_history(obj) if isinstance(entry, dict)]


@dataclass(frozen=True)
class HistoryRow:
    """One entry on the History page, with the links the viewer may follow."""

    entry: EntryDisplay
    moment: str
    ago: str
    user_url: str | None
    as_of_url: str | None
    revert_url: str | None
    is_current: bool


class TrackableAdminMixin(_Mixin):
    """A ModelAdmin mixin for :class:`~django_trackable.models.TrackableModel` models.

    - The stamps (``created_at``, ``created_by``, ``updated_at``,
      ``updated_by``) are read-only, in a collapsed "Tracking" fieldset
      (unless your ``fields``/``fieldsets`` place them).
    - Querysets defer ``history``: the change list never loads it.
    - The History page shows the row's entries, newest first, with a diff per
      entry, filters by user and action, and pagination (``history_per_page``).
      It needs the view permission.
    - "View as of this entry" shows the row's tracked values at that moment;
      "Revert to this version" (change permission, a confirmation page, POST)
      calls :meth:`~django_trackable.models.TrackableModel.revert_to`, which
      records a ``revert`` entry naming the moment.
    - ``ChangedSinceFilter`` and ``ChangedByFilter`` are added to the list
      filters (``changed_list_filters = False`` to leave them out).

    List it before ``admin.ModelAdmin`` in the bases (check ``E053``).
    """

    #: Entries per History page.
    history_per_page = 50
    #: Add ChangedSinceFilter and ChangedByFilter to the change list's filters.
    changed_list_filters = True
    tracking_fieldset_name: Any = _("Tracking")
    object_history_template = "admin/django_trackable/history.html"
    history_as_of_template: Any = "admin/django_trackable/history_as_of.html"
    revert_confirmation_template: Any = "admin/django_trackable/revert_confirmation.html"

    # -- forms and lists ---------------------------------------------------------------

    def stamp_fields(self) -> list[str]:
        """The names of the model's stamp fields, in display order."""
        roles = tracking.options_for(self.model).roles
        return [roles[role].name for role in STAMP_ROLES if role in roles]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset = super().get_queryset(request)
        history = tracking.options_for(self.model).history
        return queryset.defer(history.name) if history is not None else queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, *(name for name in self.stamp_fields() if name not in readonly)]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        placed = set(_flatten(self.fields or ()))
        for _name, options in self.fieldsets or ():
            placed.update(_flatten(options.get("fields", ())))
        movable = [name for name in self.stamp_fields() if name not in placed]
        if not movable:
            return fieldsets
        cleaned = []
        for name, options in fieldsets:
            fields = _without(options.get("fields", ()), set(movable))
            if fields or name:
                cleaned.append((name, {**options, "fields": fields}))
        if obj is not None:  # an unsaved row has no stamps to show
            cleaned.append(
                (self.tracking_fieldset_name, {"fields": movable, "classes": ("collapse",)})
            )
        return cleaned

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if self.changed_list_filters:
            for extra in (ChangedSinceFilter, ChangedByFilter):
                if extra not in filters:
                    filters.append(extra)
        return filters

    # -- URLs and permissions ------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "<path:object_id>/history/as-of/",
                self.admin_site.admin_view(self.history_as_of_view),
                name="{}_{}_history_as_of".format(*info),
            ),
            path(
                "<path:object_id>/history/revert/",
                self.admin_site.admin_view(self.history_revert_view),
                name="{}_{}_history_revert".format(*info),
            ),
        ]
        # Before the ModelAdmin's own: its "<path:object_id>/" would take these URLs.
        return [*own, *super().get_urls()]

    def has_revert_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Who may revert a row to a past version: those who may change it."""
        return bool(self.has_change_permission(request, obj))

    # -- the History page ------------------------------------------------------------------

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The row's entries, newest first, with a diff each (view permission)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return missing_object_redirect(self, request, object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied

        entries = history_entries(obj)
        newest = entries[-1].get("timestamp") if entries else None
        user_choices = _user_choices(entries)
        action_choices = sorted({str(entry.get("action") or "") for entry in entries} - {""})
        user_value = request.GET.get("user", "")
        action_value = request.GET.get("action", "")
        chosen = [
            entry
            for entry in reversed(entries)
            if (not user_value or _user_value(entry) == user_value)
            and (not action_value or entry.get("action") == action_value)
        ]
        paginator = Paginator(chosen, self.history_per_page)
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        displays = describe_entries(self.model, page.object_list, using=obj._state.db)
        rows = self._history_rows(request, obj, displays, newest)

        context = {
            **self.admin_site.each_context(request),
            **layout_context(),
            "trackable_crumbs": crumbs(self.admin_site, self.opts, obj, (_("History"), None)),
            "title": _("History: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "rows": rows,
            "page_obj": page,
            "paginator": paginator,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "entry_count": len(entries),
            "user_choices": user_choices,
            "action_choices": [(action, _action_text(action)) for action in action_choices],
            "user_value": user_value,
            "action_value": action_value,
            "filtered": bool(user_value or action_value),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def _history_rows(
        self,
        request: HttpRequest,
        obj: models.Model,
        displays: Sequence[EntryDisplay],
        newest: Any,
    ) -> list[HistoryRow]:
        user_urls = _user_urls(self.admin_site, request, displays)
        may_revert = self.has_revert_permission(request, obj)
        info = self.opts.app_label, self.opts.model_name
        object_id = quote(obj.pk)
        rows = []
        for display in displays:
            moment = display.entry.get("timestamp")
            as_of_url = revert_url = None
            is_current = moment == newest
            if display.timestamp is not None and isinstance(moment, str):
                query = "?" + urlencode({MOMENT_VAR: moment})
                as_of_url = (
                    reverse(
                        "{}:{}_{}_history_as_of".format(self.admin_site.name, *info),
                        args=[object_id],
                    )
                    + query
                )
                if may_revert and not is_current:
                    revert_url = (
                        reverse(
                            "{}:{}_{}_history_revert".format(self.admin_site.name, *info),
                            args=[object_id],
                        )
                        + query
                    )
            rows.append(
                HistoryRow(
                    entry=display,
                    moment=str(moment or ""),
                    ago=_ago(display.timestamp),
                    user_url=user_urls.get(_json_key(display.user_id)),
                    as_of_url=as_of_url,
                    revert_url=revert_url,
                    is_current=is_current,
                )
            )
        return rows

    # -- "as of" and revert ---------------------------------------------------------------

    def history_as_of_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The row's tracked values at a moment (``?at=``), read-only (view permission)."""
        found = self._past_version(request, object_id, permission="view")
        if isinstance(found, HttpResponse):
            return found
        obj, moment, past = found
        fieldsets = self._as_of_fieldsets(request, obj, past)
        context = {
            **self.admin_site.each_context(request),
            **layout_context(),
            "trackable_crumbs": crumbs(
                self.admin_site,
                self.opts,
                obj,
                (_("History"), self._history_url(obj)),
                (_("As of %(moment)s") % {"moment": _moment_text(moment)}, None),
            ),
            "title": _("%(object)s as of %(moment)s")
            % {"object": obj, "moment": _moment_text(moment)},
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "moment": moment,
            "moment_raw": request.GET.get(MOMENT_VAR, ""),
            "fieldsets": fieldsets,
            "changed_count": sum(1 for _n, rows in fieldsets for row in rows if row[1]),
            "history_url": self._history_url(obj),
            "revert_url": self._revert_url(obj, request.GET.get(MOMENT_VAR, ""))
            if self.has_revert_permission(request, obj)
            else None,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_as_of_template, context)

    def history_revert_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm (GET), then write back the values of a moment (POST; change permission)."""
        found = self._past_version(request, object_id, permission="revert")
        if isinstance(found, HttpResponse):
            return found
        obj, moment, past = found
        if request.method == "POST":
            with transaction.atomic(using=router.db_for_write(self.model)):
                written = obj.revert_to(moment)
            if written:
                message = gettext("Reverted to the version of %(moment)s: %(fields)s.") % {
                    "moment": _moment_text(moment),
                    "fields": ", ".join(_labels(self.model, written)),
                }
                self.log_change(request, obj, message)
                self.message_user(request, message, messages.SUCCESS)
            else:
                self.message_user(
                    request,
                    gettext("Nothing to revert: the row already has the values of that version."),
                    messages.INFO,
                )
            return HttpResponseRedirect(self._history_url(obj))
        changes = _revert_changes(obj, past)
        context = {
            **self.admin_site.each_context(request),
            **layout_context(),
            "trackable_crumbs": crumbs(
                self.admin_site,
                self.opts,
                obj,
                (_("History"), self._history_url(obj)),
                (_("Revert"), None),
            ),
            "title": _("Revert to the version of %(moment)s?") % {"moment": _moment_text(moment)},
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "moment": moment,
            "changes": changes,
            "masked": [tf.field.verbose_name for tf in _masked(obj)],
            "history_url": self._history_url(obj),
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.revert_confirmation_template, context)

    def _past_version(
        self, request: HttpRequest, object_id: str, *, permission: str
    ) -> HttpResponse | tuple[Any, datetime.datetime, Any]:
        """The row, the moment asked for and the row's values then; or the response refusing."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return missing_object_redirect(self, request, object_id)
        allowed = (
            self.has_view_permission(request, obj)
            if permission == "view"
            else self.has_revert_permission(request, obj)
        )
        if not allowed:
            raise PermissionDenied
        raw = request.GET.get(MOMENT_VAR, "")
        try:
            moment = to_datetime(raw)
        except (TypeError, ValueError):
            self.message_user(
                request,
                gettext("%(value)r is not a moment in time.") % {"value": raw[:64]},
                messages.ERROR,
            )
            return HttpResponseRedirect(self._history_url(obj))
        try:
            past = obj.as_of(moment)
        except HistoryUnavailable:
            past = None
            reason = gettext("The history does not reach back to %(moment)s.")
        else:
            reason = gettext("%(object)s did not exist yet at %(moment)s.")
        if past is None:
            self.message_user(
                request,
                reason % {"moment": _moment_text(moment), "object": obj},
                messages.WARNING,
            )
            return HttpResponseRedirect(self._history_url(obj))
        return obj, moment, past

    def _as_of_fieldsets(
        self, request: HttpRequest, obj: Any, past: Any
    ) -> list[tuple[Any, list[tuple[FieldChange, bool]]]]:
        """The admin's fieldsets, tracked fields only: (value then, changed since)."""
        options = tracking.options_for(self.model)
        pairs = {
            tf.name: (getattr(obj, tf.attname), getattr(past, tf.attname)) for tf in options.tracked
        }
        shown = {
            change.name: change
            for change in describe_fields(self.model, pairs, using=obj._state.db)
        }
        result = []
        seen: set[str] = set()
        for name, fieldset in self.get_fieldsets(request, obj):
            rows = []
            for field_name in _flatten(fieldset.get("fields", ())):
                tf = options.by_name.get(field_name)
                if tf is None or tf.name in seen:
                    continue
                seen.add(tf.name)
                current, then = pairs[tf.name]
                rows.append((shown[tf.name], not tf.masked and to_json(current) != to_json(then)))
            if rows:
                result.append((name, rows))
        return result

    def _history_url(self, obj: models.Model) -> str:
        info = self.admin_site.name, self.opts.app_label, self.opts.model_name
        return reverse("{}:{}_{}_history".format(*info), args=[quote(obj.pk)])

    def _revert_url(self, obj: models.Model, moment: str) -> str:
        info = self.admin_site.name, self.opts.app_label, self.opts.model_name
        url = reverse("{}:{}_{}_history_revert".format(*info), args=[quote(obj.pk)])
        return url + "?" + urlencode({MOMENT_VAR: moment})

    # -- checks -------------------------------------------------------------------------

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors: list[checks.CheckMessage] = list(super().check(**kwargs))
        if tracking.options_for(self.model).history is None:
            errors.append(
                checks.Error(
                    f"{type(self).__name__} uses TrackableAdminMixin, but "
                    f"{self.model._meta.label} has no history field.",
                    hint="Use it for models derived from django_trackable.models.TrackableModel.",
                    obj=type(self),
                    id="django_trackable.E050",
                )
            )
        return errors


# -- helpers ----------------------------------------------------------------------------------


def _flatten(fields: Iterable[Any]) -> list[str]:
    names: list[str] = []
    for item in fields:
        if isinstance(item, list | tuple):
            names.extend(_flatten(item))
        elif isinstance(item, str):
            names.append(item)
    return names


def _without(fields: Iterable[Any], names: set[str]) -> list[Any]:
    """``fields`` (names and tuples of names on one line) without ``names``."""
    kept: list[Any] = []
    for item in fields:
        if isinstance(item, list | tuple):
            line = tuple(name for name in item if name not in names)
            if len(line) > 1:
                kept.append(line)
            elif line:
                kept.append(line[0])
        elif item not in names:
            kept.append(item)
    return kept


def _json_key(value: Any) -> str:
    return "" if value is None else str(value)


def _user_value(entry: Entry) -> str:
    user = entry.get("user")
    return "none" if user is None else str(user)


def _user_choices(entries: Sequence[Entry]) -> list[tuple[str, str]]:
    """Who appears in the entries (their name as last recorded), for the user filter."""
    names: dict[str, str] = {}
    for entry in entries:
        value = _user_value(entry)
        if value == "none":
            names[value] = gettext("Nobody (no user)")
        else:
            names[value] = str(entry.get("user_repr") or value)
    return sorted(names.items(), key=lambda item: item[1].lower())


def _user_urls(
    site: admin.AdminSite, request: HttpRequest, displays: Sequence[EntryDisplay]
) -> dict[str, str]:
    """Links to the users' admin pages, for the viewer who may see them: at most one query."""
    user_model = get_user_model()
    wanted = {display.user_id for display in displays if display.user_id is not None}
    if not wanted or admin_url(site, user_model, "changelist", request=request) is None:
        return {}
    keys = []
    for value in wanted:
        try:
            keys.append(user_model._meta.pk.to_python(value))
        except Exception:  # noqa: BLE001, S112 - not a key of today's user model
            continue
    existing = user_model._base_manager.filter(pk__in=keys).values_list("pk", flat=True)
    info = user_model._meta.app_label, user_model._meta.model_name
    return {
        _json_key(to_json(pk)): reverse(
            "{}:{}_{}_change".format(site.name, *info), args=[quote(pk)], current_app=site.name
        )
        for pk in existing
    }


def _action_text(action: str) -> str:
    from django_trackable.display import action_label

    return action_label(action)


def _ago(moment: datetime.datetime | None) -> str:
    """ "3 hours ago", or "just now" within the minute."""
    if moment is None:
        return ""
    if timezone.now() - moment < datetime.timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment)}


def _moment_text(moment: datetime.datetime) -> str:
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "DATETIME_FORMAT")


def _labels(model: type[models.Model], names: Iterable[str]) -> list[str]:
    fields = {f.name: f for f in model._meta.concrete_fields}
    return [str(capfirst(fields[name].verbose_name)) if name in fields else name for name in names]


def _masked(obj: models.Model) -> list[tracking.TrackedField]:
    return [tf for tf in tracking.options_for(type(obj)).tracked if tf.masked]


def _revert_changes(obj: models.Model, past: models.Model) -> list[FieldChange]:
    """What a revert would write: current → then, for tracked fields that differ."""
    pairs = {}
    for tf in tracking.options_for(type(obj)).tracked:
        if tf.masked:
            continue
        current, then = getattr(obj, tf.attname), getattr(past, tf.attname)
        if current != then:
            pairs[tf.name] = (current, then)
    return describe_fields(type(obj), pairs, using=obj._state.db)
