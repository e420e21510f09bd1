"""The finding codes and checks are declared once (domwatch.model); what derives from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from domwatch import model
from domwatch.model import CHECK_FAILED, CHECKS, CODES, FINDING_CODES, Finding, Severity
from domwatch.notify import family
from tests import findings_page
from tests.code_census import SESSION, Census, problems, whole_suite
from tests.conftest import domwatch


def test_readme_findings_table_is_generated_from_the_declaration() -> None:
    readme = findings_page.README.read_text(encoding="utf-8")
    assert readme == findings_page.updated(readme), (
        "README.md's findings table is stale: run `python -m tests.findings_page`"
    )


def test_a_finding_with_an_undeclared_code_cannot_be_made() -> None:
    with SESSION.pause(), pytest.raises(
        ValueError, match=r"undeclared finding code 'mail\.dmark\.missing'"
    ):
        Finding("mail.dmark.missing", Severity.INFO, "mail", "no DMARC record")


def test_a_finding_takes_only_the_severities_its_code_allows() -> None:
    with pytest.raises(ValueError, match=r"'expiry\.warning' cannot be critical"):
        model.EXPIRY_WARNING.finding("expires in 3 days", Severity.CRITICAL)
    assert model.WEB_HTTP_ERROR.finding("HTTP 404", Severity.WARNING).severity is Severity.WARNING
    assert model.MAIL_NO_MX.finding("no MX").severity is Severity.WARNING  # the default


def test_derived_names_are_the_declarations() -> None:
    assert tuple(c.name for c in model.CHECK_INFO) == CHECKS
    assert frozenset(CODES) == FINDING_CODES
    assert all(code.check in CHECKS and code.name == name for name, code in CODES.items())
    # Every check has its "could not be done" code; registration's is lookup.failed.
    assert set(CHECK_FAILED) == set(CHECKS)
    assert CHECK_FAILED["registration"] is model.LOOKUP_FAILED
    for name in CHECKS[1:]:
        assert CHECK_FAILED[name].name == f"{name}.check_failed"
        assert CHECK_FAILED[name].check == name


def test_notification_families_keep_the_names_state_files_hold() -> None:
    # The notify state remembers what each target was told by family: renaming one would make
    # every target hear its old problems as "fixed" and "new".
    assert {c: family(c) for c in ("expiry.warning", "tls.critical", "mail.tls.expired",
                                   "web.address_unreachable", "dns.ns_lame")} == {
        "expiry.warning": "expiry", "tls.critical": "tls.expiry",
        "mail.tls.expired": "mail.tls.expiry", "web.address_unreachable": "web.unreachable",
        "dns.ns_lame": "dns.ns_lame",
    }
    assert family("no.such_code") == "no.such_code"  # a hand-edited state file's leftovers
    assert {c.name for c in CODES.values() if c.event} == {
        n for n in CODES if n.startswith("change.")}


def test_check_help_names_the_finding_code_groups() -> None:
    run = domwatch("check", "--help")
    assert run.exit_code == 0
    text = " ".join(run.stdout.split())
    for group in {name.split(".")[0] for name in CODES}:
        assert f"{group}.*" in text


def test_census_records_findings_made_through_declarations() -> None:
    census = Census()
    undo = census.install()
    try:
        with SESSION.pause():  # the session's census must not count these
            model.DNS_TIMEOUT.finding("no answer")
            with pytest.raises(ValueError):
                Finding("dns.timeot", Severity.UNKNOWN, "dns", "no answer")
    finally:
        undo()
    assert census.made == {"dns.timeout"} and census.undeclared == {"dns.timeot"}


def test_census_problems() -> None:
    declared = ("a.one", "a.two")
    full = Census(made={"a.one", "a.two"})
    assert problems(full, declared, whole=True) == []
    partial = Census(made={"a.one"})
    assert problems(partial, declared, whole=False) == []  # one file proves nothing
    assert "a.two" in problems(partial, declared, whole=True)[0]
    assert "not recording" in problems(Census(), declared, whole=True)[0]
    wrong = Census(made={"a.one", "a.two"}, undeclared={"a.tow"})
    assert "a.tow" in problems(wrong, declared, whole=False)[0]


def test_whole_suite_means_every_test_file_and_nothing_deselected(tmp_path: Path) -> None:
    files = [tmp_path / "test_a.py", tmp_path / "test_b.py"]
    for path in files:
        path.write_text("", encoding="utf-8")
    assert whole_suite(files, tmp_path, deselected=0)
    assert not whole_suite(files[:1], tmp_path, deselected=0)
    assert not whole_suite(files, tmp_path, deselected=1)
