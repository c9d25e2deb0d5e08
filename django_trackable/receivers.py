"""Receivers of Django's signals, connected in ``TrackableConfig.ready()``."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model

from django_trackable.conf import trackable_settings

__all__ = ["record_failed_login", "record_login"]

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
