"""One registration lookup per domain: the cache, then RDAP, then WHOIS when RDAP has nothing.

A fresh cached answer is used as is. A conclusive answer from a registry (registered, or not
registered) is cached. When every source fails, a cached answer up to a month old stands in,
and the run reports it with ``lookup.stale`` and its age rather than ``lookup.failed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from domwatch.cache import Cache, Cached, age_text, fresh_for
from domwatch.sources.base import Exchange, Lookup


class Source(Protocol):
    """Anything that can look a registrable domain up."""

    async def lookup(self, domain: str) -> Lookup:
        """The registration of ``domain`` (A-label)."""
        ...


# Outcomes after which asking the next source could still give an answer. A registry's own
# "not registered" is final; so is a registered answer.
_FALL_THROUGH = {"unsupported", "failed", "rate_limited", "unparsed"}
_CONCLUSIVE = {"registered", "not_found"}
_STALE_STANDS_IN = {"failed", "rate_limited"}


@dataclass
class RegistrationStats:
    """What the run's lookups cost; goes into the report's ``stats``."""

    lookups: int = 0  # lookups that asked a registry
    retried: int = 0  # lookups that repeated a query (timeout, reset, rate limit)
    throttled: int = 0  # lookups that received at least one rate-limit reply
    cache_hits: int = 0  # answered from a fresh cached answer
    stale: int = 0  # failed, and a stale cached answer stood in


@dataclass
class RegistrationSource:
    """Tries the cache, then each source in order, and keeps the first conclusive answer."""

    sources: tuple[Source, ...]
    cache: Cache | None = None
    warn_days: int = 30  # inside this window cached answers are kept for less time
    warn_days_for: dict[str, int] = field(default_factory=dict)  # per-domain windows
    stats: RegistrationStats = field(default_factory=RegistrationStats)

    async def lookup(self, domain: str) -> Lookup:
        """The first conclusive lookup; else the most telling failure, with every trail."""
        cached = self.cache.registration(domain) if self.cache is not None else None
        now = time.time()
        if cached is not None and cached.fresh(now):
            self.stats.cache_hits += 1
            note = f"cached answer from {age_text(now - cached.fetched)} ago"
            return Lookup(
                cached.outcome,  # type: ignore[arg-type]  # only conclusive outcomes are kept
                registration=cached.registration,
                trail=[Exchange("cache", domain, "", note)],
            )
        self.stats.lookups += 1
        best = await self._ask(domain)
        self.stats.retried += best.retried > 0
        self.stats.throttled += best.throttled > 0
        if best.outcome in _CONCLUSIVE:
            self._remember(domain, best)
        elif best.outcome in _STALE_STANDS_IN and cached is not None and cached.usable_stale(now):
            return self._stale(domain, best, cached, now)
        return best

    async def _ask(self, domain: str) -> Lookup:
        trail = []
        results: list[Lookup] = []
        for source in self.sources:
            result = await source.lookup(domain)
            trail.extend(result.trail)
            results.append(result)
            if result.outcome not in _FALL_THROUGH:
                break
        best = _most_telling(results)
        best.trail = trail
        best.retried = sum(r.retried for r in results)
        best.throttled = sum(r.throttled for r in results)
        return best

    def _remember(self, domain: str, lookup: Lookup) -> None:
        if self.cache is None:
            return
        days = self.warn_days_for.get(domain, self.warn_days)
        ttl = fresh_for(lookup.outcome, lookup.registration, datetime.now(timezone.utc), days)
        self.cache.remember(domain, lookup.outcome, lookup.registration, ttl)

    def _stale(self, domain: str, failed: Lookup, cached: Cached, now: float) -> Lookup:
        age = age_text(now - cached.fetched)
        why = failed.reason or failed.outcome.replace("_", " ")
        self.stats.stale += 1
        note = f"lookup failed; using the answer cached {age} ago"
        return Lookup(
            cached.outcome,  # type: ignore[arg-type]  # only conclusive outcomes are kept
            registration=cached.registration,
            reason=failed.reason,
            trail=[*failed.trail, Exchange("cache", domain, "", note)],
            retried=failed.retried,
            throttled=failed.throttled,
            stale=f"registration lookup failed ({why}); showing the answer cached {age} ago",
        )


def _most_telling(results: list[Lookup]) -> Lookup:
    rank = {"registered": 0, "not_found": 0, "unparsed": 1, "rate_limited": 2, "failed": 3}
    conclusive = [r for r in results if r.outcome != "unsupported"]
    if not conclusive:
        reasons = "; ".join(r.reason for r in results if r.reason)
        return Lookup("failed", reason=reasons or "no registration source for this TLD")
    best = min(conclusive, key=lambda r: rank.get(r.outcome, 9))
    shown = [r.registration for r in conclusive if r.outcome == "unparsed" and r.registration]
    undated = [found for found in shown if not found.expiry_published]
    dated = [found for found in shown if found.expiry_published]  # a date it could not read
    if best.outcome not in _CONCLUSIVE and undated and not dated:
        # RDAP showed the registration without a date and WHOIS did not do better: the
        # registration stands, with the expiry unpublished.
        return Lookup("registered", registration=undated[0])
    if best.outcome == "failed":
        # Every source failed: say why each did (a guessed RDAP server's 404, then WHOIS's).
        why = [r.reason for r in conclusive if r.reason]
        best.reason = "; ".join(dict.fromkeys(why)) or best.reason
    return best
