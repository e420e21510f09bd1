"""Results spooled out of memory come back whole, in input order, in every format."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_formats import ok_report, sample_report

from domwatch.model import Report, Status
from domwatch.report import FORMATS, RenderOptions, render, render_chunks
from domwatch.spool import ResultSpool


def _spooled(report: Report, in_memory: int = 0) -> Report:
    """The same report with its results put into a spool in reverse order (as a run finishes
    them: in any order); ``in_memory`` 0 sends every byte to the temporary file."""
    results = list(report.results)
    spool = ResultSpool([r.domain for r in results], in_memory=in_memory)
    for index in reversed(range(len(results))):
        spool.put(index, results[index])
    return Report(report.generated, spool, report.duration, report.stats, report.notifications)


def _same(a: Any, b: Any) -> None:
    assert a.domain is b.domain
    assert (a.findings, a.registration, a.sections, a.cert_days_left, a.checks_run) == (
        b.findings, b.registration, b.sections, b.cert_days_left, b.checks_run
    )


def test_results_come_back_in_input_order_from_disk() -> None:
    report = sample_report()
    spooled = _spooled(report)
    assert len(spooled.results) == len(report.results)
    for original, read in zip(report.results, spooled.results, strict=True):
        _same(original, read)
    _same(spooled.results[-1], report.results[-1])
    _same(spooled.results[1:3][1], report.results[2])
    assert spooled.summary() == report.summary() and spooled.status is report.status


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("quiet", [False, True])
def test_every_format_reads_the_same_from_a_spool(fmt: str, quiet: bool) -> None:
    for report in (sample_report(), ok_report()):
        options = RenderOptions(quiet=quiet)
        assert render(_spooled(report), fmt, options) == render(report, fmt, options)


@pytest.mark.parametrize("quiet", [False, True])
def test_streamed_json_is_the_document_json_dumps_would_write(quiet: bool) -> None:
    for report in (sample_report(), ok_report(), Report(sample_report().generated, [])):
        document = report.to_json()
        if quiet:
            document["domains"] = [d for d in document["domains"] if d["status"] != "ok"]
        expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        pieces = list(render_chunks(report, "json", RenderOptions(quiet=quiet)))
        assert "".join(pieces) == expected
        assert len(pieces) >= 3  # written piece by piece, not as one string


def test_results_stay_readable_when_the_disk_refuses() -> None:
    report = sample_report()
    results = list(report.results)
    spool = ResultSpool([r.domain for r in results], in_memory=0)
    spool.put(0, results[0])  # on disk

    class Full:
        """A temporary file on a full disk: what was written stays readable."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

    spool._file = Full(spool._file)  # type: ignore[assignment]
    for index in range(1, len(results)):
        spool.put(index, results[index])
    for original, read in zip(results, spool, strict=True):
        _same(original, read)


def test_a_run_cut_short_lists_what_it_finished() -> None:
    report = sample_report()
    results = list(report.results)
    spool = ResultSpool([r.domain for r in results])
    spool.put(3, results[3])
    spool.put(1, results[1])
    assert [r.domain.name for r in spool] == [results[1].domain.name, results[3].domain.name]
    assert len(spool) == 2 and list(spool.statuses()) == [results[1].status, results[3].status]
    assert Status.worst(spool.statuses()) is Report(report.generated, spool).status
