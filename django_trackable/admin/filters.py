"""Change list filters for tracked models: changed recently, changed by someone."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_trackable import tracking
from django_trackable.querysets import TrackableQuerySet

__all__ = ["ChangedByFilter", "ChangedSinceFilter"]


class ChangedSinceFilter(admin.SimpleListFilter):
    """Rows changed (or created) in the last hour, today, the last 7 or 30 days.

    Compares ``updated_at``, which the indexes of tracked models cover.
    """

    title = _("changed")
    parameter_name = "changed_since"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("1h", _("In the last hour")),
            ("today", _("Today")),
            ("7d", _("In the last 7 days")),
            ("30d", _("In the last 30 days")),
        ]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> Any:
        value = self.value()
        if not value:
            return queryset
        start = _start(value)
        updated_at = tracking.options_for(queryset.model).roles.get("updated_at")
        if start is None or updated_at is None:
            raise IncorrectLookupParameters(f"changed_since={value!r}")
        return queryset.filter(**{f"{updated_at.name}__gte": start})


def _start(value: str) -> datetime.datetime | None:
    now = timezone.now()
    if value == "1h":
        return now - datetime.timedelta(hours=1)
    if value == "today":
        today = timezone.localtime(now) if timezone.is_aware(now) else now
        return today.replace(hour=0, minute=0, second=0, microsecond=0)
    if value in ("7d", "30d"):
        return now - datetime.timedelta(days=int(value[:-1]))
    return None


class ChangedByFilter(admin.SimpleListFilter):
    """Rows a user created or changed: ``modified_by(user)`` (the stamps or any entry).

    Offers the users who created or last changed a row (at most
    ``max_choices``, by name); any user's primary key works in the URL
    (``?changed_by=7``), as the user admin's activity links use it.
    """

    title = _("changed by")
    parameter_name = "changed_by"
    #: The most users listed as choices.
    max_choices = 50

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        user_model = get_user_model()
        roles = tracking.options_for(model_admin.model).roles
        rows = model_admin.get_queryset(request)
        condition = models.Q(pk__in=[])
        for role in ("created_by", "updated_by"):
            field = roles.get(role)
            if field is not None:
                condition |= models.Q(pk__in=rows.order_by().values(field.attname))
        users = user_model._default_manager.filter(condition).order_by(user_model.USERNAME_FIELD)
        choices = [(str(user.pk), str(user)) for user in users[: self.max_choices]]
        value = self.value()
        if value and value not in {key for key, _label in choices}:
            choices.append((value, str(self._user(value) or value)))
        return choices

    def _user(self, value: str) -> Any:
        user_model = get_user_model()
        try:
            return user_model._default_manager.filter(pk=value).first()
        except (TypeError, ValueError, ValidationError):
            return None

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> Any:
        value = self.value()
        if not value:
            return queryset
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(value)
        except ValidationError as exc:
            raise IncorrectLookupParameters(f"changed_by={value!r}") from exc
        modified_by = getattr(queryset, "modified_by", None)
        if modified_by is None:  # a custom queryset without TrackableQuerySet's methods
            return TrackableQuerySet.modified_by(cast(TrackableQuerySet[Any], queryset), pk)
        return modified_by(pk)
