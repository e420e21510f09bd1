"""RDAP-first registration and the live web check, end to end through the CLI and the lab."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from tests.conftest import Run, domwatch

COMMON = ("--format", "json", "--no-cache", "--no-state", "--no-progress")


@pytest.fixture(scope="module")
def rdap_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Run]]:
    tmp = tmp_path_factory.mktemp("rdap")
    sites = [
        Site("registry.com", expires_in=300, registrar="Example Registrar, Inc."),
        Site("fallback.com", expires_in=120, rdap="down"),
        Site("unknown.com", registered=False),
        Site("patient.org", expires_in=90, rdap="throttled"),
        Site("hidden.de", expires_in=None),
        Site("nordic.fi", expires_in=45),
        Site("local.lab", expires_in=200),
    ]
    with Lab() as lab:
        world = World(sites).start(lab)
        config = world.config(tmp / "d.toml")
        yield world, domwatch("check", str(config), *COMMON)


def test_rdap_answers_with_the_right_date(rdap_world: tuple[World, Run]) -> None:
    world, run = rdap_world
    registration = run.domain("registry.com")["registration"]
    assert registration["source"] == "rdap"
    assert registration["server"] == world.rdap.url if world.rdap else False
    assert registration["expires"].startswith((world.now + timedelta(days=300)).date().isoformat())
    assert registration["registrar"] == "Example Registrar, Inc."
    assert run.domain("nordic.fi")["registration"]["source"] == "rdap"


def test_rdap_down_falls_back_to_whois(rdap_world: tuple[World, Run]) -> None:
    _, run = rdap_world
    entry = run.domain("fallback.com")
    assert entry["registration"]["source"] == "whois"
    assert entry["registration"]["days_left"] == 120
    assert entry["findings"] == []


def test_registry_404_is_not_found(rdap_world: tuple[World, Run]) -> None:
    _, run = rdap_world
    assert "registration.not_found" in run.codes("unknown.com")


def test_429_with_retry_after_is_waited_out(rdap_world: tuple[World, Run]) -> None:
    world, run = rdap_world
    entry = run.domain("patient.org")
    assert entry["registration"]["source"] == "rdap"
    assert entry["registration"]["days_left"] == 90
    assert world.rdap is not None
    asked = [r for r in world.rdap.requests if r.path.endswith("/patient.org")]
    assert len(asked) == 2  # the 429, then the answer after Retry-After


def test_unpublished_expiry_and_tld_outside_bootstrap(rdap_world: tuple[World, Run]) -> None:
    _, run = rdap_world
    assert run.codes("hidden.de") == ["expiry.unpublished"]
    assert run.domain("hidden.de")["registration"]["expires"] is None
    assert run.domain("local.lab")["registration"]["source"] == "whois"


def test_manual_expiry_for_unpublished_registry(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("contract.de", expires_in=None)]).start(lab)
    config = world.config(
        tmp_path / "d.toml",
        domains=[],
        extra='\n[[domain]]\nname = "contract.de"\nexpires = "2026-12-10"\n',
    )
    run = domwatch("check", str(config), *COMMON)
    registration = run.domain("contract.de")["registration"]
    assert registration["source"] == "manual"
    assert registration["expires"].startswith("2026-12-10")
    assert "expiry.unpublished" not in run.codes("contract.de")


def test_lookup_shows_rdap_urls(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("show.com", expires_in=50)]).start(lab)
    config = world.config(tmp_path / "d.toml")
    run = domwatch("lookup", "show.com", "--config", str(config))
    assert world.rdap is not None
    assert f"{world.rdap.url}domain/show.com" in run.stdout
    assert '"eventAction"' in run.stdout
    assert "days_left: 50" in run.stdout


WEB_SITES = [
    Site("fine-web.com", web="ok"),
    Site("stale-cert.com", web="expired"),
    Site("renew-cert.com", web="soon"),
    Site("misnamed.com", web="wrongname"),
    Site("selfmade.com", web="untrusted"),
    Site("failing.com", web="503"),
    Site("missing.com", web="404"),
    Site("dark.com", web="down"),
    Site("halfway.com", web="halfdown"),
]


@pytest.fixture(scope="module")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Run]]:
    tmp = tmp_path_factory.mktemp("web")
    with Lab() as lab:
        world = World(WEB_SITES).start(lab)
        config = world.config(tmp / "d.toml")
        yield world, domwatch("check", str(config), *COMMON, "--timeout", "1")


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("fine-web.com", []),
        ("stale-cert.com", ["tls.expired"]),
        ("renew-cert.com", ["tls.critical"]),
        ("misnamed.com", ["tls.hostname_mismatch"]),
        ("selfmade.com", ["tls.untrusted"]),
        ("failing.com", ["web.http_error"]),
        ("missing.com", ["web.http_error"]),
        ("dark.com", ["web.unreachable"]),
        ("halfway.com", ["web.address_unreachable"]),
    ],
)
def test_each_web_problem_has_its_own_finding(
    web_world: tuple[World, Run], name: str, codes: list[str]
) -> None:
    _, run = web_world
    assert run.codes(name) == codes, run.domain(name)["findings"]


def test_web_severities_and_report(web_world: tuple[World, Run]) -> None:
    _, run = web_world
    assert run.domain("failing.com")["status"] == "critical"  # 5xx
    assert run.domain("missing.com")["status"] == "warning"  # 4xx
    soon = run.domain("renew-cert.com")
    address = soon["web"]["hosts"][0]["addresses"][0]
    assert address["tls"]["days_left"] == 5
    assert address["http_status"] == 200
    halfway = run.domain("halfway.com")["web"]["hosts"][0]["addresses"]
    assert sorted(a["connected"] for a in halfway) == [False, True]


def test_dead_address_is_told_by_the_refusal_not_the_timeout(web_world: tuple[World, Run]) -> None:
    # A dead address (nothing listens on 127.0.0.3) is told by the refusal itself, not found
    # by waiting out the timeout; the live address beside it is still checked.
    _, run = web_world
    for name in ("dark.com", "halfway.com"):
        (finding,) = run.domain(name)["findings"]
        assert "127.0.0.3: connection refused" in finding["message"], finding
        assert "timed out" not in finding["message"]
    halfway = run.domain("halfway.com")["web"]["hosts"][0]["addresses"]
    assert [a["http_status"] for a in halfway if a["connected"]] == [200]


def test_table_shows_certificate_days(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("renew-cert.com", web="soon")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    run = domwatch("check", str(config), "--no-cache", "--no-state", "--no-progress")
    row = next(line for line in run.stdout.splitlines() if "renew-cert.com" in line)
    assert " 300 " in row and " 5 " in row


def test_mail_starttls_certificates_through_the_cli(lab: Lab, tmp_path: Path) -> None:
    world = World(
        [
            Site("post-ok.com", smtp="ok"),
            Site("post-old.com", smtp="expired"),
            Site("post-rogue.com", smtp="untrusted"),
            Site("post-plain.com", smtp="nostarttls"),
            Site("post-none.com"),  # mail_tls not asked for: never probed
        ]
    ).start(lab)
    config = world.config(tmp_path / "d.toml")
    run = domwatch("check", str(config), *COMMON)
    assert run.codes("post-ok.com") == []
    assert run.codes("post-old.com") == ["mail.tls.expired"]
    assert run.codes("post-rogue.com") == ["mail.tls.untrusted"]
    assert run.codes("post-plain.com") == ["mail.tls.unavailable"]
    assert "tls" not in run.domain("post-none.com")["mail"]
    ok = run.domain("post-ok.com")["mail"]["tls"]["hosts"][0]
    assert ok["host"] == "mail.post-ok.com"
    assert ok["addresses"][0]["tls"]["days_left"] == 90
    assert run.exit_code == 2
