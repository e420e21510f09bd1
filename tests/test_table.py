"""The table report: colour only on a terminal, plain and whole otherwise; stdin targets."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from domwatch.model import Domain, DomainResult, Finding, Registration, Report, Severity
from domwatch.report import RenderOptions, render
from tests.conftest import domwatch

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)


def _report() -> Report:
    long_message = "registration expires in 5 days (2026-12-01) " + "and more words " * 40
    soon = DomainResult(
        Domain("xn--kknen-fraa0m.fi", "ääkkönen.fi"),
        findings=[Finding("expiry.critical", Severity.CRITICAL, "registration", long_message)],
        registration=Registration("whois", expires=datetime(2026, 12, 1, tzinfo=timezone.utc)),
    )
    fine = DomainResult(
        Domain("example.fi", "example.fi"),
        registration=Registration("rdap", expires=datetime(2027, 6, 1, tzinfo=timezone.utc)),
    )
    return Report(generated=NOW, results=[soon, fine])


def test_colour_on_a_terminal_only() -> None:
    coloured = render(_report(), "table", RenderOptions(color=True, width=120))
    plain = render(_report(), "table", RenderOptions())
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain


def test_plain_table_is_never_cut_and_shows_unicode_names() -> None:
    plain = render(_report(), "table", RenderOptions())
    assert ("and more words " * 40).rstrip() in plain  # one line, however long
    assert "ääkkönen.fi (xn--kknen-fraa0m.fi)" in plain
    assert plain.splitlines()[-1] == (
        "# domwatch: 2 domains, 1 ok, 0 warning, 1 critical, 0 unknown; worst: critical"
    )


def test_quiet_lists_only_domains_needing_attention() -> None:
    quiet = render(_report(), "table", RenderOptions(quiet=True))
    assert "ääkkönen.fi" in quiet and "example.fi " not in quiet


def test_domains_from_stdin_and_a_list_file(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("one.com"), Site("two.fi", expires_in=3)]).start(lab)
    config = world.config(tmp_path / "d.toml", domains=[])
    listing = tmp_path / "more.txt"
    listing.write_text("# customers\nTWO.FI.  # trailing dot and case\n\n", encoding="utf-8")
    run = domwatch("check", str(config), "-", str(listing), "--format", "json", "--no-cache",
                   "--no-state", "--no-progress", stdin="one.com\nwww.one.com\n")
    names = [d["name"] for d in run.json()["domains"]]
    assert names == ["one.com", "two.fi"]  # input order, duplicates once
    assert run.codes("two.fi") == ["expiry.critical"]
