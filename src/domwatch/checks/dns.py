"""The DNS check: the domain resolves, its failures are named, and its delegation is sound.

Each name server of the domain's NS set is looked up (A/AAAA) and every address is asked
directly, recursion off, for the domain's SOA: a server that does not answer authoritatively is
lame, and the SOA serials of the servers that do should agree.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from domwatch import model
from domwatch.checks import Context
from domwatch.model import CheckResult, Domain, Finding
from domwatch.net.resolver import Answer, Nameserver, Outcome


def failure_finding(answer: Answer, what: str) -> Finding | None:
    """The one finding for a lookup that got no usable answer (None when it did).

    Every check reports resolver failures with the same ``dns.*`` code, so a domain whose
    resolver fails shows the failure once rather than as a cascade of missing records.
    """
    where = f" (resolver {answer.server})" if answer.server else ""
    if answer.outcome is Outcome.NXDOMAIN:
        return model.DNS_NXDOMAIN.finding(
            f"{what} does not exist in DNS (NXDOMAIN){where}",
        )
    if answer.outcome is Outcome.SERVFAIL:
        return model.DNS_SERVFAIL.finding(
            f"resolving {what} fails (SERVFAIL: lame delegation or DNSSEC){where}",
        )
    if answer.outcome is Outcome.REFUSED:
        return model.DNS_REFUSED.finding(
            f"the resolver refuses to answer for {what} (REFUSED){where}",
        )
    if answer.outcome is Outcome.TIMEOUT:
        return model.DNS_TIMEOUT.finding(
            f"no DNS answer for {what} in time{where}"
        )
    if answer.outcome is Outcome.ERROR:
        return model.DNS_TIMEOUT.finding(
            f"no usable DNS answer for {what}: {answer.detail}{where}",
        )
    return None


async def check_dns(domain: Domain, ctx: Context) -> CheckResult:
    """Ask for the domain's NS set (failures told apart), then judge every name server."""
    answer = await ctx.resolver.resolve(domain.name, "NS")
    result = CheckResult()
    data: dict[str, Any] = {"outcome": answer.outcome.value, "nameservers": []}
    result.data = data
    finding = failure_finding(answer, domain.display_name)
    if finding is not None:
        result.findings.append(finding)
        return result
    names = sorted({r.target.to_text(omit_final_dot=True).lower() for r in answer.rdatas})
    judged = await asyncio.gather(*(_judge_nameserver(domain, host, ctx) for host in names))
    # A host without IPv6 gets a socket error for every IPv6 address: that is our network,
    # not the name server's fault. Only when some IPv6 address answered is an error news.
    have_v6 = any(
        ":" in a["address"] and a["verdict"] != "error"
        for entry, _, _ in judged
        for a in entry["addresses"]
    )
    serials: list[tuple[str, str, int]] = []
    for entry, findings, lame in judged:
        data["nameservers"].append(entry)
        result.findings.extend(findings)
        for address, why in lame:
            if address["verdict"] == "error" and ":" in address["address"] and not have_v6:
                address["verdict"] = "unreachable"
                continue
            result.findings.append(
                model.DNS_NS_LAME.finding(
                    f"name server {entry['name']} ({address['address']}) does not answer "
                    f"authoritatively for {domain.display_name}: {why}",
                )
            )
        serials.extend(
            (entry["name"], a["address"], a["serial"])
            for a in entry["addresses"]
            if a["serial"] is not None
        )
    if len({serial for _, _, serial in serials}) > 1:
        listed = ", ".join(f"{host} ({address}) {serial}" for host, address, serial in serials)
        result.findings.append(
            model.DNS_SOA_SERIAL_MISMATCH.finding(
                f"the name servers of {domain.display_name} serve different SOA serials "
                f"(a zone transfer may be failing): {listed}",
            )
        )
    return result


async def _judge_nameserver(
    domain: Domain, host: str, ctx: Context
) -> tuple[dict[str, Any], list[Finding], list[tuple[dict[str, Any], str]]]:
    """Look up one name server's addresses and ask each for the domain's SOA.

    Returns the report entry, findings about the name server itself, and each address that
    did not answer authoritatively with the reason why (judged by the caller).
    """
    entry: dict[str, Any] = {"name": host, "addresses": []}
    v4, v6 = await asyncio.gather(
        ctx.resolver.resolve(host, "A"), ctx.resolver.resolve(host, "AAAA")
    )
    addresses = [*v4.texts, *v6.texts]
    if not addresses:
        return entry, [_unresolvable(domain, host, v4, v6)], []
    asked = await asyncio.gather(
        *(
            ctx.resolver.ask(Nameserver(a, _port_for(a, ctx)), domain.name, "SOA", recursion=False)
            for a in addresses
        )
    )
    lame: list[tuple[dict[str, Any], str]] = []
    for address, soa in zip(addresses, asked, strict=True):
        verdict, why = _verdict(soa, ctx.settings.timeout)
        serial = int(soa.rdatas[0].serial) if verdict == "ok" else None
        item = {"address": address, "verdict": verdict, "serial": serial}
        entry["addresses"].append(item)
        if verdict != "ok":
            lame.append((item, why))
    return entry, [], lame


def _verdict(soa: Answer, timeout: float) -> tuple[str, str]:
    """The verdict on one server's answer to the SOA question, and why, for the message."""
    if soa.outcome is Outcome.OK and soa.authoritative:
        return "ok", ""
    if soa.outcome is Outcome.OK:
        return "lame", "answer without the AA flag"
    if soa.outcome in (Outcome.NODATA, Outcome.NXDOMAIN):
        # A referral or a denial: the server does not hold the zone it is listed for.
        return "lame", f"no SOA for the zone ({soa.outcome.value})"
    if soa.outcome is Outcome.REFUSED:
        return "refused", "REFUSED"
    if soa.outcome is Outcome.SERVFAIL:
        return "servfail", "SERVFAIL"
    if soa.outcome is Outcome.TIMEOUT:
        return "timeout", f"no answer within {timeout:g} s"
    return "error", soa.detail or "no usable answer"


def _unresolvable(domain: Domain, host: str, v4: Answer, v6: Answer) -> Finding:
    """The finding for a name server without an address.

    A lookup our own resolver could not complete (timeout, refused) says nothing about the
    name server, so it is reported as that failure; SERVFAIL for the name server's name is
    what every resolver would meet, so the server is as good as unresolvable.
    """
    failed = next((a for a in (v4, v6) if a.outcome.failed), None)
    if failed is not None and failed.outcome is not Outcome.SERVFAIL:
        finding = failure_finding(failed, f"name server {host}")
        assert finding is not None
        return finding
    why = {
        Outcome.NXDOMAIN: "does not exist (NXDOMAIN)",
        Outcome.SERVFAIL: "cannot be resolved (SERVFAIL)",
    }.get(v4.outcome if failed is None else failed.outcome, "has no A or AAAA record")
    return model.DNS_NS_UNRESOLVABLE.finding(
        f"name server {host} of {domain.display_name} {why}",
    )


def _port_for(address: str, ctx: Context) -> int:
    """The port to ask a name server address on: 53, with one lab accommodation.

    The lab runs every DNS server on 127.0.0.x with one unprivileged port, so when the
    configured resolvers are themselves on loopback with a port other than 53, loopback name
    server addresses are asked on that port. Real name servers never have loopback addresses,
    so this cannot change what is asked in production.
    """
    servers = ctx.resolver.nameservers
    if servers and _is_loopback(address) and _is_loopback(servers[0].address):
        return servers[0].port
    return 53


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
