"""Change detection across runs, through the real CLI and a state file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from domwatch.config import load_config
from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from domwatch.runner import run
from domwatch.state import State
from tests.conftest import Run, domwatch


def _run(lab: Lab, tmp_path: Path, state: Path, site: Site) -> Run:
    world = World([site]).start(lab)
    config = world.config(tmp_path / "d.toml")
    return domwatch("check", str(config), "--format", "json", "--state", str(state),
                    "--no-cache", "--no-progress")


def test_each_change_is_reported_once_in_the_next_run_only(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state" / "state.json"
    first = _run(lab, tmp_path, state, Site("moving.com", expires_in=100, registrar="Old Oy"))
    assert first.codes("moving.com") == []  # the first run knows nothing to compare with
    assert state.exists()

    moved = Site("moving.com", expires_in=465, registrar="New Ab",
                 nameservers=("ns1.elsewhere.net", "ns2.elsewhere.net"))
    second = _run(lab, tmp_path, state, moved)
    codes = second.codes("moving.com")
    assert sorted(codes) == ["change.nameservers", "change.registrar", "change.renewed"]
    assert second.exit_code == 1  # registrar and name server changes are warnings

    third = _run(lab, tmp_path, state, moved)
    assert third.codes("moving.com") == []
    assert third.exit_code == 0


def test_expiry_moving_earlier_and_status_change(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    _run(lab, tmp_path, state, Site("shaky.com", expires_in=200))
    later = _run(lab, tmp_path, state,
                 Site("shaky.com", expires_in=150, statuses=("clientTransferProhibited",
                                                             "clientUpdateProhibited")))
    assert sorted(later.codes("shaky.com")) == ["change.expiry_earlier", "change.status"]


def test_failed_lookup_does_not_erase_memory(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    _run(lab, tmp_path, state, Site("flaky.com", registrar="Same Oy"))
    failed = _run(lab, tmp_path, state, Site("flaky.com", rdap="down", whois="close"))
    assert "lookup.failed" in failed.codes("flaky.com")
    assert "change.registrar" not in failed.codes("flaky.com")
    back = _run(lab, tmp_path, state, Site("flaky.com", registrar="Same Oy"))
    assert back.codes("flaky.com") == []


def test_corrupt_state_is_set_aside_with_a_warning(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json", encoding="utf-8")
    run = _run(lab, tmp_path, state, Site("fine.com"))
    assert run.exit_code == 0
    assert "corrupt" in run.stderr and "Traceback" not in run.stderr
    assert list(tmp_path.glob("state.json.corrupt-*"))
    assert '"fine.com"' in state.read_text()


def test_code_calling_the_runner_gets_the_change_findings(lab: Lab, tmp_path: Path) -> None:
    # Change detection is part of the run: serve, and any caller of runner.run(), get it.
    remembered = State()
    for site in (Site("moving.com", registrar="Old Oy"), Site("moving.com", registrar="New Ab")):
        config = World([site]).start(lab).config(tmp_path / "d.toml")
        loaded = load_config([str(config)], {"cache": False, "state": False})
        report = asyncio.run(run(loaded, state=remembered))
    (result,) = list(report.results)
    assert [f.code for f in result.findings] == ["change.registrar"]
    assert remembered.domains["moving.com"]["registrar"] == "New Ab"
