"""RDAP: the parser on real registries' layouts, the bootstrap, and the client against the lab."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from domwatch.config import Settings
from domwatch.lab import Lab
from domwatch.lab.ca import LabCA
from domwatch.lab.rdap_server import RdapDomain, RdapServer, bootstrap_document
from domwatch.net.address_policy import (
    AddressPolicy,
    AddressRefused,
    Scope,
    Unresolvable,
    scope_of,
)
from domwatch.net.http import HttpClient
from domwatch.net.resolver import Nameserver, Resolver
from domwatch.sources.base import Lookup
from domwatch.sources.rdap import (
    RdapSource,
    domain_url,
    epp_status,
    parse_domain,
    parse_rdap_date,
    parse_retry_after,
)
from domwatch.sources.rdap_bootstrap import (
    CACHE_NAME,
    Bootstrap,
    BootstrapError,
    load_bootstrap,
    load_bundled,
    parse_bootstrap,
)
from domwatch.sources.unpublished import publishes_expiry

SAMPLES = Path(__file__).parent / "rdap_samples"
UTC = timezone.utc


def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return data


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the parser on a dozen registries' answers -------------------------------------------------

# file: (expires, registrar_expires, registrar, some statuses, name servers, related link)
EXPECTED: dict[str, tuple[str | None, str | None, str | None, set[str], tuple[str, ...], str]] = {
    "verisign-com-thin.json": (
        "2028-09-14 04:00:00",
        None,
        "MarkMonitor Inc.",
        {"clientDeleteProhibited", "serverTransferProhibited", "serverUpdateProhibited"},
        ("ns1.google.com", "ns2.google.com", "ns3.google.com", "ns4.google.com"),
        "https://rdap.markmonitor.com/rdap/domain/GOOGLE.COM",
    ),
    "markmonitor-registrar.json": (
        None,
        "2028-09-13 07:00:00",
        "MarkMonitor Inc.",
        {"clientUpdateProhibited"},
        ("ns1.google.com", "ns2.google.com", "ns3.google.com", "ns4.google.com"),
        "",
    ),
    "pir-org.json": (
        "2027-01-13 00:12:14",
        None,
        "MarkMonitor Inc.",
        {"clientTransferProhibited"},
        ("ns0.wikimedia.org", "ns1.wikimedia.org", "ns2.wikimedia.org"),
        "",  # its "related" link is its own URL
    ),
    "google-dev.json": (
        "2027-02-28 23:51:26.178000",
        None,
        "MarkMonitor Inc.",
        {"serverDeleteProhibited"},
        ("ns-cloud-d1.googledomains.com", "ns-cloud-d2.googledomains.com"),
        "https://rdap.markmonitor.com/rdap/domain/web.dev",
    ),
    "identitydigital-io.json": (
        "2027-03-08 19:12:00.185000",
        None,
        "MarkMonitor Inc.",
        {"clientDeleteProhibited"},
        ("dns1.p05.nsone.net", "dns2.p05.nsone.net", "ns-1339.awsdns-39.org"),
        "",
    ),
    "centralnic-xyz.json": (
        "2027-03-20 23:59:59",
        None,
        "MarkMonitor, Inc.",
        {"serverTransferProhibited"},
        ("ns1.google.com", "ns2.google.com"),
        "",
    ),
    "nominet-uk.json": (
        "2027-02-20 00:00:00",
        None,
        "British Broadcasting Corporation [Tag = BBC]",
        {"ok", "clientTransferProhibited"},
        ("dns0.bbc.co.uk", "dns1.bbc.co.uk", "ddns0.bbc.co.uk"),
        "",
    ),
    "afnic-fr.json": ("2023-01-27 00:33:10", None, "EXCEPTIONNEL", {"inactive"}, (), ""),
    "denic-de.json": (
        None,
        None,
        None,
        {"ok"},
        ("ns1.denic.de", "ns2.denic.de", "ns3.denic.de", "ns4.denic.net"),
        "",  # the related link is a web page
    ),
    "switch-ch.json": (
        None,
        None,
        "SWITCH Foundation",
        {"ok"},
        ("merapi.switch.ch", "scsnms.switch.ch", "ns1.switch.ch"),
        "",
    ),
    "cznic-cz.json": (
        "2027-03-14 23:00:00",  # +0100
        None,
        "REG-CZNIC",
        {"serverRenewProhibited"},
        ("a.ns.nic.cz", "b.ns.nic.cz", "d.ns.nic.cz"),
        "",
    ),
    "registro-br.json": (
        "2027-09-01 12:00:00",  # no zone: read as UTC
        None,
        None,
        {"ok"},
        ("a.dns.br", "b.dns.br"),
        "",
    ),
    "identitydigital-live-redemption.json": (
        "2026-05-02 10:11:12.500000",
        None,
        "IANA Registrar ID 1068",
        {"clientHold", "redemptionPeriod"},
        (),
        "",
    ),
    "pir-org-pending-delete.json": (
        "2026-04-10 17:03:44.123456",
        None,
        "Example Registrar, LLC",
        {"pendingDelete", "serverHold", "inactive"},
        (),
        "",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_answers_parse(name: str) -> None:
    expires, theirs, registrar, statuses, nameservers, related = EXPECTED[name]
    got = parse_domain(_sample(name))
    assert got.expires == (_utc(expires) if expires else None)
    assert got.registrar_expires == (_utc(theirs) if theirs else None)
    assert got.registrar == registrar
    assert statuses <= set(got.statuses), got.statuses
    assert got.nameservers == nameservers
    assert got.related == ([related] if related else [])


def test_every_sample_is_covered() -> None:
    files = {p.name for p in SAMPLES.glob("*.json")} - {"nominet-not-found.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2028-09-14T04:00:00Z", "2028-09-14 04:00:00"),
        ("2028-09-14T04:00:00+00:00", "2028-09-14 04:00:00"),
        ("2028-09-14T04:00:00+0000", "2028-09-14 04:00:00"),
        ("2028-09-14T06:00:00+02:00", "2028-09-14 04:00:00"),
        ("2028-09-14T00:00:00-0500", "2028-09-14 05:00:00"),
        ("2028-09-14T04:00:00.0Z", "2028-09-14 04:00:00"),
        ("2028-09-14T04:00:00.123Z", "2028-09-14 04:00:00.123000"),
        ("2028-09-14T04:00:00.123456789Z", "2028-09-14 04:00:00.123456"),
        ("2028-09-14T04:00:00", "2028-09-14 04:00:00"),
        ("2028-09-14 04:00:00", "2028-09-14 04:00:00"),
        ("2028-09-14t04:00:00z", "2028-09-14 04:00:00"),
        ("2028-09-14T04:00Z", "2028-09-14 04:00:00"),
        ("2028-09-14", "2028-09-14 00:00:00"),
    ],
)
def test_dates_in_the_forms_seen(text: str, expected: str) -> None:
    got = parse_rdap_date(text)
    assert got == _utc(expected)
    assert got is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "soon", "2028-13-01T00:00:00Z", "14.09.2028", None, 20280914])
def test_unreadable_dates_are_none(text: object) -> None:
    assert parse_rdap_date(text) is None


@pytest.mark.parametrize(
    ("rdap", "epp"),
    [
        ("client hold", "clientHold"),
        ("server transfer prohibited", "serverTransferProhibited"),
        ("redemption period", "redemptionPeriod"),
        ("pending delete", "pendingDelete"),
        ("active", "ok"),
        ("inactive", "inactive"),
        ("Client Transfer Prohibited", "clientTransferProhibited"),
        ("clientHold", "clientHold"),
        ("client hold https://icann.org/epp#clientHold", "clientHold"),
        ("associated", "associated"),
        ("transfer period", "transferPeriod"),
    ],
)
def test_statuses_map_to_epp(rdap: str, epp: str) -> None:
    assert epp_status(rdap) == epp


def test_retry_after_seconds_and_dates() -> None:
    now = time.time()
    assert parse_retry_after("2", now) == 2.0
    assert parse_retry_after(" 0 ", now) == 0.0
    http_date = datetime.fromtimestamp(now + 30, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    wait = parse_retry_after(http_date, now)
    assert wait is not None and 28 <= wait <= 31
    assert parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("later", now) is None
    assert parse_retry_after(None, now) is None


def test_domain_url_with_and_without_slash() -> None:
    assert (
        domain_url("https://rdap.example/", "a.example") == "https://rdap.example/domain/a.example"
    )
    assert (
        domain_url("https://r.example/v1", "a.example") == "https://r.example/v1/domain/a.example"
    )


def test_address_scopes() -> None:
    for address, scope in [
        ("10.1.2.3", Scope.PRIVATE), ("192.168.0.1", Scope.PRIVATE), ("fd12::1", Scope.PRIVATE),
        ("100.64.0.1", Scope.PRIVATE), ("127.0.0.1", Scope.LOOPBACK), ("::1", Scope.LOOPBACK),
        ("169.254.169.254", Scope.FORBIDDEN), ("fe80::1", Scope.FORBIDDEN),
        ("::ffff:169.254.1.1", Scope.FORBIDDEN), ("0.0.0.0", Scope.FORBIDDEN),
        ("fd00:ec2::254", Scope.FORBIDDEN), ("100.100.100.200", Scope.FORBIDDEN),
        ("168.63.129.16", Scope.FORBIDDEN), ("224.0.0.1", Scope.FORBIDDEN),
        ("::ffff:10.0.0.1", Scope.PRIVATE), ("8.8.8.8", Scope.PUBLIC),
        ("2606:4700:4700::1111", Scope.PUBLIC),
    ]:
        assert scope_of(address)[0] is scope, address


def test_referral_rules() -> None:
    async def vet(host: str, referrer: str | None, allow: bool = False) -> str:
        # Address literals and metadata names need no DNS: the resolver is never asked.
        policy = AddressPolicy(Resolver([Nameserver("127.0.0.1", 9)], timeout=0.1),
                               allow_private=allow)
        source = await policy.vet(referrer) if referrer else None
        try:
            return (await policy.vet(host, source)).address
        except (AddressRefused, Unresolvable) as exc:
            return f"refused: {exc}"

    def decide(host: str, referrer: str | None, allow: bool = False) -> str:
        return asyncio.run(vet(host, referrer, allow))

    assert decide("10.0.0.1", None) == "10.0.0.1"  # a configured server may be anywhere...
    assert "link-local" in decide("169.254.169.254", None)  # ...but never there
    assert decide("8.8.8.8", "10.0.0.1") == "8.8.8.8"  # any space may refer out to the internet
    assert decide("10.0.0.2", "10.0.0.1") == "10.0.0.2"  # an intranet server within it
    assert decide("127.0.0.2", "127.0.0.1") == "127.0.0.2"  # a lab within this machine
    assert "private" in decide("10.0.0.1", "8.8.8.8")  # never from outside into an intranet
    assert "loopback" in decide("127.0.0.1", "8.8.8.8")
    assert "loopback" in decide("127.0.0.1", "10.0.0.1")  # nor from the intranet into this host
    assert "private" in decide("10.0.0.1", "127.0.0.1")
    assert decide("10.0.0.1", "8.8.8.8", allow=True) == "10.0.0.1"  # unless allowed
    assert "link-local" in decide("169.254.169.254", "127.0.0.1", allow=True)  # never
    assert "metadata" in decide("metadata.google.internal", "127.0.0.1", allow=True)
    assert "metadata" in decide("fd00:ec2::254", None, allow=True)
    assert "not a host name" in decide("a" * 300 + ".example", "127.0.0.1")


# --- bootstrap ---------------------------------------------------------------------------------


def test_bundled_snapshot_covers_the_big_gtlds_and_the_overlay() -> None:
    boot = load_bundled()
    assert boot.publication == "2026-06-26T18:00:02Z"
    assert boot.base_urls("com") == ["https://rdap.verisign.com/com/v1/"]
    assert boot.base_urls("ORG.") == ["https://rdap.publicinterestregistry.org/rdap/"]
    big = "com net org info biz app dev xyz online shop site top io ai co de ch uk fr nl me us"
    for tld in big.split():
        assert boot.base_urls(tld), tld
    assert len(boot.services) > 1000
    assert boot.base_urls("de") == ["https://rdap.denic.de/"]
    assert not publishes_expiry("de") and publishes_expiry("com")
    assert boot.base_urls("example") == []


def test_bootstrap_layers_and_https_first() -> None:
    boot = Bootstrap(
        publication="x",
        services={"fi": ("http://plain.example/", "https://secure.example/")},
        overlay={"fi": ("https://overlay.example/",), "de": ("https://rdap.denic.de/",)},
    ).with_overrides({"de": "https://mine.example"})
    assert boot.base_urls("fi") == [
        "https://secure.example/",
        "http://plain.example/",
        "https://overlay.example/",
    ]
    assert boot.base_urls("de") == ["https://mine.example/", "https://rdap.denic.de/"]


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"services": []}', b'{"publication": "x", "services": [["com"]]}'],
)
def test_bad_bootstrap_files_are_refused(raw: bytes) -> None:
    with pytest.raises(BootstrapError):
        parse_bootstrap(raw)


def _load(settings: Settings, now: float | None = None) -> Bootstrap:
    async def go() -> Bootstrap:
        async with HttpClient.from_settings(settings) as client:
            return await load_bootstrap(settings, client, now=now)

    return asyncio.run(go())


def test_bootstrap_refresh_from_a_file_at_most_once_a_day(tmp_path: Path) -> None:
    source = tmp_path / "dns.json"
    source.write_bytes(bootstrap_document({"lab": "https://one.example/"}, "2031-01-01T00:00:00Z"))
    settings = Settings(rdap_bootstrap=str(source), cache_dir=tmp_path / "cache")
    now = time.time()
    boot = _load(settings, now)
    assert boot.base_urls("lab") == ["https://one.example/"]
    assert boot.base_urls("de") == ["https://rdap.denic.de/"]  # the overlay stays
    cached = tmp_path / "cache" / CACHE_NAME
    assert json.loads(cached.read_bytes())["publication"] == "2031-01-01T00:00:00Z"
    assert not [p for p in cached.parent.iterdir() if p.name.endswith(".tmp")]

    source.write_bytes(bootstrap_document({"lab": "https://two.example/"}, "2031-02-01T00:00:00Z"))
    assert _load(settings, now + 3600).base_urls("lab") == ["https://one.example/"]
    assert _load(settings, now + 86400 + 1).base_urls("lab") == ["https://two.example/"]


def test_bootstrap_refresh_failure_keeps_the_bundled_copy(tmp_path: Path) -> None:
    settings = Settings(rdap_bootstrap=str(tmp_path / "missing.json"), cache_dir=tmp_path / "c")
    boot = _load(settings)
    assert boot.origin == "bundled"
    assert boot.base_urls("com") == ["https://rdap.verisign.com/com/v1/"]


def test_cache_off_falls_back_to_the_bundled_copy_when_the_fetch_fails(tmp_path: Path) -> None:
    settings = Settings(rdap_bootstrap="https://127.0.0.1:9/dns.json", cache=False)
    assert _load(settings).origin == "bundled"


def test_operator_servers_override_the_bootstrap(tmp_path: Path) -> None:
    source = tmp_path / "dns.json"
    source.write_bytes(bootstrap_document({"com": "https://rdap.example/"}, "2031-01-01T00:00:00Z"))
    settings = Settings(
        cache=False,
        rdap_bootstrap=str(source),
        rdap_servers={"com": "https://rdap.intranet.example"},
    )
    assert _load(settings).base_urls("com")[0] == "https://rdap.intranet.example/"


# --- the client against the lab ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> LabCA:
    return LabCA()


@pytest.fixture
def registry(lab: Lab, ca: LabCA) -> RdapServer:
    return lab.add(RdapServer(ssl_context=ca.server_context("127.0.0.1", "localhost")))


@pytest.fixture
def settings(ca: LabCA, tmp_path: Path) -> Settings:
    return Settings(timeout=2.0, ca_bundle=ca.write_ca(tmp_path / "ca.pem"), cache=False)


def _bootstrap(registry: RdapServer, **more: str) -> Bootstrap:
    services = {"test": (registry.url,), **{k: (v,) for k, v in more.items()}}
    return Bootstrap(publication="lab", services=services)


def _lookup(
    settings: Settings, bootstrap: Bootstrap, domain: str, **client: Any
) -> tuple[Lookup, float]:
    async def go() -> Lookup:
        async with HttpClient.from_settings(settings, **client) as http:
            return await RdapSource(settings, bootstrap, http).lookup(domain)

    start = time.monotonic()
    result = asyncio.run(go())
    return result, time.monotonic() - start


def test_registered_domain_over_verified_https(registry: RdapServer, settings: Settings) -> None:
    expires = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
    registry.add(
        "example.test",
        expires=expires,
        statuses=("client hold", "server transfer prohibited"),
        registrar="Registrar Oy",
    )
    result, _ = _lookup(settings, _bootstrap(registry), "example.test")
    assert result.outcome == "registered", result.reason
    reg = result.registration
    assert reg is not None
    assert reg.source == "rdap" and reg.server == registry.url
    assert reg.expires == expires and reg.expiry_published
    assert reg.registrar == "Registrar Oy"
    assert reg.statuses == ("clientHold", "serverTransferProhibited")
    assert reg.nameservers == ("ns1.lab.test", "ns2.lab.test")
    assert [e.server for e in result.trail] == [registry.url + "domain/example.test"]
    assert '"ldhName"' in result.trail[0].answer and result.trail[0].note == "HTTP 200"
    assert registry.requests[0].headers["accept"].startswith("application/rdap+json")


def test_base_url_without_trailing_slash(registry: RdapServer, settings: Settings) -> None:
    registry.add("example.test")
    boot = Bootstrap(publication="lab", services={"test": (registry.url.rstrip("/"),)})
    result, _ = _lookup(settings, boot, "example.test")
    assert result.outcome == "registered"


def test_untrusted_certificate_fails(registry: RdapServer, tmp_path: Path) -> None:
    registry.add("example.test")
    other = Settings(timeout=2.0, ca_bundle=LabCA().write_ca(tmp_path / "other.pem"), cache=False)
    result, _ = _lookup(other, _bootstrap(registry), "example.test")
    assert result.outcome == "failed"
    assert "certificate" in result.reason


def test_system_trust_store_honours_ssl_cert_file(
    registry: RdapServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.add("example.test")
    assert settings.ca_bundle is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(settings.ca_bundle))
    result, _ = _lookup(replace(settings, ca_bundle=None), _bootstrap(registry), "example.test")
    assert result.outcome == "registered", result.reason


def test_registry_404_is_not_found(registry: RdapServer, settings: Settings) -> None:
    result, _ = _lookup(settings, _bootstrap(registry), "nobody.test")
    assert result.outcome == "not_found"
    assert result.registration is None


def test_429_retry_after_is_waited_out(registry: RdapServer, settings: Settings) -> None:
    registry.add("busy.test", throttle=1, retry_after="1")
    result, took = _lookup(settings, _bootstrap(registry), "busy.test")
    assert result.outcome == "registered", result.reason
    assert (result.throttled, result.retried) == (1, 1)
    assert took >= 1.0  # a lower bound (Retry-After was waited out): slowness only adds to it
    assert [e.note for e in result.trail] == ["HTTP 429", "HTTP 200"]


def test_429_beyond_the_budget_is_rate_limited(registry: RdapServer, settings: Settings) -> None:
    registry.add("busy.test", throttle=5, retry_after="120")
    result, took = _lookup(settings, _bootstrap(registry), "busy.test")
    assert result.outcome == "rate_limited"
    assert result.throttled == 1 and result.retried == 0
    assert registry.domains["busy.test"].hits == 1
    # A hang guard, not a speed test: it did not sleep out the 120 s Retry-After before giving
    # up (60 s tells the two apart on any machine).
    assert took < 60


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (RdapDomain(status=503), "HTTP 503"),
        (RdapDomain(body=b'{"objectClassName": "domain", '), "not JSON"),
        (RdapDomain(body=b"<html>maintenance</html>"), "not JSON"),
        (RdapDomain(body=b'["a list"]'), "not an object"),
    ],
)
def test_server_errors_and_bad_answers_fail(
    registry: RdapServer, settings: Settings, spec: RdapDomain, reason: str
) -> None:
    registry.add("broken.test", spec)
    result, _ = _lookup(settings, _bootstrap(registry), "broken.test")
    assert result.outcome == "failed"
    assert reason in result.reason


def test_timeout_fails_within_the_budget(registry: RdapServer, settings: Settings) -> None:
    # The registry would answer (200) after a minute: a lookup that waited for it would come
    # back registered. The 2 s timeout leaves the retry 4 s of the 6 s budget, so a slow
    # machine's connection set-up cannot squeeze the retry out.
    registry.add("slow.test", latency=60.0)
    result, _ = _lookup(settings, _bootstrap(registry), "slow.test")
    assert settings.timeout == 2.0
    assert result.outcome == "failed"
    assert result.retried == 1  # one more try fitted in the budget
    assert registry.domains["slow.test"].hits == 2  # and no third


def test_tld_outside_the_bootstrap_is_unsupported(settings: Settings) -> None:
    boot = Bootstrap(publication="lab", services={})
    result, _ = _lookup(settings, boot, "example.nowhere")
    assert result.outcome == "unsupported"
    assert ".nowhere" in result.reason


def test_answer_size_is_capped(registry: RdapServer, settings: Settings) -> None:
    registry.add("huge.test", body=b'{"pad": "' + b"x" * 300_000 + b'"}')
    result, _ = _lookup(settings, _bootstrap(registry), "huge.test", max_bytes=100_000)
    assert result.outcome == "failed"
    assert "exceeds" in result.reason


def test_thin_registry_follows_the_registrar_link(
    lab: Lab, ca: LabCA, registry: RdapServer, settings: Settings
) -> None:
    registrar = lab.add(
        RdapServer(ssl_context=ca.server_context("127.0.0.1", "localhost"), prefix="/rdap/")
    )
    ours = datetime(2027, 9, 14, 4, tzinfo=UTC)
    theirs = datetime(2027, 9, 13, 7, tzinfo=UTC)
    registrar.add("thin.test", expires=None, registrar_expires=theirs, registrar="Reg Inc.")
    registry.add(
        "thin.test", expires=ours, registrar="Reg Inc.", related=registrar.url + "domain/thin.test"
    )
    result, _ = _lookup(settings, _bootstrap(registry), "thin.test")
    assert result.outcome == "registered", result.reason
    reg = result.registration
    assert reg is not None and reg.expires == ours and reg.registrar_expires == theirs
    assert len(result.trail) == 2 and result.trail[1].server.startswith(registrar.url)

    # The same date from the registrar is not repeated.
    registrar.add("thin.test", expires=ours, registrar="Reg Inc.")
    result, _ = _lookup(settings, _bootstrap(registry), "thin.test")
    assert result.registration is not None and result.registration.registrar_expires is None

    # A registrar 404 is not "not registered": the registry's answer stands.
    registrar.domains.clear()
    result, _ = _lookup(settings, _bootstrap(registry), "thin.test")
    assert result.outcome == "registered"
    assert result.registration is not None and result.registration.expires == ours
    assert result.trail[-1].note == "HTTP 404"


@pytest.fixture
def new_home(lab: Lab, ca: LabCA) -> RdapServer:
    """The registry's new RDAP service, where the old one redirects (same names, new path)."""
    context = ca.server_context("127.0.0.1", "localhost")
    return lab.add(RdapServer(ssl_context=context, prefix="/v2/"))


def test_redirects_are_followed_and_bounded(
    registry: RdapServer, new_home: RdapServer, settings: Settings
) -> None:
    registry.add("moved.test", redirect=new_home.url + "domain/moved.test")
    new_home.add("moved.test", registrar="Moved Registrar")
    result, _ = _lookup(settings, _bootstrap(registry), "moved.test")
    assert result.outcome == "registered", result.reason
    assert result.registration is not None
    assert result.registration.registrar == "Moved Registrar"
    assert [e.note.split(" →")[0] for e in result.trail] == ["HTTP 302", "HTTP 200"]

    registry.add("loop.test", redirect=registry.url + "domain/loop.test")
    result, _ = _lookup(settings, _bootstrap(registry), "loop.test")
    assert result.outcome == "failed" and "redirects" in result.reason


def test_redirect_is_vetted_by_the_address_policy(
    registry: RdapServer, new_home: RdapServer, settings: Settings
) -> None:
    # The lab is on loopback: a redirect within this machine is followed, by name too...
    inside = new_home.url.replace("127.0.0.1", "localhost") + "domain/local.test"
    registry.add("local.test", redirect=inside)
    new_home.add("local.test")
    result, _ = _lookup(settings, _bootstrap(registry), "local.test")
    assert result.outcome == "registered", result.reason
    # ...one into an intranet or to a link-local address is refused before any connection.
    for target in ("10.255.255.1", "169.254.169.254"):
        registry.requests.clear()
        registry.add("evil.test", redirect=f"https://{target}:{registry.server.port}/x")
        result, _ = _lookup(settings, _bootstrap(registry), "evil.test")
        assert result.outcome == "failed"
        assert "refused" in result.reason and target in result.reason
        assert len(registry.requests) == 1  # nothing else was asked


def test_registry_link_into_an_intranet_is_refused(
    registry: RdapServer, settings: Settings
) -> None:
    expires = datetime(2027, 1, 1, tzinfo=UTC)
    registry.add("thin.test", expires=expires, related="https://10.255.255.1/domain/thin.test")
    result, _ = _lookup(settings, _bootstrap(registry), "thin.test")
    assert result.outcome == "registered"  # the registry's own answer still counts
    assert "refused" in result.trail[-1].note and "private" in result.trail[-1].note
    assert len(registry.requests) == 1


def test_registry_without_expiry(registry: RdapServer, settings: Settings) -> None:
    registry.add("quiet.de", expires=None)
    registry.add("quiet.test", expires=None)
    boot = _bootstrap(registry, de=registry.url)
    result, _ = _lookup(settings, boot, "quiet.de")
    assert result.outcome == "registered"
    assert result.registration is not None
    assert result.registration.expires is None and not result.registration.expiry_published
    result, _ = _lookup(settings, boot, "quiet.test")
    assert result.outcome == "unparsed"


def test_bootstrap_refresh_from_the_lab(registry: RdapServer, settings: Settings) -> None:
    assert settings.ca_bundle is not None
    registry.serve_bootstrap({"test": registry.url}, publication="2031-05-05T00:00:00Z")
    cache_dir = settings.ca_bundle.parent / "c"
    cached = replace(
        settings, cache=True, cache_dir=cache_dir, rdap_bootstrap=registry.bootstrap_url
    )
    boot = _load(cached)
    assert boot.publication == "2031-05-05T00:00:00Z"
    assert boot.base_urls("test") == [registry.url]
    assert boot.base_urls("com") == []  # the operator's file replaces IANA's, whatever its date
    assert boot.base_urls("de") == ["https://rdap.denic.de/"]  # the overlay still applies
    assert len(registry.requests) == 1
    _load(cached)
    assert len(registry.requests) == 1  # at most once a day

    # A failing refresh a day later keeps the last good copy, not nothing.
    registry.bootstrap_status = 500
    boot = _load(cached, now=time.time() + 86400 + 5)
    assert len(registry.requests) == 2
    assert boot.base_urls("test") == [registry.url]


def test_no_cache_fetches_the_bootstrap_for_the_run_and_keeps_it_in_memory(
    registry: RdapServer, settings: Settings, tmp_path: Path
) -> None:
    # --no-cache means fresh answers: a fresh bootstrap too, not the months-old bundled copy
    registry.serve_bootstrap({"test": registry.url}, "2020-01-01T00:00:00Z")
    fresh = replace(settings, rdap_bootstrap=registry.bootstrap_url, cache_dir=tmp_path / "c")
    assert not fresh.cache
    boot = _load(fresh)
    assert boot.origin == registry.bootstrap_url and boot.base_urls("test") == [registry.url]
    assert len(registry.requests) == 1
    assert not (tmp_path / "c").exists()  # kept in memory only
    _load(fresh)
    assert len(registry.requests) == 2  # every run without the cache asks again


def test_bootstrap_is_loaded_at_the_first_lookup_not_before(
    registry: RdapServer, settings: Settings
) -> None:
    registry.serve_bootstrap({"test": registry.url})
    registry.add("first.test")
    registry.add("second.test")
    lazy = replace(settings, rdap_bootstrap=registry.bootstrap_url)

    async def go() -> list[str]:
        async with HttpClient.from_settings(lazy) as http:
            source = RdapSource(lazy, None, http)
            assert registry.requests == []  # a run without registration lookups asks nothing
            found = await asyncio.gather(source.lookup("first.test"), source.lookup("second.test"))
            return [r.outcome for r in found]

    assert asyncio.run(go()) == ["registered", "registered"]
    paths = [r.path for r in registry.requests]
    assert paths.count("/dns.json") == 1  # once, however many lookups wait for it


def test_bootstrap_refresh_failure_over_https_uses_bundled(
    registry: RdapServer, settings: Settings
) -> None:
    assert settings.ca_bundle is not None
    cached = replace(
        settings,
        cache=True,
        cache_dir=settings.ca_bundle.parent / "c2",
        rdap_bootstrap=registry.server.url + "/missing.json",
    )
    boot = _load(cached)
    assert boot.origin == "bundled"
    assert boot.base_urls("com") == ["https://rdap.verisign.com/com/v1/"]


@pytest.fixture(autouse=True)
def _no_stray_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A proxy in the environment would swallow the lab's 127.0.0.1 requests.
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name)
    yield
