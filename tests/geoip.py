"""Tiny GeoIP2 databases built with mmdb-writer, for the location tests."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

#: Addresses the test databases know.
LONDON = "81.2.69.142"
PARIS_V6 = "2a01:e0a:1:2::7"


def write_city_database(path: Path) -> Path:
    """A City database: 81.2.69.0/24 is London, GB; 2a01:e0a::/32 is Paris, FR."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-City",
        languages=["en"],
        description="django_trackable tests",
    )
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {"city": {"names": {"en": "London"}}, "country": {"iso_code": "GB"}},
    )
    writer.insert_network(
        IPSet(["2a01:e0a::/32"]),
        {"city": {"names": {"en": "Paris"}}, "country": {"iso_code": "FR"}},
    )
    writer.to_db_file(str(path))
    return path


def write_country_database(path: Path) -> Path:
    """A Country database: 81.2.69.0/24 is GB."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-Country",
        languages=["en"],
        description="django_trackable tests",
    )
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": {"iso_code": "GB"}})
    writer.to_db_file(str(path))
    return path
