"""The scale benchmark works and is right at a small size (timings are its business, not ours)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_scale.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    bench = _load()
    # The dns world (limits counted on arrival with jitter, a resolver that drops bursts):
    # 60 domains, latencies cut to a tenth; no python-whois (it needs port 43 and minutes).
    result: dict[str, Any] = bench.benchmark(
        60, world="dns", seed=3, latency_factor=0.1, baseline=False, warm=True, port43=False,
        echo=False,
    )
    return result


def test_every_answer_is_right_cold_and_warm(figures: dict[str, Any]) -> None:
    assert figures["cold_wrong"] == []
    assert figures["cold_correct"] == 60
    assert figures["warm_correct"] == 60
    assert figures["warm_stats"]["cache_hits"] >= 55  # only expired ones are asked again


def test_no_registry_was_told_off_and_the_bound_is_sane(figures: dict[str, Any]) -> None:
    assert figures["worst_strikes_per_minute"] <= 1
    assert figures["dns_timeouts"] == 0
    assert 0 < figures["bound_seconds"] <= figures["bound_coarse_seconds"]
    assert figures["stats"]["registration_lookups"] == 60


def test_world_shares_and_bound_formula() -> None:
    bench = _load()
    world = bench.make_world(1000, 7, 1.0, 1.0, False)
    assert len(world.sites) == 1000
    assert len({s.name.rsplit(".", 1)[1] for s in world.sites}) >= 15
    com = sum(1 for s in world.sites if s.name.endswith(".com"))
    assert com == 420
    # 500 .com/.net queries at 8 per second: 62 windows of 8 before the last 4 can start.
    verisign = world.registries["verisign-rdap"]
    for reg in world.registries.values():
        reg.server = None
    (bound,) = [b for b in bench.bounds(world) if b.server == "verisign-rdap"]
    assert bound.queries == 500
    assert bound.strict == pytest.approx(62 + min(verisign.latencies))
    assert bound.coarse == pytest.approx(63.0)


def test_arrival_worlds_bound_allows_for_jitter_and_unreached_quotas() -> None:
    bench = _load()
    world = bench.make_world(1000, 7, 1.0, 1.0, False, "arrival")
    for reg in world.registries.values():
        reg.server = None
    by_server = {b.server: b for b in bench.bounds(world)}
    verisign = world.registries["verisign-rdap"]
    # The fastest answer can come 30 % early; .it's daily quota of 1000 is never reached.
    assert by_server["verisign-rdap"].strict == pytest.approx(62 + 0.7 * min(verisign.latencies))
    assert by_server["it"].coarse == pytest.approx(10.0)
    assert bench.make_world(1000, 7, 1.0, 1.0, False, "rdap2x").registries[
        "verisign-rdap"].published is False
