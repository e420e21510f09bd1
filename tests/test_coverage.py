"""docs/coverage.md is the generator's output, and every TLD we promise has a registry sample."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domwatch.sources.rdap_bootstrap import load_bundled
from domwatch.sources.whois_servers import builtin_server
from tests import coverage_page as coverage

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "coverage.md"
TESTS = ROOT / "tests"


@pytest.fixture(scope="module")
def rows() -> list[coverage.Row]:
    return coverage.build_rows(TESTS)


def test_docs_coverage_is_up_to_date(rows: list[coverage.Row]) -> None:
    assert DOC.read_text(encoding="utf-8") == coverage.render(rows), (
        "docs/coverage.md is stale: run `python -m tests.coverage_page > docs/coverage.md`"
    )


def test_required_lists_are_what_they_say() -> None:
    assert len(coverage.TOP80) == 80 and len(set(coverage.TOP80)) == 80
    assert len(coverage.EU) == 28  # the 27 member states' ccTLDs and .eu
    assert set(coverage.NORDICS) == {"dk", "fi", "is", "no", "se", "ax", "fo", "gl"}
    assert coverage.TOP80[:5] == ("com", "cn", "de", "net", "org")


@pytest.mark.parametrize("name", sorted(coverage.LISTS))
def test_every_tld_of_the_required_lists_has_a_sample(rows: list[coverage.Row], name: str) -> None:
    assert coverage.missing_samples(rows)[name] == []


def test_registries_without_a_lookup_are_proven_by_their_iana_record(
    rows: list[coverage.Row],
) -> None:
    by_tld = {row.tld: row for row in rows}
    for tld in coverage.NO_PUBLIC_SERVICE:
        assert f"whois_samples/{tld}-iana.txt" in by_tld[tld].samples
        assert by_tld[tld].expiry == "-" and by_tld[tld].rdap == ""


def test_every_other_required_tld_has_a_registry_answer_and_a_way_to_ask(
    rows: list[coverage.Row],
) -> None:
    # a sample of the registry's own answer, and RDAP or WHOIS to fetch it (.za excepted: its
    # second-level registries have their own servers, see coverage.NOTES)
    by_tld = {row.tld: row for row in rows}
    required = {tld for members in coverage.LISTS.values() for tld in members}
    for tld in sorted(required - set(coverage.NO_PUBLIC_SERVICE)):
        row = by_tld[tld]
        assert any(not s.endswith("-iana.txt") for s in row.samples), tld
        assert row.rdap or row.whois or tld in coverage.NOTES, tld


def test_rows_agree_with_the_server_tables(rows: list[coverage.Row]) -> None:
    boot = load_bundled()
    for row in rows:
        assert row.whois == (builtin_server(row.tld) or "")
        assert row.rdap.split() == boot.base_urls(row.tld)
    by_tld = {row.tld: row for row in rows}
    assert by_tld["de"].query == "-T dn,ace NAME" and by_tld["de"].expiry == "no"
    assert by_tld["jp"].query == "NAME/e"
    assert by_tld["com"].expiry == "yes" and by_tld["nl"].expiry == "no"


def test_sample_names_map_to_tlds() -> None:
    # every WHOIS sample is named after its TLD, so the table can find it
    pattern = re.compile(r"^(xn--[a-z0-9]+|[a-z]{2,63})-[a-z0-9-]+\.txt$")
    for path in (TESTS / "whois_samples").glob("*.txt"):
        assert pattern.match(path.name), path.name


def test_main_prints_the_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert coverage.main(["--tests", str(TESTS)]) == 0
    assert capsys.readouterr().out == DOC.read_text(encoding="utf-8")
