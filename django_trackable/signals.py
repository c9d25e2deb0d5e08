"""Signals that django_trackable sends."""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["new_device_login", "user_erased"]

#: Sent the first time a user logs in from a client (browser family, OS family
#: and device) they have not logged in from before, after the ``UserDevice`` row
#: is created. Arguments: ``sender`` (the ``UserDevice`` class), ``user``,
#: ``device`` (the new ``UserDevice``) and ``request`` (``None`` when the login
#: was recorded by a task, see ``TASK_BACKEND``). Sent inside the login's
#: transaction when there is one: send emails from ``transaction.on_commit``.
new_device_login = Signal()

#: Sent by :func:`django_trackable.privacy.erase_user` after it erased a person
#: from django_trackable's stores (never on a dry run), so a site erases its own
#: data in the same step. Arguments: ``sender`` (the user model), ``user`` and
#: ``report`` (the :class:`~django_trackable.privacy.ErasureReport`; receivers
#: may ``report.add()`` what they erased). Each batch of the erasure has been
#: committed by then (unless the caller holds a transaction). A receiver that
#: changes or deletes a *tracked* user row should do it inside
#: ``tracking_disabled()``, or the change records the old values again.
user_erased = Signal()
