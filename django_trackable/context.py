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
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.utils.functional import SimpleLazyObject, empty

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
    user = _request_user(request)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # ``request.user`` is a SimpleLazyObject; hand out the real instance so it
    # can be cached on foreign keys and compared by type.
    return getattr(user, "_wrapped", user)


def _request_user(request: HttpRequest) -> Any:
    """``request.user``, without loading the user again when ``request.auser()`` has.

    ``AuthenticationMiddleware`` caches ``request.user`` and ``await
    request.auser()`` apart: after an async view (or ``login_required`` on
    one) awaited ``auser()``, reading ``request.user`` in a ``sync_to_async``
    save would query the user a second time. A user assigned to
    ``request.user`` (``login()``, ``logout()``, DRF) still wins over both.
    """
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        cached = request.__dict__.get("_acached_user")
        if cached is not None:
            return cached
    return getattr(request, "user", None)


def _request_user_loaded(request: HttpRequest) -> bool:
    """Whether :func:`_request_user` can answer without a query."""
    user = request.__dict__.get("user")
    if not isinstance(user, SimpleLazyObject) or user._wrapped is not empty:
        return True
    return "_acached_user" in request.__dict__


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


# The switches entered in this context, innermost last, each with the token
# that undoes it. Kept per context, not on the switch: one switch object (a
# module-level ``SYSTEM = acting_as(bot)``) may be entered in many threads and
# tasks at once, and in each it must undo exactly its own entry.
_entered_var: ContextVar[tuple[tuple[_ContextSwitch, Token[Any]], ...]] = ContextVar(
    "trackable_entered", default=()
)


class _ContextSwitch(abc.ABC):
    """A context manager that is also a decorator, reusable and re-entrant.

    One object may be entered in several threads or asyncio tasks at once and
    nested in itself: each entry's token is kept in the context that entered
    it. As a decorator it serves sync and async functions, and generator and
    async generator functions, whose body runs inside the switch at every
    resumption while the caller, between resumptions, sees its own context.
    """

    @abc.abstractmethod
    def _enter(self) -> Token[Any]:
        """Set the context variable; the token restores it."""

    def __enter__(self) -> None:
        token = self._enter()
        _entered_var.set((*_entered_var.get(), (self, token)))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        entered = _entered_var.get()
        for index in range(len(entered) - 1, -1, -1):
            if entered[index][0] is self:
                break
        else:
            raise RuntimeError(
                f"{type(self).__name__}() exited in a context where it was not entered "
                "(enter and exit it in the same thread or task)"
            )
        token = entered[index][1]
        _entered_var.set(entered[:index] + entered[index + 1 :])
        token.var.reset(token)

    def __call__(self, func: _F) -> _F:
        if inspect.isasyncgenfunction(func):
            return cast(_F, self._decorate_async_generator(func))
        if inspect.isgeneratorfunction(func):
            return cast(_F, self._decorate_generator(func))
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_inner(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return cast(_F, async_inner)

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return cast(_F, inner)

    def _decorate_generator(
        self, func: Callable[..., Generator[Any, Any, Any]]
    ) -> Callable[..., Generator[Any, Any, Any]]:
        @functools.wraps(func)
        def generator_inner(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            generator = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            try:
                while True:
                    with self:  # only while the body runs, never across a yield
                        try:
                            if thrown is None:
                                item = generator.send(sent)
                            else:
                                item = generator.throw(thrown)
                        except StopIteration as stop:
                            return stop.value
                    thrown = None
                    try:
                        sent = yield item
                    except GeneratorExit:
                        raise
                    except BaseException as error:  # thrown in by the caller: pass it on
                        thrown, sent = error, None
            finally:
                with self:
                    generator.close()

        return generator_inner

    def _decorate_async_generator(
        self, func: Callable[..., AsyncGenerator[Any, Any]]
    ) -> Callable[..., AsyncGenerator[Any, Any]]:
        @functools.wraps(func)
        async def async_generator_inner(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
            generator = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            try:
                while True:
                    with self:
                        try:
                            if thrown is None:
                                item = await generator.asend(sent)
                            else:
                                item = await generator.athrow(thrown)
                        except StopAsyncIteration:
                            return
                    thrown = None
                    try:
                        sent = yield item
                    except GeneratorExit:
                        raise
                    except BaseException as error:
                        thrown, sent = error, None
            finally:
                with self:
                    await generator.aclose()

        return async_generator_inner


class acting_as(_ContextSwitch):  # noqa: N801 - used like a function, as contextlib's are
    """Attribute changes to ``user`` (``None`` for "the system") inside the block.

    Works as a context manager and as a decorator of sync and async functions,
    generators and async generators; nests, and restores the previous actor on
    exit. One object may be kept and shared (``SYSTEM = acting_as(bot)`` at
    module level, ``with SYSTEM:`` in any thread or task). Extra keyword
    arguments are added to every history entry written inside
    (``acting_as(bot, reason="import")``) and nested blocks inherit them; values
    of names matched by ``MASKED_FIELDS`` are stored as ``"***"``::

        with acting_as(admin, reason="bulk fix"):
            Product.objects.filter(...).update(price=0)

    ``user`` is normally a user; anything else (``acting_as("cron")``) is
    recorded with ``user: null`` and its ``str()`` as ``user_repr``, and
    leaves ``created_by`` / ``updated_by`` empty.

    ``tenant=`` sets the current tenant for tenant-scoped models (an instance
    or a key; ``None`` for "no tenant"); without it the enclosing tenant
    stays. The tenant is not written into history entries: each row already
    says which tenant it belongs to.
    """

    def __init__(self, user: Any, *, tenant: Any = _INHERIT, **extra: Any) -> None:
        clash = RESERVED_ENTRY_KEYS.intersection(extra)
        if clash:
            raise ValueError(
                f"acting_as() cannot set reserved history keys: {', '.join(sorted(clash))}"
            )
        self.user = user
        self.tenant = tenant
        self.extra = extra

    def _enter(self) -> Token[Any]:
        outer = _actor_var.get()
        # Masked names are masked where entries are built (history.build_entry).
        extra = {**outer.extra, **self.extra} if outer is not None else dict(self.extra)
        tenant = self.tenant
        if tenant is _INHERIT and outer is not None:
            tenant = outer.tenant
        return _actor_var.set(_Actor(self.user, MappingProxyType(extra), tenant))


class tracking_disabled(_ContextSwitch):  # noqa: N801 - used like a function
    """Record nothing inside the block: no history entries and no automatic stamps.

    For data migrations, imports and fixtures-like loads. Values set explicitly
    on instances (``created_at`` from an import, say) are written as given.
    """

    def _enter(self) -> Token[Any]:
        return _disabled_var.set(True)
