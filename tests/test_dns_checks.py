"""The dns check against real lab servers: delegation, lame and silent name servers, failures.

One lab DNS server on 127.0.0.1:P plays the recursive resolver; three more on 127.0.0.2-4 with
the same port P play the domains' name servers (the check asks loopback name server addresses
on the resolver's port, see ``checks.dns._port_for``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from domwatch.checks import Context
from domwatch.checks.dns import check_dns
from domwatch.checks.mail import check_mail
from domwatch.config import Settings
from domwatch.lab import DnsServer, Lab
from domwatch.model import Domain, DomainResult
from domwatch.net.resolver import Answer, Nameserver, Outcome, Resolver
from tests.conftest import Run, domwatch

TIMEOUT = 1.0  # the silent server costs one timeout per test that meets it


def zone(origin: str, serial: int, nameservers: Mapping[str, str | None], extra: str = "") -> str:
    """A zone whose NS set is ``nameservers`` (name -> address, None for no address)."""
    lines = [
        f"$ORIGIN {origin}.",
        "$TTL 300",
        f"@ SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 300",
    ]
    for host, address in nameservers.items():
        lines.append(f"@ NS {host}.")
        if address is not None:
            lines.append(f"{host}. A {address}")
    lines += ["@ A 127.0.0.1", "@ MX 10 mail", "mail A 127.0.0.1", '@ TXT "v=spf1 mx -all"']
    lines.append('_dmarc TXT "v=DMARC1; p=reject"')
    return "\n".join(lines) + "\n" + extra


NS3 = {"ns1.deleg.test": "127.0.0.2", "ns2.deleg.test": "127.0.0.3", "ns3.deleg.test": "127.0.0.4"}
# deleg.test: ns1 good, ns2 answers without AA, ns3 silent, ns4 has no address.
DELEG = zone("deleg.test", 7, {**NS3, "ns4.deleg.test": None})
# good.test: every server answers authoritatively with the same serial.
GOOD = zone("good.test", 5, {"ns1.good.test": "127.0.0.2", "ns2.good.test": "127.0.0.3"})
# drift.test: ns1 and ns2 hold different serials.
DRIFT_NS = {"ns1.drift.test": "127.0.0.2", "ns2.drift.test": "127.0.0.3"}
# broken.test: ns2 does not serve the zone (REFUSED), ns3 fails (SERVFAIL).
BROKEN_NS = {"ns1.broken.test": "127.0.0.2", "ns2.broken.test": "127.0.0.3"}
BROKEN_NS["ns3.broken.test"] = "127.0.0.4"
TLD = "$ORIGIN test.\n@ SOA ns.test. h.test. 1 3600 600 86400 300\n"


@dataclass
class Servers:
    resolver: DnsServer
    ns: list[DnsServer]


def _start(lab: Lab) -> Servers:
    resolver = lab.add(
        DnsServer(
            {
                "test.": TLD,
                "deleg.test.": DELEG,
                "good.test.": GOOD,
                "drift.test.": zone("drift.test", 1, DRIFT_NS),
                "broken.test.": zone("broken.test", 3, BROKEN_NS),
                "failing.test.": zone("failing.test", 1, {"ns1.failing.test": "127.0.0.2"}),
                "dual.test.": zone(
                    "dual.test", 5, {"ns1.dual.test": "127.0.0.2"}, "ns1 AAAA 2001:db8::53\n"
                ),
            },
            behaviours={"failing.test": "servfail", "*.failing.test": "servfail"},
        )
    )
    port = resolver.port
    ns1 = DnsServer(
        {
            "deleg.test.": DELEG,
            "good.test.": GOOD,
            "drift.test.": zone("drift.test", 1, DRIFT_NS),
            "broken.test.": zone("broken.test", 3, BROKEN_NS),
            "dual.test.": zone("dual.test", 5, {"ns1.dual.test": "127.0.0.2"}),
        },
        host="127.0.0.2",
        port=port,
        recursive=False,
    )
    ns2 = DnsServer(
        {
            "deleg.test.": DELEG,
            "good.test.": GOOD,
            "drift.test.": zone("drift.test", 2, DRIFT_NS),
        },
        host="127.0.0.3",
        port=port,
        behaviours={"deleg.test": "noaa"},
        recursive=False,
    )
    ns3 = DnsServer(
        {"deleg.test.": DELEG, "broken.test.": zone("broken.test", 3, BROKEN_NS)},
        host="127.0.0.4",
        port=port,
        behaviours={"deleg.test": "silent", "broken.test": "servfail"},
        recursive=False,
    )
    return Servers(resolver, [lab.add(ns1), lab.add(ns2), lab.add(ns3)])


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    # The resolver's free port must also be free on 127.0.0.2-4; on a clash, try another.
    for attempt in range(5):
        lab = Lab()
        lab.start()
        try:
            running = _start(lab)
        except OSError:
            lab.stop()
            if attempt == 4:
                raise
            continue
        try:
            yield running
        finally:
            lab.stop()
        return


def make_context(resolver: DnsServer, timeout: float = TIMEOUT) -> Context:
    """A check context whose resolver is the lab server ``resolver``."""
    return Context(
        settings=Settings(timeout=timeout),
        now=datetime.now(timezone.utc),
        resolver=Resolver([Nameserver(resolver.host, resolver.port)], timeout=timeout),
        registry=cast(Any, None),  # the dns and mail checks never ask the registries
        tls=ssl.create_default_context(),
    )


def run_dns(servers: Servers, name: str) -> tuple[list[str], list[str], dict[str, Any]]:
    """Codes, messages and data of the dns check for ``name``."""
    result = asyncio.run(check_dns(Domain(name, name), make_context(servers.resolver)))
    assert result.data is not None
    return [f.code for f in result.findings], [f.message for f in result.findings], result.data


def verdicts(data: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        ns["name"]: [(a["address"], a["verdict"]) for a in ns["addresses"]]
        for ns in data["nameservers"]
    }


def test_healthy_delegation_has_no_findings(servers: Servers) -> None:
    codes, _, data = run_dns(servers, "good.test")
    assert codes == []
    assert data["outcome"] == "ok"
    assert verdicts(data) == {
        "ns1.good.test": [("127.0.0.2", "ok")],
        "ns2.good.test": [("127.0.0.3", "ok")],
    }
    assert [a["serial"] for ns in data["nameservers"] for a in ns["addresses"]] == [5, 5]


def test_lame_silent_and_addressless_name_servers_are_named(servers: Servers) -> None:
    codes, messages, data = run_dns(servers, "deleg.test")
    assert sorted(codes) == ["dns.ns_lame", "dns.ns_lame", "dns.ns_unresolvable"]
    assert verdicts(data) == {
        "ns1.deleg.test": [("127.0.0.2", "ok")],
        "ns2.deleg.test": [("127.0.0.3", "lame")],
        "ns3.deleg.test": [("127.0.0.4", "timeout")],
        "ns4.deleg.test": [],
    }
    lame = next(m for m in messages if "ns2.deleg.test" in m)
    assert "(127.0.0.3)" in lame and "AA" in lame
    silent = next(m for m in messages if "ns3.deleg.test" in m)
    assert "(127.0.0.4)" in silent and "no answer within 1 s" in silent
    assert any("ns4.deleg.test" in m and "NXDOMAIN" in m for m in messages)


def test_refused_and_servfail_name_servers_are_lame(servers: Servers) -> None:
    codes, messages, data = run_dns(servers, "broken.test")
    assert codes == ["dns.ns_lame", "dns.ns_lame"]
    assert verdicts(data) == {
        "ns1.broken.test": [("127.0.0.2", "ok")],
        "ns2.broken.test": [("127.0.0.3", "refused")],
        "ns3.broken.test": [("127.0.0.4", "servfail")],
    }
    assert any("ns2.broken.test (127.0.0.3)" in m and "REFUSED" in m for m in messages)
    assert any("ns3.broken.test (127.0.0.4)" in m and "SERVFAIL" in m for m in messages)


def test_differing_serials_are_told_as_info(servers: Servers) -> None:
    result = asyncio.run(
        check_dns(Domain("drift.test", "drift.test"), make_context(servers.resolver))
    )
    assert [(f.code, f.severity.value) for f in result.findings] == [
        ("dns.soa_serial_mismatch", "info")
    ]
    assert "ns1.drift.test (127.0.0.2) 1" in result.findings[0].message
    assert "ns2.drift.test (127.0.0.3) 2" in result.findings[0].message


def test_name_servers_are_asked_in_parallel_and_within_the_timeout(servers: Servers) -> None:
    # The silent name server costs one timeout: asked once, no retry that would cost a second
    # (counted, not timed: a time bound failed on a loaded machine). Its verdict, and the
    # others judged on their answers, are checked in test_lame_silent_and_addressless_....
    silent = servers.ns[2]
    before = len(silent.queries)
    codes, messages, _ = run_dns(servers, "deleg.test")
    assert silent.queries[before:] == [("deleg.test", "SOA")]
    assert sorted(codes) == ["dns.ns_lame", "dns.ns_lame", "dns.ns_unresolvable"]
    assert any("ns3.deleg.test" in m for m in messages)


def test_name_servers_are_asked_without_recursion(servers: Servers) -> None:
    asyncio.run(check_dns(Domain("good.test", "good.test"), make_context(servers.resolver)))
    assert ("good.test", "SOA") in servers.ns[0].queries
    assert ("good.test", "SOA") not in servers.resolver.queries


def test_resolver_servfail_is_one_dns_finding_and_nothing_under_mail(servers: Servers) -> None:
    domain = Domain("failing.test", "failing.test")
    ctx = make_context(servers.resolver)

    async def both() -> DomainResult:
        merged = DomainResult(domain=domain)
        dns_result, mail_result = await asyncio.gather(
            check_dns(domain, ctx), check_mail(domain, ctx)
        )
        merged.add("dns", dns_result)
        merged.add("mail", mail_result)
        return merged

    merged = asyncio.run(both())
    assert [f.code for f in merged.findings] == ["dns.servfail"]
    assert merged.sections["dns"]["nameservers"] == []
    assert merged.sections["mail"]["spf"] is None


class _NoIpv6(Resolver):
    """A resolver on a host without IPv6: every IPv6 address is a socket error."""

    async def ask(self, server: Nameserver, name: str, rdtype: str, *, recursion: bool) -> Answer:
        if ":" in server.address:
            return Answer(name, rdtype, Outcome.ERROR, server=str(server), detail="unreachable")
        return await super().ask(server, name, rdtype, recursion=recursion)


def test_no_ipv6_here_is_not_a_lame_name_server(servers: Servers) -> None:
    ctx = make_context(servers.resolver)
    ctx.resolver = _NoIpv6([Nameserver(servers.resolver.host, servers.resolver.port)], TIMEOUT)
    result = asyncio.run(check_dns(Domain("dual.test", "dual.test"), ctx))
    assert result.findings == []
    assert result.data is not None
    assert verdicts(result.data) == {
        "ns1.dual.test": [("127.0.0.2", "ok"), ("2001:db8::53", "unreachable")]
    }


def test_loopback_port_rule_only_applies_to_loopback() -> None:
    from domwatch.checks.dns import _port_for

    lab_ctx = make_context(DnsServer({}, host="127.0.0.1", port=5353))
    assert _port_for("127.0.0.9", lab_ctx) == 5353
    assert _port_for("192.0.2.1", lab_ctx) == 53
    real = make_context(DnsServer({}, host="192.0.2.53", port=5353))
    assert _port_for("127.0.0.9", real) == 53


# ------------------------------------------------------------------------------ via the CLI


def cli_check(servers: Servers, tmp_path: Path, *names: str) -> Run:
    """``domwatch check --format json`` for ``names`` against the lab resolver (dns + mail)."""
    listed = ", ".join(f'"{n}"' for n in names)
    config = tmp_path / "domains.toml"
    config.write_text(
        f"domains = [{listed}]\n\n[settings]\ntimeout = {TIMEOUT:g}\n"
        'checks = ["dns", "mail"]\n\n[settings.resolver]\n'
        f'nameservers = ["{servers.resolver.address}"]\n\n'
        "[settings.network]\nallow_private = true\n",
        encoding="utf-8",
    )
    return domwatch(
        "check", str(config), "--format", "json", "--no-cache", "--no-state", "--no-progress"
    )


def test_cli_reports_delegation(servers: Servers, tmp_path: Path) -> None:
    run = cli_check(servers, tmp_path, "good.test", "deleg.test", "failing.test")
    assert run.codes("good.test") == []
    assert run.domain("good.test")["status"] == "ok"
    assert sorted(run.codes("deleg.test")) == ["dns.ns_lame", "dns.ns_lame", "dns.ns_unresolvable"]
    assert run.domain("deleg.test")["status"] == "warning"
    section = run.domain("deleg.test")["dns"]
    assert section["outcome"] == "ok"
    assert section["nameservers"][1] == {
        "name": "ns2.deleg.test",
        "addresses": [{"address": "127.0.0.3", "verdict": "lame", "serial": None}],
    }
    assert section["nameservers"][0]["addresses"][0]["serial"] == 7
    # The resolver SERVFAILs: one dns.servfail, nothing under mail.
    assert run.codes("failing.test") == ["dns.servfail"]
    assert run.domain("failing.test")["status"] == "critical"
    assert run.exit_code == 2, run.stderr
