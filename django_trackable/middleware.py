"""Middleware: the request (and so its user) known to saves; visits recorded."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.utils import timezone

from django_trackable.conf import trackable_settings
from django_trackable.context import (
    _bind_request,
    _request_user,
    _request_user_loaded,
    _unbind_request,
)

if TYPE_CHECKING:
    import datetime

    from django.http import HttpRequest, HttpResponseBase

__all__ = ["CurrentUserMiddleware", "VisitMiddleware"]

logger = logging.getLogger(__name__)


class _SyncAndAsyncMiddleware:
    """Runs as a coroutine when Django hands it an async ``get_response``."""

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response: Any = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(cast(Any, self))


class CurrentUserMiddleware(_SyncAndAsyncMiddleware):
    """Bind the request to the context for the duration of the view.

    Sync and async capable. It does not touch ``request.user``: the user is
    read when a tracked model is saved (see :func:`~django_trackable.context.get_current_user`),
    so a request that saves nothing costs no extra query, and users that DRF
    authenticates inside the view are attributed. The binding is undone when
    the response is returned *or the view raises*.

    Place it anywhere in ``MIDDLEWARE``; conventionally right after
    ``django.contrib.auth.middleware.AuthenticationMiddleware``.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        token = _bind_request(request)
        try:
            return self.get_response(request)
        finally:
            _unbind_request(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        token = _bind_request(request)
        try:
            response: HttpResponseBase = await self.get_response(request)
            return response
        finally:
            _unbind_request(token)


@functools.lru_cache(maxsize=8)
def _excluded_paths(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


class VisitMiddleware(_SyncAndAsyncMiddleware):
    """Record a :class:`~django_trackable.models.UserVisit` for each request.

    Sync and async capable. After the view has responded it stores who (read
    from ``request.user`` then, so a login in the view counts), the method,
    URL, status code, referrer and the client (:class:`~django_trackable.client.ClientInfo`),
    with the time the request arrived. One INSERT per recorded request, a
    task with ``TASK_BACKEND``, or nothing in the request with
    ``VISIT_BUFFER_SIZE`` (written later in bulk; under ASGI then no thread
    hop either when the view loaded the user).

    Not recorded: paths matching ``VISIT_EXCLUDE_PATHS`` (``re.search`` on
    ``request.path_info``; no query at all), everything when ``RECORD_VISITS``
    is false, and anonymous requests unless ``VISIT_ANONYMOUS``. A failure to
    record is logged (logger ``django_trackable.middleware``) and the response
    goes out unchanged; an exception from the view passes through untouched.

    Place it anywhere in ``MIDDLEWARE``: ``request.user`` is read after the
    response, when ``AuthenticationMiddleware`` has run whatever its position.
    Placed first, it records the status code the client actually receives.
    Override :meth:`should_record` or :meth:`get_user` to change what is kept.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        if not self.should_record(request):
            return self.get_response(request)
        started = timezone.now()
        response = self.get_response(request)
        self.record(request, response, started)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not self.should_record(request):
            response: HttpResponseBase = await self.get_response(request)
            return response
        started = timezone.now()
        response = await self.get_response(request)
        if self._records_without_queries(request):
            self.record(request, response, started)
        else:
            # Reading request.user and inserting are database work: off the event loop.
            await sync_to_async(self.record)(request, response, started)
        return response

    def _records_without_queries(self, request: HttpRequest) -> bool:
        """Whether recording is pure Python: the visit is buffered and the user loaded.

        Then the async path records on the event loop, with no thread hop.
        Overridden ``record()`` or ``get_user()`` may query: they get the hop.
        """
        return (
            bool(trackable_settings.VISIT_BUFFER_SIZE)
            and not trackable_settings.TASK_BACKEND
            and type(self).record is VisitMiddleware.record
            and type(self).get_user is VisitMiddleware.get_user
            and _request_user_loaded(request)
        )

    def should_record(self, request: HttpRequest) -> bool:
        """Whether to record ``request`` at all; decided before the view, with no query."""
        try:
            if not trackable_settings.RECORD_VISITS:
                return False
            excluded = _excluded_paths(tuple(trackable_settings.VISIT_EXCLUDE_PATHS))
            return excluded is None or excluded.search(request.path_info) is None
        except Exception:  # an invalid pattern (check E003 reports it): record nothing
            logger.exception("django_trackable cannot match VISIT_EXCLUDE_PATHS")
            return False

    def get_user(self, request: HttpRequest) -> Any:
        """The authenticated user of ``request`` after the view, or ``None``."""
        user = _request_user(request)
        if user is None or not user.is_authenticated:
            return None
        return user

    def record(
        self, request: HttpRequest, response: HttpResponseBase, started: datetime.datetime
    ) -> None:
        """Store the visit; never raises."""
        try:
            user = self.get_user(request)
            if user is None and not trackable_settings.VISIT_ANONYMOUS:
                return
            from django_trackable.models import UserVisit

            UserVisit.objects.record(request, response, user=user, timestamp=started)
        except Exception:
            from django_trackable.models.visits import mask_url

            # The path alone, masked: ";token=..." path parameters stay out of logs too.
            logger.exception(
                "django_trackable could not record a visit to %r", mask_url(request.path)
            )
