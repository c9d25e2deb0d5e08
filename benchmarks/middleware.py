"""Cost per request of VisitMiddleware, against the same view without it, in one run.

    python -m benchmarks.middleware                             # SQLite (a file in the temp dir)
    bash .ci/with-postgres.sh python -m benchmarks.middleware   # PostgreSQL

Two WSGI handlers serve the same views: one with Session and Authentication
middleware, one with VisitMiddleware in front of them. Requests go through
the full Django handler (no test client), in samples of ``--requests``,
interleaved (plain, visits, visits, plain, ...) for ``--rounds`` rounds; the
report gives the median time per request, the ratio, the added time and the
queries per request. Database connections are persistent and inserts commit
as in production (SQLite in WAL mode without a sync per commit). Every
request sends the same User-Agent, so its parse comes from the cache, as it
does for a site's returning browsers; the cost of an uncached parse is
reported separately.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.middleware_settings")
django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from benchmarks.database import ensure_database  # noqa: E402
from django_trackable.client import ClientInfo, _parse_user_agent  # noqa: E402
from django_trackable.models import UserVisit  # noqa: E402

USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
PLAIN = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
VISITS = ["django_trackable.middleware.VisitMiddleware", *PLAIN]


def create_tables() -> None:
    ensure_database()
    call_command("migrate", verbosity=0)
    UserVisit.objects.all().delete()


def handler(middleware: list[str]) -> WSGIHandler:
    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()  # loads its middleware chain now, once


def environ(path: str, cookie: str, server_name: str = "testserver") -> dict[str, Any]:
    """A GET of ``path`` as a WSGI server hands it to Django (``benchmarks.request_cpu``
    too), with the session ``cookie`` if any."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": server_name,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.7",
        "HTTP_USER_AGENT": USER_AGENT,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie:
        env["HTTP_COOKIE"] = f"sessionid={cookie}"
    return env


def serve(app: WSGIHandler, path: str, cookie: str) -> None:
    response = app(environ(path, cookie), lambda status, headers: None)
    b"".join(response)
    response.close()  # sends request_finished, as a server does


def measure(path: str, cookie: str, rounds: int, requests: int) -> dict[str, Any]:
    apps = {"plain": handler(PLAIN), "visits": handler(VISITS)}
    queries = {}
    for name, app in apps.items():
        serve(app, path, cookie)  # warm: URL resolver, session, parse cache
        with CaptureQueriesContext(connection) as captured:
            serve(app, path, cookie)
        queries[name] = len(captured)
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for round_ in range(rounds):
        order = ("plain", "visits") if round_ % 2 == 0 else ("visits", "plain")
        for name in order:
            app = apps[name]
            start = time.perf_counter()
            for _ in range(requests):
                serve(app, path, cookie)
            samples[name].append((time.perf_counter() - start) / requests)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "us": {name: value * 1e6 for name, value in medians.items()},
        "ratio": medians["visits"] / medians["plain"],
        "queries": queries,
    }


def client_info_us(agent: Callable[[int], str], runs: int) -> float:
    from django.test import RequestFactory

    requests = [RequestFactory().get("/", HTTP_USER_AGENT=agent(i)) for i in range(runs)]
    start = time.perf_counter()
    for request in requests:
        ClientInfo.from_request(request)
    return (time.perf_counter() - start) / runs * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=200, help="requests per sample")
    args = parser.parse_args(argv)
    create_tables()
    user_model = django.apps.apps.get_model("auth", "User")
    user, _ = user_model.objects.get_or_create(username="bench")
    browser = Client()
    browser.force_login(user)
    cookie = browser.cookies["sessionid"].value

    if connection.vendor == "sqlite":
        database = f"SQLite {connection.Database.sqlite_version}"
    else:
        version = connection.pg_version
        database = f"PostgreSQL {version // 10000}.{version % 100}"
    print(
        f"VisitMiddleware benchmark: {database}, Django {django.get_version()}, "
        f"Python {sys.version.split()[0]}, {args.rounds} rounds of {args.requests} requests "
        "(median per request)"
    )
    header = f"{'request':46} {'plain':>8} {'visits':>8} {'ratio':>6} {'added':>8} {'queries':>8}"
    print(header)
    print("-" * len(header))
    scenarios = [
        ("anonymous, VISIT_ANONYMOUS=True", "/page/", ""),
        ("logged in, view reads request.user", "/whoami/", cookie),
        ("logged in, view never reads request.user", "/page/", cookie),
        ("excluded path (/static/...)", "/static/app.css", cookie),
    ]
    for label, path, session in scenarios:
        result = measure(path, session, args.rounds, args.requests)
        us, queries = result["us"], result["queries"]
        print(
            f"{label:46} {us['plain']:>6.0f}µs {us['visits']:>6.0f}µs {result['ratio']:>5.2f}× "
            f"{us['visits'] - us['plain']:>+6.0f}µs {queries['plain']:>3} → {queries['visits']:<3}"
        )
    cached = client_info_us(lambda i: USER_AGENT, 2000)
    _parse_user_agent.cache_clear()
    uncached = client_info_us(lambda i: f"{USER_AGENT} build/{i}", 300)
    print(
        f"\nClientInfo.from_request(): {cached:.0f}µs with the user agent's parse cached, "
        f"{uncached:.0f}µs for a user agent seen for the first time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
