"""ClientInfo: IP address, user agent and location of a request; never raises."""

from __future__ import annotations

import dataclasses
import logging
import sys

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_trackable.client import (
    MAX_LENGTHS,
    ClientInfo,
    _parse_user_agent,
    anonymize_ip,
    clean_text,
    reset_geoip,
)
from tests.geoip import LONDON, PARIS_V6, write_city_database, write_country_database

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

GEO_LOGGER = "django_trackable.client"


@pytest.fixture(autouse=True)
def _fresh_geoip():
    reset_geoip()
    yield
    reset_geoip()


def info(rf, **meta):
    return ClientInfo.from_request(rf.get("/", **meta))


def geo_warnings(caplog):
    return [r for r in caplog.records if r.name == GEO_LOGGER and r.levelno == logging.WARNING]


# -- IP address ----------------------------------------------------------------


def test_the_ip_is_remote_addr_by_default(rf):
    assert info(rf, REMOTE_ADDR="198.51.100.7").ip == "198.51.100.7"


def test_a_forged_x_forwarded_for_is_ignored_by_default(rf):
    client = info(rf, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.66")

    assert client.ip == "198.51.100.7"


def test_ipware_settings_cannot_make_the_default_trust_headers(rf, settings):
    settings.IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

    client = info(rf, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.66")

    assert client.ip == "198.51.100.7"


def test_behind_one_proxy_the_address_it_forwarded_for_is_the_ip(rf, settings):
    settings.TRACKABLE = {"IP_PROXY_COUNT": 1}

    client = info(rf, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert client.ip == "203.0.113.7"


def test_behind_one_proxy_addresses_the_client_put_in_the_header_are_ignored(rf, settings):
    settings.TRACKABLE = {"IP_PROXY_COUNT": 1}

    # The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the real peer.
    client = info(rf, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")

    assert client.ip == "203.0.113.7"


def test_behind_two_proxies_the_second_address_from_the_right_is_the_ip(rf, settings):
    settings.TRACKABLE = {"IP_PROXY_COUNT": 2}

    client = info(rf, REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2")

    assert client.ip == "203.0.113.7"


def test_with_a_proxy_count_a_request_without_the_header_uses_remote_addr(rf, settings):
    settings.TRACKABLE = {"IP_PROXY_COUNT": 1}

    assert info(rf, REMOTE_ADDR="198.51.100.7").ip == "198.51.100.7"


def test_a_trusted_proxy_peer_makes_x_forwarded_for_count(rf, settings):
    settings.TRACKABLE = {"IP_TRUSTED_PROXIES": ["10.0.0.0/8"]}

    client = info(rf, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")

    assert client.ip == "203.0.113.7"


def test_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(rf, settings):
    settings.TRACKABLE = {"IP_TRUSTED_PROXIES": ["10.0.0.0/8"]}

    client = info(rf, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.66")

    assert client.ip == "198.51.100.7"


def test_invalid_trusted_proxies_fall_back_to_remote_addr(rf, settings, caplog):
    settings.TRACKABLE = {"IP_TRUSTED_PROXIES": ["not a proxy"]}

    client = info(rf, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.66")

    assert client.ip == "198.51.100.7"
    assert "invalid IP_TRUSTED_PROXIES" in caplog.text


def test_ipv4_mapped_ipv6_addresses_are_stored_as_ipv4(rf):
    assert info(rf, REMOTE_ADDR="::ffff:198.51.100.7").ip == "198.51.100.7"


def test_an_ipv6_zone_id_is_dropped(rf):
    assert info(rf, REMOTE_ADDR="fe80::1%eth0").ip == "fe80::1"


@pytest.mark.parametrize("remote", ["", "unknown", "999.1.1.1", "1.2.3.4:80", None, ["1.2.3.4"]])
def test_a_remote_addr_that_is_not_an_address_gives_no_ip(rf, remote):
    request = rf.get("/")
    request.META["REMOTE_ADDR"] = remote

    assert ClientInfo.from_request(request).ip is None


def test_anonymize_ip_keeps_the_ipv4_network(rf, settings):
    settings.TRACKABLE = {"ANONYMIZE_IP": True}

    assert info(rf, REMOTE_ADDR="203.0.113.77").ip == "203.0.113.0"


def test_anonymize_ip_keeps_the_ipv6_slash_48(rf, settings):
    settings.TRACKABLE = {"ANONYMIZE_IP": True}

    assert info(rf, REMOTE_ADDR="2001:db8:abcd:12:1:2:3:4").ip == "2001:db8:abcd::"


def test_anonymize_ip_function_cuts_both_families():
    assert anonymize_ip("192.0.2.255") == "192.0.2.0"
    assert anonymize_ip("2001:db8:1:ffff::1") == "2001:db8:1::"


# -- user agent ------------------------------------------------------------------


def test_the_user_agent_is_parsed_into_browser_os_and_device(rf):
    client = info(rf, HTTP_USER_AGENT=FIREFOX)

    assert client.user_agent == FIREFOX
    assert (client.browser, client.browser_version) == ("Firefox", "120.0")
    assert (client.os, client.os_version) == ("Windows", "10")
    assert client.device == "Other"
    assert client.device_type == "pc"


@pytest.mark.parametrize(
    ("agent", "device_type"),
    [(FIREFOX, "pc"), (IPHONE, "mobile"), (IPAD, "tablet"), (GOOGLEBOT, "bot"), ("", "other")],
)
def test_the_device_type_comes_from_the_user_agent(rf, agent, device_type):
    assert info(rf, HTTP_USER_AGENT=agent).device_type == device_type


def test_a_request_without_a_user_agent_gets_empty_texts(rf):
    client = info(rf)

    assert client.user_agent == ""
    assert client.device_type == "other"


def test_user_agent_parses_are_cached(rf):
    agent = FIREFOX + " cache-test"
    info(rf, HTTP_USER_AGENT=agent)
    hits = _parse_user_agent.cache_info().hits

    info(rf, HTTP_USER_AGENT=agent)

    assert _parse_user_agent.cache_info().hits == hits + 1


def test_nul_and_control_characters_are_removed_from_the_user_agent(rf):
    client = info(rf, HTTP_USER_AGENT="Evil\x00Agent\r\n\x1b[31m/1.0\x7f")

    assert client.user_agent == "EvilAgent[31m/1.0"


def test_a_long_user_agent_is_cut_to_its_column(rf):
    client = info(rf, HTTP_USER_AGENT=FIREFOX + "x" * 5000)

    assert len(client.user_agent) == MAX_LENGTHS["user_agent"]
    assert client.browser == "Firefox"


def test_utf8_sent_in_a_header_is_stored_as_sent(rf):
    sent = "Agent/1.0 (Zürich)".encode().decode("latin-1")  # how WSGI hands it over

    assert info(rf, HTTP_USER_AGENT=sent).user_agent == "Agent/1.0 (Zürich)"


def test_clean_text_never_raises():
    class Unprintable:
        def __str__(self):
            raise RuntimeError("no")

    assert clean_text(Unprintable(), 10) == ""
    assert clean_text(None, 10) == ""
    assert clean_text("\ud800abc", 10) == "abc"


# -- location --------------------------------------------------------------------


def test_without_a_geoip_database_the_location_is_empty_and_nothing_is_logged(rf, caplog):
    client = info(rf, REMOTE_ADDR=LONDON)

    assert (client.city, client.country) == ("", "")
    assert geo_warnings(caplog) == []


def test_a_missing_geoip_file_gives_an_empty_location_and_one_warning(
    rf, settings, tmp_path, caplog
):
    settings.TRACKABLE = {"GEOIP_PATH": str(tmp_path / "missing.mmdb")}

    first = info(rf, REMOTE_ADDR=LONDON)
    second = info(rf, REMOTE_ADDR="81.2.69.1")

    assert first.location == second.location == ""
    (warning,) = geo_warnings(caplog)
    assert "missing.mmdb" in warning.getMessage()


def test_a_corrupt_geoip_file_gives_an_empty_location_and_one_warning(
    rf, settings, tmp_path, caplog
):
    corrupt = tmp_path / "corrupt.mmdb"
    corrupt.write_bytes(b"\x00\x01 this is not a MaxMind database " * 100)
    settings.TRACKABLE = {"GEOIP_PATH": corrupt}

    first = info(rf, REMOTE_ADDR=LONDON)
    second = info(rf, REMOTE_ADDR=LONDON)

    assert first.location == second.location == ""
    (warning,) = geo_warnings(caplog)
    assert "not a MaxMind database" in warning.getMessage()


def test_a_geoip_city_database_gives_city_and_country(rf, settings, tmp_path):
    settings.TRACKABLE = {"GEOIP_PATH": write_city_database(tmp_path / "city.mmdb")}

    london = info(rf, REMOTE_ADDR=LONDON)
    paris = info(rf, REMOTE_ADDR=PARIS_V6)

    assert (london.city, london.country) == ("London", "GB")
    assert paris.location == "Paris, FR"


def test_a_geoip_country_database_gives_the_country_only(rf, settings, tmp_path):
    settings.TRACKABLE = {"GEOIP_PATH": write_country_database(tmp_path / "country.mmdb")}

    client = info(rf, REMOTE_ADDR=LONDON)

    assert (client.city, client.country) == ("", "GB")


def test_an_address_not_in_the_database_has_an_empty_location(rf, settings, tmp_path):
    settings.TRACKABLE = {"GEOIP_PATH": write_city_database(tmp_path / "city.mmdb")}

    assert info(rf, REMOTE_ADDR="198.51.100.7").location == ""


def test_djangos_geoip_path_directory_is_used_when_trackable_names_none(rf, settings, tmp_path):
    write_city_database(tmp_path / "GeoLite2-City.mmdb")
    settings.GEOIP_PATH = tmp_path

    assert info(rf, REMOTE_ADDR=LONDON).country == "GB"


def test_the_geoip_database_is_opened_once(rf, settings, tmp_path):
    path = write_city_database(tmp_path / "city.mmdb")
    settings.TRACKABLE = {"GEOIP_PATH": path}
    assert info(rf, REMOTE_ADDR=LONDON).city == "London"

    path.unlink()  # an open reader keeps working; reopening would fail

    assert info(rf, REMOTE_ADDR=PARIS_V6).city == "Paris"


def test_the_location_is_found_before_the_ip_is_anonymized(rf, settings, tmp_path):
    settings.TRACKABLE = {
        "GEOIP_PATH": write_city_database(tmp_path / "city.mmdb"),
        "ANONYMIZE_IP": True,
    }

    client = info(rf, REMOTE_ADDR=LONDON)

    assert (client.ip, client.city) == ("81.2.69.0", "London")


def test_a_geoip_path_of_the_wrong_type_gives_an_empty_location(rf, settings):
    settings.TRACKABLE = {"GEOIP_PATH": 42}

    assert info(rf, REMOTE_ADDR=LONDON).location == ""


def test_without_geoip2_installed_the_location_is_empty_and_one_warning_says_why(
    rf, settings, tmp_path, caplog, monkeypatch
):
    settings.TRACKABLE = {"GEOIP_PATH": write_city_database(tmp_path / "city.mmdb")}
    monkeypatch.setitem(sys.modules, "geoip2.database", None)  # import fails

    assert info(rf, REMOTE_ADDR=LONDON).location == ""
    assert info(rf, REMOTE_ADDR=LONDON).location == ""
    (warning,) = geo_warnings(caplog)
    assert "geoip2 is not installed" in warning.getMessage()


# -- anything at all ---------------------------------------------------------------

header_text = st.one_of(
    st.text(max_size=600),
    st.binary(max_size=600).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["", " ", "\x00", "unknown", "::1", "fe80::1%" + "x" * 300, "1.2.3.4:99999"]),
)
addresses = st.one_of(
    header_text,
    st.ip_addresses().map(str),
    st.lists(st.one_of(st.ip_addresses().map(str), header_text), max_size=6).map(", ".join),
)


def assert_storable(client):
    for name, value in client.as_fields().items():
        if name == "ip":
            continue
        assert len(value) <= MAX_LENGTHS[name], name
        assert "\x00" not in value
        assert value == value.strip()
        value.encode("utf-8")  # no lone surrogates


@pytest.mark.parametrize(
    "trackable",
    [{}, {"IP_PROXY_COUNT": 2}, {"IP_TRUSTED_PROXIES": ["10.0.0.0/8", "2001:db8::/32"]}],
    ids=["default", "proxy-count", "trusted-proxies"],
)
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(remote=addresses, forwarded=addresses, agent=header_text)
def test_client_info_never_raises_and_always_fits_its_columns(
    rf, settings, trackable, remote, forwarded, agent
):
    settings.TRACKABLE = trackable
    request = rf.get("/")
    request.META.update(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded, HTTP_USER_AGENT=agent)

    client = ClientInfo.from_request(request)

    assert_storable(client)
    if client.ip is not None:
        assert len(client.ip) <= 39  # GenericIPAddressField


def test_as_fields_gives_every_field_by_name_and_shares_nothing_mutable(rf):
    client = info(rf, REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux)")

    fields = client.as_fields()

    assert fields == dataclasses.asdict(client)
    assert list(fields) == [field.name for field in dataclasses.fields(ClientInfo)]
    fields["ip"] = "203.0.113.1"
    assert client.ip == "198.51.100.7"


def test_client_info_from_a_broken_request_is_empty():
    class Broken:
        @property
        def META(self):  # noqa: N802 - the attribute Django requests have
            raise RuntimeError("no headers")

    assert ClientInfo.from_request(Broken()) == ClientInfo()


def test_str_describes_the_client(rf, settings, tmp_path):
    settings.TRACKABLE = {"GEOIP_PATH": write_city_database(tmp_path / "city.mmdb")}

    text = str(info(rf, REMOTE_ADDR=LONDON, HTTP_USER_AGENT=FIREFOX))

    assert text == "Firefox on Windows · 81.2.69.142 · London, GB"
