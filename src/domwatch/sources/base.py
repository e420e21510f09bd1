"""What every registration source (RDAP, WHOIS) hands back: an outcome and how it was reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from domwatch.model import Registration

LookupOutcome = Literal[
    "registered",  # registration is set (its expiry may be unpublished)
    "not_found",  # the registry itself says the domain is not registered
    "rate_limited",  # still throttled after the retries the time budget allowed
    "unparsed",  # an answer came, but no expiry could be read from it
    "failed",  # timeout, refused, malformed: nothing usable
    "unsupported",  # this source has nothing for the TLD (fall back to the next one)
]


@dataclass(frozen=True)
class Exchange:
    """One question to one server, kept so ``domwatch lookup`` can show the chain."""

    server: str  # "whois.fi:43" or an RDAP URL
    query: str
    answer: str  # raw text, possibly cut short
    note: str = ""  # what was read from it, or why it failed


@dataclass
class Lookup:
    """The result of asking one source about one domain."""

    outcome: LookupOutcome
    registration: Registration | None = None
    reason: str = ""  # one line, for people, when there is no registration
    trail: list[Exchange] = field(default_factory=list)
    retried: int = 0  # queries repeated after a timeout, reset or rate limit
    throttled: int = 0  # rate-limit replies received
    stale: str = ""  # why a stale cached answer stands in for this failed lookup (lookup.stale)
