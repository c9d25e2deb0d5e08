"""Finding the person a privacy command is about, by username or primary key."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def find_user(identifier: str) -> Any:
    """The user whose username (``USERNAME_FIELD``) or primary key is ``identifier``.

    A username and a different user's primary key that are both ``identifier``
    is an error rather than a guess: erasing the wrong person cannot be undone.
    """
    model = get_user_model()
    manager = model._default_manager
    by_name = manager.filter(**{model.USERNAME_FIELD: identifier}).first()
    by_pk = None
    # An identifier that is not a primary key of this model's type is a username only.
    with contextlib.suppress(ValueError, TypeError, ValidationError):
        by_pk = manager.filter(pk=identifier).first()
    if by_name is not None and by_pk is not None and by_name.pk != by_pk.pk:
        raise CommandError(
            f"{identifier!r} is the username of user {by_name.pk} and the primary key of "
            f"another user; give the other user's username, or the primary key "
            f"{by_name.pk} to mean the first."
        )
    user = by_name or by_pk
    if user is None:
        raise CommandError(f"No user has the username or primary key {identifier!r}.")
    return user
