"""Claims need evidence, through real servers: second-level registries, RDAP servers the
bundled overlay only guesses, RDAP answers that are no registration, throttles of registries
that publish no expiry, and a fresh bootstrap with ``--no-cache``.

The lab's WHOIS and RDAP servers answer on 127.0.0.1; the answers are written for these tests
in the registries' layouts (CentralNic's ICANN layout, SIDN's, EURid's and DNS Belgium's
throttle lines).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from domwatch.config import Endpoint, Settings
from domwatch.lab import Lab, WhoisServer
from domwatch.lab.ca import LabCA
from domwatch.lab.rdap_server import RdapServer
from domwatch.net.http import HttpClient
from domwatch.sources.base import Lookup
from domwatch.sources.rdap import RdapSource
from domwatch.sources.rdap_bootstrap import Bootstrap
from domwatch.sources.registry import RegistrationSource
from domwatch.sources.whois import WhoisSource
from tests.conftest import Run, domwatch

COMMON = ("--format", "json", "--no-cache", "--no-state", "--no-progress")
EXPIRES = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=200)


def centralnic_answer(name: str, expires: datetime) -> str:
    """A registered answer in the ICANN layout CentralNic prints for its SLD registries."""
    return (
        f"Domain Name: {name.upper()}\r\n"
        "Registry Domain ID: D123456-CNIC\r\n"
        "Updated Date: 2026-02-01T10:00:00.0Z\r\n"
        "Creation Date: 2019-05-11T09:00:00.0Z\r\n"
        f"Registry Expiry Date: {expires:%Y-%m-%dT%H:%M:%S}.0Z\r\n"
        "Registrar: Registrar Example Ltd\r\n"
        "Domain Status: clientTransferProhibited https://icann.org/epp#clientTransferProhibited\r\n"
        "Name Server: NS1.HOSTING-EXAMPLE.NET\r\n"
        ">>> Last update of WHOIS database: 2026-11-30T10:00:00.0Z <<<\r\n"
    )


CENTRALNIC_NOT_FOUND = (
    "DOMAIN NOT FOUND\r\n>>> Last update of WHOIS database: 2026-11-30T10:00:00.0Z <<<\r\n"
)


def write_config(path: Path, domains: list[str], settings: str) -> Path:
    names = ", ".join(json.dumps(d) for d in domains)
    path.write_text(f"domains = [{names}]\n\n[settings]\ntimeout = 2\n"
                    f'checks = ["registration"]\n\n{settings}', encoding="utf-8")
    return path


def lab_settings(ca_file: Path, *, whois: dict[str, str], bootstrap: str, iana: str) -> str:
    servers = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in whois.items())
    return (
        f"[settings.whois]\niana = {json.dumps(iana)}\nservers = {{ {servers} }}\n\n"
        f"[settings.rdap]\nbootstrap = {json.dumps(bootstrap)}\n\n"
        f"[settings.tls]\nca_bundle = {json.dumps(str(ca_file))}\n\n"
        "[settings.network]\nallow_private = true\n"
    )


# --- second-level registries ---------------------------------------------------------------------
@pytest.fixture
def sld_world(lab: Lab, tmp_path: Path) -> dict[str, object]:
    ca = LabCA()
    centralnic = lab.add(
        WhoisServer(
            {"hotel.gb.com": centralnic_answer("hotel.gb.com", EXPIRES)},
            default=CENTRALNIC_NOT_FOUND,
        )
    )
    verisign = lab.add(WhoisServer({}, default='No match for "{query}".\r\n'))
    rdap = lab.add(RdapServer(ssl_context=ca.server_context("127.0.0.1")))
    rdap.add("gb.com", expires=EXPIRES + timedelta(days=100))  # the zone: a .com registration
    rdap.serve_bootstrap({"com": rdap.url})
    iana = lab.add(WhoisServer({}, default="% This query returned 0 objects.\n"))
    return {
        "ca": ca.write_ca(tmp_path / "ca.pem"),
        "centralnic": centralnic,
        "verisign": verisign,
        "rdap": rdap,
        "iana": iana,
    }


def test_names_under_a_second_level_registry_are_looked_up_as_given_at_its_server(
    sld_world: dict[str, object], tmp_path: Path
) -> None:
    centralnic, verisign = sld_world["centralnic"], sld_world["verisign"]
    rdap, iana = sld_world["rdap"], sld_world["iana"]
    assert isinstance(centralnic, WhoisServer) and isinstance(verisign, WhoisServer)
    assert isinstance(rdap, RdapServer) and isinstance(iana, WhoisServer)
    settings = lab_settings(
        Path(str(sld_world["ca"])),
        whois={"gb.com": centralnic.address, "com": verisign.address},
        bootstrap=rdap.bootstrap_url,
        iana=iana.address,
    )
    config = write_config(tmp_path / "d.toml", ["www.hotel.gb.com", "gone.gb.com", "gb.com"],
                          settings)
    run = domwatch("check", str(config), *COMMON)
    hotel = run.domain("hotel.gb.com")["registration"]
    assert hotel["source"] == "whois" and hotel["server"] == centralnic.address
    assert hotel["expires"] == EXPIRES.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "registration.not_found" in run.codes("gone.gb.com")  # CentralNic's own words
    assert run.domain("gb.com")["registration"]["source"] == "rdap"  # the zone, at .com
    # The TLD's registry holds gb.com, not hotel.gb.com: neither its RDAP (whose 404 would
    # read "not registered") nor its WHOIS is asked about names in the zone.
    asked = [r.path for r in rdap.requests]
    assert not [p for p in asked if p.endswith(("hotel.gb.com", "gone.gb.com"))]
    assert sorted(centralnic.queries) == ["gone.gb.com", "hotel.gb.com"]
    assert verisign.queries == []


def test_a_tld_wide_server_setting_covers_the_names_of_second_level_registries(
    sld_world: dict[str, object], tmp_path: Path
) -> None:
    # An operator who points .com at a server of their own means every name under .com.
    centralnic, rdap, iana = sld_world["centralnic"], sld_world["rdap"], sld_world["iana"]
    assert isinstance(centralnic, WhoisServer) and isinstance(rdap, RdapServer)
    assert isinstance(iana, WhoisServer)
    settings = lab_settings(Path(str(sld_world["ca"])), whois={"com": centralnic.address},
                            bootstrap=rdap.bootstrap_url, iana=iana.address)
    run = domwatch("check", str(write_config(tmp_path / "d.toml", ["hotel.gb.com"], settings)),
                   *COMMON)
    assert run.domain("hotel.gb.com")["registration"]["server"] == centralnic.address
    assert centralnic.queries == ["hotel.gb.com"]


@pytest.mark.parametrize(
    ("domain", "server"),
    [
        ("hotel.gb.com", "whois.centralnic.com"),
        ("shop.uk.com", "whois.centralnic.com"),
        ("trade.hk.com", "whois.registry.hk.com"),
        ("asso.eu.org", "whois.eu.org"),
        ("poutine.co.ca", "whois.co.ca"),
        ("familie.priv.at", "whois.nic.priv.at"),
        ("nevsky.spb.ru", "whois.flexireg.net"),
        ("braai.co.za", "whois.registry.net.za"),
        ("example.com", None),  # the TLD's server, found by the table or IANA
        ("example.co.uk", None),
    ],
)
def test_the_server_of_a_registry_zone_is_built_in(domain: str, server: str | None) -> None:
    found = WhoisSource(Settings()).zone_server(domain)
    assert (found.host if found else None) == server


def test_operator_settings_win_nearest_zone_first() -> None:
    mine, theirs = Endpoint("whois.intranet.example", 4343), Endpoint("127.0.0.1", 43)
    both = WhoisSource(Settings(whois_servers={"gb.com": mine, "com": theirs}))
    assert both.zone_server("hotel.gb.com") == mine
    assert both.zone_server("example.com") == theirs
    assert WhoisSource(Settings(whois_servers={"com": theirs})).zone_server("a.gb.com") == theirs


# --- a 404 from a guessed RDAP server is confirmed over WHOIS ----------------------------------
def _registry_lookup(settings: Settings, bootstrap: Bootstrap, domain: str) -> Lookup:
    async def go() -> Lookup:
        async with HttpClient.from_settings(settings) as http:
            sources = (RdapSource(settings, bootstrap, http), WhoisSource(settings))
            return await RegistrationSource(sources).lookup(domain)

    return asyncio.run(go())


@pytest.fixture
def guessed(lab: Lab, tmp_path: Path) -> tuple[Settings, RdapServer, WhoisServer]:
    """An RDAP host that does not hold .io (404 for every name) and .io's WHOIS."""
    ca = LabCA()
    rdap = lab.add(RdapServer(ssl_context=ca.server_context("127.0.0.1")))
    registered = (
        "Domain Name: held.io\r\nRegistrar: Registrar Example Ltd\r\n"
        f"Registry Expiry Date: {EXPIRES:%Y-%m-%dT%H:%M:%SZ}\r\n"
    )
    whois = lab.add(WhoisServer({"held.io": registered}, default="NOT FOUND\r\n",
                                behaviours={"quiet.io": "close"}))
    settings = Settings(timeout=2.0, ca_bundle=ca.write_ca(tmp_path / "ca.pem"), cache=False,
                        whois_servers={"io": Endpoint("127.0.0.1", whois.port)})
    return settings, rdap, whois


def test_a_404_from_an_overlay_server_is_not_believed_without_whois(
    guessed: tuple[Settings, RdapServer, WhoisServer],
) -> None:
    settings, rdap, whois = guessed
    overlay = Bootstrap(publication="lab", services={}, overlay={"io": (rdap.url,)})
    held = _registry_lookup(settings, overlay, "held.io")
    assert held.outcome == "registered" and held.registration is not None
    assert held.registration.source == "whois" and held.registration.expires == EXPIRES
    assert _registry_lookup(settings, overlay, "free.io").outcome == "not_found"  # WHOIS says so
    quiet = _registry_lookup(settings, overlay, "quiet.io")
    assert quiet.outcome == "failed"  # neither says anything: unknown, never "not registered"
    assert "not believed" in quiet.reason
    assert len(whois.queries) >= 3


def test_a_404_from_ianas_server_is_the_registrys_word(
    guessed: tuple[Settings, RdapServer, WhoisServer],
) -> None:
    settings, rdap, whois = guessed
    iana = Bootstrap(publication="lab", services={"io": (rdap.url,)})
    assert _registry_lookup(settings, iana, "held.io").outcome == "not_found"
    assert whois.queries == []  # not asked: IANA's server is the registry


# --- "registered" over RDAP needs a domain object with registration data ------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"objectClassName": "domain", "ldhName": "other-name.io", "events": [
            {"eventAction": "expiration", "eventDate": "2030-01-01T00:00:00Z"}]},
        {"objectClassName": "domain", "ldhName": "held.io"},  # nothing in it
        {"objectClassName": "entity", "handle": "X"},
        {"rdapConformance": ["rdap_level_0"], "notices": [{"title": "Help"}]},
    ],
)
def test_an_rdap_answer_without_evidence_is_not_a_registration(
    guessed: tuple[Settings, RdapServer, WhoisServer], body: dict[str, object]
) -> None:
    settings, rdap, _ = guessed
    rdap.add("held.io", body=json.dumps(body).encode())
    iana = Bootstrap(publication="lab", services={"io": (rdap.url,)})

    async def rdap_only() -> Lookup:
        async with HttpClient.from_settings(settings) as http:
            return await RdapSource(settings, iana, http).lookup("held.io")

    assert asyncio.run(rdap_only()).outcome == "unparsed"
    # ...so WHOIS is asked, and its date is the one reported (not 2030 from the wrong name)
    found = _registry_lookup(settings, iana, "held.io")
    assert found.registration is not None and found.registration.expires == EXPIRES


def test_an_rdap_registration_without_a_date_asks_whois_for_one(
    guessed: tuple[Settings, RdapServer, WhoisServer],
) -> None:
    settings, rdap, _ = guessed
    rdap.add("held.io", expires=None)  # registered, no expiration event
    rdap.add("quiet.io", expires=None, registrar="Quiet Registrar")
    iana = Bootstrap(publication="lab", services={"io": (rdap.url,)})
    # WHOIS has the date: it is the one reported
    held = _registry_lookup(settings, iana, "held.io")
    assert held.registration is not None and held.registration.expires == EXPIRES
    # WHOIS cannot answer: the RDAP registration stands, with the expiry unpublished
    quiet = _registry_lookup(settings, iana, "quiet.io")
    assert quiet.outcome == "registered" and quiet.registration is not None
    assert quiet.registration.source == "rdap" and quiet.registration.expires is None
    assert quiet.registration.expiry_published is False
    assert quiet.registration.registrar == "Quiet Registrar"


# --- throttles of registries that publish no expiry ---------------------------------------------
THROTTLES = {
    "fietsen-voorbeeld.nl": "whois.domain-registry.nl: only 1 request per second allowed, "
    "try again later\r\n",
    "europa-beispiel.eu": "-1: Still in grace period, wait 600 seconds\r\n",
    "frituur-voorbeeld.be": "% .be Whois Server 6.1\r\n%\r\n-3: Excessive querying, grace "
    "period of 300 seconds\r\n",
}


def test_throttle_replies_are_rate_limited_never_an_unpublished_expiry(
    lab: Lab, tmp_path: Path
) -> None:
    servers = {}
    for name, text in THROTTLES.items():
        servers[name.rsplit(".", 1)[1]] = lab.add(WhoisServer({}, default=text)).address
    rdap = lab.add(RdapServer(ssl_context=LabCA().server_context("127.0.0.1")))
    rdap.serve_bootstrap({"test": rdap.url})  # none of these TLDs over RDAP
    iana = lab.add(WhoisServer({}, default="% This query returned 0 objects.\n"))
    settings = lab_settings(LabCA().write_ca(tmp_path / "ca.pem"), whois=servers,
                            bootstrap=rdap.bootstrap_url, iana=iana.address)
    config = write_config(tmp_path / "d.toml", list(THROTTLES), settings)
    # timeout 1: the retries stop within the domain's budget of a few seconds
    run = domwatch("check", str(config), *COMMON, "--timeout", "1")
    for name in THROTTLES:
        assert run.codes(name) == ["lookup.rate_limited"], run.domain(name)
        assert run.domain(name)["registration"] is None
    assert run.exit_code == 3


# --- unknown answers are shown, not guessed -------------------------------------------------------
def _tr_findings(lab: Lab, tmp_path: Path, answer: str) -> tuple[list[dict[str, str]], str, int]:
    """lokanta.com.tr checked against a .tr WHOIS server that answers ``answer``:
    (its findings, the server's address, the exit status)."""
    whois = lab.add(WhoisServer({"lokanta.com.tr": answer}, default="** Domain Name: x.com.tr\r\n"))
    rdap = lab.add(RdapServer(ssl_context=LabCA().server_context("127.0.0.1")))
    rdap.serve_bootstrap({"test": rdap.url})
    iana = lab.add(WhoisServer({}, default="% This query returned 0 objects.\n"))
    settings = lab_settings(LabCA().write_ca(tmp_path / "ca.pem"), whois={"tr": whois.address},
                            bootstrap=rdap.bootstrap_url, iana=iana.address)
    run = domwatch("check", str(write_config(tmp_path / "d.toml", ["lokanta.com.tr"], settings)),
                   *COMMON)
    return run.domain("lokanta.com.tr")["findings"], whois.address, run.exit_code


def test_an_answer_of_unknown_layout_is_unparsed_with_its_opening_lines(
    lab: Lab, tmp_path: Path
) -> None:
    strange = "Query processed\r\n\r\nContact the registry by fax.\r\n"
    findings, _, _ = _tr_findings(lab, tmp_path, strange)
    assert [f["code"] for f in findings] == ["lookup.unparsed"]
    assert "Query processed | Contact the registry by fax." in findings[0]["message"]


def test_a_registry_refusing_the_name_is_not_registered_in_its_own_words(
    lab: Lab, tmp_path: Path
) -> None:
    # TRABIS answers a name it cannot hold with "Invalid input"; the claim quotes it
    findings, server, status = _tr_findings(lab, tmp_path, "Invalid input\r\n")
    assert [f["code"] for f in findings] == ["registration.not_found"]
    assert findings[0]["message"].endswith(f'({server}: "Invalid input")')
    assert status == 2


# --- --no-cache: a fresh bootstrap -------------------------------------------------------------
def test_no_cache_fetches_the_served_bootstrap_and_uses_it(lab: Lab, tmp_path: Path) -> None:
    ca = LabCA()
    rdap = lab.add(RdapServer(ssl_context=ca.server_context("127.0.0.1")))
    rdap.add("fresh.test", expires=EXPIRES)
    rdap.serve_bootstrap({"test": rdap.url}, publication="2020-01-01T00:00:00Z")
    iana = lab.add(WhoisServer({}, default="% This query returned 0 objects.\n"))
    settings = lab_settings(ca.write_ca(tmp_path / "ca.pem"), whois={},
                            bootstrap=rdap.bootstrap_url, iana=iana.address)
    config = write_config(tmp_path / "d.toml", ["fresh.test"], settings)
    run: Run = domwatch("check", str(config), *COMMON, "--cache-dir", str(tmp_path / "c"))
    registration = run.domain("fresh.test")["registration"]
    assert registration["source"] == "rdap" and registration["server"] == rdap.url
    assert [r.path for r in rdap.requests].count("/dns.json") == 1
    assert not (tmp_path / "c").exists()  # fresh answers, and nothing written
