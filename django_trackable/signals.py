"""Signals that django_trackable sends."""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["new_device_login"]

#: Sent the first time a user logs in from a client (browser family, OS family
#: and device) they have not logged in from before, after the ``UserDevice`` row
#: is created. Arguments: ``sender`` (the ``UserDevice`` class), ``user``,
#: ``device`` (the new ``UserDevice``) and ``request`` (``None`` when the login
#: was recorded by a task, see ``TASK_BACKEND``). Sent inside the login's
#: transaction when there is one: send emails from ``transaction.on_commit``.
new_device_login = Signal()
