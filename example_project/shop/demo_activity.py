"""Sample visits, logins and devices for the demo, located with a GeoIP database built here.

MaxMind's GeoLite2 databases need an account to download, so the demo writes
a tiny GeoIP2 City database of its own with mmdb-writer (installed with the
``[dev]`` extra), mapping a few public networks to cities. Point
``TRACKABLE["GEOIP_PATH"]`` at a real GeoLite2-City.mmdb for real locations.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.utils import timezone

from django_trackable.client import reset_geoip
from django_trackable.models import LoginAttempt, UserVisit

#: (network, city, country): the demo database, and where the sample clients are.
PLACES = {
    "london": ("81.2.69.0/24", "London", "GB"),
    "paris": ("88.160.0.0/16", "Paris", "FR"),
    "new_york": ("24.24.24.0/24", "New York", "US"),
    "tokyo": ("126.0.0.0/16", "Tokyo", "JP"),
    "sao_paulo": ("177.139.0.0/16", "São Paulo", "BR"),
}
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
CURL = "curl/8.4.0"


def geoip_path() -> Path:
    """Next to the demo database (so the test suite's throwaway runs stay in their dir)."""
    return Path(settings.DATABASES["default"]["NAME"]).with_name("demo-geoip.mmdb")


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


def _ip(place: str, host: int) -> str:
    return str(ipaddress.ip_network(PLACES[place][0])[host])


def seed_activity() -> bool:
    """Record the sample activity; False (nothing done) if there is some already."""
    User = get_user_model()
    users = {
        name: User._default_manager.filter(email=f"{name}@example.com").first()
        for name in ("admin", "alice", "bob")
    }
    if not all(users.values()) or UserVisit.objects.exists() or LoginAttempt.objects.exists():
        return False
    path = geoip_path()
    located = write_demo_geoip(path)
    trackable = dict(settings.TRACKABLE, GEOIP_PATH=str(path) if located else None)
    with override_settings(TRACKABLE=trackable):
        reset_geoip()
        _record(users)
    reset_geoip()
    return True


def _record(users: dict[str, Any]) -> None:
    factory = RequestFactory()
    admin, alice, bob = users["admin"], users["alice"], users["bob"]

    def login(user: Any, username: str, ok: bool, place: str, host: int, agent: str) -> None:
        request = factory.post("/admin/login/", REMOTE_ADDR=_ip(place, host), HTTP_USER_AGENT=agent)
        LoginAttempt.objects.record(
            request, successful=ok, user=user if ok else None, username=username
        )

    def visit(user: Any, path: str, place: str, host: int, agent: str, hours_ago: float) -> None:
        request = factory.get(path, REMOTE_ADDR=_ip(place, host), HTTP_USER_AGENT=agent)
        when = timezone.now() - datetime.timedelta(hours=hours_ago)
        UserVisit.objects.record(request, HttpResponse(), user=user, timestamp=when)

    login(admin, admin.email, True, "london", 10, FIREFOX_WINDOWS)
    login(alice, alice.email, True, "paris", 20, SAFARI_IPHONE)
    login(alice, alice.email, True, "paris", 21, CHROME_MAC)  # a new device: signal sent
    for _ in range(3):  # bob mistypes, then gets it right
        login(bob, bob.email, False, "sao_paulo", 30, FIREFOX_WINDOWS)
    login(bob, bob.email, True, "sao_paulo", 30, FIREFOX_WINDOWS)
    for username in ("root", "admin", "test@example.com"):  # someone guessing
        login(None, username, False, "tokyo", 99, CURL)

    visit(admin, "/admin/", "london", 10, FIREFOX_WINDOWS, 30)
    visit(admin, "/admin/shop/product/", "london", 10, FIREFOX_WINDOWS, 29.5)
    visit(alice, "/", "paris", 20, SAFARI_IPHONE, 20)
    visit(alice, "/?page=2&token=never-stored", "paris", 21, CHROME_MAC, 6)
    visit(bob, "/admin/shop/order/", "sao_paulo", 30, FIREFOX_WINDOWS, 2)
    visit(None, "/", "new_york", 40, CHROME_MAC, 1)
