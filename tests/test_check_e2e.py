"""`domwatch check` end to end: CLI -> config -> WHOIS/DNS over real lab sockets -> report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from tests.conftest import Run, domwatch

RATE_LIMITED = "Your connection limit exceeded. Please slow down and try again later.\r\n"

SITES = [
    Site("healthy.fi", expires_in=300),
    Site("soon.fi", expires_in=5),
    Site("month.com", expires_in=20),
    Site("gone.com", expires_in=-3),
    Site("free.com", registered=False),
    Site("held.com", statuses=("clientHold",)),
    Site("redeem.com", statuses=("redemptionPeriod",)),
    Site("dying.com", statuses=("pendingDelete", "redemptionPeriod")),
    Site("nodate.de", expires_in=None),
    Site(
        "unparsed.lab",
        whois_text="Domain Name: UNPARSED.LAB\r\nRegistrar: Somebody\r\nExpiry: spring 2027\r\n",
    ),
    Site("busy.lab", whois_text=RATE_LIMITED),
    Site("nx.com", dns="nxdomain"),
    Site("sf.com", dns="servfail"),
    Site("mute.com", dns="silent"),
    Site("refusing.com", dns="refused"),
    Site("nomx.com", mx=[]),
    Site("nullmx.com", mx=["."]),
    Site("badmx.com", mx=["mx.nowhere.com"]),
    Site("aliasmx.com", mx=["alias.aliasmx.com"], records="alias CNAME real\nreal A 127.0.0.1"),
    Site("orphan.dead"),
]


@pytest.fixture(scope="module")
def world_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Run]]:
    tmp = tmp_path_factory.mktemp("world")
    with Lab() as lab:
        # RDAP answers 503 throughout: this module is about the WHOIS path (and the fallback).
        world = World(SITES, rdap_enabled=False).start(lab)
        # .dead's registry does not listen: connection refused, immediately.
        config = world.config(tmp / "domains.toml", whois_servers={"dead": "127.0.0.1:1"})
        run = domwatch("check", str(config), "--format", "json", "--no-cache", "--no-state",
                       "--no-progress")
        yield world, run


def test_exit_status_is_the_worst_state(world_run: tuple[World, Run]) -> None:
    _, run = world_run
    assert run.exit_code == 2, run.stderr
    summary = run.json()["summary"]
    assert summary["critical"] > 0 and summary["warning"] > 0 and summary["unknown"] > 0


def test_healthy_domain_has_right_date_and_no_findings(world_run: tuple[World, Run]) -> None:
    world, run = world_run
    entry = run.domain("healthy.fi")
    assert entry["status"] == "ok", entry
    assert entry["findings"] == []
    registration = entry["registration"]
    expected = (world.now + timedelta(days=300)).date().isoformat()
    assert registration["expires"].startswith(expected)
    assert registration["days_left"] == 300
    assert registration["source"] == "whois"
    assert registration["registrar"] == "Lab Registrar Oy"
    assert registration["nameservers"] == ["ns1.healthy.fi"]


@pytest.mark.parametrize(
    ("name", "code", "status"),
    [
        ("soon.fi", "expiry.critical", "critical"),
        ("month.com", "expiry.warning", "warning"),
        ("gone.com", "expiry.expired", "critical"),
        ("free.com", "registration.not_found", "critical"),
        ("held.com", "registration.hold", "critical"),
        ("redeem.com", "registration.redemption", "critical"),
        ("dying.com", "registration.pending_delete", "critical"),
        ("nodate.de", "expiry.unpublished", "ok"),
        ("unparsed.lab", "lookup.unparsed", "unknown"),
        ("busy.lab", "lookup.rate_limited", "unknown"),
        ("orphan.dead", "lookup.failed", "unknown"),
        ("nx.com", "dns.nxdomain", "critical"),
        ("sf.com", "dns.servfail", "critical"),
        ("mute.com", "dns.timeout", "unknown"),
        ("refusing.com", "dns.refused", "critical"),
        ("nomx.com", "mail.no_mx", "warning"),
        ("nullmx.com", "mail.null_mx", "ok"),
        ("badmx.com", "mail.mx_unresolvable", "critical"),
        ("aliasmx.com", "mail.mx_cname", "warning"),
    ],
)
def test_each_problem_gets_its_finding(
    world_run: tuple[World, Run], name: str, code: str, status: str
) -> None:
    _, run = world_run
    assert code in run.codes(name), run.domain(name)
    assert run.domain(name)["status"] == status


def test_days_left_and_message(world_run: tuple[World, Run]) -> None:
    world, run = world_run
    entry = run.domain("soon.fi")
    assert entry["registration"]["days_left"] == 5
    day = (world.now + timedelta(days=5)).date().isoformat()
    finding = entry["findings"][0]
    assert finding == {
        "code": "expiry.critical",
        "severity": "critical",
        "check": "registration",
        "message": f"registration expires in 5 days ({day})",
    }


def test_resolver_failure_is_reported_once_not_as_missing_mail(
    world_run: tuple[World, Run],
) -> None:
    _, run = world_run
    for name, code in (("sf.com", "dns.servfail"), ("mute.com", "dns.timeout")):
        codes = run.codes(name)
        assert codes.count(code) == 1, codes
        assert not [c for c in codes if c.startswith("mail.")], codes


def test_three_dns_failures_are_three_findings(world_run: tuple[World, Run]) -> None:
    _, run = world_run
    found = {run.codes(n)[0] for n in ("nx.com", "sf.com", "mute.com")}
    assert found == {"dns.nxdomain", "dns.servfail", "dns.timeout"}


def test_rate_limit_is_retried_not_taken_for_not_found(world_run: tuple[World, Run]) -> None:
    world, run = world_run
    assert "registration.not_found" not in run.codes("busy.lab")
    asked = [q for q in world.registries["lab"].queries if q.endswith("busy.lab")]
    assert len(asked) >= 2


def test_iana_asked_once_per_tld(world_run: tuple[World, Run]) -> None:
    world, _ = world_run
    assert world.iana is not None
    assert world.iana.queries == ["lab"]  # three .lab domains, one referral; .com is built in


def test_domains_keep_input_order(world_run: tuple[World, Run]) -> None:
    _, run = world_run
    assert [d["name"] for d in run.json()["domains"]] == [s.name for s in SITES]


def test_exit_codes_for_warning_unknown_ok(lab: Lab, tmp_path: Path) -> None:
    world = World(
        [Site("fine.com"), Site("warn.com", expires_in=10), Site("odd.lab", whois_text="?\n")]
    ).start(lab)
    common = ("--format", "json", "--no-cache", "--no-state", "--no-progress")

    def status(names: list[str], *extra: str) -> int:
        config = world.config(tmp_path / f"{len(names)}{len(extra)}.toml", domains=names)
        return domwatch("check", str(config), *extra, *common).exit_code

    assert status(["fine.com"]) == 0
    assert status(["fine.com", "warn.com"]) == 1
    assert status(["fine.com", "warn.com"], "--fail-on", "critical") == 0
    assert status(["fine.com", "warn.com"], "--fail-on", "never") == 0
    assert status(["fine.com", "odd.lab"]) == 3
    assert status(["warn.com", "odd.lab"]) == 1  # WARNING outranks UNKNOWN


def test_quiet_prints_nothing_when_all_ok(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("fine.com"), Site("also.fi")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    run = domwatch("check", str(config), "-q", "--no-cache", "--no-state", "--no-progress")
    assert run.exit_code == 0
    assert run.stdout == ""


def test_table_is_plain_when_piped(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("fine.com"), Site("warn.com", expires_in=10)]).start(lab)
    config = world.config(tmp_path / "d.toml")
    run = domwatch("check", str(config), "--no-cache", "--no-state", "--no-progress")
    assert run.exit_code == 1
    assert "\x1b[" not in run.stdout
    (line,) = [x for x in run.stdout.splitlines() if "warn.com" in x]
    # The days are in their column; the finding does not repeat them.
    assert line.split()[:3] == ["WARNING", "warn.com", "10"]
    assert line.endswith("registration expiring")
    assert run.stdout.rstrip().splitlines()[-1].startswith("# domwatch: 2 domains, 1 ok, 1 warning")
    quiet = domwatch("check", str(config), "-q", "--no-cache", "--no-state", "--no-progress")
    assert "warn.com" in quiet.stdout and "fine.com" not in quiet.stdout


def test_output_file_written_and_stdout_empty(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("fine.com")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    out = tmp_path / "report.json"
    run = domwatch("check", str(config), "--format", "json", "-o", str(out), "--no-cache",
                   "--no-state", "--no-progress")
    assert run.exit_code == 0
    assert run.stdout == ""
    assert '"schema": "domwatch/1"' in out.read_text()


def test_lookup_shows_the_chain_of_servers(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("chain.lab", expires_in=40)]).start(lab)
    config = world.config(tmp_path / "d.toml")
    run = domwatch("lookup", "chain.lab", "--config", str(config))
    assert world.iana is not None
    lines = run.stdout
    assert world.iana.address in lines and world.registries["lab"].address in lines
    assert "Registry Expiry Date" in lines
    assert "days_left: 40" in lines
    assert run.exit_code == 0
