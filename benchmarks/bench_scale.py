"""How fast can domwatch check N domains without being told off by any registry?

    python benchmarks/bench_scale.py [--world all|classic|arrival|strict|rdap2x|dns]
                                     [--domains 1000] [--no-baseline] [--no-warm]
    python benchmarks/bench_scale.py --memory --domains 100000

Each world is simulated on this machine: N domains over 17 TLDs, shared like a real portfolio
(.com heavy), served by per-TLD registries with realistic latencies (WHOIS 150-300 ms per
server, RDAP 100-200 ms per answer) and their own rate limits, found like the real ones (RDAP
for the gTLDs, WHOIS on port 43 for ccTLDs without RDAP, IANA for an unknown TLD). Some limits
are "published": domwatch is configured with them, as its built-in table does for the real
registries. The others are not: domwatch treats those servers as the public servers they stand
for (its defaults for an unknown server, not the "operator's own" treatment a loopback address
would otherwise get) and has to find their limits out.

Worlds:

* ``classic``: each WHOIS server counts a query when it answers it, each RDAP server when the
  request comes in; no jitter. The first benchmark's world.
* ``arrival``: every server counts queries when they *arrive*, half way through the latency
  (the network half), and every latency varies by +-30 % from query to query; limits over
  sliding windows of 1 s, 60 s and 3600 s (some over two of them), a Nominet-like 5 per second.
* ``strict``: ``arrival`` with one registry (.pt, WHOIS, unpublished) allowing 12 a minute,
  stricter than domwatch's default of one a second.
* ``rdap2x``: ``arrival`` where the RDAP server of .com and .net (half the domains) publishes
  nothing and allows 10 a second, twice domwatch's default, answering 429 with Retry-After.
* ``dns``: ``arrival`` with the DNS check too, through a resolver that drops UDP queries past
  20 in flight (latency 20 ms +-30 %).

It runs the real CLI as a subprocess, ``domwatch check`` (``--checks registration``, plus
``dns`` in the dns world), and reports:

* wall time, the lower bound the limits and latencies imply, and their ratio. For each server
  s with n_s queries, quotas L per W seconds, allowed concurrency c_s and latencies l:
  T_s = max(max over its quotas of (ceil(n_s / L) - 1) * W + min(l), n_s * mean(l) / c_s): the
  last batch of L may start one window after the first batch of the previous window, every
  query takes a latency, at most c_s run at once. An IANA referral adds its latency for a TLD
  found through IANA. The resolver of the dns world adds q * mean(l) / 20 for its q distinct
  questions. The bound is the max over servers. It assumes a client that knows every limit
  (unpublished ones too) and meets no jitter; the coarser ceil(n_s / L) * W is printed beside it.
* peak RSS of the domwatch process, correctness against the lab's truth (every expiry date,
  every "not registered"), the "limit exceeded" answers each server sent (the most in any
  sliding minute), and ``dns.timeout`` findings for domains that resolve;
* in ``classic``: the same run warm (answers cached), ``domwatch --version`` (median of 5), and
  a plain sequential python-whois loop (``NICClient().whois(name, host, 0)`` then
  ``WhoisEntry.load``) over the same registries. python-whois always connects to port 43, so
  as root each registry gets its own 127.0.0.x:43; otherwise that comparison is skipped.

``--memory`` runs a different world: every server is the operator's own (loopback, unpaced, no
latency), so the run is as fast as this machine allows; it measures peak RSS and correctness.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dns.name

from domwatch.lab import Lab
from domwatch.lab.ca import LabCA
from domwatch.lab.dns_server import DnsServer
from domwatch.lab.https_server import Request, Response
from domwatch.lab.rdap_server import RdapDomain, RdapServer
from domwatch.lab.whois_server import WhoisServer
from domwatch.lab.world import Site, _soa, domain_zone, iana_answer, icann_answer, not_found_text

LIMIT_TEXT = "Your connection limit exceeded. Please slow down and try again later.\r\n"
PERIOD_KEYS = {1.0: "per_second", 60.0: "per_minute", 3600.0: "per_hour", 86400.0: "per_day"}
WORLDS = ("classic", "arrival", "strict", "rdap2x", "dns")

# The child process: the real CLI, reporting its own peak RSS as it exits. getrusage() of a
# child is no good here: Linux counts in it the parent's RSS at the fork (the lab world of
# 100,000 domains lives in this process), which made earlier figures too high. With
# ``public``, the lab's loopback servers are taken for the public registries they stand for
# (domwatch would otherwise treat a loopback address as the operator's own server and not
# pace it at all).
PEAK = "domwatch-bench-peak-rss-kb:"
LAUNCH = (
    "import atexit, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    f"            sys.stderr.write('{PEAK} ' + line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "if PUBLIC:\n"
    "    import domwatch.net.limits as limits\n"
    "    limits.is_local = lambda key: False\n"
    "from domwatch.cli import main\n"
    "main()\n"
)

Limit = tuple[int, float]  # (count, seconds)


@dataclass
class Registry:
    """One simulated registry server: its truth (limits, concurrency) and what domwatch knows."""

    name: str
    kind: str  # "rdap" or "whois"
    limits: list[Limit]  # sliding windows the server enforces
    concurrency: int  # connections it tolerates (the bound's c_s)
    published: bool  # domwatch is configured with limits and concurrency
    latency: tuple[float, float] = (0.15, 0.30)
    tlds: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    server: Any = None
    whois_latency: float = 0.0

    @property
    def key(self) -> str:
        """domwatch's limiter key of this server."""
        if self.kind == "rdap":
            return "https://" + self.server.url.split("://", 1)[1].split("/", 1)[0]
        return f"{self.server.host}:{self.server.port}"

    @property
    def shown(self) -> str:
        return " + ".join(f"{c}/{_unit(w)}" for c, w in self.limits)


def _unit(seconds: float) -> str:
    return {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "day"}.get(seconds, f"{seconds:g}s")


# (TLD, share of the portfolio, registry). Shares follow a typical company portfolio.
TLDS = [
    ("com", 0.42, "verisign-rdap"), ("net", 0.08, "verisign-rdap"), ("org", 0.08, "pir-rdap"),
    ("info", 0.03, "identity-rdap"), ("xyz", 0.03, "centralnic-rdap"),
    ("se", 0.06, "se"), ("dk", 0.04, "dk"), ("it", 0.05, "it"), ("es", 0.03, "es"),
    ("nz", 0.03, "nz"), ("pt", 0.02, "pt"), ("ie", 0.02, "ie"), ("lt", 0.02, "lt"),
    ("ee", 0.02, "ee"), ("jp", 0.03, "jp"), ("cl", 0.02, "cl"), ("lab", 0.02, "lab"),
]

S, M, H, D = 1.0, 60.0, 3600.0, 86400.0


def _classic() -> list[Registry]:
    rdap = (0.10, 0.20)
    return [
        Registry("verisign-rdap", "rdap", [(8, S)], 8, True, rdap),
        Registry("pir-rdap", "rdap", [(40, M)], 4, True, rdap),
        Registry("identity-rdap", "rdap", [(10, S)], 4, False, rdap),
        Registry("centralnic-rdap", "rdap", [(2, S)], 2, True, rdap),
        Registry("se", "whois", [(30, M)], 2, True),
        Registry("dk", "whois", [(1, S)], 1, True),
        Registry("it", "whois", [(1, S)], 1, True),
        Registry("es", "whois", [(2, S)], 2, False),
        Registry("nz", "whois", [(20, M)], 1, True),
        Registry("pt", "whois", [(12, M)], 1, False),  # stricter than domwatch's default
        Registry("ie", "whois", [(5, S)], 2, False),
        Registry("lt", "whois", [(2, S)], 1, True),
        Registry("ee", "whois", [(30, M)], 1, True),
        Registry("jp", "whois", [(3, S)], 2, False),
        Registry("cl", "whois", [(1, S)], 1, True),
        Registry("lab", "whois", [(10, S)], 2, False),
    ]


def _arrival() -> list[Registry]:
    rdap = (0.10, 0.20)
    return [
        Registry("verisign-rdap", "rdap", [(8, S)], 8, True, rdap),
        Registry("pir-rdap", "rdap", [(40, M)], 4, True, rdap),
        Registry("identity-rdap", "rdap", [(10, S)], 4, False, rdap),
        Registry("centralnic-rdap", "rdap", [(2, S), (100, H)], 2, True, rdap),
        Registry("se", "whois", [(30, M)], 2, True),
        Registry("dk", "whois", [(1, S)], 1, True),
        Registry("it", "whois", [(5, S), (1000, D)], 2, True),  # Nominet's published figures
        Registry("es", "whois", [(2, S)], 2, False),
        Registry("nz", "whois", [(20, M)], 1, True),
        Registry("pt", "whois", [(60, H)], 1, True),
        Registry("ie", "whois", [(5, S)], 2, False),
        Registry("lt", "whois", [(2, S)], 1, True),
        Registry("ee", "whois", [(30, M), (200, H)], 1, True),
        Registry("jp", "whois", [(3, S), (40, H)], 2, True),
        Registry("cl", "whois", [(30, H)], 1, False),  # per hour, unpublished, not reached
        Registry("lab", "whois", [(10, S)], 2, False),
    ]


def _variant(world: str) -> list[Registry]:
    specs = _classic() if world == "classic" else _arrival()
    by_name = {r.name: r for r in specs}
    if world == "strict":
        by_name["pt"].limits, by_name["pt"].published = [(12, M)], False
    if world == "rdap2x":
        verisign = by_name["verisign-rdap"]
        verisign.limits, verisign.published = [(10, S)], False
    return specs


def registries(world: str, scale: float) -> dict[str, Registry]:
    """The world's servers; ``scale`` multiplies every quota count (for huge runs)."""
    specs = [
        *_variant(world),
        # python-whois asks WHOIS for the RDAP TLDs too: their port-43 servers; and IANA.
        Registry("verisign-whois", "whois", [(5, S)], 2, False),
        Registry("pir-whois", "whois", [(30, M)], 1, False),
        Registry("identity-whois", "whois", [(5, S)], 2, False),
        Registry("centralnic-whois", "whois", [(2, S)], 2, False),
        Registry("iana", "whois", [(10, S)], 2, False),
    ]
    for reg in specs:
        reg.limits = [(max(1, round(c * scale)), w) for c, w in reg.limits]
    return {r.name: r for r in specs}


WHOIS_FOR_RDAP = {"verisign-rdap": "verisign-whois", "pir-rdap": "pir-whois",
                  "identity-rdap": "identity-whois", "centralnic-rdap": "centralnic-whois"}


# -- the simulated servers ---------------------------------------------------------------------


class Windows:
    """Sliding windows counted at the moment a query is counted; refused ones do not count."""

    def __init__(self, limits: list[Limit]) -> None:
        self.limits = limits
        self.served: deque[float] = deque()
        self.longest = max((w for _, w in limits), default=0.0)
        self.limited: list[float] = []

    def refuse(self, now: float) -> float | None:
        """None when the query is served, else the seconds until the full window frees."""
        while self.served and now - self.served[0] >= self.longest:
            self.served.popleft()
        for count, window in self.limits:
            if len(self.served) >= count and now - self.served[-count] < window:
                self.limited.append(now)
                return self.served[-count] + window - now
        self.served.append(now)
        return None


@dataclass
class Timing:
    """When a server counts a query and how long it takes: ``share`` of the latency passes
    before the query is counted (the network on the way in), each latency varies by
    +-``jitter``."""

    share: float
    jitter: float
    rng: random.Random

    def split(self, latency: float) -> tuple[float, float]:
        latency *= self.rng.uniform(1 - self.jitter, 1 + self.jitter)
        return latency * self.share, latency * (1 - self.share)


class BenchWhois(WhoisServer):
    """A lab WHOIS registry with sliding-window limits counted per :class:`Timing`."""

    def __init__(self, answers: dict[str, str], *, limits: list[Limit], timing: Timing,
                 latency: float, **kwargs: Any) -> None:
        super().__init__(answers, **kwargs)
        self.base_latency = latency
        self.windows = Windows(limits)
        self.timing = timing
        self.times: list[float] = []
        self.limited = self.windows.limited

    async def _serve(self, reader: Any, writer: Any) -> None:
        query = (await self._read_line(reader)).decode("utf-8", "replace")
        self.times.append(time.monotonic())
        before, after = self.timing.split(self.base_latency)
        await asyncio.sleep(before)
        if self.windows.refuse(time.monotonic()) is not None:
            await asyncio.sleep(after)
            writer.write(LIMIT_TEXT.encode())
            await writer.drain()
            return
        await asyncio.sleep(after)
        writer.write(self.answer_for(query))
        await writer.drain()


class BenchRdap(RdapServer):
    """An RDAP registry answering 429 (with Retry-After) past its sliding windows."""

    def __init__(self, limits: list[Limit], timing: Timing, latencies: dict[str, float],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.windows = Windows(limits)
        self.timing = timing
        self.latencies = latencies
        self.times: list[float] = []
        self.limited = self.windows.limited

    async def _handle(self, request: Request) -> Response:
        self.times.append(time.monotonic())
        name = request.path.rsplit("/", 1)[-1].lower()
        before, after = self.timing.split(self.latencies.get(name, 0.1))
        await asyncio.sleep(before)
        wait = self.windows.refuse(time.monotonic())
        await asyncio.sleep(after)
        if wait is not None:
            body = json.dumps({"errorCode": 429, "title": "Too Many Requests"}).encode()
            headers = {"Retry-After": str(max(1, math.ceil(wait))),
                       "Content-Type": "application/json"}
            return Response(429, headers, body)
        return await super()._handle(request)


class BenchDns(DnsServer):
    """The lab resolver with jittered latency, dropping UDP queries past 20 in flight; zones
    found by walking up the name (the world has a thousand)."""

    def __init__(self, zones: dict[str, str], *, latency: float, rng: random.Random,
                 **kwargs: Any) -> None:
        super().__init__(zones, **kwargs)
        self.base_latency = latency
        self.rng = rng
        self.asked: set[tuple[str, str]] = set()

    def _zone_for(self, name: dns.name.Name) -> Any:
        while True:
            zone = self._zones.get(name)
            if zone is not None or len(name) <= 1:
                return zone
            name = name.parent()

    async def _respond(self, query: Any) -> Any:
        question = query.question[0] if query.question else None
        if question is not None:
            self.asked.add((question.name.to_text(), str(question.rdtype)))
        await asyncio.sleep(self.base_latency * self.rng.uniform(0.7, 1.3))
        return await super()._respond(query)


# -- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    """Truth and servers of one benchmark world."""

    name: str
    sites: list[Site]
    registries: dict[str, Registry]
    tld_registry: dict[str, str]
    now: datetime
    port43: bool
    iana_tlds: list[str]
    timing: tuple[float, float]  # (share, jitter) of every server's latency
    ca: LabCA = field(default_factory=LabCA)
    resolver: BenchDns | None = None
    by_name: dict[str, Site] = field(default_factory=dict)

    def truth(self, name: str) -> str | None:
        """The expiry date the registry publishes (ISO day), or None when not registered."""
        site = self.by_name[name]
        expires = site.expires(self.now)
        return expires.date().isoformat() if site.registered and expires else None


def make_world(domains: int, seed: int, scale: float, latency_factor: float,
               port43: bool, world: str = "classic") -> World:
    """N sites over the TLDs by share; 1 % not registered, 0.5 % expired."""
    rng = random.Random(seed)
    regs = registries(world if world in WORLDS else "arrival", scale)
    names: list[tuple[str, str]] = []
    counts = _apportion(domains, [share for _, share, _ in TLDS])
    for (tld, _, reg), count in zip(TLDS, counts, strict=True):
        regs[reg].tlds.append(tld)
        names.extend((f"{_word(rng)}{i}.{tld}", reg) for i in range(count))
    rng.shuffle(names)
    sites = []
    for name, reg in names:
        roll = rng.random()
        if roll < 0.01:
            site = Site(name, registered=False)
        elif roll < 0.015:
            site = Site(name, expires_in=-rng.randint(1, 40))
        else:
            site = Site(name, expires_in=rng.randint(1, 900))
        sites.append(site)
        regs[reg].domains.append(name)
    for reg in regs.values():
        low, high = (x * latency_factor for x in reg.latency)
        reg.whois_latency = rng.uniform(low, high)
        reg.latencies = [rng.uniform(low, high) for _ in reg.domains]
    tld_registry = {tld: reg for tld, _, reg in TLDS}
    timing = (0.0, 0.0) if world == "classic" else (0.5, 0.3)
    made = World(world, sites, regs, tld_registry, datetime.now(timezone.utc), port43, ["lab"],
                 timing)
    made.by_name = {s.name: s for s in sites}
    return made


def _apportion(total: int, shares: list[float]) -> list[int]:
    raw = [total * s / sum(shares) for s in shares]
    counts = [math.floor(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True):
        if sum(counts) >= total:
            break
        counts[i] += 1
    return counts


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnoprstuvy") for _ in range(rng.randint(4, 9)))


def start(world: World, lab: Lab, seed: int = 7, memory: bool = False) -> None:
    """Start every registry (WHOIS on 127.0.0.x:43 with ``port43``) and the RDAP servers."""
    by_name = world.by_name
    address = iter(range(20, 250))
    share, jitter = world.timing
    rng = random.Random(seed)

    def timing(reg: Registry) -> Timing:
        # classic: a WHOIS server counts after its latency, an RDAP server before it.
        if world.name == "classic":
            return Timing(1.0 if reg.kind == "whois" else 0.0, 0.0, random.Random(rng.random()))
        return Timing(share, jitter, random.Random(rng.random()))

    def limits(reg: Registry) -> list[Limit]:
        return [] if memory else reg.limits

    def latency(value: float) -> float:
        return 0.0 if memory else value

    for reg in world.registries.values():
        if reg.kind != "whois" or reg.name == "iana":
            continue
        served = reg.domains if reg.name not in WHOIS_FOR_RDAP.values() else [
            d for rdap, whois in WHOIS_FOR_RDAP.items() if whois == reg.name
            for d in world.registries[rdap].domains
        ]
        answers = {}
        for name in served:
            site = by_name[name]
            if site.registered:
                answers[name] = icann_answer(site, site.expires(world.now))
        host, port = (f"127.0.0.{next(address)}", 43) if world.port43 else ("127.0.0.1", 0)
        reg.server = lab.add(BenchWhois(
            answers, limits=limits(reg), timing=timing(reg),
            latency=latency(reg.whois_latency), default=not_found_text(""), host=host,
            port=port,
        ))
    iana = world.registries["iana"]
    referrals = {tld: iana_answer(tld, world.registries[world.tld_registry[tld]].server.address)
                 for tld in world.iana_tlds}
    host, port = (f"127.0.0.{next(address)}", 43) if world.port43 else ("127.0.0.1", 0)
    iana.server = lab.add(BenchWhois(referrals, limits=limits(iana), timing=timing(iana),
                                     latency=latency(iana.whois_latency),
                                     default="% no such TLD\n", host=host, port=port))
    context = world.ca.server_context("127.0.0.1")
    for reg in world.registries.values():
        if reg.kind != "rdap":
            continue
        domains, latencies = {}, {}
        for name, value in zip(reg.domains, reg.latencies, strict=True):
            site = by_name[name]
            latencies[name] = latency(value)
            if site.registered:
                domains[name] = RdapDomain(expires=site.expires(world.now),
                                           nameservers=(f"ns1.{name}",))
        reg.server = lab.add(BenchRdap(limits(reg), timing(reg), latencies,
                                       ssl_context=context, domains=domains))
    if world.name == "dns":
        zones = {tld + ".": _soa(tld) for tld, _, _ in TLDS}
        for site in world.sites:
            if site.registered:
                zones[site.name + "."] = domain_zone(site)
        world.resolver = lab.add(BenchDns(zones, latency=0.02, rng=random.Random(seed),
                                          max_in_flight=20))


def write_config(world: World, path: Path, *, memory: bool = False) -> Path:
    """The domain file: lab servers, and the limits domwatch is told (the published ones)."""
    ca = world.ca.write_ca(path.with_name("lab-ca.pem"))
    whois_servers, rdap_servers = {}, {}
    for tld, reg_name in world.tld_registry.items():
        reg = world.registries[reg_name]
        if tld in world.iana_tlds:
            continue
        if reg.kind == "rdap":
            rdap_servers[tld] = reg.server.url
            # The WHOIS fallback goes to the lab too, never to the real registry.
            whois_servers[tld] = world.registries[WHOIS_FOR_RDAP[reg.name]].server.address
        else:
            whois_servers[tld] = reg.server.address
    whois_limits, rdap_limits = [], []
    for reg in world.registries.values():
        if reg.server is None or not reg.published or memory:
            continue  # unpublished: domwatch's defaults for an unknown server apply
        spec = ", ".join([f"concurrency = {reg.concurrency}",
                          *(f"{PERIOD_KEYS[w]} = {c}" for c, w in reg.limits)])
        (rdap_limits if reg.kind == "rdap" else whois_limits).append(f'"{reg.key}" = {{ {spec} }}')
    checks = '["registration", "dns"]' if world.resolver is not None else '["registration"]'
    names = ",\n".join(f'  "{s.name}"' for s in world.sites)
    text = (
        f"domains = [\n{names}\n]\n\n"
        "[settings]\n"
        f"checks = {checks}\n\n"
        "[settings.whois]\n"
        f'iana = "{world.registries["iana"].server.address}"\n'
        "servers = { " + ", ".join(f'{t} = "{a}"' for t, a in whois_servers.items()) + " }\n"
        "limits = { " + ", ".join(whois_limits) + " }\n\n"
        "[settings.rdap]\n"
        "servers = { " + ", ".join(f'{t} = "{u}"' for t, u in rdap_servers.items()) + " }\n"
        "limits = { " + ", ".join(rdap_limits) + " }\n\n"
        "[settings.tls]\n"
        f'ca_bundle = "{ca.name}"\n\n'
        "[settings.network]\n"
        "allow_private = true\n"
    )
    if world.resolver is not None:
        text += f'\n[settings.resolver]\nnameservers = ["{world.resolver.address}"]\n'
    path.write_text(text, encoding="utf-8")
    return path


# -- the lower bound ------------------------------------------------------------------------------


@dataclass
class Bound:
    """One server's share of the lower bound."""

    server: str
    queries: int
    strict: float  # max over quotas of (ceil(n/L) - 1) * W + min latency, or n * mean / c
    coarse: float  # ceil(n/L) * W, or n * mean latency / c


def bounds(world: World) -> list[Bound]:
    """Per-server lower bounds of domwatch's run (see the module docstring)."""
    out = []
    referral = world.registries["iana"].whois_latency
    low_factor = 1 - world.timing[1]
    for reg in world.registries.values():
        if reg.name in WHOIS_FOR_RDAP.values():
            continue  # domwatch asks RDAP for those TLDs
        if reg.name == "iana":
            n = len(world.iana_tlds)
            lat = [reg.whois_latency] * n
        else:
            n = len(reg.domains)
            lat = reg.latencies if reg.kind == "rdap" else [reg.whois_latency] * n
        if n == 0:
            continue
        busy = n * statistics.mean(lat) / reg.concurrency
        fastest = min(lat) * low_factor
        strict = max([busy, *((math.ceil(n / c) - 1) * w + fastest for c, w in reg.limits)])
        # The coarse form only for quotas the server's share exceeds (a day's quota that is
        # never reached would make it a day).
        coarse = max([busy, *(math.ceil(n / c) * w for c, w in reg.limits if n > c)])
        if any(t in world.iana_tlds for t in reg.tlds):
            strict, coarse = strict + referral, coarse + referral
        out.append(Bound(reg.name, n, strict, coarse))
    if world.resolver is not None and world.resolver.asked:
        busy = len(world.resolver.asked) * world.resolver.base_latency / 20
        out.append(Bound("resolver", len(world.resolver.asked), busy, busy))
    return out


# -- running and judging --------------------------------------------------------------------------


@dataclass
class Run:
    """One domwatch run."""

    seconds: float
    peak_rss_mb: float
    exit_code: int
    report: dict[str, Any]
    stderr: str


def run_domwatch(config: Path, cache_dir: Path, out: Path, *, public: bool = True) -> Run:
    """``domwatch check`` as a child process; wall time and the child's own peak RSS."""
    launch = ["-c", f"PUBLIC = {public}\n" + LAUNCH]
    command = [sys.executable, *launch, "check", str(config), "--format", "json",
               "-o", str(out), "--cache-dir", str(cache_dir), "--no-state", "--no-progress"]
    began = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    # Read stderr as it comes (a chatty child must not block on a full pipe).
    err = child.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - began
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    told = [line.split()[-1] for line in err.splitlines() if line.startswith(PEAK)]
    peak_kb = int(told[-1]) if told else usage.ru_maxrss  # no /proc: the inflated figure
    err = "\n".join(line for line in err.splitlines() if not line.startswith(PEAK))
    return Run(seconds, peak_kb / 1024, child.returncode, report, err)


@dataclass
class Verdict:
    """How a run's answers compare with the truth."""

    correct: int
    wrong: list[str]
    dns_timeouts: int = 0  # dns.timeout findings for domains that resolve

    def line(self, total: int) -> str:
        return f"{self.correct}/{total} correct ({100 * self.correct / total:.1f} %)"


def judge_report(world: World, report: dict[str, Any]) -> Verdict:
    """Every expiry date and every "not registered" against the lab's truth."""
    correct, wrong, timeouts = 0, [], 0
    entries = {d["name"]: d for d in report.get("domains", [])}
    for site in world.sites:
        entry = entries.get(site.name)
        truth = world.truth(site.name)
        codes = [f["code"] for f in entry["findings"]] if entry else []
        got = (entry or {}).get("registration") or {}
        expires = (got.get("expires") or "")[:10] or None
        ok = ("registration.not_found" in codes) if truth is None else (expires == truth)
        if ok:
            correct += 1
        else:
            wrong.append(f"{site.name}: truth {truth}, got {expires} {codes}")
        if site.registered and "dns.timeout" in codes:
            timeouts += 1
    return Verdict(correct, wrong, timeouts)


def strikes(world: World, since: float, until: float) -> dict[str, tuple[int, int]]:
    """Per server: (limit-exceeded answers, the most of them in any sliding minute)."""
    out = {}
    for reg in world.registries.values():
        times = sorted(t for t in reg.server.limited if since <= t <= until)
        if times:
            most = max(bisect.bisect_right(times, t + 60.0) - i for i, t in enumerate(times))
            out[reg.name] = (len(times), most)
    return out


def last_query(world: World, since: float, until: float) -> dict[str, float]:
    """Per server: when (seconds after ``since``) its last query of the phase arrived."""
    out = {}
    for reg in world.registries.values():
        times = [t for t in reg.server.times if since <= t <= until]
        if times:
            out[reg.name] = max(times) - since
    return out


def python_whois_loop(world: World) -> tuple[float, int, int, int]:
    """Sequential python-whois over the same registries: (seconds, correct, limited, other)."""
    import whois  # python-whois
    from whois.parser import WhoisEntry

    client = whois.NICClient()
    correct = limited = other = 0
    began = time.monotonic()
    for site in world.sites:
        reg = world.registries[world.tld_registry[site.name.rsplit(".", 1)[1]]]
        reg = world.registries.get(WHOIS_FOR_RDAP.get(reg.name, reg.name), reg)
        text = client.whois(site.name, reg.server.host, 0, quiet=True, timeout=10)
        truth = world.truth(site.name)
        if "limit exceeded" in text:
            limited += 1
            continue
        when: Any = None
        try:
            when = WhoisEntry.load(site.name, text).expiration_date
            if when is None:
                # Its per-TLD parsers expect each registry's real layout; the lab answers in
                # the ICANN layout everywhere, which its generic parser reads. Not its fault.
                when = WhoisEntry(site.name, text).expiration_date
        except Exception:  # python-whois raises on answers it calls "not found"
            when = None
        if isinstance(when, list):
            when = when[0] if when else None
        day = when.date().isoformat() if isinstance(when, datetime) else None
        if day == truth:
            correct += 1
        else:
            other += 1
    return time.monotonic() - began, correct, limited, other


def version_time(runs: int = 5) -> float:
    """Median wall time of ``domwatch --version`` (the installed console script)."""
    script = Path(sys.executable).with_name("domwatch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "domwatch"]
    times = []
    for _ in range(runs):
        began = time.monotonic()
        subprocess.run([*command, "--version"], check=True, capture_output=True)
        times.append(time.monotonic() - began)
    return statistics.median(times)


def _reset_windows(world: World, lab: Lab) -> None:
    def clear() -> None:
        for reg in world.registries.values():
            reg.server.windows.served.clear()

    lab.call(clear)


def benchmark(domains: int = 1000, *, world: str = "classic", seed: int = 7,
              scale: float = 1.0, latency_factor: float = 1.0, baseline: bool = True,
              warm: bool = True, port43: bool | None = None, echo: bool = True) -> dict[str, Any]:
    """Run one world; returns the figures (and prints them with ``echo``)."""
    say = print if echo else (lambda *_a, **_k: None)
    if port43 is None:
        port43 = baseline and os.geteuid() == 0
    made = make_world(domains, seed, scale, latency_factor, port43, world)
    result: dict[str, Any] = {"world": world, "domains": domains}
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="domwatch-bench-") as tmp:
        start(made, lab, seed)
        config = write_config(made, Path(tmp) / "domains.toml")
        cache_dir = Path(tmp) / "cache"
        checks = "registration,dns" if made.resolver is not None else "registration"
        say(f"\n== world {world}: {domains} domains over {len(made.tld_registry)} TLDs, "
            f"{sum(1 for r in made.registries.values() if r.server)} servers "
            f"({'127.0.0.x:43' if port43 else 'ephemeral ports'}); "
            f"domwatch check --checks {checks}, as a subprocess")

        began = time.monotonic()
        cold = run_domwatch(config, cache_dir, Path(tmp) / "cold.json")
        ended = time.monotonic()
        per_server = bounds(made)
        bound = max(b.strict for b in per_server)
        coarse = max(b.coarse for b in per_server)
        verdict = judge_report(made, cold.report)
        hits = strikes(made, began, ended)
        finished = last_query(made, began, ended)
        worst_minute = max((m for _, m in hits.values()), default=0)
        result.update(
            cold_seconds=cold.seconds, bound_seconds=bound, bound_coarse_seconds=coarse,
            ratio=cold.seconds / bound, cold_rss_mb=cold.peak_rss_mb,
            cold_correct=verdict.correct, cold_wrong=verdict.wrong[:20],
            dns_timeouts=verdict.dns_timeouts,
            strikes={k: list(v) for k, v in hits.items()}, worst_strikes_per_minute=worst_minute,
            stats=cold.report.get("stats", {}), exit_code=cold.exit_code,
            servers={b.server: {"queries": b.queries, "bound": b.strict,
                                "last_query": finished.get(b.server, 0.0)}
                     for b in per_server if b.server in made.registries},
        )
        if made.resolver is not None:
            result["dns_dropped"] = made.resolver.dropped
        say(f"cold run: {cold.seconds:.1f} s; lower bound {bound:.1f} s "
            f"(coarse form {coarse:.1f} s); ratio {cold.seconds / bound:.2f} "
            f"({cold.seconds / coarse:.2f} against the coarse form)")
        say(f"  peak RSS {cold.peak_rss_mb:.0f} MB; {verdict.line(domains)}; "
            f"exit {cold.exit_code}; {cold.stderr.strip().splitlines()[-1] if cold.stderr else ''}")
        if made.resolver is not None:
            say(f"  dns: {len(made.resolver.asked)} distinct questions, "
                f"{made.resolver.dropped} queries dropped by the resolver, "
                f"{cold.report.get('stats', {}).get('dns_retries', 0)} asked again; "
                f"dns.timeout for {verdict.dns_timeouts} domains that resolve")
        for line in verdict.wrong[:10]:
            say(f"  WRONG {line}")
        say("  per server (queries, bound s, limit exceeded answers / most in any minute):")
        for b in sorted(per_server, key=lambda b: -b.strict):
            reg = made.registries.get(b.server)
            if reg is None:
                say(f"    {b.server:16} {b.queries:5d} q  bound {b.strict:5.1f} s")
                continue
            total, most = hits.get(b.server, (0, 0))
            known = "published" if reg.published else "unpublished"
            say(f"    {b.server:16} {b.queries:5d} q  bound {b.strict:5.1f} s  "
                f"last query at {finished.get(b.server, 0):5.1f} s  "
                f"limit {reg.shown} ({known})  strikes {total}/{most}")
        say(f"  limit-exceeded answers: {sum(t for t, _ in hits.values())} in all; "
            f"the most any server sent in one minute: {worst_minute}")

        if warm:
            rerun = run_domwatch(config, cache_dir, Path(tmp) / "warm.json")
            again = judge_report(made, rerun.report)
            result.update(warm_seconds=rerun.seconds, warm_correct=again.correct,
                          warm_wrong=again.wrong[:20],
                          warm_rss_mb=rerun.peak_rss_mb, warm_stats=rerun.report.get("stats"))
            say(f"warm rerun (cache): {rerun.seconds:.2f} s; {again.line(domains)}; "
                f"peak RSS {rerun.peak_rss_mb:.0f} MB; "
                f"{rerun.report.get('stats', {}).get('cache_hits', 0)} from the cache")
            for line in again.wrong[:10]:
                say(f"  WRONG {line}")
            result["version_seconds"] = version_time()
            say(f"domwatch --version: {1000 * result['version_seconds']:.0f} ms (median of 5)")

        if baseline and port43:
            time.sleep(1.0)
            _reset_windows(made, lab)
            began = time.monotonic()
            seconds, correct, limited, other = python_whois_loop(made)
            hits = strikes(made, began, time.monotonic())
            result.update(baseline_seconds=seconds, baseline_correct=correct,
                          baseline_limited=limited, baseline_other=other,
                          baseline_worst_minute=max((m for _, m in hits.values()), default=0))
            say(f"sequential python-whois: {seconds:.1f} s ({seconds / bound:.1f}x the bound); "
                f"{correct}/{domains} correct, {limited} answered 'limit exceeded', "
                f"{other} other misses; the most limit-exceeded answers one server sent in a "
                f"minute: {result['baseline_worst_minute']}")
        elif baseline:
            say("sequential python-whois: skipped (needs root to give each registry its own "
                "127.0.0.x:43; python-whois always connects to port 43)")
    return result


def memory(domains: int, *, seed: int = 7, echo: bool = True) -> dict[str, Any]:
    """Peak RSS of a registration run over ``domains`` against unpaced local servers."""
    say = print if echo else (lambda *_a, **_k: None)
    made = make_world(domains, seed, 1.0, 0.0, False, "classic")
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="domwatch-mem-") as tmp:
        start(made, lab, seed, memory=True)
        config = write_config(made, Path(tmp) / "domains.toml", memory=True)
        say(f"memory: {domains} domains, registration only, every server the operator's own "
            "(loopback, unpaced, no latency)")
        cold = run_domwatch(config, Path(tmp) / "cache", Path(tmp) / "out.json", public=False)
        verdict = judge_report(made, cold.report)
    say(f"  {cold.seconds:.1f} s; peak RSS {cold.peak_rss_mb:.0f} MB; {verdict.line(domains)}; "
        f"exit {cold.exit_code}")
    return {"domains": domains, "seconds": cold.seconds, "peak_rss_mb": cold.peak_rss_mb,
            "correct": verdict.correct}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="all", help="all, or a comma list of: "
                        + ", ".join(WORLDS))
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate-scale", type=float, default=1.0,
                        help="multiply every quota (e.g. 10 for a quick --domains 10000 run)")
    parser.add_argument("--latency-factor", type=float, default=1.0)
    parser.add_argument("--no-baseline", action="store_true", help="skip python-whois")
    parser.add_argument("--no-warm", action="store_true", help="skip the cached rerun")
    parser.add_argument("--memory", action="store_true",
                        help="peak RSS against unpaced local servers instead")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.memory:
        figures: Any = memory(args.domains, seed=args.seed)
    else:
        worlds = WORLDS if args.world == "all" else tuple(args.world.split(","))
        unknown = [w for w in worlds if w not in WORLDS]
        if unknown:
            parser.error(f"unknown world {unknown[0]!r}")
        figures = [
            benchmark(args.domains, world=w, seed=args.seed, scale=args.rate_scale,
                      latency_factor=args.latency_factor,
                      baseline=not args.no_baseline and w == "classic",
                      warm=not args.no_warm and w == "classic")
            for w in worlds
        ]
        print("\nworld     wall s  bound s  ratio  dates right  strikes/server/min  "
              "dns.timeout  peak RSS")
        for f in figures:
            print(f"{f['world']:8} {f['cold_seconds']:7.1f} {f['bound_seconds']:8.1f} "
                  f"{f['ratio']:6.2f}  {f['cold_correct']:5d}/{f['domains']:<5d} "
                  f"{f['worst_strikes_per_minute']:11d}  {f['dns_timeouts']:16d}  "
                  f"{f['cold_rss_mb']:5.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
