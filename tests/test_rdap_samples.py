"""RDAP answers of registries we reach over RDAP first, read through ``parse_domain``.

The samples in ``rdap_samples/coverage/`` are written for these tests in each registry's layout
(date forms, status spellings, registrar entity, a missing expiration event); names and values are
invented. Each test also checks that the bundled bootstrap sends the TLD to RDAP at all, and
whether the registry publishes an expiry, so that "no expiration event" reads as the registry's
policy (``expiry_published`` false) or as an unreadable answer, never as a guessed date.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from domwatch.sources.rdap import parse_domain
from domwatch.sources.rdap_bootstrap import load_bundled
from domwatch.sources.unpublished import publishes_expiry

SAMPLES = Path(__file__).parent / "rdap_samples" / "coverage"
BOOTSTRAP = load_bundled()


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return doc


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# sample -> (expiry in UTC or None, registry publishes an expiry, registrar, base URL host)
EXPECTED: dict[str, tuple[str | None, bool, str | None, str]] = {
    # Identity Digital (port 43 switched off for .ai/.io/.me/.sh/.ac): milliseconds
    "ai-identitydigital.json": (
        "2027-05-24T19:04:47.391000",
        True,
        "Registrar Example, LLC",
        "rdap.identitydigital.services",
    ),
    # CentralNic runs .fo (IANA lists it) and .gl (only in our overlay): one fractional digit
    "fo-centralnic.json": (
        "2027-08-01T23:59:59",
        True,
        "Skrasetari Dome Sp/F",
        "rdap.centralnic.com",
    ),
    "gl-centralnic.json": (
        "2027-03-15T23:59:59",
        True,
        "Registrar Example ApS",
        "rdap.centralnic.com",
    ),
    # PANDI writes Jakarta time as an offset
    "id-pandi.json": ("2027-02-10T16:59:59", True, "PT Registrar Contoh", "rdap.pandi.id"),
    "sg-sgnic.json": ("2027-11-04T00:00:00", True, "Registrar Example Pte. Ltd.", "rdap.sgnic.sg"),
    # NIC Argentina: the registrar is the handle "nicar" only, dates in Buenos Aires time
    "ar-nicar.json": ("2027-06-06T03:00:00", True, "nicar", "rdap.nic.ar"),
    "my-mynic.json": ("2027-09-12T00:00:00", True, "Registrar Contoh Sdn. Bhd.", "rdap.mynic.my"),
    "pl-nask.json": ("2027-03-01T11:00:00", True, "Rejestrator Przyklad Sp. z o.o.", "rdap.dns.pl"),
    # an IDN name: ldhName is the A-label, unicodeName the U-label
    "fi-traficom-idn.json": ("2027-10-05T19:24:42", True, "Rekisteröijä Esimerkki Oy", "rdap.fi"),
    # SIDN and Norid publish no expiry: no expiration event is their policy, not a parse failure
    "nl-sidn.json": (None, False, "Registrar Voorbeeld B.V.", "rdap.sidn.nl"),
    "no-norid.json": (None, False, "Registrar Eksempel AS", "rdap.norid.no"),
}
NOT_FOUND = ["ai-identitydigital-not-found.json"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_registry_answer_gives_the_exact_expiry(name: str) -> None:
    expires, published, registrar, host = EXPECTED[name]
    doc = _load(name)
    got = parse_domain(doc)
    tld = str(doc["ldhName"]).rsplit(".", 1)[-1]
    assert got.expires == (_utc(expires) if expires else None)
    assert publishes_expiry(tld) is published
    assert got.registrar == registrar
    assert got.nameservers == ("ns1.hosting-example.net", "ns2.hosting-example.net")
    bases = BOOTSTRAP.base_urls(tld)
    assert any(f"//{host}/" in base for base in bases), bases  # RDAP is asked first for it


def test_idn_answer_names_both_forms() -> None:
    doc = _load("fi-traficom-idn.json")
    assert doc["ldhName"] == "xn--kknen-fraa0m.fi" and doc["unicodeName"] == "ääkkönen.fi"
    assert parse_domain(doc).statuses == ("ok",)


@pytest.mark.parametrize("name", NOT_FOUND)
def test_not_found_error_object_carries_no_registration(name: str) -> None:
    # The outcome comes from the HTTP status (404), which the source checks before parsing;
    # the error object a registry sends with it must not read as a registration.
    doc = _load(name)
    assert doc["errorCode"] == 404
    parsed = parse_domain(doc)
    assert parsed.expires is None and parsed.registrar is None and parsed.nameservers == ()


def test_every_coverage_sample_is_tested() -> None:
    assert {p.name for p in SAMPLES.glob("*.json")} == set(EXPECTED) | set(NOT_FOUND)
