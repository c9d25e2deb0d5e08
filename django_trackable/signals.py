"""Signals that django_trackable sends."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

__all__ = [
    "history_recorded",
    "new_device_login",
    "restored",
    "send_signal",
    "soft_deleted",
    "user_erased",
]

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

#: Sent once per tracked statement that appended history entries: a save, a
#: ``QuerySet.update()``, each batch of ``bulk_create()`` / ``bulk_update()``,
#: a soft delete or restore, a transition, ... Arguments: ``sender`` (the model
#: the rows were written through), ``queryset`` (a lazy queryset of exactly
#: the rows that got an entry; evaluate it only if you need them),
#: ``instances`` (the instances the write was made through; empty for
#: ``QuerySet.update()``), ``entry`` (the entry as Python knows it: whole for
#: one row, the keys the rows share otherwise -- each row's ``changes`` are in
#: its ``history``) and ``using``. Sent inside the write's transaction, or
#: after it commits with ``TRACKABLE["SIGNALS_ON_COMMIT"] = True``.
history_recorded = Signal()

#: Sent once per soft delete (per model of its cascade), instead of Django's
#: ``pre_delete``/``post_delete``, which a soft delete does not send.
#: Arguments: ``sender`` (the model), ``queryset`` (a lazy queryset of exactly
#: the rows this call soft-deleted), ``when`` (their ``date_deleted``) and
#: ``using``. Inside the transaction, or on commit with ``SIGNALS_ON_COMMIT``.
soft_deleted = Signal()

#: Sent once per restore statement (per model of the rows it brings back), with
#: the same arguments as :data:`soft_deleted` (``when``: the restore's time).
restored = Signal()


def send_signal(signal: Signal, sender: Any, using: str, **kwargs: Any) -> None:
    """Send one of our write signals now, or once the transaction commits
    (``TRACKABLE["SIGNALS_ON_COMMIT"]``); ``using`` is passed on."""
    from django_trackable.conf import trackable_settings

    if trackable_settings.SIGNALS_ON_COMMIT:
        transaction.on_commit(lambda: signal.send(sender, using=using, **kwargs), using=using)
    else:
        signal.send(sender, using=using, **kwargs)
