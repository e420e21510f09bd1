"""The registration cache: freshness rules, SQLite safety (overlap, kill, damage), and the CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from domwatch.cache import (
    FILE_NAME,
    FRESH,
    FRESH_NEAR_EXPIRY,
    FRESH_NOT_FOUND,
    Cache,
    fresh_for,
)
from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from domwatch.model import Registration
from tests.conftest import Run, domwatch

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def _reg(days: float | None, statuses: tuple[str, ...] = ()) -> Registration:
    expires = NOW + days * DAY if days is not None else None
    return Registration("whois", "whois.example:43", "Registrar", expires, statuses=statuses,
                        expiry_published=days is not None)


@pytest.mark.parametrize(
    ("outcome", "registration", "ttl"),
    [
        ("registered", _reg(300), FRESH),
        ("registered", _reg(20), FRESH_NEAR_EXPIRY),  # inside the 30-day warning window
        ("registered", _reg(0.1), 0.1 * 86400),  # never past the expiry itself
        ("registered", _reg(-2), 0.0),  # expired: ask every time
        ("registered", _reg(300, ("redemptionPeriod",)), FRESH_NEAR_EXPIRY),
        ("registered", _reg(None), FRESH),  # the registry publishes no date
        ("not_found", None, FRESH_NOT_FOUND),
        ("failed", None, 0.0),
        ("rate_limited", None, 0.0),
        ("unparsed", _reg(None), 0.0),
    ],
)
def test_freshness(outcome: str, registration: Registration | None, ttl: float) -> None:
    assert fresh_for(outcome, registration, NOW, warn_days=30) == pytest.approx(ttl)


def test_answers_round_trip_marked_cached(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path)
    assert cache is not None
    original = Registration(
        "rdap", "https://rdap.example/", "Registrar Oy", NOW + 40 * DAY, NOW + 41 * DAY,
        ("clientTransferProhibited",), ("ns1.example.fi",), True, False, NOW,
    )
    cache.remember("example.fi", "registered", original, 3600, now=1000.0)
    cache.remember("free.fi", "not_found", None, 3600, now=1000.0)
    cache.remember("broken.fi", "failed", None, 3600, now=1000.0)
    cache.remember("lapsed.fi", "registered", _reg(-2), 0.0, now=1000.0)
    cache.close()
    again = Cache.open(tmp_path)
    assert again is not None
    again.load(["example.fi", "free.fi", "broken.fi", "lapsed.fi"])
    cached = again.registration("example.fi")
    assert cached is not None and cached.registration is not None
    assert cached.registration == Registration(**{**original.__dict__, "cached": True})
    assert (cached.fetched, cached.fresh_until) == (1000.0, 4600.0)
    free = again.registration("free.fi")
    assert free is not None and free.outcome == "not_found" and free.registration is None
    assert again.registration("broken.fi") is None  # failures are never kept
    lapsed = again.registration("lapsed.fi")  # kept only to stand in, stale, for a failure
    assert lapsed is not None and not lapsed.fresh(1000.0) and lapsed.usable_stale(1000.0)
    assert again._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_two_runs_overlapping(tmp_path: Path) -> None:
    first, second = Cache.open(tmp_path), Cache.open(tmp_path)
    assert first is not None and second is not None
    first.remember("a.fi", "not_found", None, 3600)
    first.flush()
    locked = threading.Event()

    def hold_the_write_lock() -> None:
        db = sqlite3.connect(tmp_path / FILE_NAME)
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR REPLACE INTO referral VALUES ('fi', 'whois.fi', 0, 0)")
        locked.set()
        time.sleep(0.5)
        db.commit()
        db.close()

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    locked.wait()
    assert second.registration("a.fi") is not None  # WAL: reading while the other writes
    second.remember("b.fi", "not_found", None, 3600)
    second.flush()  # waits for the lock (busy timeout) instead of failing
    writer.join()
    assert not second.broken
    first.load(["b.fi"])
    assert first.registration("b.fi") is not None
    first.close()
    second.close()


KILLED = """
import os, signal, sys
from domwatch.cache import Cache, FLUSH_EVERY
cache = Cache.open(__import__("pathlib").Path(sys.argv[1]))
for i in range(FLUSH_EVERY + 50):  # one batch gets written, the rest is still buffered
    cache.remember(f"d{i}.fi", "not_found", None, 3600)
cache._db.execute("BEGIN IMMEDIATE")
cache._db.execute("INSERT INTO referral VALUES ('zz', 'half.written', 0, 0)")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_run_leaves_a_usable_cache(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path)], check=False)
    assert done.returncode == -signal.SIGKILL
    cache = Cache.open(tmp_path)
    assert cache is not None
    rows = cache._db.execute("SELECT count(*) FROM registration").fetchone()[0]
    assert rows == 200  # the flushed batch, whole; nothing of the rest
    assert cache.referral("zz") is None  # the uncommitted write is gone
    cache.remember("after.fi", "not_found", None, 3600)
    cache.close()
    assert not cache.broken


def test_a_damaged_file_is_replaced_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 100)
    cache = Cache.open(tmp_path)
    assert cache is not None
    assert "starting a new one" in caplog.text
    cache.remember("a.fi", "not_found", None, 3600)
    cache.close()


def test_an_unusable_directory_means_no_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert Cache.open(blocker / "cache") is None
    assert "running without it" in caplog.text


# -- through the CLI against the lab ------------------------------------------------------------

SITES = [
    Site("one.lab", expires_in=300),
    Site("near.lab", expires_in=10),
    Site("gone.lab", registered=False),
    Site("web.com", expires_in=200),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Lab, Path]]:
    tmp = tmp_path_factory.mktemp("cache-world")
    with Lab() as lab:
        world = World(SITES).start(lab)
        yield world, lab, world.config(tmp / "domains.toml")


def _check(config: Path, *extra: str) -> Run:
    return domwatch("check", str(config), "--checks", "registration", "--format", "json",
                    "--no-state", "--no-progress", *extra)


def _registry_queries(world: World) -> int:
    return sum(len(s.queries) for s in world.registries.values()) + len(world.rdap.requests or [])


def test_cli_caches_then_answers_from_the_cache_then_falls_back_to_stale(
    world: tuple[World, Lab, Path], tmp_path: Path
) -> None:
    the_world, lab, config = world
    assert the_world.iana is not None
    cache_dir = str(tmp_path / "c")
    first = _check(config, "--cache-dir", cache_dir)
    assert first.exit_code == 2, first.stderr  # gone.lab is not registered
    assert first.domain("one.lab")["registration"]["cached"] is False
    assert first.json()["stats"]["cache_hits"] == 0
    asked, referrals = _registry_queries(the_world), len(the_world.iana.queries)

    db = sqlite3.connect(Path(cache_dir) / FILE_NAME)
    ttl = dict(db.execute("SELECT domain, fresh_until - fetched FROM registration"))
    assert ttl["one.lab"] == pytest.approx(FRESH)
    assert ttl["near.lab"] == pytest.approx(FRESH_NEAR_EXPIRY)
    assert ttl["gone.lab"] == pytest.approx(FRESH_NOT_FOUND)

    second = _check(config, "--cache-dir", cache_dir)
    assert second.json()["stats"]["cache_hits"] == len(SITES)
    assert _registry_queries(the_world) == asked  # nobody was asked
    for site in ("one.lab", "near.lab", "web.com"):
        assert second.domain(site)["registration"]["cached"] is True
        assert second.domain(site)["registration"] == {
            **first.domain(site)["registration"], "cached": True
        }
    assert second.codes("gone.lab") == ["registration.not_found"]
    assert "registrations from the cache" in second.stderr

    # A day later (rows expired), one.lab's registry stops answering: the stale answer stands
    # in, told as such, while the others are asked afresh -- the TLD's referral from the cache.
    with db:
        db.execute("UPDATE registration SET fresh_until = 0, fetched = fetched - 7200")
    lab.call(lambda: the_world.registries["lab"].set_behaviour("one.lab", "close"))
    try:
        third = _check(config, "--cache-dir", cache_dir)
    finally:
        lab.call(lambda: the_world.registries["lab"].set_behaviour("one.lab", None))
    entry = third.domain("one.lab")
    assert entry["registration"]["cached"] is True
    assert entry["registration"]["expires"] == first.domain("one.lab")["registration"]["expires"]
    stale = [f for f in entry["findings"] if f["code"] == "lookup.stale"]
    assert len(stale) == 1 and stale[0]["severity"] == "info", entry["findings"]
    assert "2 h ago" in stale[0]["message"]
    assert "lookup.failed" not in third.codes("one.lab")
    assert entry["status"] == "ok"
    assert third.json()["stats"]["cache_stale"] == 1
    assert third.domain("near.lab")["registration"]["cached"] is False
    assert len(the_world.iana.queries) == referrals  # the IANA referral came from the cache


def test_no_cache_writes_nothing(world: tuple[World, Lab, Path], tmp_path: Path) -> None:
    _, _, config = world
    run = _check(config, "--no-cache", "--cache-dir", str(tmp_path / "c"))
    assert run.exit_code == 2
    assert not (tmp_path / "c" / FILE_NAME).exists()
    assert run.json()["stats"]["cache_hits"] == 0


def test_summary_line_on_stderr_and_not_under_quiet(
    world: tuple[World, Lab, Path], tmp_path: Path
) -> None:
    _, _, config = world
    run = _check(config, "--no-cache")
    assert run.stderr.splitlines()[-1].startswith(f"domwatch: {len(SITES)} domains in ")
    assert "lookups retried" in run.stderr and "domwatch:" not in run.stdout
    quiet = _check(config, "--no-cache", "-q")
    assert "lookups retried" not in quiet.stderr


@pytest.fixture(autouse=True)
def _no_real_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Whatever a test forgets to pass, the user's own cache stays untouched.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    os.environ.pop("DOMWATCH_CACHE_DIR", None)
