"""Request metadata: ``UserVisit``, ``LoginAttempt`` and ``UserDevice``.

Rows are written by one method each: :meth:`UserVisitQuerySet.record` and
:meth:`LoginAttemptQuerySet.record` (which also keeps ``UserDevice`` current).
Writes go to ``TRACKABLE["DATABASE"]`` when it is set, else where the database
router sends them, so this data can live on a database of its own; with
``TASK_BACKEND`` they are handed to a ``django.tasks`` backend instead.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_trackable.client import MAX_LENGTHS, ClientInfo, DeviceType, clean_text
from django_trackable.conf import trackable_settings
from django_trackable.history import MASK, is_masked_name

if TYPE_CHECKING:
    from django.db.models.deletion import Collector
    from django.http import HttpRequest, HttpResponseBase

__all__ = [
    "MAX_BATCH_SIZE",
    "LoginAttempt",
    "LoginAttemptQuerySet",
    "UserDevice",
    "UserDeviceQuerySet",
    "UserVisit",
    "UserVisitQuerySet",
    "purge_cutoff",
    "set_null_on_write_database",
    "write_database",
]

logger = logging.getLogger(__name__)

_M = TypeVar("_M", bound=models.Model)

#: Called by ``purge()`` after each batch with (rows deleted so far, rows to delete).
Progress = Callable[[int, int], None]

#: The most rows ``purge()`` deletes per statement: each batch's primary keys
#: are held in memory and sent as one list.
MAX_BATCH_SIZE = 1_000_000


def purge_cutoff(older_than: datetime.timedelta | datetime.datetime) -> datetime.datetime:
    """The moment before which ``purge(older_than)`` deletes rows.

    Raises ``ValueError`` for an age that is not positive or that reaches back
    before year 1 (``datetime`` cannot represent that moment).
    """
    if isinstance(older_than, datetime.datetime):
        return older_than
    if not isinstance(older_than, datetime.timedelta) or older_than <= datetime.timedelta(0):
        raise ValueError(f"the age must be a positive timedelta, not {older_than!r}")
    try:
        return timezone.now() - older_than
    except OverflowError:
        raise ValueError(f"an age of {older_than.days} days reaches back before year 1") from None


def write_database(model: type[models.Model]) -> str:
    """The alias request metadata is written to: ``DATABASE``, else the router's choice."""
    return trackable_settings.DATABASE or router.db_for_write(model)


def set_null_on_write_database(
    collector: Collector, field: models.Field[Any, Any], sub_objs: Any, using: str
) -> None:
    """``on_delete`` for the user of a visit, login attempt or device: set it to NULL.

    Like ``models.SET_NULL`` when the rows share the user's database. When they
    live on another one (``DATABASE``, a router), Django's deletion would look
    for them on the user's database; they are nulled where they are instead.
    """
    model = field.model
    alias = write_database(model)
    if alias == using:
        models.SET_NULL(collector, field, sub_objs, using)
        return
    sub_objs.using(alias).update(**{field.name: None})


# Tells Django's Collector to pass the query unevaluated, as for SET_NULL: it
# would run on the user's database, where these rows may not be.
set_null_on_write_database.lazy_sub_objs = True  # type: ignore[attr-defined]


def _user_field() -> models.ForeignKey[Any, Any]:
    # db_constraint=False: the rows may live on a database without the user
    # table. Audit rows outlive their users, so a deleted user leaves NULL.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=set_null_on_write_database,
        db_constraint=False,
        related_name="+",
    )


def _user_pk(user: Any) -> Any:
    """The primary key of an authenticated ``user``, else ``None``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "pk", None)


def _clean(name: str, value: Any) -> str:
    return clean_text(value, MAX_LENGTHS[name])


# The parts of a URL that can carry "name=value" pairs. Each is split at its
# outer delimiter ("/" between path segments, "&" in the query and the
# fragment), then at inner ones that some servers and scripts split at too
# (";" path parameters, escaped as %3B by request.get_full_path(); ";" in the
# query; "?", ";" and "/" in a fragment, where single-page apps keep a route
# and query and OAuth an access_token). A masked name hides everything after
# its "=" up to the next outer delimiter, so no reading of the URL leaves a
# piece of the secret.
# (outer, captured so that split() keeps it; inner; what separates name and value)
_PATH = (re.compile(r"(/)"), re.compile(r";|%3[Bb]"), re.compile(r"=|%3[Dd]"))
_QUERY = (re.compile(r"(&)"), re.compile(r";"), re.compile(r"="))
_FRAGMENT = (re.compile(r"(&)"), re.compile(r"[;?/]"), re.compile(r"="))
# "scheme://user:password@host" (or "//user:password@host"): the password.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#@:]*:)([^/?#@]*)(@)")


def _mask_piece(piece: str, inner: re.Pattern[str], equals: re.Pattern[str]) -> str:
    """``piece`` with everything after the first masked name's "=" hidden."""
    cuts = list(inner.finditer(piece))
    starts = [0, *(cut.end() for cut in cuts)]
    ends = [*(cut.start() for cut in cuts), len(piece)]
    for start, end in zip(starts, ends, strict=True):
        found = equals.search(piece, start, end)
        if found is not None and is_masked_name(piece[start : found.start()]):
            return piece[: found.end()] + MASK
    return piece


def _mask_pairs(text: str, part: tuple[re.Pattern[str], ...]) -> str:
    outer, inner, equals = part
    return "".join(
        piece if index % 2 else _mask_piece(piece, inner, equals)  # odd: the delimiters
        for index, piece in enumerate(outer.split(text))
    )


def mask_url(url: str) -> str:
    """``url`` with secrets hidden, byte for byte the same otherwise.

    The value of every ``name=value`` pair whose percent-decoded name is
    masked (:func:`~django_trackable.history.is_masked_name`, the rule of
    ``MASKED_FIELDS``) becomes ``***``, in the query string
    (``/reset/?token=abc&next=/`` becomes ``/reset/?token=***&next=/``), the
    fragment and the path's ``;`` parameters; so does the password of a
    ``user:password@`` authority.
    """
    if "=" not in url and "@" not in url and "%3" not in url:
        return url
    rest, hash_mark, fragment = url.partition("#")
    rest, question_mark, query = rest.partition("?")
    rest = _mask_pairs(_USERINFO.sub(rf"\g<1>{MASK}\g<3>", rest, count=1), _PATH)
    if question_mark:
        rest += question_mark + _mask_pairs(query, _QUERY)
    if hash_mark:
        rest += hash_mark + _mask_pairs(fragment, _FRAGMENT)
    return rest


def _stored_url(column: str, value: Any) -> str:
    """A URL as the ``url`` and ``referrer`` columns store it: cleaned, masked, cut to size."""
    return _clean(column, mask_url(clean_text(value, 8 * MAX_LENGTHS[column])))


def _visited_url(request: HttpRequest) -> str:
    try:
        url = request.get_full_path()
    except Exception:  # a path Django itself cannot re-encode
        url = getattr(request, "path", "")
    return _stored_url("url", url)


def _status_code(response: HttpResponseBase | None) -> int | None:
    code = getattr(response, "status_code", None)
    if isinstance(code, int) and 0 <= code <= 32767:  # PositiveSmallIntegerField
        return code
    return None


def _insert(model: type[_M], values: dict[str, Any]) -> _M:
    """INSERT one row on the write database; a failure never poisons a transaction.

    Inside a transaction (``ATOMIC_REQUESTS``, a login view's), the INSERT gets
    a savepoint, so an error rolls back only the savepoint and the caller's
    transaction goes on. Outside one, a single INSERT in autocommit.
    """
    alias = write_database(model)
    manager = model._base_manager.db_manager(alias)
    row: _M
    if not connections[alias].in_atomic_block:
        row = manager.create(**values)
        return row
    with transaction.atomic(using=alias):
        row = manager.create(**values)
    return row


def _enqueue(task_name: str, values: dict[str, Any]) -> None:
    from django_trackable import tasks

    task = getattr(tasks, task_name).using(backend=trackable_settings.TASK_BACKEND)
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        # A queue in the database (django-tasks-db) inserts here: if that fails inside
        # the request's transaction (ATOMIC_REQUESTS), a savepoint keeps the rest usable.
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            task.enqueue(tasks.to_payload(values))
    else:
        task.enqueue(tasks.to_payload(values))


class _RoutedManager(models.Manager[_M]):
    """Reads from ``TRACKABLE["DATABASE"]`` when it is set (writes always go there)."""

    def get_queryset(self) -> models.QuerySet[_M]:
        queryset = super().get_queryset()
        alias = trackable_settings.DATABASE
        return queryset.using(alias) if alias else queryset


class _RequestMetadataQuerySet(models.QuerySet[_M]):
    def since(self, when: datetime.datetime) -> models.QuerySet[_M]:
        """Rows recorded at or after ``when``."""
        recent: models.QuerySet[_M] = self.filter(timestamp__gte=when)
        return recent

    def purge(
        self,
        older_than: datetime.timedelta | datetime.datetime,
        *,
        batch_size: int = 1000,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> int:
        """Delete rows recorded before ``older_than`` (a cut-off, or an age), in batches.

        Each batch is one SELECT of primary keys and one DELETE, in its own
        short transaction, so the table is never locked for long and an
        interrupted purge keeps what it did. With ``dry_run`` nothing is
        deleted. Returns the number of rows deleted (or that would be).
        Runs on the write database. Raises ``ValueError`` for an age that is
        not positive or reaches back before year 1, and for a ``batch_size``
        outside 1..``MAX_BATCH_SIZE``.
        """
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}")
        cutoff = purge_cutoff(older_than)
        alias = write_database(self.model)
        doomed = self.using(alias).filter(timestamp__lt=cutoff).order_by("pk")
        total: int = doomed.count()
        if dry_run or not total:
            return total
        deleted = 0
        while True:
            batch = list(doomed.values_list("pk", flat=True)[:batch_size])
            if not batch:
                break
            with transaction.atomic(using=alias):
                count, _ = self.model._base_manager.using(alias).filter(pk__in=batch).delete()
            deleted += count
            if progress is not None:
                progress(deleted, max(total, deleted))
        return deleted


class _ClientFields(models.Model):
    """What :class:`~django_trackable.client.ClientInfo` knows about the client."""

    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, db_index=True)
    user_agent = models.CharField(_("user agent"), max_length=MAX_LENGTHS["user_agent"], blank=True)
    browser = models.CharField(_("browser"), max_length=MAX_LENGTHS["browser"], blank=True)
    browser_version = models.CharField(
        _("browser version"), max_length=MAX_LENGTHS["browser_version"], blank=True
    )
    os = models.CharField(_("operating system"), max_length=MAX_LENGTHS["os"], blank=True)
    os_version = models.CharField(_("OS version"), max_length=MAX_LENGTHS["os_version"], blank=True)
    device = models.CharField(_("device"), max_length=MAX_LENGTHS["device"], blank=True)
    device_type = models.CharField(
        _("device type"),
        max_length=MAX_LENGTHS["device_type"],
        choices=DeviceType.choices,
        default=DeviceType.OTHER,
    )
    city = models.CharField(_("city"), max_length=MAX_LENGTHS["city"], blank=True)
    country = models.CharField(_("country"), max_length=MAX_LENGTHS["country"], blank=True)

    class Meta:
        abstract = True

    @property
    def location(self) -> str:
        """``"Paris, FR"``, ``"FR"`` or ``""``."""
        return ", ".join(part for part in (self.city, self.country) if part)


# -- visits ------------------------------------------------------------------


class UserVisitQuerySet(_RequestMetadataQuerySet["UserVisit"]):
    def record(
        self,
        request: HttpRequest,
        response: HttpResponseBase | None = None,
        *,
        user: Any = None,
        timestamp: datetime.datetime | None = None,
    ) -> UserVisit | None:
        """Record a visit: the only way ``UserVisit`` rows are written.

        ``user`` is who made the request (``None`` or anonymous for nobody);
        ``timestamp`` defaults to now. One INSERT on the write database, in a
        savepoint when a transaction is open; with ``TASK_BACKEND`` the row is
        enqueued instead and ``None`` returned, and with ``VISIT_BUFFER_SIZE``
        it is buffered, written later in bulk (:mod:`django_trackable.buffering`),
        and ``None`` returned. Database errors propagate (the
        middleware logs them); secrets in ``url`` and ``referrer`` are masked
        (:func:`mask_url`).
        """
        values = {
            "user_id": _user_pk(user),
            "timestamp": timestamp or timezone.now(),
            "method": _clean("method", request.method),
            "url": _visited_url(request),
            "status_code": _status_code(response),
            "referrer": _stored_url("referrer", request.META.get("HTTP_REFERER")),
            **ClientInfo.from_request(request).as_fields(),
        }
        if trackable_settings.TASK_BACKEND:
            _enqueue("record_visit", values)
            return None
        if trackable_settings.VISIT_BUFFER_SIZE:
            from django_trackable.buffering import buffer_visit

            buffer_visit(values)
            return None
        return self._store(values)

    def _store(self, values: dict[str, Any]) -> UserVisit:
        """Write ``record()``'s values (it and the task call this, nothing else)."""
        return _insert(self.model, values)

    def _store_many(self, rows: list[dict[str, Any]]) -> int:
        """Write buffered ``record()`` values with one ``bulk_create`` (the buffer calls this)."""
        alias = write_database(self.model)
        manager = self.model._base_manager.db_manager(alias)
        return len(manager.bulk_create([self.model(**values) for values in rows]))

    def for_user(self, user: Any) -> UserVisitQuerySet:
        """The visits of ``user``."""
        visits: UserVisitQuerySet = self.filter(user_id=_user_pk(user))
        return visits


class UserVisit(_ClientFields):
    """One request: who, when, what (method, URL, status) and from where."""

    user = _user_field()
    timestamp = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    method = models.CharField(_("method"), max_length=MAX_LENGTHS["method"])
    url = models.CharField(_("URL"), max_length=MAX_LENGTHS["url"])
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    referrer = models.CharField(_("referrer"), max_length=MAX_LENGTHS["referrer"], blank=True)

    objects = _RoutedManager.from_queryset(UserVisitQuerySet)()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ("-timestamp", "-pk")
        get_latest_by = "timestamp"

    def __str__(self) -> str:
        return f"{self.method} {self.url} {self.status_code or ''}".strip()


# -- login attempts ------------------------------------------------------------


class LoginAttemptQuerySet(_RequestMetadataQuerySet["LoginAttempt"]):
    def record(
        self,
        request: HttpRequest | None,
        *,
        successful: bool,
        user: Any = None,
        username: str | None = None,
    ) -> LoginAttempt | None:
        """Record a login attempt: the only way ``LoginAttempt`` rows are written.

        ``username`` is what was typed (default: ``user.get_username()``), cut
        to its column; nothing else from the credentials is stored, so a
        password never is. A successful attempt with a user also updates (or
        creates) the user's :class:`UserDevice` and, for a new device, sends
        :data:`~django_trackable.signals.new_device_login`. Writes in a
        savepoint when a transaction is open (login views run in one under
        ``ATOMIC_REQUESTS``); with ``TASK_BACKEND`` everything is enqueued and
        ``None`` returned.
        """
        if username is None and user is not None:
            username = user.get_username()
        client = ClientInfo.from_request(request) if request is not None else ClientInfo()
        values = {
            "user_id": _user_pk(user),
            "username": _clean("username", username),
            "successful": bool(successful),
            "timestamp": timezone.now(),
            **client.as_fields(),
        }
        if trackable_settings.TASK_BACKEND:
            _enqueue("record_login_attempt", values)
            return None
        return self._store(values, user=user, request=request)

    def _store(
        self, values: dict[str, Any], *, user: Any = None, request: HttpRequest | None = None
    ) -> LoginAttempt:
        """Write ``record()``'s values (it and the task call this, nothing else)."""
        alias = write_database(self.model)
        # One transaction (or a savepoint in the caller's): the attempt and its
        # device are written together, and a failure poisons nothing.
        with transaction.atomic(using=alias):
            attempt = self.model._base_manager.db_manager(alias).create(**values)
            device = created = None
            if attempt.successful and attempt.user_id is not None:
                device, created = UserDevice.objects.all()._seen(attempt)
        if created and device is not None:
            from django_trackable.signals import new_device_login

            if user is None:  # recorded by a task: only the primary key travelled
                user = get_user_model()._default_manager.filter(pk=attempt.user_id).first()
            new_device_login.send(sender=UserDevice, user=user, device=device, request=request)
        stored: LoginAttempt = attempt
        return stored

    def failed(self) -> LoginAttemptQuerySet:
        """Attempts that did not log anyone in."""
        attempts: LoginAttemptQuerySet = self.filter(successful=False)
        return attempts

    def successful(self) -> LoginAttemptQuerySet:
        """Attempts that logged someone in."""
        attempts: LoginAttemptQuerySet = self.filter(successful=True)
        return attempts

    def for_user(self, user: Any) -> LoginAttemptQuerySet:
        """``user``'s attempts: their logins, and failures under their username.

        A failed attempt has no user (nobody was authenticated), so it belongs
        to ``user`` when its ``username`` is theirs.
        """
        attempts: LoginAttemptQuerySet = self.filter(
            models.Q(user_id=_user_pk(user))
            | models.Q(user__isnull=True, username=user.get_username())
        )
        return attempts

    def recent_failures(
        self,
        username: str | None = None,
        ip: str | None = None,
        within: datetime.timedelta = datetime.timedelta(minutes=15),
    ) -> LoginAttemptQuerySet:
        """Failed attempts in the last ``within``, for ``username`` and/or from ``ip``.

        Both given means both must match. ``username`` is compared as stored
        (cut like the column); ``ip`` is the client IP as ``ClientInfo`` reports
        it (the network with ``ANONYMIZE_IP``). For lockouts::

            if LoginAttempt.objects.recent_failures(username=name).count() >= 5: ...

        Uses the (username, timestamp) and (ip, timestamp) indexes.
        """
        queryset: LoginAttemptQuerySet = self.failed().filter(
            timestamp__gte=timezone.now() - within
        )
        if username is not None:
            queryset = queryset.filter(username=_clean("username", username))
        if ip is not None:
            queryset = queryset.filter(ip=ip)
        return queryset


class LoginAttempt(_ClientFields):
    """One try to log in: the username typed, whether it worked, and from where."""

    user = _user_field()
    username = models.CharField(_("username"), max_length=MAX_LENGTHS["username"], blank=True)
    successful = models.BooleanField(_("successful"), db_index=True)
    timestamp = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = _RoutedManager.from_queryset(LoginAttemptQuerySet)()

    class Meta:
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")
        ordering = ("-timestamp", "-pk")
        get_latest_by = "timestamp"
        indexes = [
            models.Index(fields=["username", "timestamp"], name="trackable_login_username_idx"),
            models.Index(fields=["ip", "timestamp"], name="trackable_login_ip_idx"),
        ]

    def __str__(self) -> str:
        outcome = _("succeeded") if self.successful else _("failed")
        return f"{self.username or '?'} {outcome}"


# -- devices -------------------------------------------------------------------


class UserDeviceQuerySet(models.QuerySet["UserDevice"]):
    def for_user(self, user: Any) -> UserDeviceQuerySet:
        """The devices ``user`` has logged in from."""
        devices: UserDeviceQuerySet = self.filter(user_id=_user_pk(user))
        return devices

    def _seen(self, attempt: LoginAttempt) -> tuple[UserDevice, bool]:
        """Count a successful login on its device; ``(device, created)``.

        The unique constraint on (user, browser, os, device) makes ``created``
        true for exactly one of several concurrent first logins.
        """
        alias = write_database(self.model)
        manager = self.model._base_manager.db_manager(alias)
        latest = {
            "device_type": attempt.device_type,
            "user_agent": attempt.user_agent,
            "last_seen": attempt.timestamp,
            "last_ip": attempt.ip,
            "city": attempt.city,
            "country": attempt.country,
        }
        device, created = manager.get_or_create(
            user_id=attempt.user_id,
            browser=attempt.browser,
            os=attempt.os,
            device=attempt.device,
            defaults={**latest, "first_seen": attempt.timestamp, "login_count": 1},
        )
        if not created:
            manager.filter(pk=device.pk).update(login_count=models.F("login_count") + 1, **latest)
            device.refresh_from_db(using=alias)
        return device, created


class UserDevice(models.Model):
    """A client a user has logged in from: browser family, OS family and device.

    Versions are not part of it (a browser update is not a new device); the
    latest user agent, IP and location are kept, with the login count.
    """

    user = _user_field()
    browser = models.CharField(_("browser"), max_length=MAX_LENGTHS["browser"], blank=True)
    os = models.CharField(_("operating system"), max_length=MAX_LENGTHS["os"], blank=True)
    device = models.CharField(_("device"), max_length=MAX_LENGTHS["device"], blank=True)
    device_type = models.CharField(
        _("device type"),
        max_length=MAX_LENGTHS["device_type"],
        choices=DeviceType.choices,
        default=DeviceType.OTHER,
    )
    user_agent = models.CharField(
        _("last user agent"), max_length=MAX_LENGTHS["user_agent"], blank=True
    )
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)
    last_ip = models.GenericIPAddressField(_("last IP address"), null=True, blank=True)
    city = models.CharField(_("city"), max_length=MAX_LENGTHS["city"], blank=True)
    country = models.CharField(_("country"), max_length=MAX_LENGTHS["country"], blank=True)
    login_count = models.PositiveIntegerField(_("logins"), default=0)

    objects = _RoutedManager.from_queryset(UserDeviceQuerySet)()

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ("-last_seen", "-pk")
        get_latest_by = "last_seen"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "browser", "os", "device"], name="trackable_userdevice_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """``"Firefox on Windows"``, ``"Mobile Safari on iOS (iPhone)"``."""
        text = " on ".join(part for part in (self.browser, self.os) if part) or _("unknown client")
        if self.device and self.device != "Other":
            text = f"{text} ({self.device})"
        return str(text)

    @property
    def location(self) -> str:
        """``"Paris, FR"``, ``"FR"`` or ``""``."""
        return ", ".join(part for part in (self.city, self.country) if part)
