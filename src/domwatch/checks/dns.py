"""The DNS check: the domain resolves, and its failures are named, not taken for absences."""

from __future__ import annotations

from domwatch.checks import Context
from domwatch.model import CheckResult, Domain, Finding, Severity
from domwatch.net.resolver import Answer, Outcome

CHECK = "dns"


def failure_finding(answer: Answer, what: str) -> Finding | None:
    """The one finding for a lookup that got no usable answer (None when it did).

    Every check reports resolver failures with the same ``dns.*`` code, so a domain whose
    resolver fails shows the failure once rather than as a cascade of missing records.
    """
    where = f" (resolver {answer.server})" if answer.server else ""
    if answer.outcome is Outcome.NXDOMAIN:
        return Finding("dns.nxdomain", Severity.CRITICAL, CHECK,
                       f"{what} does not exist in DNS (NXDOMAIN){where}")
    if answer.outcome is Outcome.SERVFAIL:
        return Finding("dns.servfail", Severity.CRITICAL, CHECK,
                       f"resolving {what} fails (SERVFAIL: lame delegation or DNSSEC){where}")
    if answer.outcome is Outcome.REFUSED:
        return Finding("dns.refused", Severity.CRITICAL, CHECK,
                       f"the resolver refuses to answer for {what} (REFUSED){where}")
    if answer.outcome is Outcome.TIMEOUT:
        return Finding("dns.timeout", Severity.UNKNOWN, CHECK,
                       f"no DNS answer for {what} in time{where}")
    if answer.outcome is Outcome.ERROR:
        return Finding("dns.timeout", Severity.UNKNOWN, CHECK,
                       f"no usable DNS answer for {what}: {answer.detail}{where}")
    return None


async def check_dns(domain: Domain, ctx: Context) -> CheckResult:
    """Ask for the domain's NS set: NXDOMAIN, SERVFAIL, REFUSED and silence told apart."""
    answer = await ctx.resolver.resolve(domain.name, "NS")
    result = CheckResult()
    finding = failure_finding(answer, domain.display_name)
    if finding is not None:
        result.findings.append(finding)
    nameservers = sorted(r.target.to_text(omit_final_dot=True).lower() for r in answer.rdatas)
    result.data = {"outcome": answer.outcome.value, "nameservers": nameservers}
    return result
