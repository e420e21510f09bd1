"""``/probe?target=NAME``: one domain checked on demand, shared and bounded.

A probe goes through the same registration cache (with its freshness rules), the same
per-server :class:`~domwatch.net.limits.Limits` as the periodic run (one object for the whole
process), and a ``--concurrency`` gate for its DNS, web and mail checks, as in a run.

- Concurrent probes of the same name (and checks) share one lookup: the first starts it, the
  others await the same task.
- At most ``max_probes`` distinct lookups are admitted at once (running, or queued behind a
  server's limits); the next one is refused (503) at once rather than queued without bound.
- The HTTP client, bootstrap and cache connection are opened once and shared by probes for a
  while (a *generation*): opening them costs tens of milliseconds. A generation is retired
  after each periodic run (so probes see the run's fresh cache rows and a reloaded
  configuration) and after :data:`GENERATION_LOOKUPS` lookups (so what it remembers per
  name stays bounded), and closed when its last probe ends. DNS answers are never shared
  between probes: each gets a fresh resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from domwatch.checks import Context
from domwatch.config import Config, parse_checks
from domwatch.errors import BadName, BadProbe, ProbeRejected
from domwatch.model import Domain, DomainResult, Report, Severity
from domwatch.names import normalise
from domwatch.net.limits import Limits
from domwatch.net.resolver import Resolver
from domwatch.report import RenderOptions, render
from domwatch.report.prometheus_format import family
from domwatch.runner import check_one, open_context

log = logging.getLogger("domwatch")

DEFAULT_CHECKS = ("registration",)  # what domain_exporter's /probe answers
GENERATION_LOOKUPS = 1000

Key = tuple[str, tuple[str, ...], tuple[str, ...]]


@dataclass
class ProbeStats:
    """What the dispatcher admitted and refused, for ``/metrics``."""

    admitted: int = 0  # lookups started
    joined: int = 0  # requests that shared a lookup already in flight
    rejected: int = 0  # requests refused because ``max_probes`` lookups were in flight
    in_flight_max: int = 0  # the most lookups in flight at once


class _Generation:
    """One opened context shared by probes until it is retired."""

    def __init__(self, stack: AsyncExitStack, ctx: Context) -> None:
        self.stack = stack
        self.ctx = ctx
        self.users = 0
        self.lookups = 0
        self.retired = False

    async def close(self) -> None:
        try:
            await self.stack.aclose()
        except Exception as exc:  # closing must never cost the server
            log.warning("closing the probe context failed: %s", type(exc).__name__)


class Prober:
    """Dispatches probes; see the module docstring."""

    def __init__(self, config: Config, limits: Limits, max_probes: int) -> None:
        self.limits = limits
        self.max_probes = max_probes
        self.stats = ProbeStats()
        self._inflight: dict[Key, asyncio.Task[tuple[DomainResult, datetime]]] = {}
        self._current: _Generation | None = None
        self._opening = asyncio.Lock()
        self._closing = False
        self.config = config
        self._use(config)

    @property
    def in_flight(self) -> int:
        """Lookups in flight now (running or queued behind limits)."""
        return len(self._inflight)

    def configure(self, config: Config) -> None:
        """Use ``config`` (after a reload) for the probes that start from now on."""
        if config.settings != self.config.settings:
            self.retire()  # the shared context was opened with the old settings
        self.config = config
        self._use(config)

    def _use(self, config: Config) -> None:
        self._listed: Mapping[str, Domain] = {d.name: d for d in config.domains}
        self._gate = asyncio.Semaphore(config.settings.concurrency)

    def domain_for(self, target: str, checks: str | None) -> Domain:
        """The domain a request asks about: its own entry when listed, else the settings'."""
        try:
            name = normalise(target)
        except BadName as exc:
            raise BadProbe(str(exc)) from None
        try:
            requested = DEFAULT_CHECKS if checks is None else parse_checks(checks)
        except ValueError as exc:
            raise BadProbe(f"checks: {exc}") from None
        settings = self.config.settings
        base = self._listed.get(name.name) or Domain(
            name=name.name,
            display_name=name.display_name,
            thresholds=settings.thresholds,
            checks=settings.checks,
            mail_tls=settings.mail_tls,
            source="probe",
        )
        chosen = tuple(c for c in requested if c in base.checks)
        if not chosen:
            raise BadProbe(
                f"checks: {', '.join(requested)} not enabled for {name.display_name} "
                f"(enabled: {', '.join(base.checks) or 'none'})"
            )
        hosts = base.hosts
        if name.host is not None and name.host not in hosts:
            hosts = (*hosts, name.host)
        return replace(base, hosts=hosts, checks=chosen)

    async def probe(self, domain: Domain) -> tuple[DomainResult, datetime]:
        """The domain's result and when it was checked; shares a lookup already in flight."""
        key: Key = (domain.name, domain.hosts, domain.checks)
        task = self._inflight.get(key)
        if task is None:
            if self._closing:
                raise ProbeRejected("shutting down")
            if len(self._inflight) >= self.max_probes:
                self.stats.rejected += 1
                raise ProbeRejected(
                    f"{len(self._inflight)} probes in flight (the most allowed, --max-probes); "
                    "try again later"
                )
            task = asyncio.ensure_future(self._lookup(domain))
            self._inflight[key] = task
            self.stats.admitted += 1
            self.stats.in_flight_max = max(self.stats.in_flight_max, len(self._inflight))

            def done(finished: asyncio.Task[tuple[DomainResult, datetime]]) -> None:
                if self._inflight.get(key) is finished:
                    del self._inflight[key]
                if not finished.cancelled():
                    finished.exception()  # its waiters have it; none left must not matter

            task.add_done_callback(done)
        else:
            self.stats.joined += 1
        try:
            # A request that goes away must not cancel the lookup others are waiting on.
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():  # the lookup itself was cancelled: we are shutting down
                raise ProbeRejected("shutting down") from None
            raise

    async def _lookup(self, domain: Domain) -> tuple[DomainResult, datetime]:
        generation = await self._acquire()
        try:
            shared = generation.ctx
            # A fresh clock and resolver per probe: the resolver remembers every answer.
            resolver = Resolver(shared.resolver.nameservers, timeout=shared.resolver.timeout)
            ctx = replace(shared, now=datetime.now(timezone.utc), resolver=resolver)
            result = await check_one(domain, ctx, self._gate)
            cache = shared.registry.cache
            if cache is not None:
                cache.flush()  # the periodic run (its own connection) sees it at once
            return result, ctx.now
        finally:
            await self._release(generation)

    async def _acquire(self) -> _Generation:
        async with self._opening:
            generation = self._current
            if generation is None or generation.retired:
                stack = AsyncExitStack()
                try:
                    ctx = await stack.enter_async_context(
                        open_context(self.config.settings, limits=self.limits, use_cache=True)
                    )
                except BaseException:
                    await stack.aclose()
                    raise
                generation = self._current = _Generation(stack, ctx)
            generation.users += 1
            generation.lookups += 1
            if generation.lookups >= GENERATION_LOOKUPS:
                generation.retired = True  # the next probe opens a new one
            return generation

    async def _release(self, generation: _Generation) -> None:
        generation.users -= 1
        if generation.retired and generation.users == 0:
            if self._current is generation:
                self._current = None
            await generation.close()

    def retire(self) -> None:
        """Open a new context for the next probe; the current one closes when idle."""
        generation, self._current = self._current, None
        if generation is None:
            return
        generation.retired = True
        if generation.users == 0:
            task = asyncio.ensure_future(generation.close())
            task.add_done_callback(_consume)

    async def close(self) -> None:
        """Refuse new probes, cancel those in flight, close the shared context."""
        self._closing = True
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        generation, self._current = self._current, None
        if generation is not None and generation.users == 0:
            await generation.close()

    def families(self) -> list[str]:
        """The dispatcher's own metrics (admissions, refusals, lookups in flight)."""
        s = self.stats
        return [
            *family("domwatch_serve_probes_admitted_total",
                    "Probe lookups started.", [({}, s.admitted)], "counter"),
            *family("domwatch_serve_probes_joined_total",
                    "Probe requests that shared a lookup already in flight.",
                    [({}, s.joined)], "counter"),
            *family("domwatch_serve_probes_rejected_total",
                    "Probe requests refused (503) because --max-probes lookups were in flight.",
                    [({}, s.rejected)], "counter"),
            *family("domwatch_serve_probes_in_flight",
                    "Probe lookups in flight now (running or queued behind server limits).",
                    [({}, self.in_flight)]),
            *family("domwatch_serve_probes_in_flight_max",
                    "The most probe lookups in flight at once since the start.",
                    [({}, s.in_flight_max)]),
            *family("domwatch_serve_probes_limit",
                    "Probe lookups allowed in flight at once (--max-probes).",
                    [({}, self.max_probes)]),
        ]


def exposition(result: DomainResult, checked: datetime, seconds: float) -> str:
    """A probe's answer: the ``prometheus`` format of the one domain, then the probe gauges.

    Success means every requested check was completed (no finding of UNKNOWN severity),
    whatever it found: an expired domain is a successful probe with a critical state.
    """
    report = Report(generated=checked, results=[result], duration=seconds)
    text = render(report, "prometheus", RenderOptions())
    success = not any(f.severity is Severity.UNKNOWN for f in result.findings)
    lines = [
        *family("domwatch_probe_success",
                "1 when every requested check of the target could be completed.",
                [({}, int(success))]),
        *family("domwatch_probe_duration_seconds",
                "How long the probe took to answer.", [({}, seconds)]),
    ]
    return text + "\n".join(lines) + "\n"


def _consume(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
