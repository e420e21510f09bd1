"""Shared fixtures: a running lab and a helper to drive the real CLI in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from domwatch.cli import cli
from domwatch.lab import Lab
from domwatch.model import CODES
from tests.code_census import SESSION, problems, whole_suite


@dataclass
class Run:
    """What one CLI invocation produced."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def domain(self, name: str) -> dict[str, Any]:
        return next(d for d in self.json()["domains"] if d["name"] == name)

    def codes(self, name: str) -> list[str]:
        return [f["code"] for f in self.domain(name)["findings"]]


def domwatch(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run the real CLI (click wiring, config, network, report) in this process."""
    runner = CliRunner()
    result = runner.invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def lab() -> Iterator[Lab]:
    with Lab() as running:
        yield running


@pytest.fixture
def no_cache(tmp_path: Path) -> Sequence[str]:
    """Options that keep a test's run away from the user's cache and state."""
    return ("--no-cache", "--no-state", "--no-progress")


# --------------------------------------------------------------------------- finding codes

_DESELECTED: list[int] = [0]


def pytest_configure(config: pytest.Config) -> None:
    config.add_cleanup(SESSION.install())


def pytest_deselected(items: Sequence[pytest.Item]) -> None:
    _DESELECTED[0] += len(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every code made is declared; with the whole suite, every declared code was made."""
    if session.shouldstop or session.shouldfail:
        return  # stopped early (-x, Ctrl-C): what was not reached proves nothing
    ran = {item.path for item in session.items}
    whole = whole_suite(ran, Path(__file__).parent, _DESELECTED[0])
    found = problems(SESSION, CODES, whole=whole)
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for problem in found:
        if reporter is not None:
            reporter.write_line(f"finding codes: {problem}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
