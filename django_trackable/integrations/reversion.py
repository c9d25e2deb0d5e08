"""django-reversion with django_trackable's context: who saved a revision, and why.

Connected by ``django_trackable``'s ``AppConfig.ready()`` when ``reversion`` is
in ``INSTALLED_APPS``. When a revision is saved and reversion has no user for
it, the revision gets the acting user (:func:`~django_trackable.context.get_current_user`:
``acting_as()``, or the request bound by ``CurrentUserMiddleware``, read at
that moment so DRF-authenticated users count); when it has no comment, the
``reason`` given to ``acting_as()``. Values reversion already has are kept.

Reverting: reversion writes a version back as a *raw* save, which puts the
old ``history`` and ``version`` back too. Revert inside :func:`tracked_reverts`
(or with :class:`TrackedRevertsAdminMixin` on a ``VersionAdmin``) and the row
keeps its history, with the revert recorded as a ``revert`` entry.

``obj.version`` and ``since(version=...)`` come from
:class:`~django_trackable.models.VersionedModel`, which needs no integration.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.core import checks
from django.db import models, transaction
from django.db.models.signals import post_save, pre_save
from reversion.models import Revision, Version
from reversion.signals import pre_revision_commit

from django_trackable import tracking
from django_trackable.context import get_current_extra, get_current_user
from django_trackable.history import MASK, JSONValue, build_entry, to_json
from django_trackable.integrations import current_reason

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest, HttpResponse

    _VersionAdmin = ModelAdmin[Any]
else:  # reversion ships no type hints; its VersionAdmin is a ModelAdmin
    _VersionAdmin = object

__all__ = [
    "TrackedRevertsAdminMixin",
    "attribute_revision",
    "check_version_admins",
    "connect",
    "disconnect",
    "tracked_reverts",
]

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
    """Connect :func:`attribute_revision` and the revert receivers (idempotent)."""
    pre_revision_commit.connect(attribute_revision, dispatch_uid=_DISPATCH_UID)
    pre_save.connect(remember_before_revert, dispatch_uid=f"{_DISPATCH_UID}.before_revert")
    post_save.connect(record_revert, dispatch_uid=f"{_DISPATCH_UID}.revert")


def disconnect() -> None:
    """Undo :func:`connect`: revisions get only what reversion itself sets."""
    pre_revision_commit.disconnect(dispatch_uid=_DISPATCH_UID)
    pre_save.disconnect(dispatch_uid=f"{_DISPATCH_UID}.before_revert")
    post_save.disconnect(dispatch_uid=f"{_DISPATCH_UID}.revert")


#: The extra entry keys while inside :func:`tracked_reverts`, else ``None``.
_reverting: ContextVar[dict[str, Any] | None] = ContextVar("trackable_reverting", default=None)
#: What a row held before reversion's raw save overwrote it (kept on the instance).
_BEFORE = "_trackable_before_revert"


@contextlib.contextmanager
def tracked_reverts(*, using: str | None = None, **extra: Any) -> Iterator[None]:
    """Inside the block, reversion's reverts of tracked rows are recorded as ``revert`` entries.

    ``version.revert()`` and ``revision.revert()`` save each object *raw*, as
    it was serialised, ``history`` and ``version`` included. Here each such
    save of a tracked row is followed by a repair in the same transaction: the
    row's ``history`` as it was before, plus a ``revert`` entry with the
    fields the revert changed; ``version`` one higher; ``created_*`` and
    ``deleted_*`` as they were; ``updated_*`` now and the acting user. The
    row is locked from the read to the repair. Costs one SELECT and one UPDATE
    per reverted row. ``extra`` keys are added to the entries. The block is
    atomic on ``using`` (default database when ``None``).
    """
    token = _reverting.set(dict(extra))
    try:
        with transaction.atomic(using=using):
            yield
    finally:
        _reverting.reset(token)


def _columns(options: tracking.ModelOptions) -> list[str]:
    return [f.attname for f in options.roles.values()] + [tf.attname for tf in options.tracked]


def remember_before_revert(
    sender: Any, instance: Any, raw: bool, using: str, **kwargs: Any
) -> None:
    """``pre_save`` receiver: inside :func:`tracked_reverts`, read (and lock) the row first."""
    if not raw or _reverting.get() is None:
        return
    options = tracking.options_for(sender)
    if options.history is None:
        return
    rows = sender._base_manager.using(using).filter(pk=instance.pk)
    if transaction.get_connection(using).in_atomic_block:
        rows = rows.select_for_update()
    instance.__dict__[_BEFORE] = rows.values(*_columns(options)).first()


def record_revert(sender: Any, instance: Any, raw: bool, using: str, **kwargs: Any) -> None:
    """``post_save`` receiver: put back what the raw save must not change, append the entry."""
    if not raw or _BEFORE not in instance.__dict__:
        return
    before: dict[str, Any] | None = instance.__dict__.pop(_BEFORE)
    options = tracking.options_for(sender)
    history = options.history
    assert history is not None
    roles = options.roles
    changes: dict[str, list[JSONValue]] = {}
    for tf in options.tracked:
        new = to_json(getattr(instance, tf.attname))
        old = None if before is None else to_json(before[tf.attname])
        if before is None or old != new:
            changes[tf.name] = [MASK, MASK] if tf.masked else [old, new]
    if before is not None:
        values: dict[str, Any] = {f.name: before[f.attname] for f in roles.values()}
        entries = list(before[history.attname] or [])
    else:  # recovered: the row is back as it was serialised
        values = {f.name: getattr(instance, f.attname) for f in roles.values()}
        entries = list(getattr(instance, history.attname) or [])
    if changes:
        user = get_current_user()
        now = tracking.now()
        extra = {**get_current_extra(), **(_reverting.get() or {})}
        entries.append(build_entry("revert", now, user, changes, extra))
        if options.limit is not None:
            entries = entries[-options.limit :]
        for role, value in (
            ("updated_at", now),
            ("updated_by", tracking.user_pk_for(roles.get("updated_by"), user)),
        ):
            if role in roles:
                values[roles[role].name] = value
        if "version" in roles:
            values[roles["version"].name] = (values[roles["version"].name] or 0) + 1
    values[history.name] = entries
    models.QuerySet.update(sender._base_manager.using(using).filter(pk=instance.pk), **values)
    for name, value in values.items():
        setattr(instance, sender._meta.get_field(name).attname, value)
    tracking.remember(instance)


class TrackedRevertsAdminMixin(_VersionAdmin):
    """For a ``VersionAdmin``: its revert and recover views run inside :func:`tracked_reverts`.

    List it before ``VersionAdmin``::

        class NoteAdmin(TrackedRevertsAdminMixin, SoftDeleteAdminMixin, VersionAdmin):
            ...

    The entry carries ``reverted_to``, the time of the revision reverted to.
    """

    def revision_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: Any,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        with tracked_reverts(**_reverted_to(version_id)):
            response: HttpResponse = super().revision_view(  # type: ignore[misc]
                request, object_id, version_id, extra_context
            )
        return response

    def recover_view(
        self, request: HttpRequest, version_id: Any, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        with tracked_reverts(**_reverted_to(version_id)):
            response: HttpResponse = super().recover_view(  # type: ignore[misc]
                request, version_id, extra_context
            )
        return response


def check_version_admins(**kwargs: Any) -> list[checks.CheckMessage]:
    """W060: a ``VersionAdmin`` of a tracked model without :class:`TrackedRevertsAdminMixin`."""
    from django.contrib.admin.sites import all_sites
    from reversion.admin import VersionAdmin

    messages: list[checks.CheckMessage] = []
    for site in all_sites:
        for model, model_admin in site._registry.items():
            if not isinstance(model_admin, VersionAdmin) or isinstance(
                model_admin, TrackedRevertsAdminMixin
            ):
                continue
            if tracking.options_for(model).history is None:
                continue
            messages.append(
                checks.Warning(
                    f"{type(model_admin).__name__} ({site.name} admin) reverts "
                    f"{model._meta.label} with django-reversion's raw save: the row's "
                    "history and version go back to the reverted version's.",
                    hint="Add django_trackable.integrations.reversion.TrackedRevertsAdminMixin "
                    "before VersionAdmin in its bases.",
                    obj=type(model_admin),
                    id="django_trackable.W060",
                )
            )
    return messages


def _reverted_to(version_id: Any) -> dict[str, str]:
    try:
        when = (
            Version.objects.filter(pk=version_id)
            .values_list("revision__date_created", flat=True)
            .first()
        )
    except (TypeError, ValueError):  # a malformed id: reversion answers 404 itself
        return {}
    return {} if when is None else {"reverted_to": when.isoformat()}
