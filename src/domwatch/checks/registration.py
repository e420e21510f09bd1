"""The registration check: days to expiry and the statuses that take a domain offline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timezone

from domwatch import model
from domwatch.checks import Context
from domwatch.model import CheckResult, Domain, Registration
from domwatch.sources.base import Lookup

# EPP statuses that mean the domain is out of service now or soon, with their finding.
_STATUS_FINDINGS = {
    "clientHold": (
        model.REGISTRATION_HOLD, "is on clientHold: suspended by the registrar, out of DNS"
    ),
    "serverHold": (
        model.REGISTRATION_HOLD, "is on serverHold: suspended by the registry, out of DNS"
    ),
    "redemptionPeriod": (
        model.REGISTRATION_REDEMPTION,
        "is in redemptionPeriod: expired and about to be deleted; restore it now",
    ),
    "pendingDelete": (model.REGISTRATION_PENDING_DELETE, "is pendingDelete: it will be released"),
}


async def check_registration(domain: Domain, ctx: Context) -> CheckResult:
    """Look the domain up (RDAP, then WHOIS) and judge expiry and statuses."""
    lookup = await ctx.registry.lookup(domain.name)
    return judge(domain, lookup, ctx.now)


def judge(domain: Domain, lookup: Lookup, now: datetime) -> CheckResult:
    """Findings for one lookup result (pure: no I/O); a stale cached answer standing in for a
    failed lookup is told last."""
    result = _judge(domain, lookup, now)
    if lookup.stale:
        result.findings.append(model.LOOKUP_STALE.finding(lookup.stale))
    return result


def _judge(domain: Domain, lookup: Lookup, now: datetime) -> CheckResult:
    result = CheckResult(registration=lookup.registration)
    add = result.findings.append
    server = _last_server(lookup)
    if lookup.outcome == "not_found":
        # The registry's own words are the evidence of the claim: show them.
        said = (lookup.reason or "").partition("registry says: ")[2]
        where = f'{server}: "{said[:120]}"' if said else server
        add(model.REGISTRATION_NOT_FOUND.finding(
            f"the registry says {domain.display_name} is not registered ({where})"))
        return result
    if lookup.outcome in ("failed", "unsupported"):
        add(model.LOOKUP_FAILED.finding(
            f"registration lookup failed: {lookup.reason or 'no answer'}"))
    elif lookup.outcome == "rate_limited":
        add(model.LOOKUP_RATE_LIMITED.finding(
            f"{server} still rate-limits us after retries; try again later"))
    elif lookup.outcome == "unparsed" and domain.expires is None:
        add(model.LOOKUP_UNPARSED.finding(
            f"{server} answered, but not in a way domwatch can read: {lookup.reason}"))

    registration = lookup.registration
    if domain.expires is not None and (registration is None or registration.expires is None):
        # The file's date stands in only where the registry gives none.
        manual = datetime.combine(domain.expires, time(0, 0), tzinfo=timezone.utc)
        base = registration or Registration(source="manual")
        registration = replace(base, source="manual", expires=manual, expiry_published=False)
        result.registration = registration
    if registration is None:
        return result

    for status in registration.statuses:
        if status in _STATUS_FINDINGS:
            code, words = _STATUS_FINDINGS[status]
            add(code.finding(f"{domain.display_name} {words}"))

    if registration.expires is None:
        if not registration.expiry_published:
            add(model.EXPIRY_UNPUBLISHED.finding(
                f"the registry ({server}) publishes no expiry date; "
                "set 'expires' for this domain to be warned"))
        return result
    days = registration.days_left(now)
    assert days is not None
    day = registration.expires.date().isoformat()
    limits = domain.thresholds
    if days < 0:
        add(model.EXPIRY_EXPIRED.finding(f"registration expired {-days} days ago ({day})"))
    elif days <= limits.crit_days:
        add(model.EXPIRY_CRITICAL.finding(f"registration expires in {days} days ({day})"))
    elif days <= limits.warn_days:
        add(model.EXPIRY_WARNING.finding(f"registration expires in {days} days ({day})"))
    return result


def _last_server(lookup: Lookup) -> str:
    if lookup.registration is not None and lookup.registration.server:
        return lookup.registration.server
    return lookup.trail[-1].server if lookup.trail else "the registry"
