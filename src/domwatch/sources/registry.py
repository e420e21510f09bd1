"""One registration lookup per domain: RDAP first, WHOIS when RDAP has nothing to say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domwatch.sources.base import Lookup


class Source(Protocol):
    """Anything that can look a registrable domain up."""

    async def lookup(self, domain: str) -> Lookup:
        """The registration of ``domain`` (A-label)."""
        ...


# Outcomes after which asking the next source could still give an answer. A registry's own
# "not registered" is final; so is a registered answer.
_FALL_THROUGH = {"unsupported", "failed", "rate_limited", "unparsed"}


@dataclass
class RegistrationSource:
    """Tries each source in order and keeps the first conclusive answer."""

    sources: tuple[Source, ...]

    async def lookup(self, domain: str) -> Lookup:
        """The first conclusive lookup; else the most telling failure, with every trail."""
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


def _most_telling(results: list[Lookup]) -> Lookup:
    rank = {"registered": 0, "not_found": 0, "unparsed": 1, "rate_limited": 2, "failed": 3}
    conclusive = [r for r in results if r.outcome != "unsupported"]
    if not conclusive:
        reasons = "; ".join(r.reason for r in results if r.reason)
        return Lookup("failed", reason=reasons or "no registration source for this TLD")
    return min(conclusive, key=lambda r: rank.get(r.outcome, 9))
