"""Who is acting right now: context-local state for requests, tasks and scripts.

Everything here lives in :class:`contextvars.ContextVar` objects, so it is
correct under WSGI worker threads, ASGI, async views and ``sync_to_async``
hops, and it never leaks from one request into the next.

The current user is *resolved when a change is saved*, not when the request
starts: :class:`~django_trackable.middleware.CurrentUserMiddleware` stores only
the request, and :func:`get_current_user` reads ``request.user`` on demand.
That keeps requests that save nothing free of session and user queries, and it
attributes users that Django REST framework authenticates inside the view.

The current *tenant* (for :class:`~django_trackable.models.TenantScopedModel`)
works the same way: ``acting_as(user, tenant=...)`` sets it explicitly;
otherwise the ``TENANT_RESOLVER`` setting is called with the request the
first time a tenant is needed in that request.
"""

from __future__ import annotations

import abc
import functools
import inspect
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from django.http import HttpRequest

__all__ = [
    "RESERVED_ENTRY_KEYS",
    "acting_as",
    "get_current_extra",
    "get_current_request",
    "get_current_tenant",
    "get_current_user",
    "is_tracking_enabled",
    "tracking_disabled",
]

#: Keys of a history entry that ``acting_as(**extra)`` may not override.
RESERVED_ENTRY_KEYS = frozenset({"action", "timestamp", "user", "user_repr", "changes"})

_F = TypeVar("_F", bound=Callable[..., Any])


#: ``acting_as()`` without ``tenant=``: keep the tenant of the enclosing context.
_INHERIT: Any = object()
#: Marks a request whose tenant is being resolved (the resolver may query).
_RESOLVING: Any = object()
_REQUEST_TENANT = "_trackable_tenant"


@dataclass(frozen=True)
class _Actor:
    user: Any
    extra: Mapping[str, Any] = field(default_factory=dict)
    tenant: Any = _INHERIT


_request_var: ContextVar[HttpRequest | None] = ContextVar("trackable_request", default=None)
_actor_var: ContextVar[_Actor | None] = ContextVar("trackable_actor", default=None)
_disabled_var: ContextVar[bool] = ContextVar("trackable_disabled", default=False)

_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def get_current_request() -> HttpRequest | None:
    """The request being handled in this context, or ``None`` outside a request."""
    return _request_var.get()


def get_current_user() -> Any:
    """The acting user, or ``None`` for anonymous and system activity.

    An explicit :class:`acting_as` wins over the request. Otherwise the
    request's ``user`` is read now, which may run the session and user queries
    the first time it is called in a request (never when nothing is saved).
    """
    actor = _actor_var.get()
    if actor is not None:
        return actor.user
    request = _request_var.get()
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # ``request.user`` is a SimpleLazyObject; hand out the real instance so it
    # can be cached on foreign keys and compared by type.
    return getattr(user, "_wrapped", user)


def get_current_extra() -> Mapping[str, Any]:
    """Extra keys given to the innermost :class:`acting_as`, added to history entries."""
    actor = _actor_var.get()
    return actor.extra if actor is not None else _NO_EXTRA


def get_current_tenant() -> Any:
    """The current tenant (an instance or a key), or ``None`` when there is none.

    An ``acting_as(..., tenant=...)`` block wins (``tenant=None`` means "no
    tenant" inside it). Otherwise, during a request bound by
    :class:`~django_trackable.middleware.CurrentUserMiddleware`, the
    ``TENANT_RESOLVER`` setting is called with the request once, the first
    time this is asked, and its answer is kept on the request. Outside both,
    ``None``.
    """
    actor = _actor_var.get()
    if actor is not None and actor.tenant is not _INHERIT:
        return actor.tenant
    request = _request_var.get()
    if request is None:
        return None
    return _request_tenant(request)


def _request_tenant(request: HttpRequest) -> Any:
    cached = request.__dict__.get(_REQUEST_TENANT, _INHERIT)
    if cached is not _INHERIT:
        return None if cached is _RESOLVING else cached
    from django_trackable.conf import trackable_settings

    path = trackable_settings.TENANT_RESOLVER
    if not path:
        return None
    from django.utils.module_loading import import_string

    # A resolver that reads tenant-scoped models must not recurse into itself.
    request.__dict__[_REQUEST_TENANT] = _RESOLVING
    try:
        tenant = import_string(path)(request)
    except BaseException:
        del request.__dict__[_REQUEST_TENANT]
        raise
    request.__dict__[_REQUEST_TENANT] = tenant
    return tenant


def is_tracking_enabled() -> bool:
    """False inside :class:`tracking_disabled`."""
    return not _disabled_var.get()


def _bind_request(request: HttpRequest) -> Token[HttpRequest | None]:
    return _request_var.set(request)


def _unbind_request(token: Token[HttpRequest | None]) -> None:
    _request_var.reset(token)


class _ContextSwitch(abc.ABC):
    """A context manager that is also a decorator for sync and async callables.

    Each decorated call enters a fresh copy, so one decorator object can serve
    concurrent calls in different threads or tasks.
    """

    def __init__(self) -> None:
        self._tokens: list[Token[Any]] = []

    @abc.abstractmethod
    def _copy(self) -> _ContextSwitch:
        """A fresh, unentered switch with the same arguments."""

    @abc.abstractmethod
    def _enter(self) -> Token[Any]:
        """Set the context variable; the token restores it."""

    def __enter__(self) -> None:
        self._tokens.append(self._enter())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        token = self._tokens.pop()
        token.var.reset(token)

    def __call__(self, func: _F) -> _F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_inner(*args: Any, **kwargs: Any) -> Any:
                with self._copy():
                    return await func(*args, **kwargs)

            return cast(_F, async_inner)

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with self._copy():
                return func(*args, **kwargs)

        return cast(_F, inner)


class acting_as(_ContextSwitch):  # noqa: N801 - used like a function, as contextlib's are
    """Attribute changes to ``user`` (``None`` for "the system") inside the block.

    Works as a context manager and as a decorator of sync or async functions;
    nests, and restores the previous actor on exit. Extra keyword arguments are
    added to every history entry written inside (``acting_as(bot, reason="import")``)
    and nested blocks inherit them; values of names matched by ``MASKED_FIELDS``
    are stored as ``"***"``::

        with acting_as(admin, reason="bulk fix"):
            Product.objects.filter(...).update(price=0)

    ``tenant=`` sets the current tenant for tenant-scoped models (an instance
    or a key; ``None`` for "no tenant"); without it the enclosing tenant
    stays. The tenant is not written into history entries: each row already
    says which tenant it belongs to.
    """

    def __init__(self, user: Any, *, tenant: Any = _INHERIT, **extra: Any) -> None:
        super().__init__()
        clash = RESERVED_ENTRY_KEYS.intersection(extra)
        if clash:
            raise ValueError(
                f"acting_as() cannot set reserved history keys: {', '.join(sorted(clash))}"
            )
        self.user = user
        self.tenant = tenant
        self.extra = extra

    def _copy(self) -> acting_as:
        return acting_as(self.user, tenant=self.tenant, **self.extra)

    def _enter(self) -> Token[Any]:
        outer = _actor_var.get()
        own = _masked_extra(self.extra)
        extra = {**outer.extra, **own} if outer is not None else own
        tenant = self.tenant
        if tenant is _INHERIT and outer is not None:
            tenant = outer.tenant
        return _actor_var.set(_Actor(self.user, MappingProxyType(extra), tenant))


def _masked_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` with the values of keys named like ``MASKED_FIELDS`` replaced by ``"***"``.

    Extras reach every store that records the act (history entries, the audit
    log), so a token passed as ``acting_as(bot, api_token=...)`` is hidden by
    the same name rule as a model field.
    """
    if not extra:
        return {}
    from django_trackable.conf import trackable_settings
    from django_trackable.history import mask_by_name, masked_name_matcher

    return mask_by_name(extra, masked_name_matcher(trackable_settings.MASKED_FIELDS))


class tracking_disabled(_ContextSwitch):  # noqa: N801 - used like a function
    """Record nothing inside the block: no history entries and no automatic stamps.

    For data migrations, imports and fixtures-like loads. Values set explicitly
    on instances (``created_at`` from an import, say) are written as given.
    """

    def _copy(self) -> tracking_disabled:
        return tracking_disabled()

    def _enter(self) -> Token[Any]:
        return _disabled_var.set(True)
