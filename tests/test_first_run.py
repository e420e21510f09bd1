"""A newcomer's first five minutes (issue 17), through the real CLI: exit status, offline runs,
silence under -q, validation before the first query, plurals, encodings, tags."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from domwatch.cache import FILE_NAME
from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from tests.conftest import domwatch

PLAIN = ("--no-cache", "--no-state", "--no-progress")


# --------------------------------------------------------------------------- exit status


@pytest.fixture
def exit_world(lab: Lab) -> World:
    return World(
        [Site("fine.com"), Site("warn.com", expires_in=10), Site("crit.com", expires_in=3),
         Site("odd.lab", whois_text="?\n")]
    ).start(lab)


@pytest.mark.parametrize(
    ("names", "fail_on", "expected"),
    [
        (["fine.com", "odd.lab"], "warning", 3),
        (["fine.com", "odd.lab"], "critical", 3),  # CI cannot pass blind
        (["fine.com", "odd.lab"], "never", 0),
        (["warn.com", "odd.lab"], "warning", 1),  # WARNING outranks UNKNOWN
        (["warn.com", "odd.lab"], "critical", 3),  # WARNING does not count; UNKNOWN does
        (["warn.com"], "critical", 0),
        (["crit.com", "odd.lab"], "critical", 2),
        (["crit.com", "odd.lab"], "warning", 2),
        (["fine.com"], "critical", 0),
    ],
)
def test_unknown_fails_at_every_level_but_never(
    exit_world: World, tmp_path: Path, names: list[str], fail_on: str, expected: int
) -> None:
    config = exit_world.config(tmp_path / "d.toml", domains=names)
    run = domwatch("check", str(config), "--fail-on", fail_on, "--format", "json", *PLAIN)
    assert run.exit_code == expected, run.stdout + run.stderr


def test_a_stale_cached_answer_is_not_unknown(lab: Lab, tmp_path: Path) -> None:
    world = World([Site("one.lab")]).start(lab)
    config = world.config(tmp_path / "d.toml")
    cache = ("--cache-dir", str(tmp_path / "c"), "--no-state", "--no-progress", "--format", "json")
    assert domwatch("check", str(config), *cache).exit_code == 0
    db = sqlite3.connect(tmp_path / "c" / FILE_NAME)
    with db:
        db.execute("UPDATE registration SET fresh_until = 0, fetched = fetched - 7200")
    db.close()
    lab.call(lambda: world.registries["lab"].set_behaviour("one.lab", "close"))
    run = domwatch("check", str(config), "--fail-on", "critical", *cache)
    assert "lookup.stale" in run.codes("one.lab")
    assert run.exit_code == 0, run.stdout
