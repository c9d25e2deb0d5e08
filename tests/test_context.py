"""The context-local current user: acting_as, tracking_disabled, isolation."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from django_trackable.context import (
    _bind_request,
    _unbind_request,
    acting_as,
    get_current_extra,
    get_current_request,
    get_current_user,
    is_tracking_enabled,
    tracking_disabled,
)


class Person:
    def __init__(self, name, authenticated=True):
        self.name = name
        self.pk = name
        self.is_authenticated = authenticated


def test_nothing_is_current_outside_requests_and_blocks():
    assert get_current_user() is None
    assert get_current_request() is None
    assert dict(get_current_extra()) == {}
    assert is_tracking_enabled()


def test_acting_as_nests_and_restores():
    alice, bob = Person("alice"), Person("bob")
    with acting_as(alice, reason="outer"):
        assert get_current_user() is alice
        with acting_as(bob, ticket=7):
            assert get_current_user() is bob
            assert dict(get_current_extra()) == {"reason": "outer", "ticket": 7}
        assert get_current_user() is alice
        assert dict(get_current_extra()) == {"reason": "outer"}
    assert get_current_user() is None


def test_acting_as_none_means_the_system_even_inside_a_request():
    request = RequestFactory().get("/")
    request.user = Person("alice")
    token = _bind_request(request)
    try:
        assert get_current_user() is request.user
        with acting_as(None):
            assert get_current_user() is None
    finally:
        _unbind_request(token)


def test_acting_as_restores_when_the_block_raises():
    with pytest.raises(RuntimeError), acting_as(Person("alice")):
        raise RuntimeError("view failed")
    assert get_current_user() is None


def test_acting_as_rejects_reserved_entry_keys():
    with pytest.raises(ValueError, match="user_repr"):
        acting_as(None, user_repr="x")


def test_acting_as_decorates_sync_functions_with_a_fresh_context_per_call():
    alice = Person("alice")

    @acting_as(alice)
    def who():
        return get_current_user()

    assert who() is alice
    assert get_current_user() is None


def test_one_decorator_serves_concurrent_threads():
    alice = Person("alice")
    seen = []
    barrier = threading.Barrier(4)

    @acting_as(alice)
    def who():
        barrier.wait()
        seen.append(get_current_user())

    threads = [threading.Thread(target=who) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [alice] * 4


async def test_acting_as_decorates_coroutines():
    alice = Person("alice")

    @acting_as(alice)
    async def who():
        await asyncio.sleep(0)
        return get_current_user()

    assert await who() is alice
    assert get_current_user() is None


async def test_concurrent_tasks_never_see_each_others_user():
    people = [Person(f"user{i}") for i in range(20)]

    async def act(person):
        with acting_as(person):
            await asyncio.sleep(0.001)
            return get_current_user(), await sync_to_async(get_current_user)()

    results = await asyncio.gather(*(act(person) for person in people))
    assert results == [(person, person) for person in people]


def test_threads_do_not_share_the_current_user():
    errors = []

    def work(person):
        with acting_as(person):
            for _ in range(200):
                if get_current_user() is not person:
                    errors.append(person)

    threads = [threading.Thread(target=work, args=(Person(str(i)),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_request_user_is_read_lazily_and_anonymous_is_none():
    request = RequestFactory().get("/")
    reads = []

    class LazyUser:
        @property
        def is_authenticated(self):
            reads.append(1)
            return False

    request.user = LazyUser()
    token = _bind_request(request)
    try:
        assert reads == []
        assert get_current_request() is request
        assert get_current_user() is None
        assert reads == [1]
    finally:
        _unbind_request(token)


def test_anonymous_user_and_missing_auth_middleware_give_no_user():
    request = RequestFactory().get("/")
    token = _bind_request(request)
    try:
        assert get_current_user() is None  # no request.user at all
        request.user = AnonymousUser()
        assert get_current_user() is None
    finally:
        _unbind_request(token)


def test_tracking_disabled_nests_and_decorates():
    @tracking_disabled()
    def inner():
        return is_tracking_enabled()

    with tracking_disabled():
        assert not is_tracking_enabled()
        with tracking_disabled():
            assert not is_tracking_enabled()
        assert not is_tracking_enabled()
    assert is_tracking_enabled()
    assert inner() is False
    assert is_tracking_enabled()
