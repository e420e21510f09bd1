"""Trust nothing from the network: referrals, rebinding, hostile RDAP and DNS, through the CLI.

Every test runs ``domwatch`` against real lab servers on loopback. The lab is itself on
loopback, so referrals within it are allowed (a server may refer within its own address
space); what must be refused is a referral out of it into an intranet (10/8) or to link-local
and metadata addresses, whatever the settings.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from domwatch.lab import DnsServer, Lab, WhoisServer
from domwatch.lab.ca import LabCA
from domwatch.lab.https_server import HttpsServer, Response
from domwatch.lab.rdap_server import RdapServer, bootstrap_document, render_domain
from domwatch.lab.world import Site, icann_answer
from tests.conftest import Run, domwatch

NOW = datetime.now(timezone.utc)
REGISTRY_DATE = (NOW + timedelta(days=200)).replace(hour=12, minute=0, second=0, microsecond=0)
REGISTRAR_DATE = REGISTRY_DATE + timedelta(days=1)


def whois_text(name: str, expires: datetime, referral: str = "") -> str:
    """An ICANN-layout answer, with ``referral`` as its Registrar WHOIS Server."""
    text = icann_answer(Site(name), expires)
    return text.replace("Registrar WHOIS Server: ", f"Registrar WHOIS Server: {referral}")


@dataclass
class Net:
    """The lab servers one test needs, and a domain file pointing domwatch at them."""

    lab: Lab
    tmp: Path
    ca: LabCA = field(default_factory=LabCA)
    dns: DnsServer = field(init=False)
    iana: WhoisServer = field(init=False)
    registry_whois: WhoisServer = field(init=False)
    registrar_whois: WhoisServer = field(init=False)
    rdap: RdapServer = field(init=False)
    registrar_rdap: RdapServer = field(init=False)

    def __post_init__(self) -> None:
        zones = {
            "lab.": "@ 300 SOA ns.lab. h.lab. 1 1 1 1 1\n",
            "registrar.test.": "@ 300 SOA ns.registrar.test. h.registrar.test. 1 1 1 1 1\n",
        }
        self.dns = self.lab.add(DnsServer(zones))
        self.iana = self.lab.add(WhoisServer({}, default="% no such TLD\n"))
        self.registry_whois = self.lab.add(WhoisServer({}))
        self.registrar_whois = self.lab.add(WhoisServer({}))
        self.rdap = self.lab.add(RdapServer(ssl_context=self.ca.server_context("127.0.0.1")))
        self.registrar_rdap = self.lab.add(
            RdapServer(ssl_context=self.ca.server_context("rdap.registrar.test"))
        )

    def config(self, *names: str, rdap: bool = True, whois: bool = True,
               allow_private: bool = False, extra: str = "") -> Path:
        boot = self.tmp / "dns.json"
        boot.write_bytes(bootstrap_document({"example": "https://rdap.example/"}, "2030-01-01"))
        path = self.tmp / "domains.toml"
        listed = ", ".join(f'"{n}"' for n in names)
        servers = f'servers = {{ lab = "{self.registry_whois.address}" }}\n' if whois else ""
        rdap_servers = f'servers = {{ lab = "{self.rdap.url}" }}\n' if rdap else ""
        path.write_text(
            f"domains = [{listed}]\n"
            "[settings]\ntimeout = 2\nchecks = [\"registration\"]\n"
            f'[settings.resolver]\nnameservers = ["{self.dns.address}"]\n'
            f'[settings.whois]\niana = "{self.iana.address}"\n{servers}'
            f'[settings.rdap]\nbootstrap = "{boot}"\n{rdap_servers}'
            f'[settings.tls]\nca_bundle = "{self.ca.write_ca(self.tmp / "ca.pem")}"\n'
            f"[settings.network]\nallow_private = {str(allow_private).lower()}\n" + extra,
            encoding="utf-8",
        )
        return path

    def check(self, config: Path, *args: str) -> Run:
        return domwatch("check", str(config), "--format", "json", "--no-progress",
                        "--cache-dir", str(self.tmp / "cache"), "--no-state", *args)


@pytest.fixture
def net(lab: Lab, tmp_path: Path) -> Iterator[Net]:
    yield Net(lab, tmp_path)


def _referral_rows(net: Net) -> list[tuple[str, str]]:
    db = sqlite3.connect(net.tmp / "cache" / "domwatch.sqlite3")
    try:
        return list(db.execute("SELECT tld, server FROM referral"))
    finally:
        db.close()


# --- 1, 3: every referral goes through one address policy ---------------------------------------


@pytest.mark.parametrize(
    ("target", "allow_private", "words"),
    [
        ("169.254.169.254", False, "link-local"),
        ("169.254.169.254", True, "link-local"),  # never, whatever the setting
        ("metadata.google.internal", True, "metadata"),
        ("10.1.2.3", False, "private"),  # out of the lab's loopback into an intranet
    ],
)
def test_iana_referral_is_vetted_and_a_refused_one_is_not_remembered(
    net: Net, target: str, allow_private: bool, words: str
) -> None:
    net.iana.answers["zz"] = f"domain: ZZ\nwhois: {target}\n"
    run = net.check(net.config("a.zz", allow_private=allow_private))
    assert run.exit_code == 3, run.stderr
    (finding,) = run.domain("a.zz")["findings"]
    assert finding["code"] == "lookup.failed"
    assert "refused" in finding["message"] and words in finding["message"]
    assert net.iana.queries == ["zz"]
    assert _referral_rows(net) == []  # a refused referral is not cached for 7 days


def test_registry_referral_to_a_registrar_is_vetted(net: Net) -> None:
    # Registries name registrar servers by host name; the lab DNS says where each one is.
    net.dns.answer_in_turn("evil.registrar.test", "A", [["169.254.169.254"]])
    net.dns.answer_in_turn("intranet.registrar.test", "A", [["10.1.2.3"]])
    expected = {
        "a.lab": ("evil.registrar.test", "169.254.169.254) is a link-local address"),
        "b.lab": ("intranet.registrar.test:4343", "referred to intranet.registrar.test "
                  "(10.1.2.3), a private address"),
        "c.lab": ("metadata.google.internal", "metadata.google.internal is a cloud metadata"),
    }
    for name, (referral, _) in expected.items():
        net.registry_whois.answers[name] = whois_text(name, REGISTRY_DATE, referral)
    config = net.config(*expected, rdap=False, allow_private=False)
    for name, (_, words) in expected.items():
        run = domwatch("lookup", name, "--config", str(config))
        assert run.exit_code == 0, run.stdout + run.stderr
        assert "read: refused: " in run.stdout and words in run.stdout, run.stdout
        assert f"expires: {REGISTRY_DATE.strftime('%Y-%m-%d')}" in run.stdout
    # Link-local stays refused with allow_private on.
    config = net.config("a.lab", rdap=False, allow_private=True)
    assert "is a link-local address" in domwatch("lookup", "a.lab", "--config", str(config)).stdout
    assert net.registrar_whois.queries == []


# --- 2: the address checked is the address connected to -----------------------------------------


def test_whois_referral_connects_to_the_address_it_checked(net: Net) -> None:
    # The name answers loopback first and 169.254.169.254 on every later question: a second
    # resolution (to connect) would go to the metadata address.
    net.dns.answer_in_turn("whois.registrar.test", "A", [["127.0.0.1"], ["169.254.169.254"]])
    net.dns.answer_in_turn("whois.registrar.test", "AAAA", [[]])
    referral = f"whois.registrar.test:{net.registrar_whois.port}"
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", REGISTRY_DATE, referral)
    net.registrar_whois.answers["a.lab"] = whois_text("a.lab", REGISTRAR_DATE)
    run = net.check(net.config("a.lab", rdap=False))
    registration = run.domain("a.lab")["registration"]
    assert registration["expires"] == REGISTRY_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert registration["registrar_expires"] == REGISTRAR_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert net.registrar_whois.queries == ["a.lab"]
    assert net.dns.queries.count(("whois.registrar.test", "A")) == 1


def test_rdap_related_link_connects_to_the_address_it_checked(net: Net) -> None:
    net.dns.answer_in_turn("rdap.registrar.test", "A", [["127.0.0.1"], ["169.254.169.254"]])
    net.dns.answer_in_turn("rdap.registrar.test", "AAAA", [[]])
    link = f"https://rdap.registrar.test:{net.registrar_rdap.server.port}/rdap/domain/a.lab"
    net.rdap.add("a.lab", expires=REGISTRY_DATE, related=link)
    net.registrar_rdap.add("a.lab", expires=None, registrar_expires=REGISTRAR_DATE)
    run = net.check(net.config("a.lab", whois=False))
    registration = run.domain("a.lab")["registration"]
    assert registration["source"] == "rdap"
    assert registration["registrar_expires"] == REGISTRAR_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    # The registrar saw the name in SNI (its certificate was checked for it), and the name
    # was resolved once.
    assert [r.host for r in net.registrar_rdap.requests] == ["rdap.registrar.test"]
    assert net.dns.queries.count(("rdap.registrar.test", "A")) == 1


# --- 4: no https -> http ------------------------------------------------------------------------


def test_rdap_redirect_from_https_to_http_is_refused(net: Net) -> None:
    body = render_domain("a.lab", net.rdap.add("x.lab", registrar="Plaintext Registrar"))
    plain = net.lab.add(HttpsServer(
        lambda _r: Response(200, {"Content-Type": "application/rdap+json"},
                            json.dumps(body).encode()),
        ssl_context=None,
    ))
    net.rdap.add("a.lab", redirect=f"{plain.url}/rdap/domain/a.lab")
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", REGISTRY_DATE)
    run = net.check(net.config("a.lab"))
    registration = run.domain("a.lab")["registration"]
    assert registration["source"] == "whois"  # RDAP refused, WHOIS answered
    assert registration["registrar"] != "Plaintext Registrar"
    assert plain.requests == []
    lookup = domwatch("lookup", "a.lab", "--config", str(net.config("a.lab")))
    assert "not HTTPS" in lookup.stdout


# --- 5: hostile RDAP answers are named failures that fall back -----------------------------------

HOSTILE = {
    "nested": b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "href-list": (b'{"objectClassName": "domain", "links": [{"rel": "self", "href": ["x"]}],'
                  b' "events": []}'),
    "overflow": (b'{"objectClassName": "domain", "events": [{"eventAction": "expiration",'
                 b' "eventDate": "9999-12-31T23:59:59-23:59"}]}'),
    "types": (b'{"events": {"a": 1}, "status": 5, "entities": [{"roles": [["registrar"]],'
              b' "vcardArray": 7, "publicIds": [{"identifier": [1]}]}], "nameservers": "ns"}'),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_rdap_answer_falls_back_to_whois(net: Net, kind: str) -> None:
    net.rdap.add("a.lab", body=HOSTILE[kind])
    net.registry_whois.answers["a.lab"] = whois_text("a.lab", REGISTRY_DATE)
    config = net.config("a.lab")
    run = net.check(config)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.domain("a.lab")["registration"]["source"] == "whois"
    lookup = domwatch("lookup", "a.lab", "--config", str(config))
    assert lookup.exit_code == 0 and "Traceback" not in lookup.stdout + lookup.stderr
    assert "outcome: registered" in lookup.stdout


def test_hostile_registrar_answer_does_not_undo_the_registry(net: Net) -> None:
    net.dns.answer_in_turn("rdap.registrar.test", "A", [["127.0.0.1"]])
    net.dns.answer_in_turn("rdap.registrar.test", "AAAA", [[]])
    link = f"https://rdap.registrar.test:{net.registrar_rdap.server.port}/rdap/domain/a.lab"
    net.rdap.add("a.lab", expires=REGISTRY_DATE, related=link)
    net.registrar_rdap.add("a.lab", body=HOSTILE["overflow"])
    run = net.check(net.config("a.lab", whois=False))
    registration = run.domain("a.lab")["registration"]
    assert registration["source"] == "rdap"
    assert registration["expires"] == REGISTRY_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    net.registrar_rdap.add("a.lab", body=HOSTILE["nested"])
    lookup = domwatch("lookup", "a.lab", "--config", str(net.config("a.lab", whois=False)))
    assert "registrar's answer unusable (malformed answer: JSON nested" in lookup.stdout
    assert "outcome: registered" in lookup.stdout


def test_hostile_rdap_answer_lets_a_stale_cached_answer_stand_in(net: Net) -> None:
    net.rdap.add("a.lab", expires=REGISTRY_DATE)
    config = net.config("a.lab", whois=False)
    assert net.check(config).domain("a.lab")["registration"]["source"] == "rdap"
    db = sqlite3.connect(net.tmp / "cache" / "domwatch.sqlite3")
    with db:
        db.execute("UPDATE registration SET fresh_until = 0")  # as if a day had passed
    db.close()
    net.rdap.add("a.lab", body=HOSTILE["nested"])
    run = net.check(config)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert [f["code"] for f in run.domain("a.lab")["findings"]] == ["lookup.stale"]
    assert "malformed answer" in run.domain("a.lab")["findings"][0]["message"]


# --- 6: a huge answer costs bounded work, off the event loop -------------------------------------


def test_answers_with_250000_entities_do_not_starve_the_other_domains(net: Net) -> None:
    registrar = (b'{"roles": ["registrar"], "vcardArray": ["vcard", [["fn", {}, "text",'
                 b' "Outer Registrar"]]], "entities": [' + b",".join([b"{}"] * 250_000) + b"]}")
    expiry = REGISTRY_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    huge = (b'{"objectClassName": "domain", "events": [{"eventAction": "expiration",'
            b' "eventDate": "' + expiry + b'"}], "entities": [' + registrar + b"]}")
    assert len(huge) < 1024 * 1024  # under the answer cap, so it is read and walked
    hostile = [f"h{i}.lab" for i in range(8)]
    healthy = [f"ok{i}.lab" for i in range(20)]
    for name in hostile:
        net.rdap.add(name, body=huge)
    for name in healthy:
        net.rdap.add(name, expires=REGISTRY_DATE)
    # Generous on purpose (a loaded 2-core machine): the quadratic walk this replaces took
    # ~6 s of CPU per answer on the event loop, 48 s for the eight, past any budget here.
    run = net.check(net.config(*hostile, *healthy, whois=False), "--timeout", "10")
    assert run.exit_code == 0, run.stdout + run.stderr
    for name in healthy:
        assert run.domain(name)["registration"]["source"] == "rdap", name
    for name in hostile:
        assert run.domain(name)["registration"]["registrar"] == "Outer Registrar"


# --- 7: a forged DNS answer is discarded --------------------------------------------------------


def test_forged_dns_answer_with_the_wrong_id_is_discarded(lab: Lab) -> None:
    # Every answer about forged.lab comes twice: first under a wrong query ID, 0.2 s later right.
    zone = ("@ 300 SOA ns.forged.lab. h.lab. 1 1 1 1 1\n@ NS ns.forged.lab.\n"
            "ns A 127.0.0.1\n@ A 127.0.0.1\n")
    dns = lab.add(DnsServer({"forged.lab.": zone}, behaviours={"*.forged.lab": "forged",
                                                                "forged.lab": "forged"}))
    run = domwatch("check", "forged.lab", "--checks", "dns", "--format", "json",
                   "--resolver", dns.address, "--timeout", "3", "--no-cache", "--no-state",
                   "--no-progress")
    assert run.exit_code == 0, run.stdout
    assert run.domain("forged.lab")["findings"] == []
    assert ("forged.lab", "NS") in dns.queries and ("ns.forged.lab", "A") in dns.queries


def test_rdap_answer_is_read_in_bounded_work() -> None:
    # The walk visits at most MAX_ENTITIES entities, outer ones first, whatever the answer holds.
    from domwatch.sources.rdap import MAX_ENTITIES, _entities

    doc = {"entities": [{"entities": [{} for _ in range(5)]} for _ in range(300_000)]}
    assert len(_entities(doc)) == MAX_ENTITIES
