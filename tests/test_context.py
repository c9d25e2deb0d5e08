"""The context-local current user: acting_as, tracking_disabled, isolation."""

from __future__ import annotations

import asyncio
import inspect
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
from tests.threads import run_in_threads


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


# -- shared, re-entrant switches ------------------------------------------------

BOT = Person("bot")
SYSTEM = acting_as(BOT)  # kept at module level, as a project would
NO_TRACKING = tracking_disabled()


def enter_in_order_and_leave_first_in_first_out(switch, read):
    """Thread "first" enters, then "second"; "first" leaves while "second" is still inside.

    Returns what each thread read inside and after its block, and what they raised.
    """
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with switch:
            first_in.set()
            second_in.wait(timeout=10)
            seen["first inside"] = read()
        seen["first after"] = read()
        first_out.set()

    def second():
        first_in.wait(timeout=10)
        with switch:
            second_in.set()
            first_out.wait(timeout=10)
            seen["second inside"] = read()
        seen["second after"] = read()

    errors = run_in_threads(lambda step: step(), [(first,), (second,)])
    return seen, errors


def test_a_shared_acting_as_object_serves_threads_inside_each_other_s_blocks():
    seen, errors = enter_in_order_and_leave_first_in_first_out(SYSTEM, get_current_user)

    assert errors == []
    assert seen == {
        "first inside": BOT,
        "first after": None,
        "second inside": BOT,
        "second after": None,
    }


async def test_a_shared_acting_as_object_serves_overlapping_tasks():
    async def act(step):
        with SYSTEM:
            await asyncio.sleep(step)
            inside = get_current_user()
        return inside, get_current_user()

    results = await asyncio.gather(act(0.01), act(0), act(0.005))

    assert results == [(BOT, None)] * 3
    assert get_current_user() is None


def test_a_shared_acting_as_object_nests_in_itself():
    alice = Person("alice")
    with SYSTEM:
        with SYSTEM:
            assert get_current_user() is BOT
        assert get_current_user() is BOT
        with acting_as(alice):
            with SYSTEM:
                assert get_current_user() is BOT
            assert get_current_user() is alice
        assert get_current_user() is BOT
    assert get_current_user() is None


def test_a_shared_tracking_disabled_object_serves_threads_inside_each_other_s_blocks():
    seen, errors = enter_in_order_and_leave_first_in_first_out(NO_TRACKING, is_tracking_enabled)

    assert errors == []
    assert seen == {
        "first inside": False,
        "first after": True,
        "second inside": False,
        "second after": True,
    }


def test_exiting_where_the_switch_was_never_entered_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not entered"):
        SYSTEM.__exit__(None, None, None)


# -- decorated generators -------------------------------------------------------


def test_acting_as_holds_for_each_resumption_of_a_decorated_generator_only():
    @acting_as(BOT)
    def users():
        for _ in range(3):
            yield get_current_user()

    between = []
    inside = []
    for user in users():
        inside.append(user)
        between.append(get_current_user())

    assert inside == [BOT, BOT, BOT]
    assert between == [None, None, None]
    assert inspect.isgeneratorfunction(users)


def test_a_decorated_generator_keeps_send_throw_close_and_its_return_value():
    cleaned = []

    @tracking_disabled()
    def echo():
        try:
            received = yield "ready"
            while received != "stop":
                try:
                    received = yield (received, is_tracking_enabled())
                except KeyError as error:
                    received = yield ("caught", error.args[0], is_tracking_enabled())
            return "done"
        finally:
            cleaned.append(is_tracking_enabled())

    def outer():
        return (yield from echo())

    generator = outer()
    assert next(generator) == "ready"
    assert generator.send("a") == ("a", False)
    assert is_tracking_enabled()
    assert generator.throw(KeyError("k")) == ("caught", "k", False)
    with pytest.raises(StopIteration) as stop:
        generator.send("stop")
    assert stop.value.value == "done"
    assert cleaned == [False]

    closing = echo()
    next(closing)
    closing.close()
    assert cleaned == [False, False]
    assert is_tracking_enabled()


async def test_acting_as_holds_for_each_resumption_of_a_decorated_async_generator_only():
    @acting_as(BOT, reason="stream")
    async def users():
        for _ in range(3):
            await asyncio.sleep(0)
            yield get_current_user(), dict(get_current_extra())

    between = []
    inside = []
    async for user in users():
        inside.append(user)
        between.append(get_current_user())

    assert inside == [(BOT, {"reason": "stream"})] * 3
    assert between == [None, None, None]
    assert inspect.isasyncgenfunction(users)


async def test_a_decorated_async_generator_keeps_asend_athrow_and_aclose():
    cleaned = []

    @tracking_disabled()
    async def echo():
        try:
            received = yield "ready"
            while True:
                try:
                    received = yield (received, is_tracking_enabled())
                except KeyError:
                    received = yield ("caught", is_tracking_enabled())
        finally:
            cleaned.append(is_tracking_enabled())

    generator = echo()
    assert await generator.asend(None) == "ready"
    assert await generator.asend("a") == ("a", False)
    assert is_tracking_enabled()
    assert await generator.athrow(KeyError("k")) == ("caught", False)
    await generator.aclose()
    assert cleaned == [False]
    assert is_tracking_enabled()


async def test_decorated_async_generators_in_concurrent_tasks_see_only_their_own_actor():
    people = [Person(f"user{i}") for i in range(5)]

    def streamer(person):
        @acting_as(person)
        async def stream():
            for _ in range(3):
                await asyncio.sleep(0)
                yield get_current_user()

        return stream

    async def consume(person):
        return [user async for user in streamer(person)()]

    results = await asyncio.gather(*(consume(person) for person in people))
    assert results == [[person] * 3 for person in people]
