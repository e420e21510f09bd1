"""The mail check: MX (or null MX), MX targets with their own addresses, SPF and DMARC.

A lookup that fails (SERVFAIL, timeout) is reported once as that failure, never as a missing
record, and what depends on it is not judged.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from domwatch import model
from domwatch.checks import Context, dmarc, spf
from domwatch.checks.dns import failure_finding
from domwatch.model import CheckResult, Domain, Finding, Severity
from domwatch.net.resolver import Outcome


@dataclass
class MailResult(CheckResult):
    """The mail check's result, with the MX hosts that have addresses (for STARTTLS)."""

    mx_hosts: list[str] = field(default_factory=list)


async def check_mail(domain: Domain, ctx: Context) -> MailResult:
    """Judge the MX set of the domain, the addresses of its targets, its SPF and DMARC."""
    result = MailResult()
    add = result.findings.append
    # SPF and DMARC do not depend on the MX answer: ask for all three at once.
    answer, spf_result, dmarc_result = await asyncio.gather(
        ctx.resolver.resolve(domain.name, "MX"),
        spf.evaluate(ctx.resolver, domain.name),
        dmarc.evaluate(ctx.resolver, domain.name),
    )
    data: dict[str, Any] = {"mx": [], "null_mx": False, "spf": None, "dmarc": None}
    result.data = data
    failure = failure_finding(answer, domain.display_name)
    if failure is not None:
        # The domain's own lookups fail: that one failure is the news, nothing below it.
        data["outcome"] = answer.outcome.value
        add(failure)
        return result
    data["spf"], data["dmarc"] = spf_result.to_json(), dmarc_result.to_json()
    records = sorted(
        (r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in answer.rdatas
    )
    null = [r for r in records if r[1] in ("", ".")]
    sole_null = bool(null) and len(null) == len(records)
    data["null_mx"] = bool(null)
    if not records:
        severity = Severity.CRITICAL if domain.mail else Severity.WARNING
        add(
            model.MAIL_NO_MX.finding(
                f"{domain.display_name} has no MX record (mail falls back to its A record)",
                severity,
            )
        )
    elif sole_null:
        severity = Severity.CRITICAL if domain.mail else Severity.INFO
        add(
            model.MAIL_NULL_MX.finding(
                f"{domain.display_name} states it receives no mail (null MX)",
                severity,
            )
        )
    elif null:
        add(
            model.MAIL_NULL_MX_MIXED.finding(
                f"{domain.display_name} publishes a null MX beside other MX records "
                "(RFC 7505: a null MX must stand alone)",
            )
        )
    hosts = [(pref, host) for pref, host in records if host not in ("", ".")]
    judged = await asyncio.gather(*(_judge_target(host, ctx) for _, host in hosts))
    for (pref, _host), (entry, findings) in zip(hosts, judged, strict=True):
        entry["preference"] = pref
        data["mx"].append(entry)
        if entry["addresses"]:
            result.mx_hosts.append(entry["host"])
        result.findings.extend(findings)
    result.findings.extend(_spf_findings(domain, spf_result, sole_null))
    result.findings.extend(_dmarc_findings(domain, dmarc_result, sole_null))
    return result


def _spf_findings(domain: Domain, judged: spf.SpfResult, null_mx: bool) -> list[Finding]:
    name = domain.display_name
    if judged.failure is not None:
        what = f"the SPF record of {name}"
        if judged.failure.name != domain.name:
            what = f"SPF include target {judged.failure.name} of {name}"
        finding = failure_finding(judged.failure, what)
        return [finding] if finding is not None else []
    if judged.verdict == "missing":
        # A domain that states it receives no mail (null MX) owes no statement about senders.
        if null_mx:
            return []
        return [
            model.MAIL_SPF_MISSING.finding(
                f"{name} publishes no SPF record (receivers cannot tell forged mail)",
            )
        ]
    if judged.verdict == "invalid":
        return [
            model.MAIL_SPF_INVALID.finding(
                f"the SPF record of {name} is invalid: {judged.error}",
            )
        ]
    if judged.verdict == "too_many_lookups":
        return [
            model.MAIL_SPF_TOO_MANY_LOOKUPS.finding(
                f"the SPF record of {name} needs {judged.lookups} DNS lookups "
                f"(RFC 7208 allows {spf.MAX_LOOKUPS}; receivers treat it as an error)",
            )
        ]
    return []


def _dmarc_findings(domain: Domain, judged: dmarc.DmarcResult, null_mx: bool) -> list[Finding]:
    name = domain.display_name
    if judged.failure is not None:
        finding = failure_finding(judged.failure, f"the DMARC record of {name}")
        return [finding] if finding is not None else []
    if judged.verdict == "missing":
        if null_mx:
            return []
        return [
            model.MAIL_DMARC_MISSING.finding(
                f"{name} publishes no DMARC record (_dmarc.{domain.name})",
            )
        ]
    if judged.verdict == "invalid":
        return [
            model.MAIL_DMARC_INVALID.finding(
                f"the DMARC record of {name} is invalid: {judged.error}",
            )
        ]
    return []


async def _judge_target(host: str, ctx: Context) -> tuple[dict[str, Any], list[Finding]]:
    entry: dict[str, Any] = {"host": host, "addresses": [], "cname": None}
    findings: list[Finding] = []
    if _is_address(host):
        findings.append(
            model.MAIL_MX_UNRESOLVABLE.finding(
                f"MX target {host} is an address literal, not a host name "
                "(RFC 5321 requires a name)",
            )
        )
        return entry, findings
    v4, v6 = await asyncio.gather(
        ctx.resolver.resolve(host, "A"), ctx.resolver.resolve(host, "AAAA")
    )
    for answer in (v4, v6):
        entry["addresses"].extend(answer.texts)
        if answer.cname and entry["cname"] is None:
            entry["cname"] = answer.cname
    if entry["cname"]:
        findings.append(
            model.MAIL_MX_CNAME.finding(
                f"MX target {host} is a CNAME to {entry['cname']} "
                "(RFC 5321: MX must name a host with its own address)",
            )
        )
    if entry["addresses"]:
        return entry, findings
    failed = next((a for a in (v4, v6) if a.outcome.failed), None)
    if failed is not None:
        finding = failure_finding(failed, f"MX target {host}")
        assert finding is not None
        findings.append(finding)
    else:
        why = "does not exist" if v4.outcome is Outcome.NXDOMAIN else "has no A or AAAA record"
        findings.append(
            model.MAIL_MX_UNRESOLVABLE.finding(
                f"MX target {host} {why}: mail to this host cannot be delivered",
            )
        )
    return entry, findings


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
