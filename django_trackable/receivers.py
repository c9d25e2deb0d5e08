"""Receivers of Django's signals, connected in ``TrackableConfig.ready()``."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.signals import pre_delete

from django_trackable.conf import trackable_settings

__all__ = [
    "connect_set_on_delete",
    "record_dependants_set_on_delete",
    "record_failed_login",
    "record_login",
]

logger = logging.getLogger(__name__)

# Keys of ``authenticate()``'s credentials that may hold what the user typed
# as their name, after the user model's USERNAME_FIELD. Nothing else is read:
# the other values may be passwords or tokens.
_USERNAME_KEYS = ("username", "email", "login")


def record_login(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """``user_logged_in``: a successful ``LoginAttempt``, and the user's device."""
    if not trackable_settings.RECORD_LOGINS or user is None:
        return
    from django_trackable.models import LoginAttempt

    try:
        LoginAttempt.objects.record(request, successful=True, user=user)
    except Exception:  # a login must never fail because it could not be recorded
        logger.exception("django_trackable could not record a login")


def record_failed_login(
    sender: Any, credentials: Any = None, request: Any = None, **kwargs: Any
) -> None:
    """``user_login_failed``: a failed ``LoginAttempt`` with the username typed, no password."""
    if not trackable_settings.RECORD_LOGINS:
        return
    from django_trackable.models import LoginAttempt

    try:
        LoginAttempt.objects.record(
            request, successful=False, username=attempted_username(credentials)
        )
    except Exception:
        logger.exception("django_trackable could not record a failed login")


def attempted_username(credentials: Any) -> str:
    """The username in ``authenticate()``'s credentials, or ``""``; never another value."""
    if not isinstance(credentials, dict):
        return ""
    keys = (getattr(get_user_model(), "USERNAME_FIELD", "username"), *_USERNAME_KEYS)
    for key in keys:
        value = credentials.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _setter(on_delete: Any, field: models.Field[Any, Any]) -> tuple[Callable[[], Any], bool] | None:
    """How ``on_delete`` sets ``field`` (SET_NULL, SET_DEFAULT, SET()), or ``None``.

    A function giving the value, called for each delete as Django does -- never
    at start-up, when a ``SET(get_sentinel_user)`` would query tables that
    ``migrate`` has not created yet -- and whether it runs the user's callable.
    """
    if on_delete is models.SET_NULL:
        return (lambda: None), False
    if on_delete is models.SET_DEFAULT:
        return field.get_default, False
    deconstruct = getattr(on_delete, "deconstruct", None)
    if deconstruct is not None:
        path, args, _kwargs = deconstruct()
        if path == "django.db.models.SET" and len(args) == 1:
            value = args[0]
            return (value, True) if callable(value) else ((lambda: value), False)
    return None


@functools.cache
def _set_on_delete_relations(
    target: type[models.Model],
) -> list[tuple[type[models.Model], models.Field[Any, Any]]]:
    """(tracked model, its foreign key to ``target``) where deleting a target row sets the key."""
    from django_trackable import tracking

    found = []
    for model in apps.get_models():
        if model._meta.proxy or not tracking.options_for(model).stamped:
            continue
        for field in model._meta.concrete_fields:
            remote = field.remote_field
            if remote is None or not field.many_to_one and not field.one_to_one:
                continue
            if remote.model is target and _setter(remote.on_delete, field) is not None:
                found.append((model, field))
    return found


def record_dependants_set_on_delete(
    sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any
) -> None:
    """``pre_delete``: tracked rows whose key to ``instance`` Django is about to set
    (``on_delete=SET_NULL``, ``SET_DEFAULT``, ``SET(...)``) are changed first by the
    tracked ``update()``, in the deleting transaction, so each gets its entry and
    stamps. Django's own UPDATE then finds nothing left to change.

    One UPDATE per deleted row and relation (``SET(callable)``: first a query
    for whether any row points to it, as Django calls the callable only then).
    """
    from django_trackable.context import is_tracking_enabled
    from django_trackable.querysets import TrackableQuerySet

    if not is_tracking_enabled():
        return
    for model, field in _set_on_delete_relations(sender._meta.concrete_model or sender):
        remote: Any = field.remote_field
        setter = _setter(remote.on_delete, field)
        assert setter is not None
        value, calls_theirs = setter
        rows = TrackableQuerySet(model=model, using=using).filter(**{field.name: instance})
        if calls_theirs and not rows.exists():
            continue
        rows.update(**{field.name: value()})


def connect_set_on_delete() -> None:
    """Connect :func:`record_dependants_set_on_delete` for every model tracked rows point
    to with a setting ``on_delete`` (called from ``AppConfig.ready()``)."""
    for model in apps.get_models():
        concrete = model._meta.concrete_model or model
        if _set_on_delete_relations(concrete):
            pre_delete.connect(
                record_dependants_set_on_delete,
                sender=model,
                dispatch_uid=f"django_trackable.set_on_delete.{model._meta.label_lower}",
            )
