"""VisitMiddleware and UserVisit: one INSERT per recorded request, never a broken response."""

from __future__ import annotations

import datetime

import httpx
import pytest
from django.core.asgi import get_asgi_application
from django.db import connection, connections
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_trackable.client import MAX_LENGTHS
from django_trackable.history import is_masked_name
from django_trackable.middleware import VisitMiddleware
from django_trackable.models import UserVisit
from django_trackable.models.visits import mask_url
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db

VISIT_MIDDLEWARE = "django_trackable.middleware.VisitMiddleware"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
MIDDLEWARE_LOGGER = "django_trackable.middleware"


@pytest.fixture
def visits_on(settings):
    """VisitMiddleware first in MIDDLEWARE, as the docs recommend."""
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]


@pytest.fixture
def alice_client(alice, client):
    client.force_login(alice)
    return client


def inserts_into(queries, model):
    table = model._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("INSERT") and table in q["sql"]]


def test_a_request_by_a_logged_in_user_records_one_visit_with_its_details(
    visits_on, alice, alice_client
):
    before = timezone.now()

    response = alice_client.get(
        "/hello/?page=2",
        HTTP_USER_AGENT=FIREFOX,
        HTTP_REFERER="https://example.com/from",
        REMOTE_ADDR="198.51.100.7",
    )

    assert response.status_code == 200
    visit = UserVisit.objects.get()
    assert visit.user == alice
    assert (visit.method, visit.url, visit.status_code) == ("GET", "/hello/?page=2", 200)
    assert visit.referrer == "https://example.com/from"
    assert visit.ip == "198.51.100.7"
    assert (visit.browser, visit.os, visit.device_type) == ("Firefox", "Windows", "pc")
    assert visit.user_agent == FIREFOX
    assert before <= visit.timestamp <= timezone.now()


@pytest.mark.django_db(transaction=True)  # as in production: no transaction around requests
def test_recording_a_visit_costs_one_insert_and_nothing_else(settings, alice, alice_client):
    with CaptureQueriesContext(connection) as without:
        alice_client.get("/whoami/")
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]
    recording = Client()
    recording.force_login(alice)

    with CaptureQueriesContext(connection) as with_visits:
        recording.get("/whoami/")

    assert len(with_visits) == len(without) + 1
    assert len(inserts_into(with_visits, UserVisit)) == 1


def test_excluded_paths_issue_no_query_at_all(visits_on, alice_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = alice_client.get("/static/app.css")

    assert response.status_code == 404
    assert not UserVisit.objects.exists()


def test_visit_exclude_paths_are_searched_in_the_path(visits_on, settings, alice_client):
    settings.TRACKABLE = {"VISIT_EXCLUDE_PATHS": [r"hello"]}

    alice_client.get("/hello/")
    alice_client.get("/whoami/")

    assert list(UserVisit.objects.values_list("url", flat=True)) == ["/whoami/"]


def test_anonymous_requests_are_not_recorded_by_default(visits_on, client):
    client.get("/hello/")

    assert not UserVisit.objects.exists()


def test_anonymous_requests_are_recorded_with_visit_anonymous(visits_on, settings, client):
    settings.TRACKABLE = {"VISIT_ANONYMOUS": True}

    client.get("/hello/")

    visit = UserVisit.objects.get()
    assert visit.user is None
    assert visit.url == "/hello/"


def test_record_visits_false_records_nothing(visits_on, settings, alice_client):
    settings.TRACKABLE = {"RECORD_VISITS": False}

    alice_client.get("/hello/")

    assert not UserVisit.objects.exists()


def test_a_login_in_the_view_records_the_visit_for_the_new_user(visits_on, alice, client):
    client.post("/sign-in/", {"username": "alice", "password": "pw-alice"})

    visit = UserVisit.objects.get()
    assert (visit.user, visit.method, visit.url) == (alice, "POST", "/sign-in/")


def test_an_invalid_exclude_pattern_records_nothing_and_serves_the_page(
    visits_on, settings, alice_client, caplog
):
    settings.TRACKABLE = {"VISIT_EXCLUDE_PATHS": ["("]}

    response = alice_client.get("/hello/")

    assert response.content == b"hello"
    assert not UserVisit.objects.exists()
    assert "VISIT_EXCLUDE_PATHS" in caplog.text


def test_without_masked_fields_query_strings_are_kept(visits_on, settings, alice_client):
    settings.TRACKABLE = {"MASKED_FIELDS": []}

    alice_client.get("/hello/?token=abc")

    assert UserVisit.objects.get().url == "/hello/?token=abc"


def test_secrets_in_query_strings_are_masked(visits_on, alice_client):
    alice_client.get(
        "/hello/?token=abc123&page=2&api_key=k",
        HTTP_REFERER="https://example.com/?access_token=xyz&q=1",
    )

    visit = UserVisit.objects.get()
    assert visit.url == "/hello/?token=***&page=2&api_key=***"
    assert visit.referrer == "https://example.com/?access_token=***&q=1"


SECRET_NAMES = [
    "access-token",
    "api-key",
    "client-secret",
    "X-Amz-Security-Token",
    "user[password]",
    "password[]",
    "auth.token",
    "%74oken",
    "token%5B%5D",
    "user%5Bpassword%5D",
    "accessToken",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secrets_named_with_dashes_dots_brackets_or_percent_escapes_are_masked(
    visits_on, alice_client, name
):
    alice_client.get(
        f"/hello/?{name}=s3cret&page=2",
        HTTP_REFERER=f"https://example.com/from?{name}=s3cret&q=1",
    )

    visit = UserVisit.objects.get()
    assert visit.url == f"/hello/?{name}=***&page=2"
    assert visit.referrer == f"https://example.com/from?{name}=***&q=1"


def test_secrets_in_fragments_path_parameters_and_passwords_of_urls_are_masked(
    visits_on, alice_client
):
    alice_client.get(
        "/hello/;token=p4th/?next=/",
        HTTP_REFERER="https://bob:hunter2@example.com/cb;api-key=k3y/x?ok=1"
        "#access_token=fr4g&state=s&/reset?token=sp4",
    )

    visit = UserVisit.objects.get()
    assert visit.url == "/hello/%3Btoken%3D***/?next=/"  # as request.get_full_path() escapes it
    assert visit.referrer == (
        "https://bob:***@example.com/cb;api-key=***/x?ok=1#access_token=***&state=s&/reset?token=***"
    )
    stored = visit.url + visit.referrer
    assert not any(secret in stored for secret in ("p4th", "hunter2", "k3y", "fr4g", "sp4"))


@pytest.mark.parametrize(
    "url",
    [
        "/a/b;c=d/e?x=1&&y=%20z;w&=v&token&q=%41+b#frag=1&k",
        "https://user@example.com:8080/p?a=1#",
        "/?",
        "//host/path?",
        "?a==b&c=d=e",
    ],
)
def test_urls_without_secrets_are_stored_byte_for_byte(url):
    assert mask_url(url) == url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("/p?cvc=12;34&a=1", "/p?cvc=***&a=1"),
        ("/p?a=1;token=x;y&b=2", "/p?a=1;token=***&b=2"),
        ("/p#access_token=ab/cd+ef&state=1", "/p#access_token=***&state=1"),
        ("/p#/reset?token=ab/cd", "/p#/reset?token=***"),
        ("/p;token=ab;cd/next", "/p;token=***/next"),
    ],
)
def test_a_masked_value_is_hidden_up_to_the_next_pair_whatever_splits_it(url, masked):
    assert mask_url(url) == masked


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.[]%0123456789", max_size=8),
            st.text(alphabet="abcxyz%20+/:=@;?", max_size=8),
        ),
        max_size=5,
    )
)
def test_masking_changes_nothing_but_the_values_of_masked_names(pairs):
    query = "&".join(f"{name}={value}" for name, value in pairs if "=" not in value)
    expected = "&".join(
        f"{name}={'***' if is_masked_name(name) else value}"
        for name, value in pairs
        if "=" not in value
    )

    assert mask_url(f"/p?{query}") == f"/p?{expected}"


def test_a_view_that_raises_gets_the_response_it_gets_without_the_middleware(
    settings, alice, alice_client
):
    plain = Client(raise_request_exception=False)
    plain.force_login(alice)
    expected = plain.get("/boom/")
    settings.MIDDLEWARE = [VISIT_MIDDLEWARE, *settings.MIDDLEWARE]
    recording = Client(raise_request_exception=False)
    recording.force_login(alice)

    response = recording.get("/boom/")

    assert (response.status_code, response.content) == (expected.status_code, expected.content)
    assert UserVisit.objects.get().status_code == 500


def test_the_exception_of_a_view_that_raises_still_reaches_the_test_client(visits_on, alice_client):
    with pytest.raises(RuntimeError, match="boom"):
        alice_client.get("/boom/")


def test_a_failing_insert_under_atomic_requests_changes_neither_response_nor_transaction(
    visits_on, alice, alice_client, monkeypatch, caplog
):
    product = Product.objects.create(name="Lamp")
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    with connection.cursor() as cursor:  # a real failing INSERT: the table is gone
        cursor.execute("ALTER TABLE django_trackable_uservisit RENAME TO uservisit_away")

    response = alice_client.get(f"/products/{product.pk}/rename/?name=Desk")

    assert (response.status_code, response.content) == (200, b"ok")
    assert Product.objects.get(pk=product.pk).name == "Desk"  # the transaction still works
    assert any(
        r.name == MIDDLEWARE_LOGGER and "could not record a visit" in r.getMessage()
        for r in caplog.records
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE uservisit_away RENAME TO django_trackable_uservisit")


def test_a_failed_recording_logs_the_path_with_its_secrets_masked(visits_on, alice_client, caplog):
    with connection.cursor() as cursor:  # a real failing INSERT: the table is gone
        cursor.execute("ALTER TABLE django_trackable_uservisit RENAME TO uservisit_away")
    try:
        response = alice_client.get("/hello/;token=p4th/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE uservisit_away RENAME TO django_trackable_uservisit")

    assert response.status_code == 404
    messages = [r.getMessage() for r in caplog.records if r.name == MIDDLEWARE_LOGGER]
    assert messages == ["django_trackable could not record a visit to '/hello/;token=***/'"]


def test_a_broken_response_status_is_stored_as_null(rf, alice):
    response = HttpResponse()
    response.status_code = 10**6
    request = rf.get("/odd/")
    request.user = alice

    VisitMiddleware(lambda request: response)(request)

    assert UserVisit.objects.get().status_code is None


def test_recording_runs_on_the_time_the_request_arrived(rf, alice):
    arrived = []

    def view(request):
        arrived.append(timezone.now())
        return HttpResponse()

    request = rf.get("/")
    request.user = alice

    VisitMiddleware(view)(request)

    assert UserVisit.objects.get().timestamp <= arrived[0]


# -- async -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_async_middleware_records_a_visit(rf, alice):
    async def view(request):
        return HttpResponse("hi")

    middleware = VisitMiddleware(view)
    request = rf.get("/async/")
    request.user = alice

    response = await middleware(request)

    assert response.content == b"hi"
    visit = await UserVisit.objects.aget()
    assert (visit.user_id, visit.url) == (alice.pk, "/async/")


@pytest.mark.django_db(transaction=True)
async def test_the_async_middleware_skips_excluded_paths_before_the_view(rf, alice):
    async def view(request):
        return HttpResponse("static")

    request = rf.get("/static/app.js")
    request.user = alice

    response = await VisitMiddleware(view)(request)

    assert response.content == b"static"
    assert not await UserVisit.objects.aexists()


@pytest.fixture
def session_cookie(alice, client):
    client.force_login(alice)
    return client.cookies["sessionid"].value


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ahello/", "/hello/"], ids=["async-view", "sync-view"])
async def test_the_asgi_handler_records_visits_with_their_user(
    visits_on, alice, session_cookie, path
):
    transport = httpx.ASGITransport(app=get_asgi_application(), client=("198.51.100.9", 5000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={"sessionid": session_cookie}
    ) as http:
        response = await http.get(path, headers={"User-Agent": FIREFOX})

    assert response.status_code == 200
    visit = await UserVisit.objects.aget()
    assert (visit.user_id, visit.url, visit.ip, visit.browser) == (
        alice.pk,
        path,
        "198.51.100.9",
        "Firefox",
    )


@pytest.mark.django_db(transaction=True)
async def test_the_asgi_handler_skips_excluded_paths(visits_on, session_cookie):
    transport = httpx.ASGITransport(app=get_asgi_application())
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={"sessionid": session_cookie}
    ) as http:
        await http.get("/static/app.css")

    assert not await UserVisit.objects.aexists()


# -- where and how it is written -------------------------------------------------------


def test_task_backend_records_visits_through_the_task(visits_on, settings, alice, alice_client):
    settings.TRACKABLE = {"TASK_BACKEND": "default"}  # the immediate backend

    alice_client.get("/hello/", REMOTE_ADDR="198.51.100.7")

    visit = UserVisit.objects.get()
    assert (visit.user, visit.url, visit.ip) == (alice, "/hello/", "198.51.100.7")


def test_task_backend_enqueues_the_visit_instead_of_writing_it(
    visits_on, settings, alice, alice_client
):
    from django_trackable.tasks import record_visit

    settings.TRACKABLE = {"TASK_BACKEND": "dummy", "ANONYMIZE_IP": True}
    backend = record_visit.using(backend="dummy").get_backend()
    backend.clear()

    alice_client.get("/hello/?token=secret", REMOTE_ADDR="198.51.100.7")

    assert not UserVisit.objects.exists()
    (result,) = backend.results
    (payload,) = result.args
    assert payload["user_id"] == str(alice.pk)
    assert payload["url"] == "/hello/?token=***"
    assert payload["ip"] == "198.51.100.0"  # the full address never reaches the queue
    datetime.datetime.fromisoformat(payload["timestamp"])


@pytest.mark.django_db(databases=["default", "other"])
def test_visits_are_written_to_the_database_setting(visits_on, settings, alice, alice_client):
    settings.TRACKABLE = {"DATABASE": "other"}

    alice_client.get("/hello/")

    assert not UserVisit.objects.using("default").exists()
    assert UserVisit.objects.using("other").get().user_id == alice.pk
    assert UserVisit.objects.count() == 1  # reads follow the setting too


@pytest.mark.django_db(databases=["default", "other"])
def test_visits_follow_the_database_router(visits_on, settings, alice_client):
    settings.DATABASE_ROUTERS = ["tests.routers.RequestMetadataRouter"]

    alice_client.get("/hello/")

    assert not UserVisit.objects.using("default").exists()
    assert UserVisit.objects.using("other").count() == 1


def test_deleting_a_user_keeps_their_visits_without_a_user(visits_on, alice, alice_client):
    alice_client.get("/hello/")

    alice.delete()

    visit = UserVisit.objects.get()
    assert visit.user_id is None


@pytest.mark.django_db(databases=["default", "other"])
def test_deleting_a_user_nulls_their_visits_on_another_database(
    visits_on, settings, alice, alice_client
):
    settings.TRACKABLE = {"DATABASE": "other"}
    alice_client.get("/hello/")

    alice.delete()

    assert UserVisit.objects.using("other").get().user_id is None


def test_for_user_lists_the_visits_of_one_user(rf, alice, bob):
    for user in (alice, bob, alice):
        UserVisit.objects.record(rf.get("/"), user=user)

    assert UserVisit.objects.for_user(alice).count() == 2


def test_since_lists_visits_from_a_time_on(rf, alice):
    old = timezone.now() - datetime.timedelta(days=2)
    UserVisit.objects.record(rf.get("/old/"), user=alice, timestamp=old)
    UserVisit.objects.record(rf.get("/new/"), user=alice)

    recent = UserVisit.objects.since(timezone.now() - datetime.timedelta(days=1))

    assert [visit.url for visit in recent] == ["/new/"]


def test_a_visit_reads_well(rf, alice):
    visit = UserVisit.objects.record(rf.post("/x/"), HttpResponse(status=201), user=alice)

    assert str(visit) == "POST /x/ 201"


# -- anything at all -------------------------------------------------------------------

header_text = st.one_of(
    st.text(max_size=3000),
    st.binary(max_size=600).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["", "\x00", "\x00" * 3000, "%00", "%ff%fe", "/static/../x"]),
)
addresses = st.one_of(
    header_text,
    st.ip_addresses().map(str),
    st.lists(st.ip_addresses().map(str), max_size=5).map(", ".join),
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    remote=addresses,
    forwarded=addresses,
    agent=header_text,
    referrer=header_text,
    path=header_text,
    query=header_text,
    proxies=st.sampled_from([{}, {"IP_PROXY_COUNT": 1}]),
)
def test_any_headers_are_recorded_and_every_value_fits_its_column(
    rf, settings, alice, remote, forwarded, agent, referrer, path, query, proxies, caplog
):
    settings.TRACKABLE = {**proxies, "VISIT_EXCLUDE_PATHS": []}
    request = rf.get("/")
    request.path = request.path_info = "/" + path
    request.META.update(
        PATH_INFO="/" + path,
        QUERY_STRING=query,
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
        HTTP_USER_AGENT=agent,
        HTTP_REFERER=referrer,
    )
    request.user = alice
    before = UserVisit.objects.count()

    response = VisitMiddleware(lambda request: HttpResponse("ok"))(request)

    assert response.content == b"ok"
    assert UserVisit.objects.count() == before + 1, caplog.text
    visit = UserVisit.objects.latest("pk")
    for field in UserVisit._meta.concrete_fields:
        value = getattr(visit, field.attname)
        if isinstance(value, str):
            assert "\x00" not in value
            if field.max_length:
                assert len(value) <= field.max_length, field.name
    assert len(visit.user_agent) <= MAX_LENGTHS["user_agent"]


@pytest.mark.django_db(transaction=True)
def test_visits_recorded_from_threads_all_arrive(settings, alice):
    import threading

    from django.test import RequestFactory

    errors = []

    def visit(n):
        try:
            request = RequestFactory().get(f"/thread/{n}/")
            request.user = alice
            VisitMiddleware(lambda request: HttpResponse())(request)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=visit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert UserVisit.objects.count() == 4
