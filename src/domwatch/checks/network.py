"""Is the network usable at all? Asked once, before the domains, so that an offline machine or a
resolver that denies every name reports its domains UNKNOWN once, not each one CRITICAL.

The question is the name servers of the root and of (up to three of) the run's top-level
domains: names that exist for every working resolver. The network is judged unusable only when
none of them gets an answer, or every answer denies they exist (NXDOMAIN, or SERVFAIL: a
resolver that cannot reach any upstream). A refusal is an answer from a server that is there
(a lab or intranet server that serves only its own zones), so it counts as usable; that
resolver's refusals stay per-domain ``dns.refused`` findings.

Registration lookups still run when the network is unusable: a cached answer can stand in, and
a failure there is already UNKNOWN. The DNS, web and mail checks do not run; each domain gets
one ``<check>.check_failed`` finding instead of a cascade of NXDOMAINs and timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from domwatch.checks import Check, Context
from domwatch.model import CHECK_FAILED, CHECK_INFO, CheckResult, Domain
from domwatch.net.resolver import Answer, Outcome, Resolver

# They need the resolver (CheckInfo.network); registration has a cache.
NETWORK_CHECKS = tuple(c.name for c in CHECK_INFO if c.network)
PROBED_TLDS = 3
_DENIED = (Outcome.NXDOMAIN, Outcome.SERVFAIL)
_SILENT = (Outcome.TIMEOUT, Outcome.ERROR)


async def network_problem(resolver: Resolver, domains: Sequence[Domain]) -> str | None:
    """Why the network or resolver is not usable, in one sentence; None when it is.

    Nothing is asked when no domain runs a check that needs the resolver.
    """
    if not any(c in NETWORK_CHECKS for d in domains for c in d.checks):
        return None
    tlds = list(dict.fromkeys(d.tld for d in domains))[:PROBED_TLDS]
    names = [".", *tlds]
    answers = await asyncio.gather(*(resolver.resolve(n, "NS") for n in names))
    if any(a.outcome not in (*_DENIED, *_SILENT) for a in answers):
        return None
    servers = _servers(answers)
    if all(a.outcome in _SILENT for a in answers):
        detail = next((a.detail for a in answers if a.detail), "no answer in time")
        return f"no answer from the DNS resolver {servers} ({detail})"
    shown = ", ".join("the root zone" if n == "." else f".{n}" for n in names)
    return (
        f"the DNS resolver {servers} says names that must exist do not ({shown}: "
        f"{_outcomes(answers)}); offline, or a captive or filtering resolver"
    )


def without_network(checks: dict[str, Check]) -> dict[str, Check]:
    """``checks`` with those needing the resolver replaced by one UNKNOWN finding per domain
    (the problem itself is said once for the whole run: report header, stderr)."""

    def skipped(name: str) -> Check:
        async def check(domain: Domain, ctx: Context) -> CheckResult:
            del ctx
            wanted = [c for c in domain.checks if c in NETWORK_CHECKS]
            if not wanted or name != wanted[0]:
                return CheckResult()  # the domain's first network check speaks for all
            listed = wanted[0] if len(wanted) == 1 else (
                ", ".join(wanted[:-1]) + " and " + wanted[-1]
            )
            message = f"{listed} not checked: the network or DNS resolver is not usable"
            return CheckResult(
                findings=[CHECK_FAILED[name].finding(message)]
            )

        return check

    return {n: skipped(n) if n in NETWORK_CHECKS else c for n, c in checks.items()}


def _servers(answers: Sequence[Answer]) -> str:
    found = list(dict.fromkeys(a.server for a in answers if a.server))
    return ", ".join(found) if found else "(none configured)"


def _outcomes(answers: Sequence[Answer]) -> str:
    found = list(dict.fromkeys(a.outcome.value.upper() for a in answers))
    return " or ".join(found)
