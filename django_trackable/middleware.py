"""Middleware that makes the request (and so its user) known to saves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from django_trackable.context import _bind_request, _unbind_request

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

__all__ = ["CurrentUserMiddleware"]


class CurrentUserMiddleware:
    """Bind the request to the context for the duration of the view.

    Sync and async capable. It does not touch ``request.user``: the user is
    read when a tracked model is saved (see :func:`~django_trackable.context.get_current_user`),
    so a request that saves nothing costs no extra query, and users that DRF
    authenticates inside the view are attributed. The binding is undone when
    the response is returned *or the view raises*.

    Place it anywhere in ``MIDDLEWARE``; conventionally right after
    ``django.contrib.auth.middleware.AuthenticationMiddleware``.
    """

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
            markcoroutinefunction(self)

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
