"""Bad input through the real CLI: one line on stderr, exit 64, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import domwatch

FILES = {
    "unknown-key": ('[settings]\nwarn_dayz = 3\n', "warn_days"),
    "wrong-type": ('[settings]\nwarn_days = "soon"\n', "warn_days"),
    "bad-check": ('[settings]\nchecks = ["dns", "smtp"]\n', "checks"),
    "syntax": ('domains = ["a.com"\n', "d.toml"),
    "bad-name": ('domains = ["exa mple.com"]\n', "domains"),
    "suffix-only": ('domains = ["co.uk"]\n', "domains"),
    "domain-no-name": ('[[domain]]\nwarn_days = 3\n', "name"),
    "bad-expires": ('[[domain]]\nname = "a.de"\nexpires = "soon"\n', "expires"),
    "bad-resolver": ('[settings.resolver]\nnameservers = ["not-an-ip"]\n', "nameservers"),
    "bad-port": ('[settings.whois]\nservers = { fi = "whois.fi:99999" }\n', "servers"),
    "crit-over-warn": ('[settings]\nwarn_days = 5\ncrit_days = 10\n', "crit_days"),
    "binary": ("\x00\x01\x02", "d.toml"),
}


@pytest.mark.parametrize("case", sorted(FILES))
def test_bad_domain_file(case: str, tmp_path: Path) -> None:
    text, key = FILES[case]
    path = tmp_path / "d.toml"
    if "domains" not in text and "[[domain]]" not in text and "\x00" not in text:
        text = 'domains = ["a.com"]\n' + text
    path.write_text(text, encoding="utf-8")
    run = domwatch("check", str(path), "--no-cache", "--no-state", "--no-progress")
    assert run.exit_code == 64, (run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert "d.toml" in lines[0] and key in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--format", "xml", "a.com"],
        ["check", "--fail-on", "sometimes", "a.com"],
        ["check", "--checks", "registration,smtp", "a.com"],
        ["check", "--warn-days", "many", "a.com"],
        ["check", "--concurrency", "0", "a.com"],
        ["check", "--timeout", "-1", "a.com"],
        ["check", "--resolver", "dns.example", "a.com"],
        ["check", "--no-such-option", "a.com"],
        ["check", "exa_mple..com"],
        ["check", "missing-file.toml"],
        ["frobnicate"],
        ["lookup"],
    ],
)
def test_bad_options_and_names(args: list[str]) -> None:
    run = domwatch(*args)
    assert run.exit_code == 64, (args, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("domwatch: error: "), run.stderr


def test_existing_report_survives_a_bad_run(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous report\n", encoding="utf-8")
    bad = tmp_path / "d.toml"
    bad.write_text("[settings]\nwarn_dayz = 3\n", encoding="utf-8")
    run = domwatch("check", str(bad), "-o", str(out))
    assert run.exit_code == 64
    assert out.read_text(encoding="utf-8") == "previous report\n"


def test_init_writes_a_loadable_starter_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "domwatch.toml"
    first = domwatch("init", str(path))
    assert first.exit_code == 0 and path.exists()
    before = path.read_text(encoding="utf-8")
    again = domwatch("init", str(path))
    assert again.exit_code == 64 and "--force" in again.stderr
    assert path.read_text(encoding="utf-8") == before
    assert domwatch("init", str(path), "--force").exit_code == 0


def test_version_and_module_entry_point() -> None:
    run = domwatch("--version")
    assert run.exit_code == 0 and "domwatch" in run.stdout
