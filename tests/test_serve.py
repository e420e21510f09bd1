"""`domwatch serve` end to end: the real command as a subprocess, against the lab's servers."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from domwatch.report import get_format
from tests.conftest import domwatch

# Waits for a run or a log line are bounded only so that a broken build fails instead of
# hanging: the machine may be slow and shared, so the bounds are far above what is needed.
PATIENCE = 90.0
# The spec wants SIGTERM to end serve within 5 s; benchmarks/bench_serve.py measures the real
# figure. Here it is only a hang guard, far above anything a loaded machine needs: a stop that
# waited for the run instead of cutting it short is caught by what the run left behind (the
# state file it would have saved), not by the clock.
STOP_BOUND = 60.0
STATE = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
PROMETHEUS = get_format("prometheus")

FAST_SITES = [
    Site("healthy.lab", expires_in=300),
    Site("soon.lab", expires_in=20),
    Site("free.lab", registered=False),
    Site("nx.lab", dns="nxdomain"),
    Site("site.lab", expires_in=200, web="soon"),
    Site("custom.lab", expires_in=100),  # listed with its own warn_days
    Site("other.lab", expires_in=50),  # in the world, not in the file: probed as unlisted
]
LISTED = ["healthy.lab", "soon.lab", "free.lab", "nx.lab", "site.lab"]
CUSTOM = '\n[[domain]]\nname = "custom.lab"\nwarn_days = 400\n'


class Serve:
    """One ``domwatch serve`` subprocess; stderr is read on a thread so it never blocks."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "domwatch", "serve", "--listen", "127.0.0.1:0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        first = self.wait_line(r"serving http://")
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert found, first
        self.url = f"http://127.0.0.1:{found[1]}"

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern: str, start: int = 0) -> str:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line like {pattern!r} on stderr: {self.lines}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=PATIENCE) as answer:
                return answer.status, answer.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def metrics(self) -> dict[str, list[Any]]:
        status, text = self.get("/metrics")
        assert status == 200
        return samples(text)

    def wait_metrics(self, ready: Callable[[dict[str, list[Any]]], bool]) -> dict[str, list[Any]]:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            current = self.metrics()
            if ready(current):
                return current
            time.sleep(0.1)
        raise AssertionError(f"/metrics never got ready: {current}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(STOP_BOUND)
        finally:
            self.kill()
        self._reader.join(10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def samples(text: str) -> dict[str, list[Any]]:
    """Every sample by metric name, parsed by prometheus_client's own parser."""
    out: dict[str, list[Any]] = {}
    for metric_family in text_string_to_metric_families(text):
        for sample in metric_family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def value(found: dict[str, list[Any]], name: str, **labels: str) -> float | None:
    for sample in found.get(name, []):
        if all(sample.labels.get(k) == v for k, v in labels.items()):
            return float(sample.value)
    return None


def by_domain(found: dict[str, list[Any]], name: str) -> dict[str, float]:
    return {s.labels["domain"]: float(s.value) for s in found.get(name, [])}


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Lab, Path]]:
    tmp = tmp_path_factory.mktemp("fast")
    with Lab() as lab:
        world = World(FAST_SITES).start(lab)
        config = world.config(tmp / "domains.toml", domains=LISTED, extra=CUSTOM)
        yield world, lab, config


@pytest.fixture
def served(
    fast: tuple[World, Lab, Path], tmp_path: Path
) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(*args: str) -> Serve:
        env = {"XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
               "XDG_STATE_HOME": str(tmp_path / "xdg-state")}
        server = Serve(*args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def _up(found: dict[str, list[Any]]) -> bool:
    return value(found, "domwatch_up") == 1


# --------------------------------------------------------------------------- /metrics


def test_metrics_agree_with_check_json(
    fast: tuple[World, Lab, Path], served: Callable[..., Serve], tmp_path: Path
) -> None:
    _, _, config = fast
    state = tmp_path / "state.json"
    server = served(str(config), "--cache-dir", str(tmp_path / "cache"), "--state", str(state))
    found = server.wait_metrics(_up)
    checked = domwatch("check", str(config), "--format", "json", "--no-cache", "--no-state",
                       "--no-progress")
    report = checked.json()
    names = [d["name"] for d in report["domains"]]
    assert sorted(names) == sorted([*LISTED, "custom.lab"])

    assert by_domain(found, "domwatch_domain_state") == {
        d["name"]: STATE[d["status"]] for d in report["domains"]
    }
    assert by_domain(found, "domwatch_registration_days_left") == {
        d["name"]: d["registration"]["days_left"]
        for d in report["domains"]
        if d["registration"] and d["registration"]["days_left"] is not None
    }
    findings: Counter[tuple[str, str, str]] = Counter()
    for s in found["domwatch_findings"]:
        findings[(s.labels["domain"], s.labels["code"], s.labels["severity"])] += int(s.value)
    assert findings == Counter(
        (d["name"], f["code"], f["severity"]) for d in report["domains"] for f in d["findings"]
    )
    assert {s.labels["state"]: s.value for s in found["domwatch_domains"]} == report["summary"]
    certificates = {(s.labels["domain"], s.labels["host"]): s.value
                    for s in found["domwatch_certificate_days_left"]}
    site = next(d for d in report["domains"] if d["name"] == "site.lab")
    days = [a["tls"]["days_left"] for h in site["web"]["hosts"] for a in h["addresses"]]
    assert certificates == {("site.lab", "site.lab"): min(days)}
    assert value(found, "domwatch_run_in_progress") == 0
    assert value(found, "domwatch_config_last_reload_success") == 1
    assert found["domwatch_last_run_timestamp_seconds"][0].value > 0
    # The periodic run keeps change-detection state, written after its metrics.
    server.wait_line(r"domains in .* s;")
    deadline = time.monotonic() + PATIENCE
    while not state.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "healthy.lab" in state.read_text(encoding="utf-8")
    assert server.stop() == 0


def test_healthz_index_and_unknown_path(served: Callable[..., Serve], fast: Any) -> None:
    _, _, config = fast
    server = served(str(config), "--no-cache", "--no-state")
    assert server.get("/healthz") == (200, "ok\n")
    status, text = server.get("/")
    assert status == 200 and "/probe?target=" in text
    assert server.get("/nothing")[0] == 404
    # What scanners send: a huge request line, a TLS handshake. aiohttp answers 400 (and logs
    # it with a traceback unless told otherwise).
    port = int(server.url.rsplit(":", 1)[1])
    for payload in (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x02\x00\x01"):
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as raw:
            raw.sendall(payload)
            assert raw.recv(64).startswith(b"HTTP/1.0 400 ")
    assert server.get("/healthz")[0] == 200
    assert server.stop(signal.SIGINT) == 0
    assert not any("Traceback" in line or "aiohttp" in line for line in server.lines)
    assert any(re.search(r"SIGINT: stopped in", line) for line in server.lines)


# --------------------------------------------------------------------------- /probe


def test_probe_listed_unlisted_and_bad_targets(
    fast: tuple[World, Lab, Path], served: Callable[..., Serve], tmp_path: Path
) -> None:
    world, lab, config = fast
    server = served(str(config), "--cache-dir", str(tmp_path / "cache"), "--no-state", "-v")

    # Listed: the domain file's own entry applies (warn_days = 400 makes 100 days a warning).
    status, text = server.get("/probe?target=custom.lab")
    assert status == 200, text
    found = samples(text)
    assert value(found, "domwatch_probe_success") == 1
    assert value(found, "domwatch_domain_state", domain="custom.lab") == 1
    assert value(found, "domwatch_findings", domain="custom.lab", code="expiry.warning") == 1
    assert value(found, "domwatch_probe_duration_seconds") is not None
    assert value(found, "domwatch_registration_days_left", domain="custom.lab") == 100

    # Unlisted: the settings' thresholds; registration only unless checks= says otherwise.
    registry = world.registries["lab"]
    asked = lab.call(lambda: registry.queries.count("other.lab"))
    status, text = server.get("/probe?target=WWW.Other.LAB.")
    assert status == 200, text
    found = samples(text)
    assert value(found, "domwatch_domain_state", domain="other.lab") == 0
    assert value(found, "domwatch_registration_days_left", domain="other.lab") == 50
    assert lab.call(lambda: registry.queries.count("other.lab")) == asked + 1
    # Again, through the cache: the registry is not asked a second time.
    status, again = server.get("/probe?target=other.lab&checks=registration,dns")
    assert status == 200
    assert lab.call(lambda: registry.queries.count("other.lab")) == asked + 1
    assert value(samples(again), "domwatch_registration_days_left", domain="other.lab") == 50

    # A failed check is an unsuccessful probe; an expired or free domain is not.
    status, text = server.get("/probe?target=nx.lab&checks=dns")
    assert value(samples(text), "domwatch_domain_state", domain="nx.lab") == 2
    assert value(samples(text), "domwatch_probe_success") == 1
    status, text = server.get("/probe?target=free.lab")
    assert value(samples(text), "domwatch_findings", domain="free.lab",
                 code="registration.not_found") == 1

    for bad, words in [
        ("/probe?target=a..b", "not a domain name"),
        ("/probe?target=exa%0Ample.com", "not a domain name"),
        ("/probe", "give one target"),
        ("/probe?target=x.lab&target=y.lab", "give one target"),
        ("/probe?target=other.lab&checks=registration,tls", "checks: unknown check 'tls'"),
        ("/probe?target=other.lab&checks=foo", "checks: unknown check 'foo'"),
        ("/probe?target=-x-.lab", "not a domain name"),
    ]:
        status, text = server.get(bad)
        assert status == 400, (bad, text)
        assert text.endswith("\n") and text.count("\n") == 1, text
        assert words in text and "Traceback" not in text, text
    # -v: one line per request.
    server.wait_line(r"GET /probe\?target=a\.\.b 400 ")
    assert server.stop() == 0
    assert not any("Traceback" in line for line in server.lines)


# --------------------------------------------------------------------------- a slow world

SLOW_LATENCY = 30.0  # every answer of the .lab registry; far longer than any test needs
MID_LATENCY = 5.0  # the .mid registry: long enough for ten requests to meet in flight


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Lab, Path]]:
    tmp = tmp_path_factory.mktemp("slow")
    with Lab() as lab:
        world = World([Site("slow.lab"), Site("shared.mid")], rdap_enabled=False,
                      whois_latency=SLOW_LATENCY).start(lab)
        mid = world.registries["mid"]
        lab.call(lambda: setattr(mid, "latency", MID_LATENCY))
        config = world.config(tmp / "domains.toml", domains=["slow.lab"])
        yield world, lab, config


def _slow_serve(slow: tuple[World, Lab, Path], tmp_path: Path, *extra: str) -> Serve:
    _, _, config = slow
    # --timeout 60: the registry's 30 s latency is an answer late, not a timeout.
    state = extra if "--state" in extra else ("--no-state", *extra)
    return Serve(str(config), "--no-cache", "--timeout", "60", *state,
                 env={"XDG_CACHE_HOME": str(tmp_path / "xdg")})


def test_fifty_scrapes_answer_while_a_run_is_in_progress_then_sigterm(
    slow: tuple[World, Lab, Path], tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    remembered = '{"schema": "domwatch-state/1", "domains": {}}\n'
    state.write_text(remembered, encoding="utf-8")
    server = _slow_serve(slow, tmp_path, "--state", str(state))
    try:
        server.wait_metrics(lambda found: value(found, "domwatch_run_in_progress") == 1)

        async def scrape_all() -> list[tuple[int, str]]:
            async with aiohttp.ClientSession() as session:

                async def one() -> tuple[int, str]:
                    async with session.get(server.url + "/metrics") as answer:
                        # The exposition format's own media type, from the format registry.
                        assert answer.headers["Content-Type"] == PROMETHEUS.media_type
                        assert PROMETHEUS.media_type.startswith("text/plain; version=0.0.4")
                        return answer.status, await answer.text()

                return await asyncio.gather(*(one() for _ in range(50)))

        answers = asyncio.run(scrape_all())
        assert [status for status, _ in answers] == [200] * 50
        for _, text in answers:
            found = samples(text)
            # Every answer came while the run was still going: nothing of it is shown yet.
            assert value(found, "domwatch_up") == 0
            assert value(found, "domwatch_run_in_progress") == 1
            assert "domwatch_domain_state" not in found
        assert server.stop() == 0  # with the run still waiting on its registry
        assert server.wait_line(r"SIGTERM: stopped in")
        # A run cut short saves nothing: its changes are found again by the next one.
        assert state.read_text(encoding="utf-8") == remembered
    finally:
        server.kill()


def test_concurrent_probes_of_one_name_share_one_lookup(
    slow: tuple[World, Lab, Path], tmp_path: Path
) -> None:
    world, lab, _ = slow
    registry = world.registries["mid"]
    server = _slow_serve(slow, tmp_path)
    try:

        async def probe_all() -> list[tuple[int, str]]:
            async with aiohttp.ClientSession() as session:

                async def one() -> tuple[int, str]:
                    async with session.get(server.url + "/probe?target=shared.mid") as answer:
                        return answer.status, await answer.text()

                return await asyncio.gather(*(one() for _ in range(10)))

        answers = asyncio.run(probe_all())
        assert [status for status, _ in answers] == [200] * 10
        for _, text in answers:
            assert value(samples(text), "domwatch_registration_days_left",
                         domain="shared.mid") == 300
        assert lab.call(lambda: registry.queries.count("shared.mid")) == 1
        found = server.metrics()
        assert value(found, "domwatch_serve_probes_admitted_total") == 1
        assert value(found, "domwatch_serve_probes_joined_total") == 9
        assert value(found, "domwatch_serve_probes_in_flight") == 0
        assert server.stop() == 0
    finally:
        server.kill()


def test_a_flood_of_distinct_probes_is_bounded(
    slow: tuple[World, Lab, Path], tmp_path: Path
) -> None:
    limit = 20
    server = _slow_serve(slow, tmp_path, "--max-probes", str(limit))
    try:

        async def flood() -> tuple[dict[str, list[Any]], list[tuple[int, str] | str]]:
            # 100 connections: the admitted probes hold theirs (the registry takes 30 s), the
            # others go round quickly through the refusals.
            connector = aiohttp.TCPConnector(limit=100)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def one(i: int) -> tuple[int, str] | str:
                    try:
                        url = f"{server.url}/probe?target=name{i:04d}.lab"
                        async with session.get(url) as answer:
                            return answer.status, await answer.text()
                    except aiohttp.ClientError as exc:
                        return type(exc).__name__

                tasks = [asyncio.ensure_future(one(i)) for i in range(1000)]
                found = await asyncio.to_thread(
                    server.wait_metrics,
                    lambda m: (value(m, "domwatch_serve_probes_admitted_total") or 0)
                    + (value(m, "domwatch_serve_probes_rejected_total") or 0) == 1000,
                )
                code = await asyncio.to_thread(server.stop)
                assert code == 0
                return found, list(await asyncio.gather(*tasks))

        found, answers = asyncio.run(flood())
        admitted = value(found, "domwatch_serve_probes_admitted_total")
        rejected = value(found, "domwatch_serve_probes_rejected_total")
        assert admitted is not None and rejected is not None
        assert value(found, "domwatch_serve_probes_in_flight_max") == limit
        assert (value(found, "domwatch_serve_probes_in_flight") or 0) <= limit
        assert value(found, "domwatch_serve_probes_limit") == limit
        assert rejected >= 1000 - 2 * limit  # nothing finishes in the registry's 30 s
        refused = [a for a in answers if isinstance(a, tuple) and a[0] == 503]
        full = [text for _, text in refused if "--max-probes" in text]
        assert len(full) == rejected
        assert all(text.count("\n") == 1 for _, text in refused)
    finally:
        server.kill()


# --------------------------------------------------------------------------- reloading


def test_sighup_rereads_the_file_and_a_bad_file_keeps_the_last_good(
    fast: tuple[World, Lab, Path], served: Callable[..., Serve], tmp_path: Path
) -> None:
    _, _, config = fast
    mine = tmp_path / "mine.toml"
    text = config.read_text(encoding="utf-8").split("\n[[domain]]")[0]  # settings only
    ca = config.with_name(config.stem + "-ca.pem")
    text = text.replace(f'ca_bundle = "{ca.name}"', f'ca_bundle = "{ca}"')
    listed = re.search(r"^domains = .*$", text, re.M)
    assert listed is not None
    first = text.replace(listed[0], 'domains = ["healthy.lab"]')
    mine.write_text(first, encoding="utf-8")
    server = served(str(mine), "--no-cache", "--no-state")
    found = server.wait_metrics(_up)
    assert set(by_domain(found, "domwatch_domain_state")) == {"healthy.lab"}

    mine.write_text(first.replace('["healthy.lab"]', '["healthy.lab", "other.lab"]'))
    server.proc.send_signal(signal.SIGHUP)
    found = server.wait_metrics(
        lambda m: set(by_domain(m, "domwatch_domain_state")) == {"healthy.lab", "other.lab"}
    )

    before = len(server.lines)
    mine.write_text(first.replace("timeout = 2\n", "timeout = 2\nwarn_dayz = 3\n"))
    server.proc.send_signal(signal.SIGHUP)
    found = server.wait_metrics(
        lambda m: value(m, "domwatch_config_last_reload_success") == 0
    )
    line = server.wait_line(r"keeping the last good configuration", before)
    assert "mine.toml" in line and "warn_dayz" in line
    assert set(by_domain(found, "domwatch_domain_state")) == {"healthy.lab", "other.lab"}
    # The last good configuration still answers probes of its listed names.
    status, text = server.get("/probe?target=other.lab")
    assert status == 200 and value(samples(text), "domwatch_probe_success") == 1
    assert server.stop() == 0
    assert not any("Traceback" in line for line in server.lines)


def test_each_run_rereads_the_file(
    fast: tuple[World, Lab, Path], served: Callable[..., Serve], tmp_path: Path
) -> None:
    _, _, config = fast
    mine = tmp_path / "list.txt"
    mine.write_text("healthy.lab\n", encoding="utf-8")
    # The settings (servers, resolver) from the lab's file, the names from a plain list.
    server = served(str(config), str(mine), "--no-cache", "--no-state", "--interval", "1s")
    server.wait_metrics(_up)
    mine.write_text("healthy.lab\nother.lab\n", encoding="utf-8")
    found = server.wait_metrics(lambda m: "other.lab" in by_domain(m, "domwatch_domain_state"))
    assert (value(found, "domwatch_runs_completed_total") or 0) >= 2
    assert server.stop() == 0


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["x.lab"], "Missing option '--listen'"),
        (["--listen", "127.0.0.1", "x.lab"], "--listen: '127.0.0.1': expected ADDR:PORT"),
        (["--listen", "::1:80", "x.lab"], "as [ADDR]:PORT"),
        (["--listen", "127.0.0.1:99999", "x.lab"], "port must be a number"),
        (["--listen", "127.0.0.1:0", "--interval", "soon", "x.lab"], "--interval:"),
        (["--listen", "127.0.0.1:0", "--max-probes", "0", "x.lab"], "--max-probes"),
        (["--listen", "127.0.0.1:0", "-"], "stdin"),
        (["--listen", "127.0.0.1:0", "a..b"], "not a domain name"),
        (["--listen", "127.0.0.1:0", "--checks", "tls", "x.lab"], "--checks"),
    ],
)
def test_usage_errors_are_one_line_and_exit_64(args: list[str], words: str) -> None:
    run = domwatch("serve", *args)
    assert run.exit_code == 64, run.stderr
    assert words in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_an_address_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # A subprocess: serve sets up logging for its whole process.
        run = subprocess.run(
            [sys.executable, "-m", "domwatch", "serve", "--listen", f"127.0.0.1:{port}",
             "--no-cache", "--no-state", "x.lab"],
            capture_output=True, text=True, timeout=PATIENCE, stdin=subprocess.DEVNULL,
        )
    assert run.returncode == 64
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr
    assert run.stderr.count("\n") == 1, run.stderr


# --------------------------------------------------------------------------- stopping


def test_stopping_while_the_state_is_saved_finishes_the_save(
    fast: tuple[World, Lab, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domwatch.config import load_config
    from domwatch.net.limits import Limits
    from domwatch.serve import runs as runs_module
    from domwatch.serve.runs import Runs

    _, _, config_path = fast
    state = tmp_path / "state.json"
    saving = threading.Event()
    real_save = runs_module._save

    def slow_save(*args: Any) -> None:  # a slow disk: the write takes a while
        saving.set()
        time.sleep(1.0)
        real_save(*args)

    monkeypatch.setattr(runs_module, "_save", slow_save)

    def load() -> Any:
        return load_config([str(config_path)], {"cache": False, "state_path": str(state)})

    async def scenario() -> float:
        config = load()
        runs = Runs(load, config, Limits.from_settings(config.settings), 3600.0,
                    on_config=lambda _c: None, on_run=lambda: None)
        runs.start()
        await asyncio.to_thread(saving.wait, PATIENCE)
        assert saving.is_set() and not state.exists()
        return await runs.stop()  # what SIGTERM does while the save is under way

    waited = asyncio.run(scenario())
    assert waited > 0
    assert "healthy.lab" in state.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("127.0.0.1:9233", ("127.0.0.1", 9233)), (":9233", (None, 9233)),
     ("[::1]:0", ("::1", 0)), ("localhost:80", ("localhost", 80))],
)
def test_listen_addresses(text: str, parsed: tuple[str | None, int]) -> None:
    from domwatch.serve.main import parse_listen

    assert parse_listen(text) == parsed
