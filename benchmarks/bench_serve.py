"""How many /metrics scrapes does ``domwatch serve`` answer while a run is in progress?

    python benchmarks/bench_serve.py [--domains 1000] [--seconds 10] [--clients 8]

Starts a simulated world of N domains (WHOIS registries for four TLDs, a DNS server, all on
127.0.0.1), then the real ``domwatch serve`` as a subprocess against it, and:

1. waits for the first run to complete, so /metrics holds N domains' series;
2. measures scrapes with no run in progress (``idle``): ``--clients`` connections, each
   asking GET /metrics again as soon as its answer is read, for ``--seconds``;
3. makes every DNS answer take 2 s (``--timeout 30``: late, not failed), adds a domain to the
   file and sends SIGHUP, which starts a second run at once; that run needs minutes, and the
   same measurement is taken while it is in progress (checked before and after the window),
   then 50 scrapes sent at once on 50 new connections;
4. sends SIGTERM while that run is still in progress and measures how long the process takes
   to exit (the spec's bound is 5 s).

Reported: scrapes per second sustained, p50/p99/max latency, errors, the body size, the
exporter's peak RSS, and the SIGTERM exit time. The load generator is Python (aiohttp) on the
same machine, so on a small machine it shares the CPU with the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from domwatch.lab import Lab
from domwatch.lab.world import Site, World

TLDS = ("lab", "test", "example", "invalid")
DNS_LATENCY = 2.0


def gauge(text: str, name: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


class Exporter:
    """The serve subprocess, its URL and its stderr (read on a thread)."""

    def __init__(self, config: Path, cache: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "domwatch", "serve", "--listen", "127.0.0.1:0",
             "--cache-dir", str(cache), "--no-state", "--timeout", "30", str(config)],
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            raise SystemExit(f"serve did not start: {self.lines}")
        found = re.search(r"http://[^ ]+?:\d+", self.lines[0])
        assert found, self.lines
        self.url = found[0]

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if "serving http://" in line:
                self.ready.set()

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text(encoding="utf-8")
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(found[1]) / 1024 if found else float("nan")


async def get(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as answer:
        answer.raise_for_status()
        return await answer.text()


async def wait_for(url: str, name: str, wanted: float, limit: float = 600.0) -> str:
    """Poll /metrics until the gauge ``name`` is ``wanted``."""
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            text = await get(session, url + "/metrics")
            if gauge(text, name) == wanted:
                return text
            await asyncio.sleep(0.2)
    raise SystemExit(f"/metrics never had {name} {wanted}")


async def load(url: str, clients: int, seconds: float) -> dict[str, float]:
    """``clients`` connections scraping back to back for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    size = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        end = time.monotonic() + seconds

        async def client() -> None:
            nonlocal errors, size
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    size = len(await get(session, url + "/metrics"))
                except aiohttp.ClientError:
                    errors += 1
                    continue
                latencies.append(time.monotonic() - started)

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        took = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "scrapes": len(ordered),
        "per_second": len(ordered) / took,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "errors": errors,
        "bytes": size,
    }


async def burst(url: str, count: int) -> float:
    """Seconds until ``count`` scrapes sent at once, each on its own connection, all answered."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        await asyncio.gather(*(get(session, url + "/metrics") for _ in range(count)))
        return time.monotonic() - started


def show(label: str, figures: dict[str, float]) -> None:
    print(f"{label}: {figures['per_second']:.0f} scrapes/s ({figures['scrapes']:.0f} in all), "
          f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms, {figures['errors']:.0f} errors, "
          f"{figures['bytes'] / 1024:.0f} KiB per answer")


async def bench(args: argparse.Namespace, lab: Lab, world: World, config: Path,
                exporter: Exporter) -> None:
    started = time.monotonic()
    await wait_for(exporter.url, "domwatch_up", 1)
    print(f"first run of {args.domains} domains complete after {time.monotonic() - started:.1f} s")
    show("idle", await load(exporter.url, args.clients, args.seconds))

    assert world.dns is not None
    dns = world.dns
    lab.call(lambda: setattr(dns, "latency", DNS_LATENCY))
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("domains = [", 'domains = ["extra.lab", ', 1), encoding="utf-8")
    exporter.proc.send_signal(signal.SIGHUP)
    await wait_for(exporter.url, "domwatch_run_in_progress", 1)
    figures = await load(exporter.url, args.clients, args.seconds)
    fifty = await burst(exporter.url, 50)
    async with aiohttp.ClientSession() as session:
        after = await get(session, exporter.url + "/metrics")
    if gauge(after, "domwatch_run_in_progress") != 1:
        raise SystemExit("the second run ended during the measurement: use fewer --seconds")
    show("during a run", figures)
    print(f"50 concurrent scrapes on 50 new connections during the run: all answered in "
          f"{fifty * 1000:.0f} ms")
    print(f"exporter peak RSS: {exporter.peak_rss_mb():.0f} MB")

    stop = time.monotonic()
    exporter.proc.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(exporter.proc.wait, 60)
    took = time.monotonic() - stop
    inner = next((line for line in exporter.lines if "stopped in" in line), "")
    print(f"SIGTERM with a run in progress: exited {code} after {took:.2f} s "
          f"(serve's own account: {inner.removeprefix('domwatch: ')})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    sites = [Site(f"d{i:05d}.{TLDS[i % len(TLDS)]}", expires_in=30 + i % 400)
             for i in range(args.domains)]
    sites.append(Site("extra.lab"))
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        world = World(sites, rdap_enabled=False).start(lab)
        config = world.config(Path(tmp) / "domains.toml",
                              domains=[s.name for s in sites[:-1]])
        print(f"cores: {os.cpu_count()}; {args.clients} clients for {args.seconds:g} s each")
        exporter = Exporter(config, Path(tmp) / "cache")
        try:
            asyncio.run(bench(args, lab, world, config, exporter))
        finally:
            if exporter.proc.poll() is None:
                exporter.proc.kill()
                exporter.proc.wait()


if __name__ == "__main__":
    main()
