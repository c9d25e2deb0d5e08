"""CurrentUserMiddleware through real requests: test client, ASGI handler, threads, DRF."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.asgi import get_asgi_application
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token

from django_trackable.context import get_current_request, get_current_user
from django_trackable.middleware import CurrentUserMiddleware
from tests.testapp.models import Product
from tests.threads import run_in_threads


@pytest.fixture
def product(db):
    return Product.objects.create(name="Lamp")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_save_in_a_view_stamps_the_logged_in_user(product, alice):
    response = logged_in(alice).get(f"/products/{product.pk}/rename/?name=Desk")

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.updated_by == alice
    assert product.history[-1]["user_repr"] == "alice"


def test_anonymous_save_records_no_user(product):
    Client().get(f"/products/{product.pk}/rename/?name=Desk")

    product.refresh_from_db()
    assert product.updated_by is None
    assert product.history[-1]["user"] is None


def test_request_that_saves_nothing_costs_no_session_or_user_query(
    product, alice, django_assert_num_queries
):
    client = logged_in(alice)
    with django_assert_num_queries(1):  # the view's own SELECT only
        response = client.get(f"/products/{product.pk}/")
    assert response.content == b"Lamp"


def test_view_that_raises_leaves_nothing_in_the_context(alice):
    client = logged_in(alice)
    client.raise_request_exception = False
    response = client.get("/boom/")

    assert response.status_code == 500
    assert get_current_request() is None
    assert get_current_user() is None


def test_sync_middleware_resets_the_context_when_get_response_raises(rf):
    def view(request):
        assert get_current_request() is request
        raise RuntimeError("boom")

    middleware = CurrentUserMiddleware(view)
    with pytest.raises(RuntimeError):
        middleware(rf.get("/"))
    assert get_current_request() is None


async def test_async_middleware_binds_and_resets_the_context():
    seen = []

    async def view(request):
        seen.append(get_current_request())
        raise RuntimeError("boom")

    middleware = CurrentUserMiddleware(view)
    assert asyncio.iscoroutinefunction(middleware)
    request = RequestFactory().get("/")
    with pytest.raises(RuntimeError):
        await middleware(request)
    assert seen == [request]
    assert get_current_request() is None


def test_drf_token_authenticated_user_is_stamped(product, alice):
    token = Token.objects.create(user=alice)
    response = Client().patch(
        f"/api/products/{product.pk}/",
        data={"name": "Desk"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.name == "Desk"
    assert product.updated_by == alice
    assert product.history[-1]["user"] == alice.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_in_threads_each_stamp_their_own_user(django_user_model):
    users = [django_user_model.objects.create_user(f"user{i}") for i in range(8)]
    products = [Product.objects.create(name=f"p{i}") for i in range(8)]
    clients = [logged_in(user) for user in users]
    barrier = threading.Barrier(len(users))
    failures = []

    def work(index):
        barrier.wait()
        for round_ in range(5):
            response = clients[index].get(f"/products/{products[index].pk}/rename/?name=r{round_}")
            if response.status_code != 200:
                failures.append(response.status_code)

    failures += run_in_threads(work, [(i,) for i in range(len(users))])

    assert failures == []
    for user, product in zip(users, products, strict=True):
        product.refresh_from_db()
        updates = product.history[1:]
        assert len(updates) == 5
        assert {entry["user"] for entry in updates} == {user.pk}


@pytest.mark.django_db(transaction=True)
async def test_concurrent_asgi_requests_each_stamp_their_own_user(django_user_model):
    from asgiref.sync import sync_to_async

    @sync_to_async
    def setup():
        users = [django_user_model.objects.create_user(f"user{i}") for i in range(6)]
        products = [Product.objects.create(name=f"p{i}") for i in range(6)]
        cookies = []
        for user in users:
            client = Client()
            client.force_login(user)
            cookies.append(client.cookies["sessionid"].value)
        return users, products, cookies

    users, products, cookies = await setup()
    transport = httpx.ASGITransport(app=get_asgi_application())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def rename(index, round_):
            path = "arename" if round_ % 2 else "rename"
            response = await client.get(
                f"/products/{products[index].pk}/{path}/?name=r{round_}",
                headers={"Cookie": f"sessionid={cookies[index]}"},
            )
            return response.status_code

        statuses = await asyncio.gather(
            *(rename(index, round_) for round_ in range(4) for index in range(len(users)))
        )
        whoami = await client.get("/whoami/", headers={"Cookie": f"sessionid={cookies[0]}"})

    assert set(statuses) == {200}
    assert whoami.json() == {"user": "user0"}

    @sync_to_async
    def check():
        for user, product in zip(users, products, strict=True):
            product.refresh_from_db()
            assert [entry["user"] for entry in product.history[1:]] == [user.pk] * 4

    await check()


def test_admin_change_form_records_the_staff_user(product, django_user_model):
    staff = django_user_model.objects.create_superuser("staff", password="pw-staff")
    client = logged_in(staff)
    response = client.post(
        f"/admin/testapp/product/{product.pk}/change/",
        {"name": "Desk", "price": "3.50", "quantity": "2", "notes": ""},
    )

    assert response.status_code == 302, response.content
    product.refresh_from_db()
    assert product.updated_by == staff
    assert product.history[-1]["changes"] == {
        "name": ["Lamp", "Desk"],
        "price": ["0.00", "3.50"],
        "quantity": [0, 2],
    }


# -- the ASGI path: the user loaded once, thread hops counted -----------------------


def authenticated_request(user):
    """A request through Session and Authentication middleware, as a view gets it."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    cookie = logged_in(user).cookies["sessionid"].value
    request = RequestFactory().get("/", HTTP_COOKIE=f"sessionid={cookie}")
    SessionMiddleware(lambda request: None).process_request(request)
    AuthenticationMiddleware(lambda request: None).process_request(request)
    return request


def test_the_user_request_auser_loaded_is_not_queried_again_by_a_save(
    alice, django_assert_num_queries
):
    request = authenticated_request(alice)
    async_to_sync(request.auser)()  # as an async view or login_required on one does

    with django_assert_num_queries(0):
        CurrentUserMiddleware(lambda request: get_current_user() == alice)(request)
    assert CurrentUserMiddleware(lambda request: get_current_user())(request) == alice


def test_a_user_logged_in_by_the_view_wins_over_the_one_auser_loaded(alice, bob):
    from django.contrib.auth import login

    request = authenticated_request(alice)
    async_to_sync(request.auser)()

    def view(request):
        login(request, bob)
        return get_current_user()

    assert CurrentUserMiddleware(view)(request) == bob


@pytest.fixture
def hops(monkeypatch):
    """Counts sync_to_async calls (thread hops), by the name of the function hopped to.

    A spy, not a stub: the real ``SyncToAsync.__call__`` runs.
    """
    from collections import Counter

    from asgiref.sync import SyncToAsync

    counted = Counter()
    real_call = SyncToAsync.__call__

    def counting(self, *args, **kwargs):
        counted[getattr(self.func, "__qualname__", repr(self.func))] += 1
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    return counted


async def hops_of_a_request(hops, settings, middleware, path, cookie):
    from django.core.handlers.asgi import ASGIHandler

    settings.MIDDLEWARE = middleware
    transport = httpx.ASGITransport(app=ASGIHandler())
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={"sessionid": cookie}
    ) as http:
        assert (await http.get(path)).status_code == 200  # warm: the first request loads more
        hops.clear()
        assert (await http.get(path)).status_code == 200
    return dict(hops)


@pytest.fixture
def alice_cookie(alice):
    return logged_in(alice).cookies["sessionid"].value


AUTH = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ahello/", "/hello/"], ids=["async-view", "sync-view"])
async def test_current_user_middleware_adds_no_thread_hop_under_asgi(
    hops, settings, alice_cookie, path
):
    cookie = alice_cookie
    plain = await hops_of_a_request(hops, settings, AUTH, path, cookie)
    tracked = await hops_of_a_request(
        hops, settings, [*AUTH, "django_trackable.middleware.CurrentUserMiddleware"], path, cookie
    )

    assert tracked == plain


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ahello/", "/hello/"], ids=["async-view", "sync-view"])
async def test_visit_middleware_adds_one_thread_hop_under_asgi_to_record_the_visit(
    hops, settings, alice_cookie, path
):
    cookie = alice_cookie
    plain = await hops_of_a_request(hops, settings, AUTH, path, cookie)
    visits = await hops_of_a_request(
        hops, settings, ["django_trackable.middleware.VisitMiddleware", *AUTH], path, cookie
    )

    assert visits == {**plain, "VisitMiddleware.record": 1}


@pytest.mark.django_db(transaction=True)
async def test_buffered_visit_middleware_adds_no_thread_hop_under_asgi_once_the_user_is_loaded(
    hops, settings, alice_cookie
):
    from django_trackable.buffering import flush_visits

    tracking = [*AUTH, "django_trackable.middleware.CurrentUserMiddleware"]
    plain = await hops_of_a_request(hops, settings, tracking, "/whoami/", alice_cookie)
    settings.TRACKABLE = {"VISIT_BUFFER_SIZE": 100, "VISIT_BUFFER_SECONDS": 3600}
    try:
        buffered = await hops_of_a_request(
            hops,
            settings,
            ["django_trackable.middleware.VisitMiddleware", *tracking],
            "/whoami/",
            alice_cookie,
        )
    finally:
        written = await sync_to_async(flush_visits)()

    assert buffered == plain
    assert written == 2  # the warming request's visit and the counted one's
