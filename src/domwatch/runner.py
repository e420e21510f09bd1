"""One run: every domain's checks concurrently, bounded, each failure contained; a Report out."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

import platformdirs

from domwatch.cache import Cache
from domwatch.checks import Check, Context
from domwatch.checks.catalog import functions
from domwatch.checks.network import network_problem, without_network
from domwatch.config import Config
from domwatch.model import CHECK_FAILED, CHECK_INFO, CheckResult, Domain, DomainResult, Report
from domwatch.net.address_policy import AddressPolicy
from domwatch.net.http import HttpClient
from domwatch.net.limits import Limits, admit
from domwatch.net.resolver import Nameserver, Resolver, system_nameservers
from domwatch.settings import Settings
from domwatch.sources.rdap import RdapSource
from domwatch.sources.registry import RegistrationSource, Source
from domwatch.sources.whois import WhoisSource
from domwatch.spool import ResultSpool
from domwatch.state import State, apply_one

log = logging.getLogger("domwatch")

# Domains started at once, per TLD and in all. Each started domain costs a task (a few KiB);
# per TLD it must exceed what one registry serves at once, or that registry would idle.
ADMIT_PER_TLD = 128
ADMIT_TOTAL = 1024

Progress = Callable[[DomainResult], None]


def tls_context(settings: Settings) -> ssl.SSLContext:
    """A verifying context: ``ca_bundle`` when set, else the system store (``SSL_CERT_FILE``)."""
    if settings.ca_bundle is not None:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    return ssl.create_default_context()


def open_cache(settings: Settings) -> Cache | None:
    """The registration cache (``--cache-dir``, else the XDG cache directory), or None."""
    if not settings.cache:
        return None
    return Cache.open(settings.cache_dir or Path(platformdirs.user_cache_dir("domwatch")))


@asynccontextmanager
async def open_context(
    settings: Settings,
    now: datetime | None = None,
    *,
    limits: Limits | None = None,
    use_cache: bool = False,
) -> AsyncIterator[Context]:
    """The shared state of one run: clock, resolver, registration sources, trust store.

    RDAP is asked first and WHOIS is the fallback (ICANN no longer requires port 43 of gTLDs);
    both share one set of per-server limits. With ``use_cache`` (``check``, not ``lookup``,
    which always asks) registration answers come from and go to the cache.
    """
    nameservers = [Nameserver(e.host, e.port or 53) for e in settings.resolvers]
    resolver = Resolver(nameservers or system_nameservers(), timeout=settings.timeout)
    # One policy, one resolution per server name, for RDAP and WHOIS alike.
    policy = AddressPolicy(resolver, allow_private=settings.allow_private)
    limits = limits or Limits.from_settings(settings)
    cache = open_cache(settings) if use_cache else None
    try:
        async with HttpClient.from_settings(settings, policy=policy) as client:
            sources: tuple[Source, ...] = (
                RdapSource(settings, None, client, limits=limits),  # bootstrap when first needed
                WhoisSource(settings, limits=limits, referral_cache=cache, policy=policy),
            )
            registry = RegistrationSource(
                sources, cache=cache, warn_days=settings.thresholds.warn_days
            )
            yield Context(
                settings=settings,
                now=now or datetime.now(timezone.utc),
                resolver=resolver,
                registry=registry,
                tls=tls_context(settings),
            )
    finally:
        if cache is not None:
            cache.close()


async def run(config: Config, *, now: datetime | None = None,
              progress: Progress | None = None, limits: Limits | None = None,
              state: State | None = None) -> Report:
    """Check every domain of ``config``; domains come back in input order.

    With ``state`` (what earlier runs saw) each result also gets its ``change.*`` findings,
    and ``state`` remembers this run's registrations (the caller saves it). Each result goes
    to the report's spool as it comes, so a run holds no result in memory; see
    :mod:`domwatch.spool`.
    """
    started = time.monotonic()
    checks = functions()
    gate = asyncio.Semaphore(config.settings.concurrency)
    limits = limits or Limits.from_settings(config.settings)
    spool = ResultSpool(config.domains)
    async with open_context(config.settings, now, limits=limits, use_cache=True) as ctx:
        registry = ctx.registry
        # Only the domains whose warning window differs from the run's need an entry.
        default_warn = config.settings.thresholds.warn_days
        registry.warn_days_for.update(
            {d.name: d.thresholds.warn_days for d in config.domains
             if d.thresholds.warn_days != default_warn}
        )
        # Offline or a resolver that denies everything: said once, domains UNKNOWN (issue 17).
        problem = await network_problem(ctx.resolver, config.domains)
        if problem is not None:
            checks = without_network(checks)

        async def one(index: int, domain: Domain) -> None:
            result = await check_domain(domain, ctx, checks, gate)
            if state is not None:
                apply_one(state, result)
            spool.put(index, result)
            if progress is not None:
                progress(result)

        # A TLD's domains wait their turn as plain references; see admit().
        await admit(
            config.domains, lambda d: d.tld, one, per_key=ADMIT_PER_TLD, total=ADMIT_TOTAL
        )
    counts = registry.stats
    return Report(
        generated=ctx.now,
        results=spool,
        duration=time.monotonic() - started,
        network_problem=problem,
        stats={
            "dns_queries": ctx.resolver.queries,
            "dns_retries": ctx.resolver.retries,
            "registration_lookups": counts.lookups,
            "lookups_retried": counts.retried,
            "lookups_throttled": counts.throttled,
            "rate_limit_replies": limits.strikes,
            "cache_hits": counts.cache_hits,
            "cache_stale": counts.stale,
        },
    )


async def check_one(
    domain: Domain, ctx: Context, gate: asyncio.Semaphore | None = None
) -> DomainResult:
    """Every check ``domain`` asks for, outside a run (``serve``'s ``/probe``)."""
    return await check_domain(domain, ctx, functions(), gate)


# Checks outside the run's --concurrency gate (CheckInfo.gated): registration lookups are
# bounded by each registry's own limits (net/limits.py); a domain queued for a slow registry's
# turn (a minute, with a per-minute quota) must not hold a slot others could use meanwhile.
_UNGATED = frozenset(c.name for c in CHECK_INFO if not c.gated)


async def check_domain(
    domain: Domain, ctx: Context, checks: dict[str, Check], gate: asyncio.Semaphore | None = None
) -> DomainResult:
    """Run the domain's checks concurrently and merge what they found.

    With ``gate`` the checks other than registration run while holding one of its slots.
    """
    # domain.checks is already resolved: settings, per-domain list, and --checks narrowing.
    names = [c for c in domain.checks if c in checks]
    free = [c for c in names if c in _UNGATED or gate is None]
    held = [c for c in names if c not in free]

    async def run_all(batch: list[str]) -> list[CheckResult]:
        return list(await asyncio.gather(*(_guarded(checks[c], c, domain, ctx) for c in batch)))

    async def run_gated(batch: list[str]) -> list[CheckResult]:
        if gate is None or not batch:
            return await run_all(batch)
        async with gate:
            return await run_all(batch)

    free_out, held_out = await asyncio.gather(run_all(free), run_gated(held))
    outcomes = dict(zip(free, free_out, strict=True)) | dict(zip(held, held_out, strict=True))
    result = DomainResult(domain=domain, checks_run=tuple(names))
    for name in names:
        result.add(name, outcomes[name])
    result.findings.sort(key=lambda f: -f.severity.status.rank)
    return result


async def _guarded(check: Check, name: str, domain: Domain, ctx: Context) -> CheckResult:
    # One check's bug must not cost the other domains, or the report: it becomes a finding.
    try:
        return await check(domain, ctx)
    except Exception as exc:
        log.debug("check %s of %s failed", name, domain.name, exc_info=True)
        message = f"the {name} check could not be completed: {type(exc).__name__}: {exc}"
        return CheckResult(findings=[CHECK_FAILED[name].finding(message[:300])])
