"""Every format declared in report.REGISTRY, through the real CLI and by its declaration.

Iterating the registry means a new format is covered here as soon as it is declared: it must
render a real run, honour (or ignore) ``-q`` as declared, stream as declared and fit a stream
that cannot take Unicode in its declared way.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from domwatch.model import Domain, DomainResult, Report
from domwatch.report import (
    FORMATS,
    REGISTRY,
    Format,
    RenderOptions,
    fit_encoding,
    get_format,
    render,
    render_chunks,
)
from tests.conftest import domwatch
from tests.test_formats import sample_report

PLAIN = ("--no-cache", "--no-state", "--no-progress")
README = Path(__file__).parent.parent / "README.md"


@pytest.fixture(scope="module")
def world_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small real world: one domain that is fine, one expiring in 5 days (CRITICAL)."""
    sites = [Site("healthy.fi", expires_in=300), Site("soon.fi", expires_in=5)]
    with Lab() as lab:
        yield World(sites).start(lab).config(tmp_path_factory.mktemp("formats") / "d.toml")


@pytest.mark.parametrize("declared", REGISTRY, ids=lambda f: f.name)
def test_every_format_renders_a_real_run_and_honours_quiet_as_declared(
    declared: Format, world_config: Path, tmp_path: Path
) -> None:
    shown = domwatch("check", str(world_config), "--format", declared.name, *PLAIN)
    assert shown.exit_code == 2, shown.stderr
    assert "Traceback" not in shown.stderr
    assert "soon.fi" in shown.stdout
    if not declared.quiet:
        assert "healthy.fi" in shown.stdout  # a whole document lists every domain

    quiet = domwatch("check", str(world_config), "--format", declared.name, "-q", *PLAIN)
    assert quiet.exit_code == 2, quiet.stderr
    assert "soon.fi" in quiet.stdout
    # -q leaves out the domain that is fine exactly where the registry says it applies.
    assert ("healthy.fi" in quiet.stdout) is (not declared.quiet)

    # -q is about what is printed: a report file (-o) is always the whole report.
    target = tmp_path / f"report.{declared.name}"
    written = domwatch("check", str(world_config), "--format", declared.name, "-q",
                       "-o", str(target), *PLAIN)
    assert (written.exit_code, written.stdout) == (2, "")
    text = target.read_text(encoding="utf-8")
    assert "soon.fi" in text
    assert ("healthy.fi" in text) is ("healthy.fi" in shown.stdout)


def _three_domains() -> Report:
    report = sample_report()
    return Report(report.generated, [*report.results[:3]])


@pytest.mark.parametrize("declared", REGISTRY, ids=lambda f: f.name)
def test_streaming_is_as_declared(declared: Format) -> None:
    report = _three_domains()
    pieces = list(render_chunks(report, declared.name, RenderOptions()))
    assert "".join(pieces) == render(report, declared.name, RenderOptions())
    if declared.streams:
        assert len(pieces) > len(report.results)  # at least a piece per domain
    else:
        assert len(pieces) == 1


def _unicode_report() -> Report:
    """Unicode in a display name and in a finding's message (a registry's own words)."""
    report = sample_report()
    name = Domain("xn--kknen-fraa0m.fi", "\u00e4\u00e4kk\u00f6nen.fi")
    first = report.results[0]
    said = [replace(f, message=f.message + " (\u00e4\u00e4kk\u00f6nen \u2192 \U0001f600)")
            for f in first.findings]
    idn = DomainResult(name, said, first.registration, checks_run=first.checks_run)
    return Report(report.generated, [idn, *report.results[1:]])


@pytest.mark.parametrize("declared", REGISTRY, ids=lambda f: f.name)
def test_a_stream_without_unicode_gets_the_declared_ascii_form(declared: Format) -> None:
    text = render(_unicode_report(), declared.name, RenderOptions())
    fitted = fit_encoding(text, declared.name, "ascii")
    assert fitted.isascii()
    if text.isascii():
        # Only A-labels and codes (prometheus): nothing to fit. The forms that rewrite text
        # must meet characters an ASCII stream lacks, or this test would prove nothing.
        assert declared.ascii_form == "text" and fitted == text
    elif declared.ascii_form == "json":
        assert json.loads(fitted) == json.loads(text)
    elif declared.ascii_form == "xml":
        assert html.unescape(fitted) == html.unescape(text)  # references: the same document
    else:
        assert len(fitted) == len(text) and "?" in fitted  # one "?" per character it lacks


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        get_format("xml")
    with pytest.raises(ValueError, match="unknown format"):
        list(render_chunks(sample_report(), "xml", RenderOptions()))


def test_formats_is_the_registry_in_order() -> None:
    assert tuple(f.name for f in REGISTRY) == FORMATS
    assert len(set(FORMATS)) == len(FORMATS)
    assert FORMATS[0] == "table"  # the default format leads


def test_readme_and_help_list_every_format() -> None:
    readme = README.read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `--format "))
    assert row.split("`")[1] == "--format " + "\\|".join(FORMATS)
    described = re.findall(r"^- `([a-z]+)`: ", readme.split("Report formats", 1)[1], re.M)
    assert described[: len(FORMATS)] == list(FORMATS)
    helped = " ".join(domwatch("check", "--help").stdout.split())
    for name in FORMATS:
        assert re.search(rf"\b{name}\b", helped.split("--format", 1)[1].split("--", 1)[0]), name
