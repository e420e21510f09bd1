"""The web check against real HTTPS servers on 127.0.0.x, found through a real DNS server."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from domwatch.checks import Context
from domwatch.checks.web import Target, check_web
from domwatch.config import Settings
from domwatch.lab import DnsServer, Lab
from domwatch.lab.ca import LabCA
from domwatch.lab.https_server import HttpsServer, Response, SilentServer
from domwatch.model import TLS, CheckResult, Domain, Finding, Severity, Thresholds
from domwatch.net.resolver import Nameserver, Resolver
from domwatch.net.tls import CertInfo, TlsInfo, judge, merge

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SOON = NOW + timedelta(days=5)
PAST = NOW - timedelta(days=3)

ZONE = """
$TTL 60
valid      IN A 127.0.0.2
www        IN A 127.0.0.2
two        IN A 127.0.0.2
two        IN A 127.0.0.7
expired    IN A 127.0.0.3
soon       IN A 127.0.0.4
mismatch   IN A 127.0.0.5
untrusted  IN A 127.0.0.6
dead       IN A 127.0.0.7
down       IN A 127.0.0.8
silent     IN A 127.0.0.9
plainhttp  IN A 127.0.0.10
slow       IN A 127.0.0.11
v6         IN AAAA ::1
noaddr     IN TXT "no address here"
"""


@dataclass
class World:
    lab: Lab
    dns: DnsServer
    port: int
    bundle: Path
    servers: dict[str, HttpsServer]
    silent: SilentServer  # 127.0.0.9: accepts, never says a word

    def context(self, timeout: float = 2.0) -> Context:
        return Context(
            settings=Settings(timeout=timeout),
            now=NOW,
            resolver=Resolver([Nameserver(self.dns.host, self.dns.port)], timeout=timeout),
            registry=cast(Any, None),
            tls=ssl.create_default_context(cafile=str(self.bundle)),
        )

    def url(self, host: str, path: str = "/") -> str:
        return f"https://{host}.example.test:{self.port}{path}"

    def check(self, *hosts: str, timeout: float = 2.0, **kw: Any) -> CheckResult:
        domain = Domain("example.test", "example.test", web=tuple(self.url(h) for h in hosts), **kw)
        return asyncio.run(check_web(domain, self.context(timeout)))


def _ok(request: Any) -> Response:
    return Response(200, {"Content-Type": "text/plain"}, b"ok")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    ca, rogue = LabCA(), LabCA("rogue CA")
    bundle = ca.write_ca(tmp_path_factory.mktemp("ca") / "ca.pem")
    valid = ca.server_context(
        "valid.example.test", "www.example.test", "two.example.test", "v6.example.test"
    )
    with Lab() as lab:
        dns = lab.add(DnsServer({"example.test": ZONE}))
        first = lab.add(
            HttpsServer(
                {
                    "/": _ok,
                    "/moved": Response(301, {"Location": "/"}),
                    "/away": Response(302, {"Location": "https://elsewhere.test/"}),
                },
                ssl_context=valid,
                host="127.0.0.2",
            )
        )
        port = first.port
        servers = {"valid": first}

        def add(name: str, host: str, ctx: ssl.SSLContext, handler: Any = _ok) -> None:
            servers[name] = lab.add(HttpsServer(handler, ssl_context=ctx, host=host, port=port))

        expired = ca.server_context(
            "expired.example.test", not_before=PAST - timedelta(days=90), not_after=PAST
        )
        add("expired", "127.0.0.3", expired)
        add("soon", "127.0.0.4", ca.server_context("soon.example.test", not_after=SOON))
        add("mismatch", "127.0.0.5", ca.server_context("other.test"))
        add("untrusted", "127.0.0.6", rogue.server_context("untrusted.example.test"))
        down = ca.server_context("down.example.test")
        add("down", "127.0.0.8", down, lambda r: Response(503, body=b"maintenance"))
        silent = lab.add(SilentServer(host="127.0.0.9", port=port))
        slow = ca.server_context("slow.example.test")
        servers["slow"] = lab.add(
            HttpsServer(_ok, ssl_context=slow, host="127.0.0.11", port=port, latency=1.5)
        )
        servers["plainhttp"] = lab.add(
            HttpsServer(_ok, ssl_context=None, host="127.0.0.10", port=port)
        )
        with contextlib.suppress(OSError):  # no IPv6 loopback: the v6 test skips itself
            add("v6", "::1", valid)
        yield World(lab, dns, port, bundle, servers, silent)


def codes(result: CheckResult) -> list[str]:
    return sorted(f.code for f in result.findings)


def only_address(result: CheckResult) -> dict[str, Any]:
    (host,) = cast(dict[str, Any], result.data)["hosts"]
    (address,) = host["addresses"]
    return cast(dict[str, Any], address)


def test_healthy_site_has_no_findings_and_full_json(world: World) -> None:
    result = world.check("valid")
    assert result.findings == []
    assert result.data is not None
    (host,) = result.data["hosts"]
    assert host == {
        "host": "valid.example.test",
        "url": world.url("valid"),
        "addresses": [host["addresses"][0]],
    }
    address = host["addresses"][0]
    tls = address.pop("tls")
    assert address == {
        "address": "127.0.0.2",
        "connected": True,
        "error": None,
        "http_status": 200,
        "redirects": [],
    }
    assert tls["subject"] == "CN=valid.example.test"
    assert "O=domwatch lab CA" in tls["issuer"]
    assert tls["sans"] == [
        "valid.example.test",
        "www.example.test",
        "two.example.test",
        "v6.example.test",
    ]
    assert (tls["trusted"], tls["hostname_match"], tls["verify_error"]) == (True, True, None)
    assert tls["days_left"] > 300
    assert tls["not_after"].endswith("Z")
    assert result.cert_days_left == tls["days_left"]
    assert result.cert_expires is not None
    assert result.cert_expires.strftime("%Y-%m-%dT%H:%M:%SZ") == tls["not_after"]
    # One request with SNI and Host naming the site, not the address.
    request = world.servers["valid"].requests[-1]
    assert request.host == "valid.example.test"
    assert request.headers["host"] == f"valid.example.test:{world.port}"


def test_expired_certificate(world: World) -> None:
    result = world.check("expired")
    assert codes(result) == ["tls.expired"]
    (finding,) = result.findings
    assert finding.severity.value == "critical"
    assert finding.check == "web"
    assert finding.message == (
        f"certificate for expired.example.test expired 3 days ago ({PAST.date()}) on 127.0.0.3"
    )
    assert only_address(result)["tls"]["days_left"] == -3
    assert only_address(result)["http_status"] == 200  # read despite the failed verification
    assert result.cert_days_left == -3
    assert result.cert_expires is not None and result.cert_expires.date() == PAST.date()


def test_certificate_expiring_in_five_days(world: World) -> None:
    result = world.check("soon")
    assert codes(result) == ["tls.critical"]
    assert result.findings[0].message == (
        f"certificate for soon.example.test expires in 5 days ({SOON.date()}) on 127.0.0.4"
    )
    assert result.cert_days_left == 5
    lenient = world.check("soon", thresholds=Thresholds(cert_warn_days=30, cert_crit_days=3))
    assert codes(lenient) == ["tls.warning"]
    assert lenient.findings[0].severity.value == "warning"


def test_certificate_for_another_name(world: World) -> None:
    result = world.check("mismatch")
    assert codes(result) == ["tls.hostname_mismatch"]
    assert result.findings[0].message == (
        "certificate on 127.0.0.5 does not cover mismatch.example.test (it is for other.test)"
    )
    tls = only_address(result)["tls"]
    assert (tls["trusted"], tls["hostname_match"], tls["sans"]) == (True, False, ["other.test"])
    assert tls["days_left"] > 300  # expiry still read


def test_certificate_from_unknown_ca(world: World) -> None:
    result = world.check("untrusted")
    assert codes(result) == ["tls.untrusted"]
    message = result.findings[0].message
    assert message.startswith("certificate for untrusted.example.test on 127.0.0.6 is not trusted")
    assert "unable to get local issuer certificate" in message
    assert "rogue CA" in only_address(result)["tls"]["issuer"]
    assert only_address(result)["tls"]["hostname_match"] is True


def test_untrusted_and_mismatched_are_both_told(world: World) -> None:
    domain = Domain(
        "example.test",
        "example.test",
        web=(f"https://127.0.0.6:{world.port}/",),
    )
    result = asyncio.run(check_web(domain, world.context()))
    assert codes(result) == ["tls.hostname_mismatch", "tls.untrusted"]


def test_http_errors(world: World) -> None:
    down = world.check("down")
    assert codes(down) == ["web.http_error"]
    assert down.findings[0].severity.value == "critical"
    assert down.findings[0].message == f"{world.url('down')} answers HTTP 503 on 127.0.0.8"
    missing = asyncio.run(
        check_web(
            Domain("example.test", "example.test", web=(world.url("valid", "/nope?x=1"),)),
            world.context(),
        )
    )
    assert codes(missing) == ["web.http_error"]
    assert missing.findings[0].severity.value == "warning"
    assert "answers HTTP 404" in missing.findings[0].message
    assert world.servers["valid"].requests[-1].path == "/nope?x=1"


def test_redirects_followed_on_the_same_host_reported_elsewhere(world: World) -> None:
    moved = Domain("example.test", "example.test", web=(world.url("valid", "/moved"),))
    result = asyncio.run(check_web(moved, world.context()))
    assert result.findings == []
    assert only_address(result)["redirects"] == [world.url("valid")]
    assert only_address(result)["http_status"] == 200
    away = Domain("example.test", "example.test", web=(world.url("valid", "/away"),))
    result = asyncio.run(check_web(away, world.context()))
    assert result.findings == []
    assert only_address(result)["redirects"] == ["https://elsewhere.test/"]
    assert only_address(result)["http_status"] == 302


def test_one_dead_address_of_two(world: World) -> None:
    result = world.check("two")
    assert codes(result) == ["web.address_unreachable"]
    assert result.findings[0].message == (
        f"two.example.test port {world.port}: 1 of 2 addresses unreachable "
        "(127.0.0.7: connection refused)"
    )
    assert result.data is not None
    addresses = result.data["hosts"][0]["addresses"]
    assert [(a["address"], a["connected"], a["error"]) for a in addresses] == [
        ("127.0.0.2", True, None),
        ("127.0.0.7", False, "connection refused"),
    ]
    assert addresses[1]["tls"] is None


def test_refusing_host_is_unreachable(world: World) -> None:
    result = world.check("dead")
    assert codes(result) == ["web.unreachable"]
    assert "127.0.0.7: connection refused" in result.findings[0].message


def test_silent_address_costs_no_more_than_the_timeout(world: World) -> None:
    # Counted, not timed: the silent address is tried once (one timeout, no retry) and the
    # check says it gave up after the timeout it was given.
    before = world.silent.connections
    started = time.monotonic()
    result = world.check("silent", "valid", timeout=1.0)
    # Only a lower bound (it waited the timeout, not less): a slow machine only adds to it.
    assert time.monotonic() - started >= 0.9
    assert world.silent.connections - before == 1
    assert codes(result) == ["web.unreachable"]
    assert "127.0.0.9: timed out after 1s" in result.findings[0].message


def test_no_http_answer_in_time_is_an_http_error(world: World) -> None:
    result = world.check("slow", timeout=0.5)
    assert codes(result) == ["web.http_error"]
    assert result.findings[0].severity.value == "critical"
    assert result.findings[0].message == (
        f"{world.url('slow')} gave no HTTP answer (timed out after 0.5s) on 127.0.0.11"
    )
    address = only_address(result)
    assert (address["connected"], address["http_status"]) == (True, None)
    assert address["tls"]["trusted"] is True


def test_handshake_failure_is_named(world: World) -> None:
    result = world.check("plainhttp")  # plain HTTP where HTTPS is expected
    assert codes(result) == ["web.unreachable"]
    error = only_address(result)["error"]
    assert error.startswith("TLS handshake failed: ")
    assert "wrong version number" in error or "record layer failure" in error
    assert error in result.findings[0].message


def test_no_address_and_dns_failure(world: World) -> None:
    result = world.check("noaddr")
    assert codes(result) == ["web.no_address"]
    assert result.findings[0].message == "web host noaddr.example.test has no A or AAAA record"
    world.lab.call(lambda: world.dns.set_behaviour("broken.example.test", "servfail"))
    result = world.check("broken")
    assert codes(result) == ["dns.servfail"]  # told once, not as web.no_address
    assert {f.check for f in result.findings} == {"dns"}


def test_default_targets_apex_www_and_given_hosts(world: World) -> None:
    # Nothing listens on 443 here, so each default target is refused; the JSON shows which
    # hosts were chosen: the apex, www (it has records) and the host given on input.
    domain = Domain("example.test", "example.test", hosts=("valid.example.test",))
    result = asyncio.run(check_web(domain, world.context()))
    assert result.data is not None
    assert [h["url"] for h in result.data["hosts"]] == [
        "https://example.test/",
        "https://www.example.test/",
        "https://valid.example.test/",
    ]
    # The apex has no address in this zone, www and valid refuse on port 443.
    assert codes(result) == ["web.no_address", "web.unreachable"]
    unreachable = next(f for f in result.findings if f.code == "web.unreachable")
    assert "www.example.test port 443" in unreachable.message
    assert "valid.example.test port 443" in unreachable.message


def test_ipv6_address_is_probed(world: World) -> None:
    if "v6" not in world.servers:
        pytest.skip("no IPv6 loopback")
    result = world.check("v6")
    assert result.findings == []
    assert only_address(result)["address"] == "::1"


def test_target_parsing() -> None:
    target = Target.parse("https://Shop.Example.COM:8443/a?b=c")
    assert (target.host, target.port, target.target) == ("shop.example.com", 8443, "/a?b=c")
    assert target.host_header == "shop.example.com:8443"
    assert Target.parse("shop.example.com").url == "https://shop.example.com/"
    assert Target.parse("http://[::1]/").host_header == "[::1]"
    assert target.same_origin("https://shop.example.com:8443/x")
    assert not target.same_origin("https://shop.example.com/x")
    with pytest.raises(ValueError):
        Target.parse("ftp://example.com/")


def _cert(subject: str, not_after: datetime, *sans: str) -> CertInfo:
    return CertInfo(subject, "CN=Lab Root", NOW - timedelta(days=60), not_after, sans)


def test_judge_reads_the_earliest_certificate_of_the_chain() -> None:
    leaf = _cert("CN=shop.example.test", NOW + timedelta(days=300), "shop.example.test")
    intermediate = _cert("CN=Lab Intermediate,O=Lab", NOW + timedelta(days=10))
    info = TlsInfo((leaf, intermediate), trusted=True, hostname_match=True)
    assert info.days_left(NOW) == 10
    assert info.to_json(NOW)["subject"] == "CN=shop.example.test"
    (finding,) = judge(
        info,
        host="shop.example.test",
        where="192.0.2.1",
        codes=TLS,
        thresholds=Thresholds(),
        now=NOW,
    )
    assert (finding.code, finding.severity.value) == ("tls.warning", "warning")
    assert finding.message == (
        "certificate chain for shop.example.test (intermediate CN=Lab Intermediate) expires in "
        f"10 days ({(NOW + timedelta(days=10)).date()}) on 192.0.2.1"
    )


def test_name_coverage_follows_rfc_6125() -> None:
    cert = _cert("CN=x", NOW, "*.example.test", "exact.other.test", "192.0.2.7")
    assert cert.covers("www.example.test")
    assert cert.covers("WWW.Example.Test.")
    assert not cert.covers("example.test")  # a wildcard needs a label
    assert not cert.covers("a.b.example.test")  # and covers exactly one
    assert cert.covers("exact.other.test")
    assert not cert.covers("other.test")
    assert cert.covers("192.0.2.7")
    assert not cert.covers("192.0.2.8")
    assert not _cert("CN=x", NOW, "*.test").covers("example.test")  # no wildcard for a TLD


def test_merge_keeps_one_finding_per_code_and_the_worst_severity() -> None:
    merged = merge(
        [
            Finding("web.http_error", Severity.WARNING, "web", "a answers HTTP 404 on 1"),
            Finding("tls.expired", Severity.CRITICAL, "web", "x"),
            Finding("web.http_error", Severity.CRITICAL, "web", "b answers HTTP 503 on 2"),
        ]
    )
    assert [(f.code, f.severity, f.message) for f in merged] == [
        ("web.http_error", Severity.CRITICAL, "a answers HTTP 404 on 1; b answers HTTP 503 on 2"),
        ("tls.expired", Severity.CRITICAL, "x"),
    ]
