"""Who is on the other end of a request: IP address, browser, OS, device and location.

:class:`ClientInfo` is pure: it reads the request's headers and never touches
the database. Building one never raises, whatever the headers hold, because
recording a visit or a login must never break the request it describes.

- The IP comes from django-ipware. By default only ``REMOTE_ADDR`` is used:
  ``X-Forwarded-For`` and friends are set by whoever sends the request, so
  they are trusted only when ``IP_PROXY_COUNT`` or ``IP_TRUSTED_PROXIES`` say
  which proxies put them there.
- Browser, OS and device come from user-agents. A parse costs about a
  millisecond, so parses are cached by user-agent string.
- City and country come from a GeoIP2/GeoLite2 database when ``GEOIP_PATH``
  (or Django's ``GEOIP_PATH``) names one. The reader is opened once, on first
  use; a missing or unreadable database gives empty locations and one logged
  warning (and a system check warning), never an error.
- Every text is stripped of NUL and other control characters (PostgreSQL
  rejects NUL in text) and cut to the length of the column that stores it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ipaddress
import logging
import os
import re
import threading
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_trackable.conf import trackable_settings

if TYPE_CHECKING:
    from django.http import HttpRequest

__all__ = ["MAX_LENGTHS", "ClientInfo", "DeviceType", "anonymize_ip", "clean_text"]

logger = logging.getLogger(__name__)

#: Column sizes of the request-metadata models; every value is cut to these.
MAX_LENGTHS: Final[Mapping[str, int]] = types.MappingProxyType(
    {
        "user_agent": 512,
        "browser": 64,
        "browser_version": 32,
        "os": 64,
        "os_version": 32,
        "device": 64,
        "device_type": 8,
        "city": 128,
        "country": 2,
        "method": 16,
        "url": 2048,
        "referrer": 2048,
        "username": 254,
    }
)


class DeviceType(models.TextChoices):
    """The kind of client, from the user agent."""

    MOBILE = "mobile", _("mobile")
    TABLET = "tablet", _("tablet")
    PC = "pc", _("computer")
    BOT = "bot", _("bot")
    OTHER = "other", _("other")


# C0 and C1 controls (NUL included) and lone surrogates: no database driver
# stores the latter, and PostgreSQL rejects NUL in text.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: Any, max_length: int) -> str:
    """``value`` as storable text: control characters removed, cut to ``max_length``.

    WSGI and ASGI servers decode header bytes as Latin-1; text that was UTF-8
    on the wire is decoded again so it is stored as the client sent it.
    Never raises.
    """
    try:
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        if not text.isascii():
            with contextlib.suppress(UnicodeError):
                text = text.encode("latin-1").decode("utf-8")
        text = _UNSTORABLE.sub("", text).strip()
        return text[:max_length]
    except Exception:  # a str() that raises, say: store nothing rather than fail
        return ""


def anonymize_ip(ip: str) -> str:
    """The network of ``ip``: IPv4 cut to /24 (``203.0.113.0``), IPv6 to /48."""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@dataclasses.dataclass(frozen=True)
class ClientInfo:
    """The client of one request, ready to be stored.

    Field names match the columns of ``UserVisit``, ``LoginAttempt`` and
    ``UserDevice``; every text fits its column (:data:`MAX_LENGTHS`). ``city``
    and ``country`` (ISO 3166 code) are empty without a GeoIP database or when
    the address is not in it.
    """

    ip: str | None = None
    user_agent: str = ""
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device: str = ""
    device_type: str = "other"
    city: str = ""
    country: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> ClientInfo:
        """Read the client of ``request``. Never raises; makes no query.

        Honours ``IP_PROXY_COUNT``, ``IP_TRUSTED_PROXIES`` and ``ANONYMIZE_IP``.
        """
        try:
            meta = request.META
        except Exception:
            return cls()
        return cls.from_values(client_ip(meta), meta.get("HTTP_USER_AGENT", ""))

    @classmethod
    def from_values(cls, ip: str | None, user_agent: Any) -> ClientInfo:
        """Build from an already resolved IP and a raw user-agent string. Never raises.

        The location is looked up with the full address; with ``ANONYMIZE_IP``
        only the network is kept.
        """
        ip = _valid_ip(ip)
        agent = clean_text(user_agent, MAX_LENGTHS["user_agent"])
        try:
            city, country = _locate(ip) if ip else ("", "")
        except Exception:  # a GEOIP_PATH of the wrong type (check E003 reports it)
            logger.warning("django_trackable could not look up a location", exc_info=True)
            city = country = ""
        if ip and trackable_settings.ANONYMIZE_IP:
            ip = anonymize_ip(ip)
        return cls(ip, agent, *_parse_user_agent(agent), city=city, country=country)

    def as_fields(self) -> dict[str, Any]:
        """The values as model field names, for ``Model(**info.as_fields())``."""
        # Not dataclasses.asdict(): it deep-copies, and every value is a str or None.
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    @property
    def location(self) -> str:
        """``"Paris, FR"``, ``"FR"`` or ``""``."""
        return ", ".join(part for part in (self.city, self.country) if part)

    def __str__(self) -> str:
        client = " on ".join(part for part in (self.browser, self.os) if part)
        return " · ".join(part for part in (client, self.ip or "", self.location) if part)


_FIELD_NAMES = tuple(field.name for field in dataclasses.fields(ClientInfo))


# -- IP address --------------------------------------------------------------


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """The client's address from request ``META``, as configured. Never raises.

    Without proxy settings, ``REMOTE_ADDR``. With ``IP_PROXY_COUNT = n``, the
    address the n-th proxy from Django received the request from: django-ipware
    reads the hops ``X-Forwarded-For, REMOTE_ADDR`` from the right, so entries a
    client wrote into the header itself are never chosen. With
    ``IP_TRUSTED_PROXIES``, the hops nearest Django (``REMOTE_ADDR`` last) must
    match the list, entry by entry, or the header is ignored.
    """
    try:
        remote = meta.get("REMOTE_ADDR")
        count = trackable_settings.IP_PROXY_COUNT
        trusted = list(trackable_settings.IP_TRUSTED_PROXIES)
        if not count and not trusted:
            return _valid_ip(remote)
        forwarded = meta.get("HTTP_X_FORWARDED_FOR")
        if not isinstance(forwarded, str) or not isinstance(remote, str):
            return _valid_ip(remote)
        try:
            ip = _ipware_client_ip(f"{forwarded},{remote}", count, trusted)
        except ValueError:  # IP_TRUSTED_PROXIES that ipware refuses (check E003)
            logger.warning("django_trackable: invalid IP_TRUSTED_PROXIES", exc_info=True)
            ip = None
        return _valid_ip(ip) or _valid_ip(remote)
    except Exception:
        logger.warning("django_trackable could not read the client IP", exc_info=True)
        return None


def _ipware_client_ip(hops: str, count: int, trusted: list[str]) -> str | None:
    from ipware import get_client_ip

    # ipware reads META only; give it the complete chain, the socket peer
    # included, so REMOTE_ADDR is checked against the trusted proxies too.
    # Every option is passed explicitly so IPWARE_* Django settings cannot
    # loosen what TRACKABLE says.
    chain = cast("HttpRequest", types.SimpleNamespace(META={"HTTP_X_FORWARDED_FOR": hops}))
    ip, _routable = get_client_ip(
        chain,
        proxy_order="left-most",
        proxy_count=count,
        proxy_trusted_ips=trusted or None,
        request_header_order=("HTTP_X_FORWARDED_FOR",),
        strict=False,
        algorithm="modern",
    )
    return ip


def _valid_ip(value: Any) -> str | None:
    """``value`` as a normalised address, or ``None``; IPv6 zone ids are dropped."""
    if not isinstance(value, str) or not value or len(value) > 100:
        return None
    return _normalised_ip(value)


@functools.lru_cache(maxsize=4096)
def _normalised_ip(value: str) -> str | None:
    """:func:`_valid_ip` of a string, cached: a visit parses its address twice
    (``client_ip``, then ``from_values``), and the same addresses come back."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # A zone id ("fe80::1%eth0") names an interface of the server, not the
        # client; PostgreSQL's inet type rejects it.
        address = ipaddress.IPv6Address(int(address))
    return str(address)


# -- user agent ----------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def _parse_user_agent(agent: str) -> tuple[str, str, str, str, str, str]:
    """``(browser, browser_version, os, os_version, device, device_type)``, cached."""
    try:
        from user_agents import parse  # type: ignore[import-untyped]

        parsed = parse(agent)
        if parsed.is_bot:
            kind = "bot"
        elif parsed.is_tablet:
            kind = "tablet"
        elif parsed.is_mobile:
            kind = "mobile"
        elif parsed.is_pc:
            kind = "pc"
        else:
            kind = "other"
        values = (
            parsed.browser.family,
            parsed.browser.version_string,
            parsed.os.family,
            parsed.os.version_string,
            parsed.device.family,
        )
    except Exception:
        logger.warning("django_trackable could not parse a user agent", exc_info=True)
        return ("", "", "", "", "", "other")
    names = ("browser", "browser_version", "os", "os_version", "device")
    browser, browser_version, os_name, os_version, device = (
        clean_text(value, MAX_LENGTHS[name]) for name, value in zip(names, values, strict=True)
    )
    return (browser, browser_version, os_name, os_version, device, kind)


# -- location ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _GeoDatabase:
    reader: Any
    has_cities: bool


_geo_lock = threading.Lock()
# Keyed by the settings that name the file, so changing them opens the new one.
_geo_databases: dict[tuple[Any, Any], _GeoDatabase | None] = {}


def geoip_path() -> str | None:
    """The configured GeoIP database file: ``TRACKABLE["GEOIP_PATH"]``, else Django's.

    A directory (as Django's own ``GEOIP_PATH`` usually is) means the
    ``GEOIP_CITY`` file in it (default ``GeoLite2-City.mmdb``).
    """
    path = trackable_settings.GEOIP_PATH or getattr(settings, "GEOIP_PATH", None)
    if not path:
        return None
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, getattr(settings, "GEOIP_CITY", "GeoLite2-City.mmdb"))
    return str(path)


def open_geoip_database(path: str) -> tuple[Any, bool]:
    """Open the database at ``path``: ``(reader, has_cities)``.

    Raises ``ImportError`` without geoip2, ``OSError`` for a missing file and
    ``ValueError`` for one that is not a GeoIP2 City or Country database.
    """
    import geoip2.database

    try:
        reader = geoip2.database.Reader(path)
    except OSError:
        raise
    except Exception as exc:  # maxminddb raises its own errors for garbage
        raise ValueError(f"{path} is not a MaxMind database: {exc}") from exc
    kind = str(reader.metadata().database_type)
    if "City" in kind or "Enterprise" in kind:
        return reader, True
    if "Country" in kind:
        return reader, False
    reader.close()
    raise ValueError(f"{path} is a {kind} database, not a City or Country one")


def _geo_database() -> _GeoDatabase | None:
    key = (trackable_settings.GEOIP_PATH, getattr(settings, "GEOIP_PATH", None))
    try:
        return _geo_databases[key]
    except KeyError:
        pass
    with _geo_lock:
        if key not in _geo_databases:
            _geo_databases[key] = _open_geo_database()
        return _geo_databases[key]


def _open_geo_database() -> _GeoDatabase | None:
    path = geoip_path()
    if path is None:
        return None
    try:
        reader, has_cities = open_geoip_database(path)
    except ImportError:
        problem = "geoip2 is not installed (pip install 'django-trackable-audit[geo]')"
    except OSError as exc:
        problem = f"the file cannot be read ({exc.strerror or exc})"
    except ValueError as exc:
        problem = str(exc)
    else:
        return _GeoDatabase(reader, has_cities)
    # Logged once per configured path: _geo_databases remembers the failure.
    logger.warning("django_trackable: no locations from GeoIP database %s: %s", path, problem)
    return None


def reset_geoip() -> None:
    """Close the GeoIP reader; the next lookup opens the configured file again.

    Call it after replacing the database file (monthly GeoLite2 updates).
    """
    with _geo_lock:
        for database in _geo_databases.values():
            if database is not None:
                database.reader.close()
        _geo_databases.clear()
        _lookup.cache_clear()


def _locate(ip: str) -> tuple[str, str]:
    database = _geo_database()
    if database is None:
        return ("", "")
    return _lookup(database, ip)


@functools.lru_cache(maxsize=4096)
def _lookup(database: _GeoDatabase, ip: str) -> tuple[str, str]:
    try:
        if database.has_cities:
            found = database.reader.city(ip)
            city = found.city.name or ""
        else:
            found = database.reader.country(ip)
            city = ""
        country = found.country.iso_code or ""
    except Exception:  # not in the database, or a record of the wrong shape
        return ("", "")
    return (clean_text(city, MAX_LENGTHS["city"]), clean_text(country, MAX_LENGTHS["country"]))
