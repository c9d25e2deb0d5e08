"""django-reversion with django_trackable's context: who saved a revision, and why.

Connected by ``django_trackable``'s ``AppConfig.ready()`` when ``reversion`` is
in ``INSTALLED_APPS``. When a revision is saved and reversion has no user for
it, the revision gets the acting user (:func:`~django_trackable.context.get_current_user`:
``acting_as()``, or the request bound by ``CurrentUserMiddleware``, read at
that moment so DRF-authenticated users count); when it has no comment, the
``reason`` given to ``acting_as()``. Values reversion already has are kept.

``obj.version`` and ``since(version=...)`` come from
:class:`~django_trackable.models.VersionedModel`, which needs no integration.
"""

from __future__ import annotations

import logging
from typing import Any

from reversion.models import Revision
from reversion.signals import pre_revision_commit

from django_trackable import tracking
from django_trackable.context import get_current_user
from django_trackable.integrations import current_reason

__all__ = ["attribute_revision", "connect", "disconnect"]

logger = logging.getLogger(__name__)

_DISPATCH_UID = "django_trackable.integrations.reversion.attribute_revision"


def attribute_revision(sender: Any, revision: Revision, **kwargs: Any) -> None:
    """``pre_revision_commit`` receiver: fill the revision's empty user and comment.

    Never raises: a revision is saved with what reversion had if the context
    cannot be read (the failure is logged).
    """
    try:
        if revision.user_id is None:
            user = get_current_user()
            if tracking.user_pk_for(Revision._meta.get_field("user"), user) is not None:
                revision.user = user
        if not revision.comment:
            revision.comment = current_reason() or ""
    except Exception:
        logger.exception("django_trackable could not attribute a django-reversion revision")


def connect() -> None:
    """Connect :func:`attribute_revision` (idempotent)."""
    pre_revision_commit.connect(attribute_revision, dispatch_uid=_DISPATCH_UID)


def disconnect() -> None:
    """Undo :func:`connect`: revisions get only what reversion itself sets."""
    pre_revision_commit.disconnect(dispatch_uid=_DISPATCH_UID)
