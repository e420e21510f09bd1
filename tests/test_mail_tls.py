"""STARTTLS certificate checks against real lab SMTP servers on 127.0.0.x."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from domwatch.checks import Context
from domwatch.checks.mail_tls import check_mail_tls
from domwatch.config import Settings
from domwatch.lab import DnsServer, Lab
from domwatch.lab.ca import LabCA
from domwatch.lab.https_server import SilentServer
from domwatch.lab.smtp_server import SmtpServer
from domwatch.model import CheckResult, Domain
from domwatch.net.resolver import Nameserver, Resolver
from domwatch.net.tls import start_tls_legacy

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SOON = NOW + timedelta(days=5)
LATER = NOW + timedelta(days=15)  # between cert_crit_days (7) and cert_warn_days (21)
PAST = NOW - timedelta(days=1)

ZONE = """
$TTL 60
mx1       IN A 127.0.0.2
mx2       IN A 127.0.0.2
mx2       IN A 127.0.0.7
expired   IN A 127.0.0.3
soon      IN A 127.0.0.4
mismatch  IN A 127.0.0.5
untrusted IN A 127.0.0.6
dead      IN A 127.0.0.7
plain     IN A 127.0.0.8
refusing  IN A 127.0.0.9
silent    IN A 127.0.0.10
later     IN A 127.0.0.11
"""
DOMAIN = Domain("example.test", "example.test", mail_tls=True)


@dataclass
class World:
    lab: Lab
    dns: DnsServer
    port: int
    bundle: Path
    servers: dict[str, SmtpServer]
    silent: SilentServer  # 127.0.0.10: accepts, never sends a banner

    def check(self, *hosts: str, timeout: float = 2.0) -> CheckResult:
        ctx = Context(
            settings=Settings(timeout=timeout),
            now=NOW,
            resolver=Resolver([Nameserver(self.dns.host, self.dns.port)], timeout=timeout),
            registry=cast(Any, None),
            tls=ssl.create_default_context(cafile=str(self.bundle)),
        )
        mx = [f"{h}.example.test" for h in hosts]
        return asyncio.run(check_mail_tls(DOMAIN, mx, ctx, port=self.port))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    ca, rogue = LabCA(), LabCA("rogue CA")
    bundle = ca.write_ca(tmp_path_factory.mktemp("ca") / "ca.pem")
    with Lab() as lab:
        dns = lab.add(DnsServer({"example.test": ZONE}))
        good = ca.server_context("mx1.example.test", "mx2.example.test")
        first = lab.add(SmtpServer(ssl_context=good, host="127.0.0.2"))
        port = first.port
        servers = {"mx1": first}

        def add(name: str, host: str, ctx: ssl.SSLContext | None, **kw: Any) -> None:
            servers[name] = lab.add(SmtpServer(ssl_context=ctx, host=host, port=port, **kw))

        old = ca.server_context(
            "expired.example.test", not_before=PAST - timedelta(days=90), not_after=PAST
        )
        add("expired", "127.0.0.3", old)
        add("soon", "127.0.0.4", ca.server_context("soon.example.test", not_after=SOON))
        add("later", "127.0.0.11", ca.server_context("later.example.test", not_after=LATER))
        add("mismatch", "127.0.0.5", ca.server_context("mail.other.test"))
        add("untrusted", "127.0.0.6", rogue.server_context("untrusted.example.test"))
        add("plain", "127.0.0.8", ca.server_context("plain.example.test"), offer_starttls=False)
        refusing = ca.server_context("refusing.example.test")
        add("refusing", "127.0.0.9", refusing, refuse_starttls=True)
        silent = lab.add(SilentServer(host="127.0.0.10", port=port))
        yield World(lab, dns, port, bundle, servers, silent)


def codes(result: CheckResult) -> list[str]:
    return sorted(f.code for f in result.findings)


def test_good_starttls_has_no_findings(world: World) -> None:
    result = world.check("mx1")
    assert result.findings == []
    assert result.data is not None
    (host,) = result.data["hosts"]
    assert host["host"] == "mx1.example.test"
    (address,) = host["addresses"]
    tls = address.pop("tls")
    assert address == {
        "address": "127.0.0.2",
        "connected": True,
        "banner": "mx.lab.test ESMTP domwatch lab",
        "starttls": True,
        "error": None,
    }
    assert tls["sans"] == ["mx1.example.test", "mx2.example.test"]
    assert (tls["trusted"], tls["hostname_match"]) == (True, True)
    assert result.cert_days_left == tls["days_left"]
    assert result.cert_expires is not None
    assert result.cert_expires.strftime("%Y-%m-%dT%H:%M:%SZ") == tls["not_after"]
    session = world.servers["mx1"].sessions[-1]
    assert (session.tls, session.sni, session.quit) == (True, "mx1.example.test", True)
    assert session.ehlo


def test_certificate_problems_get_mail_tls_codes(world: World) -> None:
    result = world.check("expired", "soon", "mismatch", "untrusted")
    assert codes(result) == [
        "mail.tls.critical",
        "mail.tls.expired",
        "mail.tls.hostname_mismatch",
        "mail.tls.untrusted",
    ]
    messages = {f.code: f.message for f in result.findings}
    assert messages["mail.tls.expired"] == (
        f"STARTTLS certificate for expired.example.test expired 1 day ago ({PAST.date()}) "
        "on 127.0.0.3"
    )
    assert messages["mail.tls.critical"] == (
        f"STARTTLS certificate for soon.example.test expires in 5 days ({SOON.date()}) on 127.0.0.4"
    )
    assert (
        "does not cover mismatch.example.test (it is for mail.other.test)"
        in (messages["mail.tls.hostname_mismatch"])
    )
    assert messages["mail.tls.untrusted"].startswith(
        "STARTTLS certificate for untrusted.example.test on 127.0.0.6 is not trusted"
    )
    assert {f.check for f in result.findings} == {"mail"}
    assert result.cert_days_left == -1
    # The earliest of the four chains: the expired one.
    assert result.cert_expires is not None and result.cert_expires.date() == PAST.date()


def test_a_certificate_within_the_warning_days_is_a_warning(world: World) -> None:
    result = world.check("later")
    assert [(f.code, f.severity.value) for f in result.findings] == [
        ("mail.tls.warning", "warning")]
    assert result.findings[0].message == (
        f"STARTTLS certificate for later.example.test expires in 15 days ({LATER.date()}) "
        "on 127.0.0.11"
    )


def test_starttls_not_offered_or_refused(world: World) -> None:
    result = world.check("plain", "refusing")
    assert codes(result) == ["mail.tls.unavailable"]
    (finding,) = result.findings
    assert finding.severity.value == "warning"
    assert "plain.example.test on 127.0.0.8: STARTTLS is not offered" in finding.message
    assert "refusing.example.test on 127.0.0.9: STARTTLS was answered 454" in finding.message
    assert result.data is not None
    plain = result.data["hosts"][0]["addresses"][0]
    assert (plain["connected"], plain["starttls"], plain["tls"]) == (True, False, None)


def test_one_dead_address_and_silence_within_the_timeout(world: World) -> None:
    # Counted, not timed: the silent host is tried once (one timeout, no retry), and it is
    # the timeout that ended the wait (a lower bound: a slow machine only adds to it).
    before = world.silent.connections
    started = time.monotonic()
    result = world.check("mx2", "silent", timeout=1.0)
    assert time.monotonic() - started >= 0.9
    assert world.silent.connections - before == 1
    assert codes(result) == ["mail.tls.unreachable"]
    message = result.findings[0].message
    assert "mx2.example.test on port" in message
    assert "127.0.0.7: connection refused" in message
    assert "127.0.0.10: timed out after 1s" in message
    assert result.findings[0].severity.value == "unknown"
    assert result.data is not None
    mx2 = result.data["hosts"][0]["addresses"]
    assert [(a["address"], a["connected"]) for a in mx2] == [
        ("127.0.0.2", True),
        ("127.0.0.7", False),
    ]
    assert mx2[0]["tls"]["hostname_match"] is True


def test_dns_failure_of_an_mx_host_is_told_as_dns(world: World) -> None:
    world.lab.call(lambda: world.dns.set_behaviour("broken.example.test", "servfail"))
    result = world.check("broken")
    assert codes(result) == ["dns.servfail"]
    assert world.check("nowhere").findings == []  # mail.mx_unresolvable is the mail check's


def test_starttls_upgrade_for_python_3_10(world: World) -> None:
    # The 3.10 fallback must work wherever it runs: speak SMTP through it by hand.
    async def talk() -> tuple[str, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.2", world.port)
        await reader.readline()
        writer.write(b"STARTTLS\r\n")
        await reader.readline()
        ctx = ssl.create_default_context(cafile=str(world.bundle))
        await start_tls_legacy(reader, writer, ctx, server_hostname="mx1.example.test", timeout=2)
        version = writer.get_extra_info("ssl_object").version()
        writer.write(b"QUIT\r\n")
        answer = await reader.readline()
        writer.close()
        return version, answer

    version, answer = asyncio.run(talk())
    assert version.startswith("TLSv1")
    assert answer == b"221 2.0.0 Bye\r\n"
