"""``--format ics``: read back with the icalendar library, every event against the JSON report.

The lab world serves registrations over RDAP and WHOIS and certificates over HTTPS; the
calendar and the JSON document compared are rendered from the same run's report.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from domwatch.config import load_config
from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from domwatch.model import Domain, DomainResult, Registration, Report
from domwatch.report import RenderOptions, render
from domwatch.runner import run
from tests.conftest import domwatch

# Commas and semicolons are TEXT separators in RFC 5545, the backslash its escape; the name is
# longer than one 75-octet line and has multi-octet characters where a fold may fall.
NASTY = (
    'Hostinger, Inc.; "Ääkkönen & Söner" <script>alert(1)</script> '
    "Rekisteröintipalvelu Oy — Helsinki, Tampere; Oulu \\ ÅÄÖ ÅÄÖ ÅÄÖ ÅÄÖ ÅÄÖ"
)
WHOIS_REGISTRAR = "Registrar, with; punctuation Öy"
SITES = [
    Site("nasty.fi", expires_in=20, registrar=NASTY),
    Site("whoisonly.com", expires_in=45, registrar=WHOIS_REGISTRAR, rdap="down"),
    Site("certsoon.fi", expires_in=200, web="soon"),
    Site("certgone.com", expires_in=90, web="expired"),
    Site("lapsed.com", expires_in=-3),
    Site("xn--kknen-fraa0m.fi", expires_in=300),  # ääkkönen.fi
    Site("strict.fi", expires_in=50),
    Site("ownthresholds.fi", expires_in=120, web="ok"),
    Site("nodate.de", expires_in=None),
    Site("gone.com", registered=False),
]
# The thresholds each domain runs with: the defaults, and two domains' own.
DEFAULT = {"warn": 30, "crit": 7, "cert_warn": 21, "cert_crit": 7}
OWN = {
    "strict.fi": {**DEFAULT, "warn": 60, "crit": 14},
    "ownthresholds.fi": {**DEFAULT, "cert_warn": 40, "cert_crit": 10},
}


@dataclass
class Calendars:
    world: World
    config: Path
    document: dict[str, Any]  # the JSON report of the run below
    ics: str  # the calendar of the same run


def _config(world: World, path: Path) -> Path:
    own = world.web["ownthresholds.fi"]
    extra = (
        '\n[[domain]]\nname = "strict.fi"\nwarn_days = 60\ncrit_days = 14\n'
        '\n[[domain]]\nname = "ownthresholds.fi"\ncert_warn_days = 40\ncert_crit_days = 10\n'
        'checks = ["registration", "dns", "mail", "web"]\n'
        f'web = ["https://ownthresholds.fi:{own.port}/"]\n'
    )
    names = [s.name for s in SITES if s.name not in OWN]
    return world.config(path, extra=extra, domains=names)


@pytest.fixture(scope="module")
def calendars(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Calendars]:
    tmp = tmp_path_factory.mktemp("ics")
    with Lab() as lab:
        world = World(SITES).start(lab)
        config = _config(world, tmp / "domains.toml")
        loaded = load_config([str(config)], {"cache": False, "state": False})
        report = asyncio.run(run(loaded))
        document = json.loads(render(report, "json", RenderOptions()))
        yield Calendars(world, config, document, render(report, "ics", RenderOptions()))


def _events(text: str) -> dict[str, Any]:
    calendar = Calendar.from_ical(text)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == len(calendar.walk("VEVENT")), "UIDs must be unique"
    return events


def _earliest_cert(domain: dict[str, Any]) -> datetime | None:
    """The first notAfter over every address of every web host in the JSON report."""
    moments = [
        datetime.strptime(address["tls"]["not_after"], "%Y-%m-%dT%H:%M:%SZ")
        for host in (domain.get("web") or {}).get("hosts", [])
        for address in host["addresses"]
        if address.get("tls")
    ]
    return min(moments, default=None)


def test_the_nasty_names_reached_the_report(calendars: Calendars) -> None:
    """Otherwise the escaping tests below would prove nothing."""
    by_name = {d["name"]: d for d in calendars.document["domains"]}
    assert by_name["nasty.fi"]["registration"]["registrar"] == NASTY
    assert by_name["nasty.fi"]["registration"]["source"] == "rdap"
    assert by_name["whoisonly.com"]["registration"]["registrar"] == WHOIS_REGISTRAR
    assert by_name["whoisonly.com"]["registration"]["source"] == "whois"


def test_every_event_agrees_with_the_json_report(calendars: Calendars) -> None:
    document = calendars.document
    events = _events(calendars.ics)
    generated = datetime.strptime(document["generated"], "%Y-%m-%dT%H:%M:%SZ")
    expected_uids = set()
    for domain in document["domains"]:
        name, shown = domain["name"], domain["display_name"]
        limits = OWN.get(name, DEFAULT)
        registration = domain["registration"]
        if registration and registration["expires"]:
            uid = f"{name}@domwatch"
            expected_uids.add(uid)
            event = events[uid]
            day = date.fromisoformat(registration["expires"][:10])
            _assert_all_day(event, day)
            assert event.decoded("dtstamp").replace(tzinfo=None) == generated
            assert str(event["summary"]) == f"{shown} registration expires"
            lines = str(event["description"]).split("\n")
            assert f"Registrar: {registration['registrar']}" in lines
            assert any(
                line.startswith(f"Source: {registration['source']}") for line in lines
            )
            assert f"Days left: {registration['days_left']}" in " ".join(lines)
            assert _triggers(event) == sorted({-limits["warn"], -limits["crit"]})
        cert = _earliest_cert(domain)
        if cert is not None:
            uid = f"{name}.tls@domwatch"
            expected_uids.add(uid)
            event = events[uid]
            _assert_all_day(event, cert.date())
            assert str(event["summary"]) == f"{shown} TLS certificate expires"
            days = min(
                a["tls"]["days_left"]
                for h in domain["web"]["hosts"]
                for a in h["addresses"]
                if a.get("tls")
            )
            assert f"Days left: {days} " in str(event["description"])
            assert _triggers(event) == sorted({-limits["cert_warn"], -limits["cert_crit"]})
    assert set(events) == expected_uids
    # The world's truth, independently: registration events for every dated site, one
    # certificate event for each web site, none for unpublished or unregistered domains.
    dated = {s.name for s in SITES if s.registered and s.expires_in is not None}
    assert {u.removesuffix("@domwatch") for u in events if ".tls@" not in u} == dated
    assert {u.removesuffix(".tls@domwatch") for u in events if ".tls@" in u} == {
        s.name for s in SITES if s.web
    }


def test_certificate_events_fall_on_the_lab_certificates_dates(calendars: Calendars) -> None:
    events = _events(calendars.ics)
    now = calendars.world.now
    # The lab's "soon" certificates end on the fifth day; "expired" ones ended 2 days ago.
    assert events["certsoon.fi.tls@domwatch"].decoded("dtstart") == (
        now + timedelta(days=5)
    ).date()
    assert events["certgone.com.tls@domwatch"].decoded("dtstart") == (
        now - timedelta(days=2)
    ).date()
    description = str(events["certgone.com.tls@domwatch"]["description"])
    assert "expired 2 days ago" in description
    assert "tls.expired" in description


def test_text_is_escaped_and_folded_as_rfc5545_says(calendars: Calendars) -> None:
    raw = calendars.ics.encode("utf-8")
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    physical = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75  # octets, not characters
    for line in physical:
        line.decode("utf-8")  # a fold never splits a multi-octet character
    unfolded = raw.replace(b"\r\n ", b"").decode("utf-8")
    (description,) = [
        line for line in unfolded.split("\r\n") if line.startswith("DESCRIPTION:Registrar: Host")
    ]
    assert "Hostinger\\, Inc.\\; " in description
    assert "Helsinki\\, Tampere\\; Oulu \\\\ ÅÄÖ" in description
    assert "\\n" in description  # line breaks inside the text are escaped, not literal
    # The folding was exercised: the nasty registrar line is longer than one physical line.
    assert len(description.encode("utf-8")) > 150


def test_domains_without_a_date_have_no_event(calendars: Calendars) -> None:
    events = _events(calendars.ics)
    for uid in ("nodate.de@domwatch", "gone.com@domwatch", "nodate.de.tls@domwatch"):
        assert uid not in events


def test_two_cli_runs_give_the_same_uids_and_dates(calendars: Calendars, tmp_path: Path) -> None:
    """What a subscribed calendar needs: the same event identity run after run."""
    outputs = []
    for attempt in ("first.ics", "second.ics"):
        target = tmp_path / attempt
        result = domwatch(
            "check", str(calendars.config), "--format", "ics", "-o", str(target),
            "--no-cache", "--no-state", "--no-progress",
        )  # fmt: skip
        assert result.exit_code == 2, result.stderr
        assert result.stdout == ""
        outputs.append(_events(target.read_text(encoding="utf-8")))
    first, second = outputs
    assert set(first) == set(second) == set(_events(calendars.ics))
    for uid, event in first.items():
        for key in ("dtstart", "dtend", "summary"):
            assert event.decoded(key) == second[uid].decoded(key), (uid, key)


def test_output_file_is_replaced_whole(calendars: Calendars, tmp_path: Path) -> None:
    target = tmp_path / "renewals.ics"
    target.write_text("an older calendar\n", encoding="utf-8")
    result = domwatch(
        "check", str(calendars.config), "--format", "ics", "-o", str(target),
        "--no-cache", "--no-state", "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")  # CRLF kept on disk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["renewals.ics"]  # no temp file left


def test_quiet_does_not_apply_to_a_calendar(calendars: Calendars, tmp_path: Path) -> None:
    """All OK with -q prints nothing in other formats; a calendar is still a whole document."""
    healthy = calendars.world.config(tmp_path / "ok.toml", domains=["xn--kknen-fraa0m.fi"])
    for fmt in ("json", "ics"):
        result = domwatch(
            "check", str(healthy), "--format", fmt, "-q", "--no-cache", "--no-state",
            "--no-progress",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("BEGIN:VCALENDAR")
    events = _events(result.stdout)
    assert "xn--kknen-fraa0m.fi@domwatch" in events
    assert str(events["xn--kknen-fraa0m.fi@domwatch"]["summary"]) == (
        "ääkkönen.fi registration expires"
    )


def test_demo_calendar_works_offline() -> None:
    result = domwatch("demo", "--format", "ics")
    events = _events(result.stdout)
    uids = set(events)
    # The demo's dated registrations and its web sites' certificates.
    assert {"sauna.fi@domwatch", "forgotten.com@domwatch", "kauppa.fi.tls@domwatch"} <= uids
    assert "brand.de@domwatch" not in uids  # DENIC publishes no date
    assert "never-registered.com@domwatch" not in uids
    assert all(u.endswith("@domwatch") for u in uids)


def test_a_report_without_certificates_or_dates_is_an_empty_calendar() -> None:
    now = datetime.fromisoformat("2026-12-03T06:00:00+00:00")
    result = DomainResult(Domain("x.fi", "x.fi"), registration=Registration("rdap"))
    calendar = Calendar.from_ical(render(Report(now, [result]), "ics", RenderOptions()))
    assert calendar.walk("VEVENT") == []
    assert str(calendar["version"]) == "2.0"


def test_equal_thresholds_give_one_alarm() -> None:
    from domwatch.model import Thresholds

    now = datetime.fromisoformat("2026-12-03T06:00:00+00:00")
    expires = datetime.fromisoformat("2027-01-10T00:00:00+00:00")
    domain = Domain("x.fi", "x.fi", thresholds=Thresholds(warn_days=14, crit_days=14))
    result = DomainResult(domain, registration=Registration("rdap", expires=expires))
    result.cert_expires = expires
    events = _events(render(Report(now, [result]), "ics", RenderOptions()))
    assert _triggers(events["x.fi@domwatch"]) == [-14]
    assert _triggers(events["x.fi.tls@domwatch"]) == [-21, -7]


def _assert_all_day(event: Any, day: date) -> None:
    assert event["dtstart"].params.get("VALUE") == "DATE"
    assert event.decoded("dtstart") == day
    assert event.decoded("dtend") == day + timedelta(days=1)


def _triggers(event: Any) -> list[int]:
    alarms = event.walk("VALARM")
    assert all(str(a["action"]) == "DISPLAY" and str(a["description"]) for a in alarms)
    return sorted(a.decoded("trigger").days for a in alarms)


def test_a_domain_keeps_its_earliest_certificate() -> None:
    from domwatch.model import CheckResult

    later = datetime.fromisoformat("2027-03-01T12:00:00+00:00")
    sooner = datetime.fromisoformat("2027-02-01T08:00:00+00:00")
    result = DomainResult(Domain("x.fi", "x.fi"))
    for moment in (later, sooner, later):
        result.add("web", CheckResult(cert_expires=moment))
    assert result.cert_expires == sooner
