"""Sample visits and logins for the demo, located with a GeoIP database built here.

MaxMind's GeoLite2 databases need an account to download, so the demo writes
a tiny GeoIP2 City database of its own with mmdb-writer (installed with the
``[dev]`` extra), mapping a few public networks to cities. Point
``TRACKABLE["GEOIP_PATH"]`` at a real GeoLite2-City.mmdb for real locations.

Visits and logins go through the package's own write paths
(``UserVisit.objects.record()``, ``LoginAttempt.objects.record()``) with requests
built by ``RequestFactory``, so they are parsed and located like real ones.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.utils import timezone

from django_trackable.client import reset_geoip
from django_trackable.models import LoginAttempt, UserVisit

#: (network, city, country): the demo database, and where the sample clients are.
PLACES = {
    "london": ("81.2.69.0/24", "London", "GB"),
    "paris": ("88.160.0.0/16", "Paris", "FR"),
    "berlin": ("85.214.0.0/16", "Berlin", "DE"),
    "new_york": ("24.24.24.0/24", "New York", "US"),
    "tokyo": ("126.0.0.0/16", "Tokyo", "JP"),
    "sao_paulo": ("177.139.0.0/16", "São Paulo", "BR"),
}

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)
CURL = "curl/8.4.0"


def geoip_path() -> Path:
    """Where the demo's GeoIP database goes (``DEMO_GEOIP`` in the demo's settings)."""
    return Path(settings.DEMO_GEOIP)


def write_demo_geoip(path: Path) -> bool:
    """Write the demo City database; False when mmdb-writer is not installed."""
    try:
        from mmdb_writer import MMDBWriter
        from netaddr import IPSet
    except ImportError:
        return False
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-City",
        languages=["en"],
        description="django_trackable demo",
    )
    for network, city, country in PLACES.values():
        writer.insert_network(
            IPSet([network]),
            {"city": {"names": {"en": city}}, "country": {"iso_code": country}},
        )
    writer.to_db_file(str(path))
    return True


@contextlib.contextmanager
def located() -> Iterator[bool]:
    """Inside, visits and logins are located with the demo database (when it can be written)."""
    path = geoip_path()
    found = write_demo_geoip(path)
    trackable = dict(settings.TRACKABLE, GEOIP_PATH=str(path) if found else None)
    with override_settings(TRACKABLE=trackable):
        reset_geoip()
        try:
            yield found
        finally:
            reset_geoip()
    reset_geoip()


class Client:
    """One person's browser at one place: logs in and browses, at the current (demo) time."""

    def __init__(self, user: Any, place: str, host: int, agent: str) -> None:
        self.user = user
        self.ip = str(ipaddress.ip_network(PLACES[place][0])[host])
        self.agent = agent
        self.factory = RequestFactory()

    def login(self, ok: bool = True, username: str | None = None) -> None:
        request = self.factory.post(
            "/admin/login/", REMOTE_ADDR=self.ip, HTTP_USER_AGENT=self.agent
        )
        LoginAttempt.objects.record(
            request,
            successful=ok,
            user=self.user if ok else None,
            username=username or self.user.get_username(),
        )

    def visit(self, *pages: str, referrer: str = "") -> None:
        """Record ``pages`` a minute apart from now: ``"/path/"``, ``"POST /path/ 302"``, ..."""
        start = timezone.now()
        for minutes, page in enumerate(pages):
            method, path, status = _page(page)
            make = self.factory.post if method == "POST" else self.factory.get
            request = make(
                path, REMOTE_ADDR=self.ip, HTTP_USER_AGENT=self.agent, HTTP_REFERER=referrer
            )
            UserVisit.objects.record(
                request,
                HttpResponse(status=status),
                user=self.user,
                timestamp=start + datetime.timedelta(minutes=minutes),
            )


def _page(page: str) -> tuple[str, str, int]:
    """``"[METHOD] /path/ [STATUS]"`` → (method, path, status); GET and 200 by default."""
    parts = page.split()
    method = parts.pop(0) if parts[0].isupper() else "GET"
    status = int(parts.pop()) if parts[-1].isdigit() else 200
    (path,) = parts
    return method, path, status
