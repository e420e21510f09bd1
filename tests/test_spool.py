"""Results spooled out of memory come back whole, in input order, in every format."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import datetime, timezone
from typing import Any

import pytest
from test_formats import ok_report, sample_report

from domwatch.model import DomainResult, Report, Status
from domwatch.report import FORMATS, RenderOptions, render, render_chunks
from domwatch.spool import ResultSpool
from domwatch.state import State, apply_one, snapshot


def tagged_report() -> Report:
    """The sample with what later issues added: tags, a certificate's notAfter, and a run whose
    network was not usable."""
    report = sample_report()
    results = list(report.results)
    first = results[0]
    results[0] = replace(
        first,
        domain=replace(first.domain, tags=("customer:acme", "team \"ops\"")),
        cert_expires=datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc),
    )
    return replace(report, results=results,
                   network_problem="no answer from the DNS resolver 192.0.2.53:53")


REPORTS = (sample_report, ok_report, tagged_report)


def _spooled(report: Report, in_memory: int = 0) -> Report:
    """The same report with its results put into a spool in reverse order (as a run finishes
    them: in any order); ``in_memory`` 0 sends every byte to the temporary file."""
    results = list(report.results)
    spool = ResultSpool([r.domain for r in results], in_memory=in_memory)
    for index in reversed(range(len(results))):
        spool.put(index, results[index])
    return replace(report, results=spool)


def _same(a: Any, b: Any) -> None:
    assert a.domain is b.domain
    for name in (f.name for f in fields(DomainResult)):
        assert getattr(a, name) == getattr(b, name), name


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
    for report in (make() for make in REPORTS):
        options = RenderOptions(quiet=quiet)
        assert render(_spooled(report), fmt, options) == render(report, fmt, options)


@pytest.mark.parametrize("quiet", [False, True])
def test_streamed_json_is_the_document_json_dumps_would_write(quiet: bool) -> None:
    empty = Report(sample_report().generated, [])
    for report in (*(make() for make in REPORTS), empty, _spooled(tagged_report())):
        document = report.to_json()
        if quiet:
            document["domains"] = [d for d in document["domains"] if d["status"] != "ok"]
        expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        pieces = list(render_chunks(report, "json", RenderOptions(quiet=quiet)))
        assert "".join(pieces) == expected
        assert len(pieces) >= 3  # written piece by piece, not as one string
    tagged = json.loads(render(_spooled(tagged_report()), "json", RenderOptions()))
    assert tagged["network_problem"].startswith("no answer from the DNS resolver")
    assert tagged["domains"][0]["tags"] == ["customer:acme", 'team "ops"']


def test_change_findings_join_the_spooled_results_and_their_states() -> None:
    """The run gives each result its change.* findings before spooling it (runner.run): the
    results read back carry them, and the tallies (exit status) follow."""
    plain, fresh = sample_report(), sample_report()
    state_a, state_b = State(), State()
    for state, report in ((state_a, plain), (state_b, fresh)):
        ok = report.results[2]
        assert ok.registration is not None
        moved = replace(ok.registration, statuses=("clientTransferProhibited",))
        state.domains[ok.domain.name] = snapshot(moved)
        for result in report.results:
            apply_one(state, result)
    spooled = _spooled(fresh)
    assert state_a == state_b
    assert [f.code for f in spooled.results[2].findings] == ["change.status"]
    for original, read in zip(fresh.results, spooled.results, strict=True):
        _same(original, read)
    assert spooled.summary() == plain.summary()
    assert list(spooled.statuses()) == [r.status for r in plain.results]
    assert spooled.results[2].status is Status.WARNING


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
