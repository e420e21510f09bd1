"""The built-in WHOIS server table and the query line each server expects."""

from __future__ import annotations

import re

import pytest

from domwatch.sources.whois_servers import _SERVERS, builtin_server, query_for

HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


@pytest.mark.parametrize(
    ("tld", "host"),
    [
        ("com", "whois.verisign-grs.com"),
        ("net", "whois.verisign-grs.com"),
        ("uk", "whois.nic.uk"),
        ("de", "whois.denic.de"),
        ("fi", "whois.fi"),
        ("dk", "whois.punktum.dk"),
        ("no", "whois.norid.no"),
        ("is", "whois.isnic.is"),
        ("eu", "whois.eu"),
        ("jp", "whois.jprs.jp"),
        ("se", "whois.iis.se"),
        ("nl", "whois.domain-registry.nl"),
        ("xn--p1ai", "whois.tcinet.ru"),
        ("FI", "whois.fi"),
        ("fi.", "whois.fi"),
        ("top", "whois.nic.top"),
        ("tk", "whois.dot.tk"),
        ("xn--fiqs8s", "cwhois.cnnic.cn"),  # .中国
        ("xn--j6w193g", "whois.hkirc.hk"),  # .香港
    ],
)
def test_builtin_servers(tld: str, host: str) -> None:
    assert builtin_server(tld) == host


def test_unknown_tld_has_no_builtin_server() -> None:
    assert builtin_server("example") is None
    assert builtin_server("") is None


@pytest.mark.parametrize("tld", ["gr", "cy", "mt", "vn", "za"])
def test_registries_without_a_public_port_43_service_have_no_entry(tld: str) -> None:
    # .gr/.cy/.mt/.vn answer on the web only; .za has no registry-wide server (co.za, org.za...
    # each have their own), and asking co.za's about a net.za name would read as "not found"
    assert builtin_server(tld) is None


def test_table_is_broad_and_well_formed() -> None:
    assert len(_SERVERS) >= 80
    for tld, host in _SERVERS.items():
        # A TLD, or a second-level zone whose registry has no TLD-wide server (co.za).
        assert tld == tld.lower() and tld.count(".") <= 1, tld
        assert HOST.fullmatch(host), host
        assert ":" not in host  # ports belong to settings overrides, not the table


@pytest.mark.parametrize(
    ("server", "query"),
    [
        ("whois.denic.de", "-T dn,ace xn--bckerei-mller-gsbk.de"),
        ("WHOIS.DENIC.DE", "-T dn,ace xn--bckerei-mller-gsbk.de"),
        ("whois.denic.de:43", "-T dn,ace xn--bckerei-mller-gsbk.de"),
        ("whois.denic.de.", "-T dn,ace xn--bckerei-mller-gsbk.de"),
        ("whois.fi", "xn--bckerei-mller-gsbk.de"),
        ("127.0.0.1:4343", "xn--bckerei-mller-gsbk.de"),
        ("[::1]:4343", "xn--bckerei-mller-gsbk.de"),
    ],
)
def test_query_line_per_server(server: str, query: str) -> None:
    assert query_for(server, "xn--bckerei-mller-gsbk.de") == query


def test_jprs_english_and_verisign_domain_keyword() -> None:
    assert query_for("whois.jprs.jp", "example.co.jp") == "example.co.jp/e"
    assert query_for("whois.verisign-grs.com", "example.com") == "domain example.com"
    assert query_for("whois.nic.uk", "example.co.uk") == "example.co.uk"


def test_query_line_has_no_line_ending() -> None:
    for server in set(_SERVERS.values()):
        assert not query_for(server, "example.test").endswith(("\r", "\n"))


def test_second_level_zones_have_their_own_servers() -> None:
    assert builtin_server("co.za") == "whois.registry.net.za"
    assert builtin_server("za") is None
