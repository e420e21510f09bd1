"""The mail check: MX (or null MX) published, every MX target resolves to an address directly."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from domwatch.checks import Context
from domwatch.checks.dns import failure_finding
from domwatch.model import CheckResult, Domain, Finding, Severity
from domwatch.net.resolver import Outcome

CHECK = "mail"


def _finding(code: str, severity: Severity, message: str) -> Finding:
    return Finding(code, severity, CHECK, message)


async def check_mail(domain: Domain, ctx: Context) -> CheckResult:
    """Judge the MX set of the domain and the addresses of its targets."""
    result = CheckResult()
    add = result.findings.append
    answer = await ctx.resolver.resolve(domain.name, "MX")
    failure = failure_finding(answer, domain.display_name)
    if failure is not None:
        add(failure)
        return result
    records = sorted(
        ((r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in answer.rdatas)
    )
    data: dict[str, Any] = {"mx": [], "null_mx": False}
    result.data = data
    if not records:
        severity = Severity.CRITICAL if domain.mail else Severity.WARNING
        add(_finding("mail.no_mx", severity,
                     f"{domain.display_name} has no MX record (mail falls back to its A record)"))
        return result
    null = [r for r in records if r[1] in ("", ".")]
    if null:
        data["null_mx"] = True
        if len(records) > len(null):
            add(_finding("mail.null_mx_mixed", Severity.WARNING,
                         f"{domain.display_name} publishes a null MX beside other MX records "
                         "(RFC 7505: a null MX must stand alone)"))
        else:
            severity = Severity.CRITICAL if domain.mail else Severity.INFO
            add(_finding("mail.null_mx", severity,
                         f"{domain.display_name} states it receives no mail (null MX)"))
            return result
    hosts = [(pref, host) for pref, host in records if host not in ("", ".")]
    judged = await asyncio.gather(*(_judge_target(host, ctx) for _, host in hosts))
    for (pref, host), (entry, findings) in zip(hosts, judged):
        entry["preference"] = pref
        data["mx"].append(entry)
        result.findings.extend(findings)
    return result


async def _judge_target(host: str, ctx: Context) -> tuple[dict[str, Any], list[Finding]]:
    entry: dict[str, Any] = {"host": host, "addresses": [], "cname": None}
    findings: list[Finding] = []
    if _is_address(host):
        findings.append(_finding("mail.mx_unresolvable", Severity.CRITICAL,
                                 f"MX target {host} is an address literal, not a host name "
                                 "(RFC 5321 requires a name)"))
        return entry, findings
    v4, v6 = await asyncio.gather(ctx.resolver.resolve(host, "A"), ctx.resolver.resolve(host, "AAAA"))
    for answer in (v4, v6):
        entry["addresses"].extend(answer.texts)
        if answer.cname and entry["cname"] is None:
            entry["cname"] = answer.cname
    if entry["cname"]:
        findings.append(_finding("mail.mx_cname", Severity.WARNING,
                                 f"MX target {host} is a CNAME to {entry['cname']} "
                                 "(RFC 5321: MX must name a host with its own address)"))
    if entry["addresses"]:
        return entry, findings
    failed = next((a for a in (v4, v6) if a.outcome.failed), None)
    if failed is not None:
        finding = failure_finding(failed, f"MX target {host}")
        assert finding is not None
        findings.append(finding)
    else:
        why = "does not exist" if v4.outcome is Outcome.NXDOMAIN else "has no A or AAAA record"
        findings.append(_finding("mail.mx_unresolvable", Severity.CRITICAL,
                                 f"MX target {host} {why}: mail to this host cannot be delivered"))
    return entry, findings


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
