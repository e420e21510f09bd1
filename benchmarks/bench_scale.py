"""How fast can domwatch check N domains without being told off by any registry?

    python benchmarks/bench_scale.py [--domains 1000] [--rate-scale 1] [--no-baseline]

Starts a simulated world on this machine: N domains over 17 TLDs, shared like a real portfolio
(.com heavy), served by per-TLD registries with realistic latencies (WHOIS 150-300 ms per
server, RDAP 100-200 ms per answer) and their own rate limits, found like the real ones (RDAP
for the gTLDs, WHOIS on port 43 for ccTLDs without RDAP, IANA for an unknown TLD). Some limits
are "published" (domwatch is configured with them, as its built-in table does for the real
registries); the others are not (domwatch uses its defaults for an unknown public server, and
one of them is stricter than that default, so domwatch has to learn it).

Then it runs the real CLI as a subprocess, ``domwatch check --checks registration`` (the scale
run is about registration lookups; DNS, web and mail have no per-server limits), and reports:

* wall time, the lower bound the limits and latencies imply, and their ratio. For each server
  s with n_s queries, quota L per W seconds, allowed concurrency c_s and latencies l:
  T_s = max((ceil(n_s / L) - 1) * W + min(l), n_s * mean(l) / c_s) (the last batch of L may
  start one window after the first batch of the previous window; every query takes a latency
  and at most c_s run at once), plus the IANA referral for a TLD found through IANA. The bound
  is max over servers. The brief's coarser form, ceil(n_s / L) * W, is printed beside it.
* peak RSS of the domwatch process, correctness against the lab's truth (every expiry date,
  every "not registered"), and the "limit exceeded" answers each server sent, as the most in
  any sliding minute;
* the same run warm (answers cached), ``domwatch --version`` (median of 5), and
* a plain sequential python-whois loop (``NICClient().whois(name, host, 0)`` then
  ``WhoisEntry.load``) over the same registries. python-whois always connects to port 43, so
  as root each registry gets its own 127.0.0.x:43; otherwise that comparison is skipped.
"""

from __future__ import annotations

import argparse
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

from domwatch.lab import Lab
from domwatch.lab.ca import LabCA
from domwatch.lab.https_server import Request, Response
from domwatch.lab.rdap_server import RdapDomain, RdapServer
from domwatch.lab.whois_server import WhoisServer
from domwatch.lab.world import Site, iana_answer, icann_answer, not_found_text
from domwatch.net.limits import DEFAULT_RDAP, DEFAULT_WHOIS, ServerLimit

LIMIT_TEXT = "Your connection limit exceeded. Please slow down and try again later.\r\n"
PERIOD_KEYS = {1.0: "per_second", 60.0: "per_minute", 3600.0: "per_hour", 86400.0: "per_day"}


@dataclass
class Registry:
    """One simulated registry server: its truth (limit, concurrency) and what domwatch knows."""

    name: str
    kind: str  # "rdap" or "whois"
    limit: tuple[int, float]  # (count, seconds) the server enforces
    concurrency: int  # connections it tolerates (the bound's c_s)
    published: bool  # domwatch is configured with limit and concurrency
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


# (TLD, share of the portfolio, registry). Shares follow a typical company portfolio.
TLDS = [
    ("com", 0.42, "verisign-rdap"), ("net", 0.08, "verisign-rdap"), ("org", 0.08, "pir-rdap"),
    ("info", 0.03, "identity-rdap"), ("xyz", 0.03, "centralnic-rdap"),
    ("se", 0.06, "se"), ("dk", 0.04, "dk"), ("it", 0.05, "it"), ("es", 0.03, "es"),
    ("nz", 0.03, "nz"), ("pt", 0.02, "pt"), ("ie", 0.02, "ie"), ("lt", 0.02, "lt"),
    ("ee", 0.02, "ee"), ("jp", 0.03, "jp"), ("cl", 0.02, "cl"), ("lab", 0.02, "lab"),
]


def registries(scale: float) -> dict[str, Registry]:
    """The world's servers; ``scale`` multiplies every quota count (for huge runs)."""

    def n(count: int) -> int:
        return max(1, round(count * scale))

    rdap = (0.10, 0.20)
    specs = [
        Registry("verisign-rdap", "rdap", (n(8), 1.0), 8, True, rdap),
        Registry("pir-rdap", "rdap", (n(40), 60.0), 4, True, rdap),
        Registry("identity-rdap", "rdap", (n(10), 1.0), 4, False, rdap),
        Registry("centralnic-rdap", "rdap", (n(2), 1.0), 2, True, rdap),
        Registry("se", "whois", (n(30), 60.0), 2, True),
        Registry("dk", "whois", (n(1), 1.0), 1, True),
        Registry("it", "whois", (n(1), 1.0), 1, True),
        Registry("es", "whois", (n(2), 1.0), 2, False),
        Registry("nz", "whois", (n(20), 60.0), 1, True),
        Registry("pt", "whois", (n(12), 60.0), 1, False),  # stricter than domwatch's default
        Registry("ie", "whois", (n(5), 1.0), 2, False),
        Registry("lt", "whois", (n(2), 1.0), 1, True),
        Registry("ee", "whois", (n(30), 60.0), 1, True),
        Registry("jp", "whois", (n(3), 1.0), 2, False),
        Registry("cl", "whois", (n(1), 1.0), 1, True),
        Registry("lab", "whois", (n(10), 1.0), 2, False),
        # python-whois asks WHOIS for the RDAP TLDs too: their port-43 servers.
        Registry("verisign-whois", "whois", (n(5), 1.0), 2, False),
        Registry("pir-whois", "whois", (n(30), 60.0), 1, False),
        Registry("identity-whois", "whois", (n(5), 1.0), 2, False),
        Registry("centralnic-whois", "whois", (n(2), 1.0), 2, False),
        Registry("iana", "whois", (n(10), 1.0), 2, False),
    ]
    return {r.name: r for r in specs}


WHOIS_FOR_RDAP = {"verisign-rdap": "verisign-whois", "pir-rdap": "pir-whois",
                  "identity-rdap": "identity-whois", "centralnic-rdap": "centralnic-whois"}


class TimedWhois(WhoisServer):
    """A lab WHOIS registry that also notes when each query arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.times: list[float] = []

    async def _serve(self, reader: Any, writer: Any) -> None:
        self.times.append(time.monotonic())
        await super()._serve(reader, writer)


class LimitedRdap(RdapServer):
    """An RDAP registry that answers 429 (with Retry-After) past its sliding-window quota."""

    def __init__(self, limit: tuple[int, float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limit = limit
        self._served: deque[float] = deque()
        self.limited: list[float] = []
        self.times: list[float] = []

    async def _handle(self, request: Request) -> Response:
        count, window = self.limit
        now = time.monotonic()
        self.times.append(now)
        while self._served and now - self._served[0] >= window:
            self._served.popleft()
        if len(self._served) >= count:
            self.limited.append(now)
            wait = math.ceil(self._served[0] + window - now)
            body = json.dumps({"errorCode": 429, "title": "Too Many Requests"}).encode()
            return Response(429, {"Retry-After": str(wait), "Content-Type": "application/json"},
                            body)
        self._served.append(now)
        return await super()._handle(request)


@dataclass
class World:
    """Truth and servers of one benchmark world."""

    sites: list[Site]
    registries: dict[str, Registry]
    tld_registry: dict[str, str]
    now: datetime
    port43: bool
    iana_tlds: list[str]
    ca: LabCA = field(default_factory=LabCA)

    def truth(self, name: str) -> str | None:
        """The expiry date the registry publishes (ISO day), or None when not registered."""
        site = self.by_name[name]
        expires = site.expires(self.now)
        return expires.date().isoformat() if site.registered and expires else None

    @property
    def by_name(self) -> dict[str, Site]:
        return {s.name: s for s in self.sites}


def make_world(domains: int, seed: int, scale: float, latency_factor: float,
               port43: bool) -> World:
    """N sites over the TLDs by share; 1 % not registered, 0.5 % expired."""
    rng = random.Random(seed)
    regs = registries(scale)
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
    return World(sites, regs, tld_registry, datetime.now(timezone.utc), port43, ["lab"])


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


def start(world: World, lab: Lab) -> None:
    """Start every registry (WHOIS on 127.0.0.x:43 with ``port43``) and the RDAP servers."""
    by_name = world.by_name
    address = iter(range(20, 250))
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
        reg.server = lab.add(TimedWhois(
            answers, default=not_found_text(""), host=host, port=port,
            latency=reg.whois_latency, rate_limit=reg.limit, rate_limit_text=LIMIT_TEXT,
        ))
    iana = world.registries["iana"]
    referrals = {tld: iana_answer(tld, world.registries[world.tld_registry[tld]].server.address)
                 for tld in world.iana_tlds}
    host, port = (f"127.0.0.{next(address)}", 43) if world.port43 else ("127.0.0.1", 0)
    iana.server = lab.add(TimedWhois(referrals, default="% no such TLD\n", host=host, port=port,
                                      latency=iana.whois_latency, rate_limit=iana.limit,
                                      rate_limit_text=LIMIT_TEXT))
    context = world.ca.server_context("127.0.0.1")
    for reg in world.registries.values():
        if reg.kind != "rdap":
            continue
        domains = {}
        for name, latency in zip(reg.domains, reg.latencies, strict=True):
            site = by_name[name]
            if site.registered:
                domains[name] = RdapDomain(expires=site.expires(world.now), latency=latency,
                                           nameservers=(f"ns1.{name}",))
        reg.server = lab.add(LimitedRdap(reg.limit, ssl_context=context, domains=domains))


def write_config(world: World, path: Path) -> Path:
    """The domain file: lab servers, and the limits domwatch knows (published or default)."""
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
        if reg.server is None:
            continue
        if reg.published:
            count, seconds = reg.limit
            spec = f"concurrency = {reg.concurrency}, {PERIOD_KEYS[seconds]} = {count}"
        else:
            # What domwatch applies to a public server it knows nothing about (the lab's
            # loopback addresses would otherwise count as the operator's own servers).
            spec = _spec(DEFAULT_RDAP if reg.kind == "rdap" else DEFAULT_WHOIS)
        (rdap_limits if reg.kind == "rdap" else whois_limits).append(f'"{reg.key}" = {{ {spec} }}')
    names = ",\n".join(f'  "{s.name}"' for s in world.sites)
    text = (
        f"domains = [\n{names}\n]\n\n"
        "[settings]\n"
        'checks = ["registration"]\n\n'
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
    path.write_text(text, encoding="utf-8")
    return path


def _spec(limit: ServerLimit) -> str:
    parts = [f"concurrency = {limit.concurrency}"]
    for quota in limit.quotas or ():
        parts.append(f"{PERIOD_KEYS[quota.seconds]} = {quota.count}")
    return ", ".join(parts)


# -- the lower bound ------------------------------------------------------------------------------


@dataclass
class Bound:
    """One server's share of the lower bound."""

    server: str
    queries: int
    strict: float  # (ceil(n/L) - 1) * W + min latency, or n * mean latency / c
    coarse: float  # ceil(n/L) * W, or n * mean latency / c


def bounds(world: World) -> list[Bound]:
    """Per-server lower bounds of domwatch's run (see the module docstring)."""
    out = []
    iana = world.registries["iana"]
    referral = iana.whois_latency
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
        count, window = reg.limit
        busy = n * statistics.mean(lat) / reg.concurrency
        strict = max((math.ceil(n / count) - 1) * window + min(lat), busy)
        coarse = max(math.ceil(n / count) * window, busy)
        if any(t in world.iana_tlds for t in reg.tlds):
            strict, coarse = strict + referral, coarse + referral
        out.append(Bound(reg.name, n, strict, coarse))
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


def run_domwatch(config: Path, cache_dir: Path, out: Path) -> Run:
    """``domwatch check`` as a child process; wall time and the child's own peak RSS."""
    command = [sys.executable, "-m", "domwatch", "check", str(config), "--format", "json",
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
    return Run(seconds, usage.ru_maxrss / 1024, child.returncode, report, err)


@dataclass
class Verdict:
    """How a run's answers compare with the truth."""

    correct: int
    wrong: list[str]

    def line(self, total: int) -> str:
        return f"{self.correct}/{total} correct ({100 * self.correct / total:.1f} %)"


def judge_report(world: World, report: dict[str, Any]) -> Verdict:
    """Every expiry date and every "not registered" against the lab's truth."""
    correct, wrong = 0, []
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
    return Verdict(correct, wrong)


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
            reg.server._served.clear()

    lab.call(clear)


def benchmark(domains: int = 1000, *, seed: int = 7, scale: float = 1.0,
              latency_factor: float = 1.0, baseline: bool = True, warm: bool = True,
              port43: bool | None = None, echo: bool = True) -> dict[str, Any]:
    """Run everything; returns the figures (and prints them with ``echo``)."""
    say = print if echo else (lambda *_a, **_k: None)
    if port43 is None:
        port43 = baseline and os.geteuid() == 0
    world = make_world(domains, seed, scale, latency_factor, port43)
    result: dict[str, Any] = {"domains": domains}
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="domwatch-bench-") as tmp:
        start(world, lab)
        config = write_config(world, Path(tmp) / "domains.toml")
        cache_dir = Path(tmp) / "cache"
        per_server = bounds(world)
        bound = max(b.strict for b in per_server)
        coarse = max(b.coarse for b in per_server)
        say(f"world: {domains} domains over {len(world.tld_registry)} TLDs, "
            f"{sum(1 for r in world.registries.values() if r.server)} servers "
            f"({'127.0.0.x:43' if port43 else 'ephemeral ports'}); "
            "domwatch check --checks registration, as a subprocess")

        began = time.monotonic()
        cold = run_domwatch(config, cache_dir, Path(tmp) / "cold.json")
        ended = time.monotonic()
        verdict = judge_report(world, cold.report)
        hits = strikes(world, began, ended)
        finished = last_query(world, began, ended)
        worst_minute = max((m for _, m in hits.values()), default=0)
        result.update(
            cold_seconds=cold.seconds, bound_seconds=bound, bound_coarse_seconds=coarse,
            ratio=cold.seconds / bound, cold_rss_mb=cold.peak_rss_mb,
            cold_correct=verdict.correct, cold_wrong=verdict.wrong[:20],
            strikes={k: list(v) for k, v in hits.items()}, worst_strikes_per_minute=worst_minute,
            stats=cold.report.get("stats", {}), exit_code=cold.exit_code,
        )
        say(f"\ncold run: {cold.seconds:.1f} s; lower bound {bound:.1f} s "
            f"(coarse form {coarse:.1f} s); ratio {cold.seconds / bound:.2f} "
            f"({cold.seconds / coarse:.2f} against the coarse form)")
        say(f"  peak RSS {cold.peak_rss_mb:.0f} MB; {verdict.line(domains)}; "
            f"exit {cold.exit_code}; {cold.stderr.strip().splitlines()[-1] if cold.stderr else ''}")
        for line in verdict.wrong[:10]:
            say(f"  WRONG {line}")
        say("  per server (queries, bound s, limit exceeded answers / most in any minute):")
        for b in sorted(per_server, key=lambda b: -b.strict):
            reg = world.registries[b.server]
            total, most = hits.get(b.server, (0, 0))
            known = "published" if reg.published else "unpublished"
            say(f"    {b.server:16} {b.queries:5d} q  bound {b.strict:5.1f} s  "
                f"last query at {finished.get(b.server, 0):5.1f} s  "
                f"limit {reg.limit[0]}/{reg.limit[1]:g}s ({known})  strikes {total}/{most}")
        say(f"  limit-exceeded answers: {sum(t for t, _ in hits.values())} in all; "
            f"the most any server sent in one minute: {worst_minute}")

        if warm:
            rerun = run_domwatch(config, cache_dir, Path(tmp) / "warm.json")
            again = judge_report(world, rerun.report)
            result.update(warm_seconds=rerun.seconds, warm_correct=again.correct,
                          warm_wrong=again.wrong[:20],
                          warm_rss_mb=rerun.peak_rss_mb, warm_stats=rerun.report.get("stats"))
            say(f"\nwarm rerun (cache): {rerun.seconds:.2f} s; {again.line(domains)}; "
                f"peak RSS {rerun.peak_rss_mb:.0f} MB; "
                f"{rerun.report.get('stats', {}).get('cache_hits', 0)} from the cache")
            for line in again.wrong[:10]:
                say(f"  WRONG {line}")

        result["version_seconds"] = version_time()
        say(f"\ndomwatch --version: {1000 * result['version_seconds']:.0f} ms (median of 5)")

        if baseline and port43:
            time.sleep(1.0)
            _reset_windows(world, lab)
            began = time.monotonic()
            seconds, correct, limited, other = python_whois_loop(world)
            hits = strikes(world, began, time.monotonic())
            result.update(baseline_seconds=seconds, baseline_correct=correct,
                          baseline_limited=limited, baseline_other=other,
                          baseline_worst_minute=max((m for _, m in hits.values()), default=0))
            say(f"\nsequential python-whois: {seconds:.1f} s ({seconds / bound:.1f}x the bound); "
                f"{correct}/{domains} correct, {limited} answered 'limit exceeded', "
                f"{other} other misses; the most limit-exceeded answers one server sent in a "
                f"minute: {result['baseline_worst_minute']}")
        elif baseline:
            say("\nsequential python-whois: skipped (needs root to give each registry its own "
                "127.0.0.x:43; python-whois always connects to port 43)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate-scale", type=float, default=1.0,
                        help="multiply every quota (e.g. 10 for a quick --domains 10000 run)")
    parser.add_argument("--latency-factor", type=float, default=1.0)
    parser.add_argument("--no-baseline", action="store_true", help="skip python-whois")
    parser.add_argument("--no-warm", action="store_true", help="skip the cached rerun")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = benchmark(args.domains, seed=args.seed, scale=args.rate_scale,
                       latency_factor=args.latency_factor, baseline=not args.no_baseline,
                       warm=not args.no_warm)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
