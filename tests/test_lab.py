"""The lab servers, exercised with real clients over real sockets on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Iterator

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from domwatch.lab import DnsServer, Lab, WhoisServer

EXAMPLE_COM = """
$TTL 300
@        IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 600 86400 60
@        IN NS  ns1.example.com.
@        IN A   192.0.2.10
@        IN MX  10 mail.example.com.
ns1      IN A   192.0.2.53
mail     IN A   192.0.2.25
www      IN CNAME example.com.
away     IN CNAME web.example.net.
outside  IN CNAME somewhere.invalid.
a.b.deep IN A   192.0.2.99
*.wild   IN TXT "wildcard"
slow     IN A   192.0.2.1
"""
# Zone without SOA/NS must still load.
EXAMPLE_NET = "web 60 IN A 198.51.100.7\n"
BIG_TXT = "".join(f'big 60 IN TXT "{"x" * 200} {i}"\n' for i in range(10))

# How long a client waits for a lab answer that is due at once: only a hang guard, so far
# above what a slow, shared machine needs.
TIMEOUT = 30.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab() as running:
        yield running


@pytest.fixture(scope="module")
def dns_server(lab: Lab) -> DnsServer:
    return lab.add(
        DnsServer(
            {"example.com": EXAMPLE_COM + BIG_TXT, "example.net.": EXAMPLE_NET},
            behaviours={"broken.example.com": "servfail", "*.refusing.example.com": "refused"},
        )
    )


def ask(
    server: DnsServer, name: str, rdtype: str = "A", *, tcp: bool = False, timeout: float = TIMEOUT
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(query, server.host, timeout=timeout, port=server.port)
    return dns.query.udp(query, server.host, timeout=timeout, port=server.port)


def answer_texts(response: dns.message.Message) -> list[str]:
    return [rrset.to_text() for rrset in response.answer]


# -- DNS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tcp", [False, True])
def test_answer_is_authoritative_and_recursive(dns_server: DnsServer, tcp: bool) -> None:
    response = ask(dns_server, "Example.COM", tcp=tcp)
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert response.flags & dns.flags.RA
    assert response.answer[0].to_text().lower() == "example.com. 300 in a 192.0.2.10"
    assert ("example.com", "A") in dns_server.queries


def test_nxdomain_carries_soa(dns_server: DnsServer) -> None:
    response = ask(dns_server, "nope.example.com")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert not response.answer
    assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_nodata_and_empty_non_terminal(dns_server: DnsServer) -> None:
    for name, rdtype in [("example.com", "AAAA"), ("b.deep.example.com", "A")]:
        response = ask(dns_server, name, rdtype)
        assert response.rcode() == dns.rcode.NOERROR, name
        assert not response.answer
        assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_cname_is_chased_within_and_across_zones(dns_server: DnsServer) -> None:
    assert answer_texts(ask(dns_server, "www.example.com")) == [
        "www.example.com. 300 IN CNAME example.com.",
        "example.com. 300 IN A 192.0.2.10",
    ]
    response = ask(dns_server, "away.example.com")
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert response.answer[1].to_text() == "web.example.net. 60 IN A 198.51.100.7"
    # Target outside the lab: just the CNAME, NOERROR.
    response = ask(dns_server, "outside.example.com")
    assert response.rcode() == dns.rcode.NOERROR
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.CNAME]
    # Asking for the CNAME itself does not chase.
    assert len(ask(dns_server, "www.example.com", "CNAME").answer) == 1


def test_zone_without_soa_and_foreign_names(dns_server: DnsServer) -> None:
    response = ask(dns_server, "missing.example.net")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert not response.authority
    response = ask(dns_server, "example.org")
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA


def test_wildcard_record(dns_server: DnsServer) -> None:
    response = ask(dns_server, "anything.wild.example.com", "TXT")
    assert answer_texts(response) == ['anything.wild.example.com. 300 IN TXT "wildcard"']


def test_behaviours(lab: Lab, dns_server: DnsServer) -> None:
    assert ask(dns_server, "broken.example.com").rcode() == dns.rcode.SERVFAIL
    assert ask(dns_server, "x.refusing.example.com").rcode() == dns.rcode.REFUSED
    assert ask(dns_server, "refusing.example.com").rcode() == dns.rcode.NXDOMAIN  # strict subtree

    lab.call(lambda: dns_server.set_behaviour("example.com.", "noaa"))
    response = ask(dns_server, "example.com")
    assert response.answer and not response.flags & dns.flags.AA

    lab.call(lambda: dns_server.set_behaviour("example.com", "nxdomain"))
    response = ask(dns_server, "example.com")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.authority[0].rdtype == dns.rdatatype.SOA

    lab.call(lambda: dns_server.set_behaviour("example.com", "silent"))
    for tcp in (False, True):
        with pytest.raises(dns.exception.Timeout):
            ask(dns_server, "example.com", tcp=tcp, timeout=0.2)

    lab.call(lambda: dns_server.set_behaviour("example.com", None))
    assert ask(dns_server, "example.com").flags & dns.flags.AA


def test_big_answer_truncated_over_udp_then_tcp(dns_server: DnsServer) -> None:
    response = ask(dns_server, "big.example.com", "TXT")
    assert response.flags & dns.flags.TC
    query = dns.message.make_query("big.example.com", "TXT")
    full, used_tcp = dns.query.udp_with_fallback(
        query, dns_server.host, timeout=TIMEOUT, port=dns_server.port
    )
    assert used_tcp
    assert not full.flags & dns.flags.TC
    assert len(full.answer[0]) == 10
    # A large EDNS payload lets it through over UDP.
    query = dns.message.make_query("big.example.com", "TXT", use_edns=0, payload=4096)
    response = dns.query.udp(query, dns_server.host, timeout=TIMEOUT, port=dns_server.port)
    assert not response.flags & dns.flags.TC
    assert len(response.answer[0]) == 10


def test_tcp_several_queries_per_connection(dns_server: DnsServer) -> None:
    with socket.create_connection((dns_server.host, dns_server.port), timeout=TIMEOUT) as sock:
        for name in ("example.com", "ns1.example.com", "mail.example.com"):
            query = dns.message.make_query(name, "A")
            dns.query.send_tcp(sock, query)
            response, _ = dns.query.receive_tcp(sock, time.time() + TIMEOUT)
            assert response.id == query.id
            assert response.answer


def test_malformed_packets_are_ignored(dns_server: DnsServer) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00\x01garbage", (dns_server.host, dns_server.port))
        sock.sendto(b"", (dns_server.host, dns_server.port))
    with socket.create_connection((dns_server.host, dns_server.port), timeout=TIMEOUT) as sock:
        sock.sendall(struct.pack("!H", 5) + b"\xff" * 5)
        # The connection stays usable for a proper query after the garbage frame.
        query = dns.message.make_query("example.com", "A")
        dns.query.send_tcp(sock, query)
        response, _ = dns.query.receive_tcp(sock, time.time() + TIMEOUT)
        assert response.id == query.id
    assert ask(dns_server, "example.com").rcode() == dns.rcode.NOERROR


def test_latency_is_honoured_without_serialising(lab: Lab) -> None:
    server = lab.add(DnsServer({"example.com": EXAMPLE_COM}, latency=0.3, recursive=False))
    queries = [dns.message.make_query(n, "A") for n in ("example.com", "ns1.example.com")]
    start = time.monotonic()
    answers = _send_both(server, queries, expect=2)
    # A lower bound only (each answer waited its latency): a slow machine only adds to it.
    assert time.monotonic() - start >= 0.3
    assert {a.id for a in answers} == {q.id for q in queries}
    assert not any(a.flags & dns.flags.RA for a in answers)

    # Not serialised, shown by counting: a server that takes one query at a time drops the
    # second because it arrives while the first waits out its latency. A server that slept
    # in its receive loop would read the second only after answering the first, and drop
    # nothing. (1 s of latency: far longer than reading two datagrams takes on any machine.)
    one = lab.add(DnsServer({"example.com": EXAMPLE_COM}, latency=1.0, max_in_flight=1))
    answers = _send_both(one, queries, expect=1)
    assert [a.id for a in answers] == [queries[0].id]
    assert one.dropped == 1


def _send_both(
    server: DnsServer, queries: list[dns.message.Message], expect: int
) -> list[dns.message.Message]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((server.host, server.port))
        for query in queries:
            dns.query.send_udp(sock, query, None)
        deadline = time.time() + TIMEOUT
        return [dns.query.receive_udp(sock, None, deadline)[0] for _ in range(expect)]


# -- WHOIS -------------------------------------------------------------------------------------


def whois(server: WhoisServer, query: str, *, timeout: float = TIMEOUT) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(query.encode() + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def whois_server(lab: Lab) -> WhoisServer:
    return lab.add(
        WhoisServer(
            {
                "example.com": "Domain Name: EXAMPLE.COM\r\nRegistry Expiry Date: 2030-01-01\r\n",
                "-T dn,ace example.de": "Domain: example.de\r\nStatus: connect\r\n",
                "example.jp": "[Domain Name] EXAMPLE.JP\r\n",
                "example.fi": lambda query: f"domain.............: example.fi ({query})\r\n",
                "example.bin": b"\xe4\r\n",
            },
            behaviours={
                "huge.example": "huge",
                "close.example": "close",
                "garbage.example": "garbage",
                "silent.example": "silent",
                "endless.example": "endless",
            },
        )
    )


def test_whois_answers_by_line_then_domain(whois_server: WhoisServer) -> None:
    assert whois(whois_server, "example.com").startswith(b"Domain Name: EXAMPLE.COM")
    assert whois(whois_server, "domain EXAMPLE.com").startswith(b"Domain Name: EXAMPLE.COM")
    assert whois(whois_server, "-T dn,ace example.de").startswith(b"Domain: example.de")
    assert whois(whois_server, "example.de").startswith(b"Domain: example.de")
    assert whois(whois_server, "example.jp/e") == b"[Domain Name] EXAMPLE.JP\r\n"
    assert whois(whois_server, "example.fi") == b"domain.............: example.fi (example.fi)\r\n"
    assert whois(whois_server, "example.bin") == b"\xe4\r\n"
    assert whois(whois_server, "Unknown.ORG") == b'No match for "unknown.org".\r\n'
    assert "domain EXAMPLE.com" in whois_server.queries
    assert "example.jp/e" in whois_server.queries


def test_whois_lf_only_and_long_lines(whois_server: WhoisServer) -> None:
    with socket.create_connection((whois_server.host, whois_server.port), timeout=TIMEOUT) as s:
        s.sendall(b"example.com\n")
        assert s.recv(100).startswith(b"Domain Name")
    with socket.create_connection((whois_server.host, whois_server.port), timeout=TIMEOUT) as s:
        s.sendall(b"a" * 5000)  # no newline: capped at 1 KiB and answered anyway
        assert s.recv(100).startswith(b"No match")


def test_whois_behaviours(whois_server: WhoisServer) -> None:
    assert len(whois(whois_server, "huge.example")) >= 10 * 1024 * 1024
    assert whois(whois_server, "close.example") == b""
    assert len(whois(whois_server, "garbage.example")) > 0
    with pytest.raises(TimeoutError):
        whois(whois_server, "silent.example", timeout=0.2)
    with socket.create_connection((whois_server.host, whois_server.port), timeout=TIMEOUT) as s:
        s.sendall(b"endless.example\r\n")
        received = b""
        while received.count(b"\n") < 3:
            received += s.recv(4096)
    # The server carries on after clients gave up on it.
    assert whois(whois_server, "example.com").startswith(b"Domain Name")


def test_whois_rate_limit_and_latency(lab: Lab) -> None:
    server = lab.add(WhoisServer({"example.com": "ok\r\n"}, rate_limit=(2, 60.0), latency=0.1))
    start = time.monotonic()
    assert whois(server, "example.com") == b"ok\r\n"
    assert time.monotonic() - start >= 0.1  # a lower bound: a slow machine only adds to it
    assert whois(server, "example.com") == b"ok\r\n"
    assert whois(server, "example.com").startswith(b"Your connection limit exceeded")
    assert len(server.limited) == 1
    assert server.queries == ["example.com"] * 3


# -- Lab ---------------------------------------------------------------------------------------


class Custom:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


def test_lab_runs_any_server_and_stops_cleanly() -> None:
    custom = Custom()
    with Lab() as lab:
        assert lab.add(custom) is custom
        assert lab.call(lambda: 42) == 42
        dns_server = lab.add(DnsServer({"example.com": EXAMPLE_COM}))
        assert ask(dns_server, "example.com").answer
        silent = lab.add(WhoisServer({}, behaviours={"x.example": "silent"}))
        held = socket.create_connection((silent.host, silent.port), timeout=TIMEOUT)
        held.sendall(b"x.example\r\n")
    # Stopping the lab closed the held connection (a reset if it was never accepted).
    with held, contextlib.suppress(ConnectionResetError):
        assert held.recv(10) == b""
    assert custom.events == ["start", "stop"]
    lab.stop()  # idempotent
